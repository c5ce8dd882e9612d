/**
 * The KV cache kept in place: a rewind (a keystroke, token healing's backup,
 * exact mode's covers) masks slots out instead of copying the past, dead
 * slots are copied out once there are enough of them, and none of it changes
 * a single logit beyond rounding. Batch tails that are prefixes of one
 * another share one run.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../../src/engine/log';
import { loadModel } from '../../../src/engine/model/load';
import { BUNDLED_MODEL_NAME } from '../../../src/engine/models';
import { fixture, logSoftmax, maxAbsDiff, ROOT } from './helpers';

interface Reference {
  ids: number[];
}

const refIds = (name: string) => (JSON.parse(readFileSync(join(fixture(name), 'reference.json'), 'utf8')) as Reference).ids;

test('rewinds mask slots instead of copying; results equal a cold cache; dead slots are compacted', async () => {
  const ids = refIds('qwen25coder');
  const { model } = await loadModel(fixture('qwen25coder'), { logger: silentLogger });
  try {
    assert.equal(model.masksRewinds, true, 'a model with attention_mask and position_ids masks rewinds');
    const a = ids.slice(0, 20);
    const b = [...ids.slice(0, 15), 7, 8, 9];
    const coldB = await model.nextTokenLogProbs(b);
    model.resetCache();
    await model.nextTokenLogProbs(a);
    const warmB = await model.nextTokenLogProbs(b);
    // The 5 tokens of a after the shared 15 stay in the tensors, masked.
    assert.deepEqual(model.cachedIds, b);
    assert.equal(model.cacheSlots, 20 + 3);
    assert.ok(maxAbsDiff(warmB, coldB) < 1e-5, `masked rewind changed logits by ${maxAbsDiff(warmB, coldB)}`);
    // Keep rewinding and extending: dead slots pile up until a compaction copies them out.
    const cold = await loadModel(fixture('qwen25coder'), { logger: silentLogger });
    try {
      const before = model.stats.compactions;
      let seq = [...b];
      for (let k = 0; k < 40; k++) {
        seq = [...seq.slice(0, 12 + (k % 5)), 10 + k, 11 + k];
        const warm = await model.nextTokenLogProbs(seq);
        cold.model.resetCache();
        const c = await cold.model.nextTokenLogProbs(seq);
        assert.ok(maxAbsDiff(warm, c) < 1e-5, `step ${k}: ${maxAbsDiff(warm, c)}`);
      }
      assert.ok(model.stats.compactions > before, 'dead slots were compacted at some point');
    } finally {
      await cold.model.dispose();
    }
    assert.ok(model.cacheSlots - model.cachedIds.length <= 64, `dead slots bounded (${model.cacheSlots - model.cachedIds.length})`);
  } finally {
    await model.dispose();
  }
});

test('a model without position_ids cannot mask rewinds and copies instead, with the same results', async () => {
  const ids = refIds('codegemma');
  const { model } = await loadModel(fixture('codegemma'), { logger: silentLogger });
  try {
    assert.equal(model.masksRewinds, false);
    await model.nextTokenLogProbs(ids.slice(0, 20));
    const warm = await model.nextTokenLogProbs([...ids.slice(0, 15), 7]);
    assert.equal(model.cacheSlots, model.cachedIds.length, 'no dead slots');
    model.resetCache();
    assert.ok(maxAbsDiff(warm, await model.nextTokenLogProbs([...ids.slice(0, 15), 7])) < 1e-5);
  } finally {
    await model.dispose();
  }
});

test('batch tails that are prefixes of one another share a run (one run per branch)', async () => {
  const ids = refIds('subword-nomanifest');
  const keep = join(__dirname, 'fixtures', 'keeplogits');
  // batchSharedLimit 0: tails one by one on the cached prefix, as for int8 models.
  for (const dir of [fixture('subword-nomanifest'), keep]) {
    const { model } = await loadModel(dir, { logger: silentLogger, batchSharedLimit: 0 });
    try {
      const base = ids.slice(0, 12);
      // A trie under base: [5] [5 6] [5 6 7] | [9] | [9 8]: two branches, so two runs.
      const seqs = [[...base, 5], [...base, 5, 6], [...base, 5, 6, 7], [...base, 9], [...base, 9, 8], base];
      const singles: Float32Array[] = [];
      for (const s of seqs) {
        model.resetCache();
        singles.push(await model.nextTokenLogProbs(s));
      }
      model.resetCache();
      await model.nextTokenLogProbs(base);
      const runs = model.stats.runs;
      const batch = await model.nextTokenLogProbsBatch(seqs);
      assert.equal(model.stats.runs - runs, 2, `${dir}: one run per branch`);
      for (let i = 0; i < seqs.length; i++) assert.ok(maxAbsDiff(batch[i]!, singles[i]!) < 1e-4, `${dir} row ${i}: ${maxAbsDiff(batch[i]!, singles[i]!)}`);
      // Logits-only runs leave the cache at the shared prefix.
      assert.deepEqual(model.cachedIds, base);
      assert.equal(model.cacheSlots, base.length);
      // Warm, with the cache running on past the shared part (as after a decode step): the shared
      // part's row rides along with the tails instead of costing a run of its own.
      await model.nextTokenLogProbs([...base, 5, 6, 7, 8]);
      const runs2 = model.stats.runs;
      const warm = await model.nextTokenLogProbsBatch(seqs);
      assert.equal(model.stats.runs - runs2, 2, `${dir}: still one run per branch`);
      for (let i = 0; i < seqs.length; i++) assert.ok(maxAbsDiff(warm[i]!, singles[i]!) < 1e-4, `${dir} warm row ${i}: ${maxAbsDiff(warm[i]!, singles[i]!)}`);
    } finally {
      await model.dispose();
    }
  }
});

const bundled = join(ROOT, 'models', BUNDLED_MODEL_NAME);
test('bundled (int8) model: masked rewinds pass the load-time probe and match a cold cache', { skip: !existsSync(bundled) && 'bundled model missing' }, async () => {
  const loaded = await loadModel(bundled, { logger: silentLogger, skipChecksums: true });
  const { model, tokenizer } = loaded;
  try {
    assert.equal(model.masksRewinds, true);
    const ids = tokenizer.encode('def tokens_for(self, text):\n    return self.tokenizer.encode(text)\n');
    const shorter = ids.slice(0, ids.length - 4);
    // int8 activation scales follow the chunk a token was computed in, so both sides
    // compute the live tokens in the same chunks: the prefix, then the last token alone.
    await model.nextTokenLogProbs(shorter.slice(0, -1));
    await model.nextTokenLogProbs(ids);
    const warm = await model.nextTokenLogProbs(shorter);
    assert.ok(model.cacheSlots > model.cachedIds.length, 'the rewind left masked slots');
    model.resetCache();
    await model.nextTokenLogProbs(shorter.slice(0, -1));
    const cold = await model.nextTokenLogProbs(shorter);
    assert.ok(maxAbsDiff(warm, cold) < 1e-3, `int8 masked rewind vs cold: ${maxAbsDiff(warm, cold)}`);
  } finally {
    await model.dispose();
  }
});

const INPLACE = join(__dirname, 'fixtures', 'inplace');

test('in-place store (new_key_values outputs): equals PyTorch and the presents path through prefill, decode, rewinds and growth', async () => {
  const ref = JSON.parse(readFileSync(join(INPLACE, 'reference.json'), 'utf8')) as Reference & { last_logits: number[]; logits_at_12: number[] };
  const inplace = await loadModel(INPLACE, { logger: silentLogger });
  // Same weights without the extra outputs: the presents path.
  const plain = await loadModel(join(__dirname, 'fixtures', 'keeplogits'), { logger: silentLogger });
  try {
    assert.equal(inplace.model.cacheInPlace, true);
    assert.equal(plain.model.cacheInPlace, false);
    const { model } = inplace;
    const at12 = await model.nextTokenLogProbs(ref.ids.slice(0, 12));
    assert.ok(maxAbsDiff(at12, logSoftmax(ref.logits_at_12)) < 1e-4);
    let last: Float32Array | undefined;
    for (let n = 13; n <= ref.ids.length; n++) last = await model.nextTokenLogProbs(ref.ids.slice(0, n));
    assert.ok(maxAbsDiff(last!, logSoftmax(ref.last_logits)) < 1e-4);
    // The store never holds dead slots: a rewind frees the slots after it.
    const slots = model.cacheSlots;
    await model.nextTokenLogProbs(ref.ids.slice(0, 10));
    assert.equal(model.cacheSlots, slots, 'no reallocation on a rewind');
    // A random walk of extensions and rewinds, long enough to grow the store, against the presents path.
    let seq = ref.ids.slice(0, 10);
    let grown = false;
    for (let k = 0; k < 60; k++) {
      seq = k % 7 === 6 ? seq.slice(0, Math.max(1, seq.length - 5)) : [...seq, ...ref.ids.slice(k % 20, (k % 20) + 1 + (k % 4))];
      if (seq.length > model.contextLength) seq = seq.slice(0, 20);
      const a = await model.nextTokenLogProbs(seq);
      const b = await plain.model.nextTokenLogProbs(seq);
      assert.ok(maxAbsDiff(a, b) < 1e-4, `step ${k} (${seq.length} tokens): ${maxAbsDiff(a, b)}`);
      grown ||= model.cacheSlots > slots;
    }
    assert.ok(grown, 'the store grew past its first capacity');
    // Batches (tails logits-only on the store) equal single calls.
    const base = ref.ids.slice(0, 16);
    const seqs = [[...base, 5], [...base, 6, 7, 8], [...base, 9, 10], base, [...base.slice(0, 14), 11]];
    const batch = await model.nextTokenLogProbsBatch(seqs);
    for (let i = 0; i < seqs.length; i++) {
      const single = await plain.model.nextTokenLogProbs(seqs[i]!);
      assert.ok(maxAbsDiff(batch[i]!, single) < 1e-4, `batch row ${i}: ${maxAbsDiff(batch[i]!, single)}`);
    }
    // Runs fetched the new keys/values, never the presents: 1 logits row each.
    assert.equal(model.stats.compactions, 0);
  } finally {
    await inplace.model.dispose();
    await plain.model.dispose();
  }
});

test('in-place store: one buffer per tensor for the runner\'s life, through resets, rewinds and growth (no allocation per request)', async () => {
  const ref = JSON.parse(readFileSync(join(INPLACE, 'reference.json'), 'utf8')) as Reference;
  const { model } = await loadModel(INPLACE, { logger: silentLogger });
  const plain = await loadModel(join(__dirname, 'fixtures', 'keeplogits'), { logger: silentLogger });
  try {
    assert.equal(model.cacheInPlace, true);
    const buffers = new Set<ArrayBufferLike>();
    const capacities = new Set<number>();
    const allocations = model.stats.storeAllocations;
    for (let k = 0; k < 24; k++) {
      // Unrelated prompts of growing length (a cold cache each time), then a rewind and a decode step.
      if (k % 3 === 0) model.resetCache();
      const n = Math.min(model.contextLength - 2, 4 + ((k * 7) % 40));
      const seq = Array.from({ length: n }, (_, i) => ref.ids[(i + k) % ref.ids.length]!);
      const a = await model.nextTokenLogProbs(seq);
      assert.ok(maxAbsDiff(a, await plain.model.nextTokenLogProbs(seq)) < 1e-4, `request ${k}`);
      const b = await model.nextTokenLogProbs([...seq.slice(0, n - 3), 5, 6]);
      assert.ok(maxAbsDiff(b, await plain.model.nextTokenLogProbs([...seq.slice(0, n - 3), 5, 6])) < 1e-4, `request ${k}, rewound`);
      buffers.add(model.kvBuffer);
      capacities.add(model.cacheSlots);
    }
    assert.ok(capacities.size > 1, 'the store was laid out at several capacities');
    assert.equal(buffers.size, 1, 'every capacity is a view of the same buffer');
    assert.ok(model.stats.storeAllocations - allocations <= 1, `store allocated ${model.stats.storeAllocations - allocations} times`);
  } finally {
    await model.dispose();
    await plain.model.dispose();
  }
});

test('in-place store: a prompt that shares only its first tokens with the cache is prefilled afresh, with the same logits', async () => {
  const ref = JSON.parse(readFileSync(join(INPLACE, 'reference.json'), 'utf8')) as Reference;
  const fresh = await loadModel(INPLACE, { logger: silentLogger });
  const never = await loadModel(INPLACE, { logger: silentLogger, freshPrefillRatio: Infinity });
  try {
    const a = ref.ids.slice(0, 24);
    // Same first two tokens, then 20 others: the cursor moved elsewhere.
    const b = [...a.slice(0, 2), ...a.slice(2, 22).map((t) => (t + 7) % 50)];
    const reused = async (model: typeof fresh.model, ids: number[]) => {
      const before = model.stats.tokensReused;
      const row = await model.nextTokenLogProbs(ids);
      return { row, reused: model.stats.tokensReused - before };
    };
    await fresh.model.nextTokenLogProbs(a);
    await never.model.nextTokenLogProbs(a);
    const f = await reused(fresh.model, b);
    const n = await reused(never.model, b);
    assert.equal(f.reused, 0, 'computed from scratch');
    assert.equal(n.reused, 2, 'the shared tokens reused');
    assert.ok(maxAbsDiff(f.row, n.row) < 1e-4);
    // Typing on (a long shared part, one new token) still reuses the cache.
    const c = await reused(fresh.model, [...b, 3]);
    assert.equal(c.reused, b.length);
  } finally {
    await fresh.model.dispose();
    await never.model.dispose();
  }
});
