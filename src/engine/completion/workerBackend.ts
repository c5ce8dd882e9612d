/**
 * The main-thread side of the model worker: posts requests, relays
 * cancellation, and turns the worker's answers back into promises.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log';
import { ModelFolderError } from '../model/manifest';
import type { RunnerStats } from '../model/ortModel';
import { CancelledError } from '../model/types';
import type { BackendOptions, CompletionBackend, ModelInfo } from './backend';
import type { CompletionRequest, CoreResult } from './core';
import type { FromWorker, ToWorker, WireError, WorkerInit } from './protocol';
import type { CacheFeed } from '../ensemble/host';

export interface WorkerBackendOptions extends BackendOptions {
  /**
   * Script the worker runs: dist/model-worker.js in the extension and CLI,
   * or a bootstrap that loads src/engine/model/worker.ts under tsx in tests.
   */
  readonly workerScript: string;
  /** Extra workerData for the bootstrap (e.g. the .ts entry to import). */
  readonly bootstrapData?: Record<string, unknown>;
  /** Called once if the worker dies after loading (not on dispose). */
  readonly onCrash?: (err: Error) => void;
}

function fromWire(e: WireError): Error {
  if (e.name === 'CancelledError') return new CancelledError(e.message);
  if (e.file !== undefined && e.name === 'ModelFolderError') {
    const prefix = `${e.file}: `;
    return new ModelFolderError(e.file, e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message);
  }
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export class WorkerBackend implements CompletionBackend {
  private worker: Worker | undefined;
  private loading: Promise<ModelInfo> | undefined;
  private loadSettle: Pending | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited: Error | undefined;
  private disposing: Promise<void> | undefined;

  constructor(
    private readonly options: WorkerBackendOptions,
    private readonly logger: Logger,
  ) {}

  /** Ends the worker at once, as a crash would (tests). */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  /** Whether the worker thread is alive (tests check that dispose ends it). */
  get running(): boolean {
    return this.worker !== undefined && this.exited === undefined;
  }

  load(): Promise<ModelInfo> {
    this.loading ??= new Promise<ModelInfo>((resolve, reject) => {
      const init: WorkerInit & Record<string, unknown> = {
        modelDir: this.options.modelDir,
        threads: this.options.threads,
        skipChecksums: this.options.skipChecksums,
        contextLength: this.options.contextLength,
        ensemble: this.options.ensemble,
        grammarsDir: this.options.grammarsDir,
        ...this.options.bootstrapData,
      };
      const w = new Worker(this.options.workerScript, { workerData: init });
      this.worker = w;
      this.loadSettle = { resolve: resolve as (v: unknown) => void, reject };
      w.on('message', (m: FromWorker) => this.onMessage(m));
      w.on('error', (err) => this.onExit(new Error(`model worker failed: ${err.message}`)));
      w.on('exit', (code) => this.onExit(new Error(`model worker exited (code ${code})`)));
      this.post({ type: 'load' });
    });
    return this.loading;
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'loaded':
        this.loadSettle?.resolve(m.info);
        this.loadSettle = undefined;
        return;
      case 'loadError':
        this.loadSettle?.reject(fromWire(m.error));
        this.loadSettle = undefined;
        return;
      case 'log':
        this.logger[m.level](m.message);
        return;
      case 'result':
      case 'stats':
      case 'done':
      case 'error': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.type === 'error') p.reject(fromWire(m.error));
        else p.resolve(m.type === 'result' ? m.result : m.type === 'stats' ? m.stats : undefined);
        return;
      }
      default:
        return;
    }
  }

  private onExit(err: Error): void {
    if (this.exited) return;
    this.exited = this.disposing ? new CancelledError('disposed') : err;
    if (!this.disposing) {
      this.logger.error(err);
      if (!this.loadSettle) this.options.onCrash?.(err);
    }
    this.loadSettle?.reject(this.exited);
    this.loadSettle = undefined;
    for (const p of this.pending.values()) p.reject(this.exited);
    this.pending.clear();
  }

  private call<T>(make: (id: number) => ToWorker, signal?: AbortSignal): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    if (signal?.aborted) return Promise.reject(signal.reason instanceof CancelledError ? signal.reason : new CancelledError());
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => this.post({ type: 'cancel', id });
      this.pending.set(id, {
        resolve: (v) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(v as T);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      // The request goes first, so a cancel always finds it in the worker.
      this.post(make(id));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async complete(req: CompletionRequest, signal?: AbortSignal): Promise<CoreResult> {
    await this.load();
    return this.call<CoreResult>((id) => ({ type: 'complete', id, req }), signal);
  }

  feedCache(feed: CacheFeed): void {
    // Posted in order with the requests; the worker learns the text in slices between them.
    if (this.options.ensemble && !this.exited) this.post({ type: 'feedCache', feed });
  }

  async stats(): Promise<RunnerStats> {
    await this.load();
    return this.call<RunnerStats>((id) => ({ type: 'stats', id }));
  }

  async resetCache(): Promise<void> {
    await this.load();
    await this.call<void>((id) => ({ type: 'resetCache', id }));
  }

  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      const w = this.worker;
      if (!w || this.exited) return;
      // Let the worker release the session cleanly; terminate if it does not answer.
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      this.post({ type: 'dispose' });
      const timer = setTimeout(() => void w.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    })();
    return this.disposing;
  }
}
