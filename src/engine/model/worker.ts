/**
 * Entry of the model worker thread (bundled to dist/model-worker.js). It
 * owns the onnxruntime session and runs whole completion requests, so the
 * extension host's thread only posts a request and receives ghost text.
 * Requests run one at a time; a cancel message aborts a request between
 * decode steps.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from '../log';
import { InProcessBackend } from '../completion/backend';
import { toWire, type FromWorker, type ToWorker, type WorkerInit } from '../completion/protocol';
import { CancelledError } from './types';

function startWorker(): void {
  const port = parentPort;
  if (!port) return;
  const post = (m: FromWorker) => port.postMessage(m);
  const logger: Logger = {
    trace: (message) => post({ type: 'log', level: 'trace', message }),
    debug: (message) => post({ type: 'log', level: 'debug', message }),
    info: (message) => post({ type: 'log', level: 'info', message }),
    warn: (message) => post({ type: 'log', level: 'warn', message }),
    error: (message) => post({ type: 'log', level: 'error', message: message instanceof Error ? toWire(message).message : message }),
  };
  const backend = new InProcessBackend(workerData as WorkerInit, logger);
  const controllers = new Map<number, AbortController>();
  let chain: Promise<unknown> = Promise.resolve();

  const handle = async (msg: ToWorker): Promise<void> => {
    switch (msg.type) {
      case 'load':
        try {
          post({ type: 'loaded', info: await backend.load() });
        } catch (err) {
          post({ type: 'loadError', error: toWire(err) });
        }
        return;
      case 'complete': {
        const ac = controllers.get(msg.id)!;
        try {
          if (ac.signal.aborted) throw new CancelledError();
          post({ type: 'result', id: msg.id, result: await backend.complete(msg.req, ac.signal) });
        } catch (err) {
          post({ type: 'error', id: msg.id, error: toWire(ac.signal.aborted ? new CancelledError() : err) });
        } finally {
          controllers.delete(msg.id);
        }
        return;
      }
      case 'stats':
        try {
          post({ type: 'stats', id: msg.id, stats: await backend.stats() });
        } catch (err) {
          post({ type: 'error', id: msg.id, error: toWire(err) });
        }
        return;
      case 'resetCache':
        try {
          await backend.resetCache();
          post({ type: 'done', id: msg.id });
        } catch (err) {
          post({ type: 'error', id: msg.id, error: toWire(err) });
        }
        return;
      case 'dispose':
        await backend.dispose();
        post({ type: 'disposed' });
        port.close();
        return;
      default:
        return;
    }
  };

  port.on('message', (msg: ToWorker) => {
    // Cancels act at once (they must overtake the queue); everything else in order.
    if (msg.type === 'cancel') {
      controllers.get(msg.id)?.abort(new CancelledError('superseded'));
      return;
    }
    // Cache text is queued at once (learnt in slices by the ensemble), never behind a request.
    if (msg.type === 'feedCache') {
      backend.feedCache(msg.feed);
      return;
    }
    if (msg.type === 'complete') controllers.set(msg.id, new AbortController());
    chain = chain.then(() => handle(msg));
  });
}

startWorker();
