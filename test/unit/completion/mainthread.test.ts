/**
 * With a worker, the calling thread (the extension host) never loads
 * onnxruntime's native addon; only the in-process engine does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompletionEngine } from '../../../src/engine/completion/engine';
import { silentLogger } from '../../../src/engine/log';
import { fixture, WORKER_BOOT, WORKER_ENTRY } from '../model/helpers';

const ortLoaded = () => Object.keys(require.cache).some((k) => k.includes(`${'onnxruntime'}-node`));

test('a worker engine leaves onnxruntime out of the calling thread; an in-process one loads it', async () => {
  const w = CompletionEngine.create({ modelDir: fixture('plain'), logger: silentLogger, workerScript: WORKER_BOOT, workerBootstrapData: { entry: WORKER_ENTRY } });
  assert.ok((await w.complete({ prefix: 'x = ', suffix: '', boundary: 'naive', maxTokens: 3 })).tokens > 0);
  assert.equal(ortLoaded(), false);
  await w.dispose();
  const p = CompletionEngine.create({ modelDir: fixture('plain'), logger: silentLogger });
  assert.ok((await p.complete({ prefix: 'x = ', suffix: '', boundary: 'naive', maxTokens: 3 })).tokens > 0);
  assert.equal(ortLoaded(), true);
  await p.dispose();
});
