/** The runner's log-softmax (one JS pass; onnxruntime's LogSoftmax) against a two-pass float64 reference. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { silentLogger } from '../../../src/engine/log';
import { loadModel } from '../../../src/engine/model/load';
import { graphOutputType, LOG_PROBS_OUTPUT, logSoftmaxModel, PROBS_OUTPUT, withLogProbsOutput } from '../../../src/engine/model/logSoftmaxGraph';
import { probabilitiesOf } from '../../../src/engine/model/types';
import { logSoftmaxRow } from '../../../src/engine/model/ortModel';
import { fixture } from './helpers';

function reference(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return Float64Array.from(row, (v) => v - max - Math.log(sum));
}

test('logSoftmaxRow: one pass equals the two-pass reference (rising maxima, -Infinity entries, offsets, float16)', () => {
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let trial = 0; trial < 50; trial++) {
    const width = 1 + Math.floor(rnd() * 5000);
    const row = new Float32Array(width + 7);
    for (let i = 0; i < row.length; i++) row[i] = rnd() < 0.03 ? -Infinity : (rnd() - 0.5) * 60 + (trial % 3 === 0 ? i / 50 : 0);
    // A leading run of -Infinity before the first finite logit.
    if (trial % 5 === 0) row.fill(-Infinity, 3, 3 + Math.min(width, 20));
    const got = logSoftmaxRow(row, 3, width, false);
    const ref = reference(row.subarray(3, 3 + width));
    for (let i = 0; i < width; i++) {
      if (ref[i] === -Infinity) assert.equal(got[i], -Infinity);
      else assert.ok(Math.abs(got[i]! - ref[i]!) < 1e-5 * Math.max(1, Math.abs(ref[i]!)), `trial ${trial} id ${i}: ${got[i]} vs ${ref[i]}`);
    }
  }
  // float16 logits: 0x3c00 = 1, 0x4000 = 2, 0xbc00 = -1, 0xfc00 = -Infinity.
  const half = Uint16Array.of(0x3c00, 0x4000, 0xbc00, 0xfc00);
  const got = logSoftmaxRow(half, 0, 4, true);
  const ref = reference([1, 2, -1, -Infinity]);
  for (let i = 0; i < 4; i++) assert.ok(ref[i] === -Infinity ? got[i] === -Infinity : Math.abs(got[i]! - ref[i]!) < 1e-6);
});

test('the LogSoftmax graph built in code runs in onnxruntime and equals the JS loop; runners use it', async () => {
  const width = 300;
  const session = await ort.InferenceSession.create(logSoftmaxModel(width));
  try {
    const rows = 5;
    const x = Float32Array.from({ length: rows * width }, (_, i) => Math.cos(i * 1.7) * 25 + (i % 13));
    const y = (await session.run({ x: new ort.Tensor('float32', x, [rows, width]) })).y!.data as Float32Array;
    for (let r = 0; r < rows; r++) {
      const ref = logSoftmaxRow(x, r * width, width, false);
      for (let i = 0; i < width; i++) assert.ok(Math.abs(y[r * width + i]! - ref[i]!) < 1e-4, `row ${r} id ${i}: ${y[r * width + i]} vs ${ref[i]}`);
    }
  } finally {
    await session.release();
  }
  const { model } = await loadModel(fixture('qwen25coder'), { logger: silentLogger });
  try {
    assert.equal(model.normalizesInOnnxruntime, true);
  } finally {
    await model.dispose();
  }
});

test('the log-softmax appended to the model graph: one session.run returns log-probabilities equal to the separate normaliser', async () => {
  const bytes = new Uint8Array(readFileSync(join(fixture('plain'), 'model.onnx')));
  assert.deepEqual(graphOutputType(bytes, 'logits'), { elemType: 1, rank: 3 });
  assert.equal(graphOutputType(bytes, LOG_PROBS_OUTPUT), undefined);
  assert.deepEqual(graphOutputType(withLogProbsOutput(bytes, 3), LOG_PROBS_OUTPUT), { elemType: 1, rank: undefined });

  const inGraph = await loadModel(fixture('plain'), { logger: silentLogger });
  const separate = await loadModel(fixture('plain'), { logger: silentLogger, logProbsInGraph: false });
  try {
    assert.equal(inGraph.model.layout.hasLogProbs, true);
    assert.equal(separate.model.layout.hasLogProbs, false);
    assert.equal(separate.model.normalizesInOnnxruntime, true);
    const ids = inGraph.tokenizer.encode('def add(a, b):\n    return a + b\n');
    const close = (a: Float32Array, b: Float32Array) => {
      assert.equal(a.length, b.length);
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5, `id ${i}: ${a[i]} vs ${b[i]}`);
    };
    // A prefill, a decode step on the cache, and a batch of branches (covers).
    for (const n of [ids.length - 3, ids.length - 2]) close(await inGraph.model.nextTokenLogProbs(ids.slice(0, n)), await separate.model.nextTokenLogProbs(ids.slice(0, n)));
    const branches = [ids.slice(0, 6), ids.slice(0, 8), [...ids.slice(0, 5), 7]];
    const a = await inGraph.model.nextTokenLogProbsBatch(branches);
    const b = await separate.model.nextTokenLogProbsBatch(branches);
    a.forEach((row, i) => close(row, b[i]!));
    // Rows are normalised: their probabilities sum to 1.
    let sum = 0;
    for (const v of a[0]!) sum += Math.exp(v);
    assert.ok(Math.abs(sum - 1) < 1e-4, `sum ${sum}`);
  } finally {
    await inGraph.model.dispose();
    await separate.model.dispose();
  }
});

test('rows from the appended graph come with their probabilities (its Exp output); others come without', async () => {
  const bytes = new Uint8Array(readFileSync(join(fixture('plain'), 'model.onnx')));
  assert.deepEqual(graphOutputType(withLogProbsOutput(bytes, 3), PROBS_OUTPUT), { elemType: 1, rank: undefined });
  const inGraph = await loadModel(fixture('plain'), { logger: silentLogger });
  const separate = await loadModel(fixture('plain'), { logger: silentLogger, logProbsInGraph: false });
  try {
    assert.equal(inGraph.model.layout.hasProbs, true);
    assert.equal(separate.model.layout.hasProbs, false);
    const ids = inGraph.tokenizer.encode('for i in range(10):\n    print(i)\n');
    const matches = (row: Float32Array) => {
      const probs = probabilitiesOf(row);
      assert.ok(probs, 'the row has no probabilities attached');
      assert.equal(probs.length, row.length);
      for (let i = 0; i < row.length; i++) assert.ok(Math.abs(probs[i]! - Math.exp(row[i]!)) <= 1e-6 * Math.max(1e-3, Math.exp(row[i]!)), `id ${i}: ${probs[i]} vs exp ${Math.exp(row[i]!)}`);
    };
    // A prefill, a cache hit (the same row again), a decode step, and batches: branches alone and with a shared row.
    matches(await inGraph.model.nextTokenLogProbs(ids.slice(0, -2)));
    matches(await inGraph.model.nextTokenLogProbs(ids.slice(0, -2)));
    matches(await inGraph.model.nextTokenLogProbs(ids.slice(0, -1)));
    for (const row of await inGraph.model.nextTokenLogProbsBatch([ids.slice(0, 6), ids.slice(0, 9), [...ids.slice(0, 5), 7], ids.slice(0, 5)])) matches(row);
    assert.equal(probabilitiesOf(await separate.model.nextTokenLogProbs(ids)), undefined);
  } finally {
    await inGraph.model.dispose();
    await separate.model.dispose();
  }
});

test('a model with its weights in an external data file loads from its path, normalised by a session of its own', async () => {
  const external = await loadModel(fixture('externaldata'), { logger: silentLogger });
  const plain = await loadModel(fixture('plain'), { logger: silentLogger });
  try {
    assert.equal(external.model.layout.hasLogProbs, false);
    assert.equal(external.model.normalizesInOnnxruntime, true);
    const ids = plain.tokenizer.encode('x = [1, 2, 3]\n');
    const a = await external.model.nextTokenLogProbs(ids);
    const b = await plain.model.nextTokenLogProbs(ids);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5);
  } finally {
    await external.model.dispose();
    await plain.model.dispose();
  }
});
