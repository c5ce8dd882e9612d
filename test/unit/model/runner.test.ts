/**
 * The onnxruntime runner on tiny random models exported in the Optimum
 * layout: logits equal a full PyTorch pass, the KV cache is reused for the
 * longest common prefix and never changes results, batches equal single
 * calls, cancellation leaves the cache consistent.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../../src/engine/log';
import { loadModel, type LoadedModel } from '../../../src/engine/model/load';
import { CancelledError } from '../../../src/engine/model/types';
import { fixture, logSoftmax, maxAbsDiff } from './helpers';

const FAMILIES = ['starcoder2', 'qwen25coder', 'codellama', 'deepseekcoder', 'codegemma', 'subword-nomanifest', 'plain', 'lastlogits'];

interface Reference {
  ids: number[];
  last_logits: number[];
  logits_at_12: number[];
}

async function withModel<T>(name: string, fn: (m: LoadedModel) => Promise<T>, batchSharedLimit?: number): Promise<T> {
  const loaded = await loadModel(fixture(name), { logger: silentLogger, batchSharedLimit });
  try {
    return await fn(loaded);
  } finally {
    await loaded.model.dispose();
  }
}

for (const name of FAMILIES) {
  test(`${name}: incremental decoding with the KV cache equals a full PyTorch pass`, async () => {
    const ref = JSON.parse(readFileSync(join(fixture(name), 'reference.json'), 'utf8')) as Reference;
    await withModel(name, async ({ model }) => {
      // Prefill 12 tokens, then one token at a time up to the end.
      const at12 = await model.nextTokenLogProbs(ref.ids.slice(0, 12));
      assert.ok(maxAbsDiff(at12, logSoftmax(ref.logits_at_12)) < 1e-4, `logits after 12 tokens differ by ${maxAbsDiff(at12, logSoftmax(ref.logits_at_12))}`);
      let last: Float32Array | undefined;
      for (let n = 13; n <= ref.ids.length; n++) last = await model.nextTokenLogProbs(ref.ids.slice(0, n));
      assert.ok(maxAbsDiff(last!, logSoftmax(ref.last_logits)) < 1e-4, `final logits differ by ${maxAbsDiff(last!, logSoftmax(ref.last_logits))}`);
      // 12 prefilled + 11 single steps: nothing computed twice.
      assert.equal(model.stats.tokensComputed, ref.ids.length);
    });
  });
}

test('the cache is kept for the longest common prefix and never changes results', async () => {
  const ref = JSON.parse(readFileSync(join(fixture('qwen25coder'), 'reference.json'), 'utf8')) as Reference;
  await withModel('qwen25coder', async ({ model }) => {
    const a = ref.ids.slice(0, 20);
    const b = [...ref.ids.slice(0, 15), 7, 8, 9];
    const coldA = await model.nextTokenLogProbs(a);
    model.resetCache();
    const coldB = await model.nextTokenLogProbs(b);
    model.resetCache();

    await model.nextTokenLogProbs(a);
    const before = model.stats.tokensComputed;
    const warmB = await model.nextTokenLogProbs(b);
    // Only the 3 tokens after the shared 15 went through the model.
    assert.equal(model.stats.tokensComputed - before, 3);
    assert.ok(maxAbsDiff(warmB, coldB) < 1e-5);
    // Going back to a shorter prefix of the cache costs one token.
    const c0 = model.stats.tokensComputed;
    const warmA10 = await model.nextTokenLogProbs(a.slice(0, 10));
    assert.equal(model.stats.tokensComputed - c0, 1);
    model.resetCache();
    assert.ok(maxAbsDiff(warmA10, await model.nextTokenLogProbs(a.slice(0, 10))) < 1e-5);
    // The same sequence twice: served from the kept last row, no run.
    const runs = model.stats.runs;
    const again = await model.nextTokenLogProbs(a.slice(0, 10));
    assert.equal(model.stats.runs, runs);
    assert.ok(maxAbsDiff(again, warmA10) < 1e-6);
    assert.ok(coldA.length === model.vocabSize);
  });
});

for (const [name, limit] of [['codegemma', Infinity], ['lastlogits', Infinity], ['codegemma', 4]] as const) test(`${name}: a batch of covers sharing a prefix equals one call per sequence (${limit === Infinity ? 'batched' : 'one by one on the cached prefix'})`, async () => {
  const ref = JSON.parse(readFileSync(join(fixture(name), 'reference.json'), 'utf8')) as Reference;
  await withModel(name, async ({ model }) => {
    assert.equal(model.layout.lastPositionLogits, name === 'lastlogits');
    assert.equal(model.batchConsistent, true, 'float models batch exactly');
    const base = ref.ids.slice(0, 16);
    const seqs = [[...base, 5], [...base, 6, 7, 8], [...base, 9, 10], base, [...base.slice(0, 14), 11]];
    const singles: Float32Array[] = [];
    for (const s of seqs) {
      model.resetCache();
      singles.push(await model.nextTokenLogProbs(s));
    }
    model.resetCache();
    const batch = await model.nextTokenLogProbsBatch(seqs);
    assert.equal(batch.length, seqs.length);
    for (let i = 0; i < seqs.length; i++) assert.ok(maxAbsDiff(batch[i]!, singles[i]!) < 1e-4, `row ${i} differs by ${maxAbsDiff(batch[i]!, singles[i]!)}`);
    // The shared part stays cached for the next step.
    assert.deepEqual(model.cachedIds, base.slice(0, 14));
  }, limit);
});

test('cancellation between steps throws CancelledError and leaves a usable cache', async () => {
  const ref = JSON.parse(readFileSync(join(fixture('starcoder2'), 'reference.json'), 'utf8')) as Reference;
  await withModel('starcoder2', async ({ model }) => {
    const ac = new AbortController();
    ac.abort(new CancelledError('test'));
    await assert.rejects(model.nextTokenLogProbs(ref.ids.slice(0, 10), ac.signal), CancelledError);
    const warm = await model.nextTokenLogProbs(ref.ids.slice(0, 24));
    assert.ok(maxAbsDiff(warm, logSoftmax(ref.last_logits)) < 1e-4);
  });
});

test('sequences past the context or with ids outside the vocabulary are refused clearly', async () => {
  await withModel('plain', async ({ model }) => {
    await assert.rejects(model.nextTokenLogProbs(new Array(model.contextLength + 1).fill(1)), /exceeds the model's context of 128/);
    await assert.rejects(model.nextTokenLogProbs([1, model.vocabSize]), /outside the vocabulary/);
    await assert.rejects(model.nextTokenLogProbs([]), /at least one token/);
    // Still works afterwards.
    assert.equal((await model.nextTokenLogProbs([1, 2, 3])).length, model.vocabSize);
  });
});

test('threads setting: 1 and 2 intra-op threads give the same logits', async () => {
  const ref = JSON.parse(readFileSync(join(fixture('qwen25coder'), 'reference.json'), 'utf8')) as Reference;
  const one = await loadModel(fixture('qwen25coder'), { logger: silentLogger, threads: 1 });
  const two = await loadModel(fixture('qwen25coder'), { logger: silentLogger, threads: 2 });
  try {
    const a = await one.model.nextTokenLogProbs(ref.ids);
    const b = await two.model.nextTokenLogProbs(ref.ids);
    assert.ok(maxAbsDiff(a, b) < 1e-4);
  } finally {
    await one.model.dispose();
    await two.model.dispose();
  }
});
