/**
 * The ensemble as the extension drives it. Through the completion engine (in
 * process and in the model worker): documents fed to the workspace cache
 * cross to the model side, a binary one is skipped and logged, a request
 * with ensemble "cache" reports which component drove it and "off" does not;
 * "models" without a second model completes with one and says so once.
 * Through the core: the weights learn from what the user types (each
 * keystroke scores the model and the cache on the byte typed), so that a
 * workspace the cache knows comes to drive the completions.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CompletionCore } from '../../../src/engine/completion/core';
import { CompletionEngine } from '../../../src/engine/completion/engine';
import { EnsembleHost } from '../../../src/engine/ensemble/host';
import { silentLogger } from '../../../src/engine/log';
import { loadModel } from '../../../src/engine/model/load';
import { recordingLogger, ROOT, WORKER_BOOT, WORKER_ENTRY } from '../model/helpers';

const TINY = join(ROOT, 'models', 'subword-tiny');
const LINE = 'registerHandler("qzvKx_flumph", onQzvKxFlumph);\n';
const DOC = LINE.repeat(12);
const BASE = 'import { onQzvKxFlumph } from "./handlers";\n\n';
const REQ = { prefix: `${BASE}registerHandler("qzv`, suffix: '\n', languageId: 'javascript', maxTokens: 40, maxLines: 1 };

for (const where of ['in-process', 'worker'] as const) {
  test(`engine (${where}): fed documents reach the cache, binary ones are skipped and logged, the result names its driver`, async () => {
    const log = recordingLogger();
    const engine = CompletionEngine.create({
      modelDir: TINY,
      logger: log,
      skipChecksums: true,
      ensemble: { cacheBytes: 1 << 20 },
      ...(where === 'worker' ? { workerScript: WORKER_BOOT, workerBootstrapData: { entry: WORKER_ENTRY } } : {}),
    });
    try {
      // Sent before the model is ready: kept and fed once it is.
      engine.feedCache({ kind: 'document', key: 'file:///a.js', text: DOC, version: 1 });
      engine.feedCache({ kind: 'document', key: 'file:///image.png', text: '\x89PNG\r\n\x1a\n\0\0\0\rIHDR', version: 1 });
      await engine.whenReady();
      await new Promise((r) => setTimeout(r, 100));
      const off = await engine.complete({ ...REQ, ensemble: 'off', maxTokens: 8 });
      const on = await engine.complete({ ...REQ, ensemble: 'cache', maxTokens: 8 });
      assert.equal(off.driver, undefined);
      assert.equal(typeof on.driver, 'string', 'the ensemble names the component that drove it');
      assert.ok(log.lines.some(([, m]) => m.includes('image.png') && m.includes('binary')), log.lines.join('\n'));
    } finally {
      await engine.dispose();
    }
  });
}

test('engine: "models" without a second model completes with one model and logs it once', async () => {
  const log = recordingLogger();
  const engine = CompletionEngine.create({ modelDir: TINY, logger: log, skipChecksums: true, ensemble: { cacheBytes: 1 << 20 } });
  try {
    const a = await engine.complete({ ...REQ, ensemble: 'models', maxTokens: 8 });
    const b = await engine.complete({ ...REQ, prefix: `${REQ.prefix}K`, ensemble: 'models', maxTokens: 8 });
    assert.equal(typeof a.text, 'string');
    assert.equal(typeof b.text, 'string');
    assert.equal(log.lines.filter(([, m]) => m.includes('names no model besides')).length, 1);
  } finally {
    await engine.dispose();
  }
});

test('core: weights learnt from typing hand the completion to the cache where the workspace knows better', async () => {
  const loaded = await loadModel(TINY, { logger: silentLogger, skipChecksums: true });
  const core = new CompletionCore(loaded, silentLogger);
  // The online weights alone (no confidence weighting): what typing teaches them is the point here;
  // the default weighting hands this completion to the sure cache before any typing (checked below).
  const host = new EnsembleHost({ cacheBytes: 1 << 20, logger: silentLogger, cacheConfidence: 0 });
  const confident = new EnsembleHost({ cacheBytes: 1 << 20, logger: silentLogger });
  core.ensemble = host;
  try {
    for (let i = 0; i < 4; i++) for (const h of [host, confident]) h.feed({ kind: 'document', key: `file:///w${i}.js`, text: DOC, version: 1 });
    host.cache.drain();
    confident.cache.drain();
    core.ensemble = confident;
    const sure = await core.complete({ ...REQ, ensemble: 'cache', maxTokens: 12 });
    assert.ok(sure.text.startsWith('Kx_flumph'), `a cache sure of the next bytes drives it from the start: ${JSON.stringify(sure.text)}`);
    core.ensemble = host;
    const before = await core.complete({ ...REQ, ensemble: 'cache', maxTokens: 12 });
    assert.ok(!before.text.startsWith('Kx_flumph'), `with prior weights the model keeps it: ${JSON.stringify(before.text)}`);
    // The user types the line the workspace is full of, one character per request.
    for (let k = 1; k <= LINE.length; k++) await core.complete({ ...REQ, prefix: `${BASE}${LINE.slice(0, k)}`, ensemble: 'cache', maxTokens: 4 });
    const learnt = host.typingWeights();
    assert.ok(learnt.keystrokes >= LINE.length - 1, `${learnt.keystrokes} keystrokes scored`);
    assert.ok(learnt.weights[1]! > 0.5, `the cache's weight grew: ${learnt.weights}`);
    const prefix = `${BASE}${LINE}registerHandler("qzv`;
    const after = await core.complete({ ...REQ, prefix, ensemble: 'cache' });
    const off = await core.complete({ ...REQ, prefix, ensemble: 'off' });
    assert.ok(after.text.startsWith('Kx_flumph", onQzvKxFlumph);'), `after typing: ${JSON.stringify(after.text)}`);
    assert.equal(after.driver, 'cache');
    assert.notEqual(off.text, after.text);
  } finally {
    await host.dispose();
    await confident.dispose();
    await loaded.model.dispose();
  }
});

test('engine: "models" mixes in a second model with another tokenizer (loaded in the background) and names the driver', async () => {
  const log = recordingLogger();
  const second = join(ROOT, 'test', 'fixtures', 'models', 'codellama');
  const engine = CompletionEngine.create({ modelDir: TINY, logger: log, skipChecksums: true, ensemble: { cacheBytes: 1 << 20, secondModelDir: second } });
  try {
    const r = await engine.complete({ ...REQ, ensemble: 'models', maxTokens: 6 });
    assert.equal(typeof r.text, 'string');
    assert.equal(typeof r.driver, 'string');
    assert.ok(!log.lines.some(([level]) => level === 'warn' || level === 'error'), log.lines.join('\n'));
  } finally {
    await engine.dispose();
  }
});

test('core: a completion the END gate ends where it joins the suffix is inserted whole, past the word the cursor is in', async () => {
  const loaded = await loadModel(TINY, { logger: silentLogger, skipChecksums: true });
  const core = new CompletionCore(loaded, silentLogger);
  const host = new EnsembleHost({ cacheBytes: 1 << 20, logger: silentLogger });
  core.ensemble = host;
  try {
    for (let i = 0; i < 4; i++) host.feed({ kind: 'document', key: `file:///w${i}.js`, text: DOC, version: 1 });
    host.cache.drain();
    // Cursor inside `qzvK|x_flumph`, text after it `onQzvKxFlumph);`: the true middle `x_flumph", ` runs past
    // the word; the mid-word stop rule and merge alone end it at `x_flumph`.
    const req = { ...REQ, prefix: `${BASE}registerHandler("qzvK`, suffix: `onQzvKxFlumph);\n${LINE}`, ensemble: 'cache' as const, maxTokens: 24, maxLines: 1 };
    assert.ok(core.joinLookahead >= 3);
    const joined = await core.complete(req);
    assert.equal(joined.text, 'x_flumph", ', JSON.stringify(joined));
    // Without the wait past the syntax stop, generation ends at the word before the gate sees the join.
    core.joinLookahead = 0;
    const cut = await core.complete({ ...req, prefix: `${req.prefix}` });
    assert.equal(cut.text, 'x_flumph', JSON.stringify(cut));
  } finally {
    await host.dispose();
    await loaded.model.dispose();
  }
});
