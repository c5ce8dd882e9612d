/**
 * Graphs with the `num_logits_to_keep` input (tools/train/logits_keep.py):
 * the runner asks for the rows it reads only, and gets the same numbers as a
 * graph that returns every position; the bundled model carries the input and
 * its last row is bit-identical to the full graph's.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { silentLogger } from '../../../src/engine/log';
import { loadModel } from '../../../src/engine/model/load';
import { BUNDLED_MODEL_NAME } from '../../../src/engine/models';
import { fixture, logSoftmax, maxAbsDiff, ROOT } from './helpers';

const KEEP = join(__dirname, 'fixtures', 'keeplogits');

interface Reference {
  ids: number[];
  last_logits: number[];
  logits_at_12: number[];
}

test('keeplogits fixture: incremental decoding equals PyTorch and each run asks for one logits row', async () => {
  const ref = JSON.parse(readFileSync(join(KEEP, 'reference.json'), 'utf8')) as Reference;
  const { model } = await loadModel(KEEP, { logger: silentLogger });
  try {
    assert.equal(model.layout.hasLogitsToKeep, true);
    assert.equal(model.layout.lastPositionLogits, false);
    const at12 = await model.nextTokenLogProbs(ref.ids.slice(0, 12));
    assert.ok(maxAbsDiff(at12, logSoftmax(ref.logits_at_12)) < 1e-4);
    let last: Float32Array | undefined;
    for (let n = 13; n <= ref.ids.length; n++) last = await model.nextTokenLogProbs(ref.ids.slice(0, n));
    assert.ok(maxAbsDiff(last!, logSoftmax(ref.last_logits)) < 1e-4);
    assert.equal(model.stats.tokensComputed, ref.ids.length);
    assert.equal(model.stats.logitsRows, model.stats.runs, 'one logits row per single-sequence run');
  } finally {
    await model.dispose();
  }
});

test('keeplogits fixture: padded batches of unequal rows equal single calls and the graph without the input', async () => {
  const ref = JSON.parse(readFileSync(join(KEEP, 'reference.json'), 'utf8')) as Reference;
  const withKeep = await loadModel(KEEP, { logger: silentLogger, batchSharedLimit: Infinity });
  const without = await loadModel(fixture('subword-nomanifest'), { logger: silentLogger, batchSharedLimit: Infinity });
  try {
    const base = ref.ids.slice(0, 16);
    const seqs = [[...base, 5], [...base, 6, 7, 8], [...base, 9, 10], base, [...base.slice(0, 14), 11]];
    const a = await withKeep.model.nextTokenLogProbsBatch(seqs);
    const b = await without.model.nextTokenLogProbsBatch(seqs);
    for (let i = 0; i < seqs.length; i++) {
      withKeep.model.resetCache();
      const single = await withKeep.model.nextTokenLogProbs(seqs[i]!);
      assert.ok(maxAbsDiff(a[i]!, single) < 1e-4, `row ${i}: batch vs single ${maxAbsDiff(a[i]!, single)}`);
      assert.ok(maxAbsDiff(a[i]!, b[i]!) < 1e-5, `row ${i}: with vs without num_logits_to_keep ${maxAbsDiff(a[i]!, b[i]!)}`);
    }
    // The batch run returned fewer rows than it computed positions.
    assert.ok(withKeep.model.stats.logitsRows < without.model.stats.logitsRows);
  } finally {
    await withKeep.model.dispose();
    await without.model.dispose();
  }
});

const bundled = join(ROOT, 'models', BUNDLED_MODEL_NAME);
test('bundled model: num_logits_to_keep = 1 gives the full graph\'s last row exactly', { skip: !existsSync(bundled) && 'bundled model missing' }, async () => {
  const loaded = await loadModel(bundled, { logger: silentLogger });
  const session = await ort.InferenceSession.create(loaded.folder.modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    assert.equal(loaded.model.layout.hasLogitsToKeep, true, 'the bundled model.onnx should carry num_logits_to_keep (tools/train/logits_keep.py)');
    const text = readFileSync(join(ROOT, 'src', 'engine', 'model', 'ortModel.ts'), 'utf8').slice(0, 3000);
    const ids = loaded.tokenizer.encode(text).slice(0, 200);
    const { nLayer, kvHeads, headDim } = loaded.model.layout;
    const feeds = (keep: number): Record<string, ort.Tensor> => {
      const f: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
        position_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (_, i) => BigInt(i)), [1, ids.length]),
        num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(BigInt(keep)), []),
      };
      for (let l = 0; l < nLayer; l++) for (const kv of ['key', 'value']) f[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
      return f;
    };
    const full = await session.run(feeds(0));
    const one = await session.run(feeds(1));
    const V = full.logits!.dims[2]!;
    assert.deepEqual(full.logits!.dims, [1, ids.length, V]);
    assert.deepEqual(one.logits!.dims, [1, 1, V]);
    const lastRow = (full.logits!.data as Float32Array).subarray((ids.length - 1) * V);
    assert.equal(maxAbsDiff(one.logits!.data as Float32Array, lastRow), 0);
    const viaRunner = await loaded.model.nextTokenLogProbs(ids);
    assert.ok(maxAbsDiff(viaRunner, logSoftmax(Array.from(lastRow))) < 1e-5);
  } finally {
    await session.release();
    await loaded.model.dispose();
  }
});
