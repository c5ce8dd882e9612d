/**
 * The byte-level mixture: a proper distribution over 256 bytes + END (to
 * 1e-9), all weight on one component reproduces that component, weights
 * follow the recent per-byte loss, and on real parts (onnxruntime, real
 * tokenizer files, two models with different tokenizers and FIM formats, the
 * cache model) the ensemble is proper at every byte of a walk and the cache
 * changes completions where the text repeats.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CompletionCore } from '../../../src/engine/completion/core';
import { ExactStrategy, DEFAULT_EXACT_OPTIONS } from '../../../src/engine/boundary/exact';
import type { BoundaryRequest } from '../../../src/engine/boundary/types';
import { ByteCacheModel } from '../../../src/engine/ensemble/cacheModel';
import { CacheComponent, ExactComponent, type NeuralPrompt } from '../../../src/engine/ensemble/components';
import { confidenceWeights, DEFAULT_CACHE_GATE, END, gatedWeights, gateShareBound, mix, OnlineWeights, SYMBOLS, type ComponentPrediction } from '../../../src/engine/ensemble/mixture';
import { EnsembleStrategy, DEFAULT_ENSEMBLE_OPTIONS } from '../../../src/engine/ensemble/strategy';
import { fillCaseCache } from '../../../src/engine/eval/ensemble';
import { silentLogger } from '../../../src/engine/log';
import { loadModel, type LoadedModel } from '../../../src/engine/model/load';
import { seededRandom } from '../../../src/engine/random';

const root = join(__dirname, '..', '..', '..');
const enc = new TextEncoder();

function total(p: Float64Array): number {
  let s = 0;
  for (let i = 0; i < SYMBOLS; i++) s += p[i]!;
  return s;
}

function randomPrediction(rnd: () => number, hasEnd: boolean, sparse: boolean): ComponentPrediction {
  const probs = new Float64Array(SYMBOLS);
  for (let i = 0; i < 256; i++) probs[i] = sparse && rnd() < 0.9 ? 0 : rnd() ** 4;
  probs[END] = hasEnd ? rnd() * 0.5 : 0;
  const z = total(probs);
  for (let i = 0; i < SYMBOLS; i++) probs[i]! /= z;
  return { probs, hasEnd };
}

test('the mixture sums to 1 over 256 bytes + END (1e-9), and all weight on a component reproduces it', () => {
  const rnd = seededRandom(11);
  for (let trial = 0; trial < 300; trial++) {
    const parts = [randomPrediction(rnd, true, trial % 3 === 0), randomPrediction(rnd, true, trial % 5 === 0), randomPrediction(rnd, false, trial % 2 === 0)];
    const w = parts.map(() => rnd());
    const m = mix(parts, w);
    assert.ok(Math.abs(total(m) - 1) < 1e-9, `sum ${total(m)}`);
    for (let i = 0; i < SYMBOLS; i++) assert.ok(m[i]! >= 0);
    for (let k = 0; k < 2; k++) {
      const one = mix(parts, parts.map((_, j) => (j === k ? 1 : 0)));
      for (let i = 0; i < SYMBOLS; i++) assert.ok(Math.abs(one[i]! - parts[k]!.probs[i]!) < 1e-12, `component ${k} symbol ${i}`);
    }
    // All weight on the bytes-only cache: its bytes, with END from the END-aware components.
    const cacheOnly = mix(parts, [0, 0, 1]);
    const end = (parts[0]!.probs[END]! + parts[1]!.probs[END]!) / 2;
    assert.ok(Math.abs(cacheOnly[END]! - end) < 1e-12);
    for (let b = 0; b < 256; b++) assert.ok(Math.abs(cacheOnly[b]! - (1 - end) * parts[2]!.probs[b]!) < 1e-12);
  }
  // A component sure the middle ends sits out the byte part; a mixture of two such is END for sure.
  const sure = new Float64Array(SYMBOLS);
  sure[END] = 1;
  const m = mix([{ probs: sure, hasEnd: true }, randomPrediction(rnd, false, false)], [0.5, 0.5]);
  assert.equal(m[END], 1);
  assert.ok(Math.abs(total(m) - 1) < 1e-12);
});

test('confidence weights: a sure cache counts more than a vague one, byte by byte; the mixture stays proper and weight 1 still reproduces a component', () => {
  const rnd = seededRandom(5);
  const model = randomPrediction(rnd, true, false);
  const peaked = (top: number): ComponentPrediction => {
    const probs = new Float64Array(SYMBOLS).fill((1 - top) / 255);
    probs[97] = top;
    probs[END] = 0;
    return { probs, hasEnd: false };
  };
  const sure = confidenceWeights([model, peaked(0.95)], [0.9, 0.1], 0.5);
  const vague = confidenceWeights([model, peaked(0.2)], [0.9, 0.1], 0.5);
  assert.equal(sure[0], 0.9, 'the model keeps its weight');
  assert.ok(Math.abs(sure[1]! - 0.1 * Math.sqrt(0.95 / 0.05)) < 1e-4, `${sure}`);
  assert.ok(vague[1]! < 0.1 && sure[1]! > 0.1);
  const share = (w: number[]) => w[1]! / (w[0]! + w[1]!);
  assert.ok(share(sure) > 0.3 && share(vague) < 0.06, `cache share sure ${share(sure)}, vague ${share(vague)}`);
  assert.deepEqual(confidenceWeights([model, peaked(0.95)], [0.9, 0.1], 0), [0.9, 0.1], 'γ 0: unchanged');
  for (let trial = 0; trial < 100; trial++) {
    const parts = [randomPrediction(rnd, true, trial % 3 === 0), randomPrediction(rnd, false, trial % 2 === 0)];
    const m = mix(parts, confidenceWeights(parts, [rnd(), rnd()], 0.5));
    assert.ok(Math.abs(total(m) - 1) < 1e-9, `sum ${total(m)}`);
    for (let k = 0; k < 2; k++) {
      const w = confidenceWeights(parts, parts.map((_, j) => (j === k ? 1 : 0)), 0.5);
      assert.equal(w[1 - k], 0, 'a zero weight stays zero');
    }
    const one = mix(parts, confidenceWeights(parts, [1, 0], 0.5));
    for (let i = 0; i < SYMBOLS; i++) assert.ok(Math.abs(one[i]! - parts[0]!.probs[i]!) < 1e-12);
  }
});

test('cache gate: a sure model keeps the byte, a cache favourite the model finds plausible gets more weight; proper mixture, weight 1 reproduces, bounded share', () => {
  const rnd = seededRandom(11);
  const dist = (top: number, byte: number, hasEnd: boolean): ComponentPrediction => {
    const probs = new Float64Array(SYMBOLS).fill((1 - top) / 255);
    probs[byte] = top;
    probs[END] = 0;
    return { probs, hasEnd };
  };
  const share = (w: number[]) => w[1]! / (w[0]! + w[1]!);
  const cache = dist(0.9, 97, false);
  const unsure = gatedWeights([dist(0.3, 98, true), cache], [0.7, 0.3], DEFAULT_CACHE_GATE);
  const sure = gatedWeights([dist(0.99, 98, true), cache], [0.7, 0.3], DEFAULT_CACHE_GATE);
  assert.ok(share(sure) < share(unsure), `sure model ${share(sure)}, unsure ${share(unsure)}`);
  // The same model confidence, but the model gives the cache's favourite more of its rest.
  const agreeing = dist(0.5, 98, true);
  agreeing.probs[97] = 0.3;
  const z = agreeing.probs.reduce((a, b) => a + b, 0);
  for (let i = 0; i < SYMBOLS; i++) agreeing.probs[i]! /= z;
  assert.ok(share(gatedWeights([agreeing, cache], [0.7, 0.3], DEFAULT_CACHE_GATE)) > share(gatedWeights([dist(0.5 / z, 98, true), cache], [0.7, 0.3], DEFAULT_CACHE_GATE)));
  // Models keep their ratio (and so END) among themselves.
  const three = gatedWeights([dist(0.5, 1, true), dist(0.5, 2, true), cache], [0.2, 0.6, 0.2], DEFAULT_CACHE_GATE);
  assert.ok(Math.abs(three[1]! / three[0]! - 3) < 1e-12);
  assert.ok(Math.abs(three.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  // Without a cache the weights pass through.
  assert.deepEqual(gatedWeights([dist(0.5, 1, true), dist(0.5, 2, true)], [0.3, 0.7], DEFAULT_CACHE_GATE), [0.3, 0.7]);
  for (let trial = 0; trial < 200; trial++) {
    const parts = [randomPrediction(rnd, true, trial % 3 === 0), randomPrediction(rnd, false, trial % 2 === 0)];
    const w = [rnd(), rnd()];
    const g = gatedWeights(parts, w, DEFAULT_CACHE_GATE);
    const m = mix(parts, g);
    assert.ok(Math.abs(total(m) - 1) < 1e-9, `sum ${total(m)}`);
    let top = 0;
    for (let b = 0; b < 256; b++) top = Math.max(top, parts[1]!.probs[b]!);
    assert.ok(share(g) <= gateShareBound(DEFAULT_CACHE_GATE, w[0]!, w[1]!, top) + 1e-12, 'the cheap bound holds');
    for (let k = 0; k < 2; k++) {
      const one = parts.map((_, j) => (j === k ? 1 : 0));
      assert.deepEqual(gatedWeights(parts, one, DEFAULT_CACHE_GATE), one, 'a zero weight stays zero');
    }
    const one = mix(parts, gatedWeights(parts, [1, 0], DEFAULT_CACHE_GATE));
    for (let i = 0; i < SYMBOLS; i++) assert.ok(Math.abs(one[i]! - parts[0]!.probs[i]!) < 1e-12);
  }
});

test('online weights follow the recent per-byte loss and can come back', () => {
  const w = new OnlineWeights([0.5, 0.5], { decay: 0.8, share: 0.001, rate: 0.5 });
  for (let i = 0; i < 20; i++) w.update([0.2, 6]);
  assert.ok(w.weights()[0]! > 0.95, `${w.weights()}`);
  for (let i = 0; i < 20; i++) w.update([6, 0.2]);
  assert.ok(w.weights()[1]! > 0.95, 'the other component takes over once it predicts better');
  assert.ok(Math.abs(w.weights().reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

let tiny: LoadedModel;
let other: LoadedModel;

before(async () => {
  tiny = await loadModel(join(root, 'models', 'subword-tiny'), { logger: silentLogger, skipChecksums: true });
  // A different tokenizer and the PSM format (prefix in the head, boundary at the middle's start).
  other = await loadModel(join(root, 'test', 'fixtures', 'models', 'codellama'), { logger: silentLogger, skipChecksums: true });
});

after(async () => {
  await tiny?.model.dispose();
  await other?.model.dispose();
});

function neural(loaded: LoadedModel, prefix: string, suffix: string): NeuralPrompt {
  const p = new CompletionCore(loaded, silentLogger).prompt({ prefix, suffix, maxTokens: 16 });
  return { name: loaded.name, model: loaded.model, tokenizer: loaded.tokenizer, headIds: p.headIds, streamBytes: p.streamBytes, stopIds: p.stopIds };
}

test('real parts: two models with different tokenizers and the cache mix into a proper distribution at every byte; weight 1 reproduces each', async () => {
  const prefix = 'def getUserName(user):\n    return user.na';
  const suffix = '\n\nprint(getUserName(u))\n';
  const cache = new ByteCacheModel({ memoryBytes: 1 << 20 });
  cache.observe(enc.encode(`${prefix}me\n${suffix}`));
  const a = await ExactComponent.create(neural(tiny, prefix, suffix), DEFAULT_EXACT_OPTIONS.score);
  const b = await ExactComponent.create(neural(other, prefix, suffix), DEFAULT_EXACT_OPTIONS.score);
  const c = new CacheComponent(cache, enc.encode(prefix));
  for (const byte of enc.encode('me\n')) {
    const parts = [await a.predict(), await b.predict(), await c.predict()];
    for (const p of parts) assert.ok(Math.abs(total(p.probs) - 1) < 1e-9, 'each component is proper');
    const m = mix(parts, [0.5, 0.2, 0.3]);
    assert.ok(Math.abs(total(m) - 1) < 1e-9, `mixture sum ${total(m)}`);
    for (let k = 0; k < 2; k++) {
      const one = mix(parts, parts.map((_, j) => (j === k ? 1 : 0)));
      for (let i = 0; i < SYMBOLS; i++) assert.ok(Math.abs(one[i]! - parts[k]!.probs[i]!) < 1e-12);
    }
    for (const comp of [a, b, c]) await comp.advance(byte);
  }
});

test('weight 1 on the model scores like exact mode (the middle ends with the first stop token, end of file aside)', async () => {
  const prefix = 'for (let i = 0; i < n; i++) {\n  tot';
  const suffix = '\n}\n';
  const p = neural(tiny, prefix, suffix);
  const req: BoundaryRequest = { ...p, maxTokens: 8 };
  const target = enc.encode('al += xs[i];');
  assert.ok(p.stopIds.length >= 2, 'end of middle and end of file');
  const exact = await new ExactStrategy().score(req, target);
  const ens = await new EnsembleStrategy({ ...DEFAULT_ENSEMBLE_OPTIONS, fixedWeights: [1] }).score({ ...req, before: enc.encode(prefix) }, target);
  // Not 1e-12: the runner's float32 logits differ in the last bits between a cold and a warm KV cache.
  assert.ok(Math.abs(exact - ens) < 1e-6, `${exact} vs ${ens}`);
});

test('where the text repeats, the cache drives the completion and lowers the bits; elsewhere the model keeps it', async () => {
  const line = 'registerHandler("qzvKx_flumph", onQzvKxFlumph);\n';
  const prefix = `${line}${line}${line}registerHandler("qzv`;
  const suffix = '\n';
  const cache = new ByteCacheModel({ memoryBytes: 1 << 20 });
  // As the eval fills it: the suffix, then the prefix, whose last bytes are predicted before they are learnt.
  const warm = fillCaseCache(cache, { task_id: 't', prompt: prefix, suffix, canonical_solution: '' }, []);
  const p = neural(tiny, prefix, suffix);
  const req = { ...p, maxTokens: 40, temperature: 0, before: enc.encode(prefix), cache, cacheWarmupBits: warm };
  // An even prior: the defaults are tuned on held-out spans where the cache rarely knows more than
  // the model (see the README); here the point is the mechanism.
  const strategy = new EnsembleStrategy({ ...DEFAULT_ENSEMBLE_OPTIONS, cachePrior: 0.5 });
  const ens = await strategy.generate(req);
  const alone = await new ExactStrategy().generate(req);
  const text = new TextDecoder().decode(ens.bytes);
  assert.ok(text.startsWith('Kx_flumph", onQzvKxFlumph);'), `ensemble: ${JSON.stringify(text)}`);
  assert.ok(!new TextDecoder().decode(alone.bytes).startsWith('Kx_flumph", onQzvKxFlumph);'), 'the model alone does not (else this test proves nothing)');
  assert.equal(ens.ensemble.driver, 'cache');
  assert.ok(ens.ensemble.drivenBytes > 0);
  const target = enc.encode('Kx_flumph", onQzvKxFlumph);');
  const sEns = await strategy.score(req, target);
  const sAlone = await new ExactStrategy().score(req, target);
  assert.ok(sEns > sAlone + 5, `ensemble ${sEns} vs model ${sAlone} nats`);
});

test('bad input through the ensemble: lone surrogate, NUL, CRLF, tabs give a result, never a throw', async () => {
  const cache = new ByteCacheModel({ memoryBytes: 1 << 20 });
  for (const prefix of ['x = "\ud800', 'a\0b', 'if x:\r', '\t\t\t', '']) {
    cache.clear();
    cache.observe(enc.encode(prefix));
    const p = neural(tiny, prefix, '\r\n');
    const r = await new EnsembleStrategy().generate({ ...p, maxTokens: 6, before: enc.encode(prefix), cache });
    assert.ok(r.bytes instanceof Uint8Array);
  }
});

test('two models with different tokenizers generate and score through the mixture (byte level)', async () => {
  const prefix = 'def add(a, b):\n    return a';
  const suffix = '\n';
  const a = neural(tiny, prefix, suffix);
  const b = neural(other, prefix, suffix);
  const strategy = new EnsembleStrategy({ ...DEFAULT_ENSEMBLE_OPTIONS, byteLevelOnly: true });
  const req = { ...a, maxTokens: 6, before: enc.encode(prefix), others: [b], primaryName: 'tiny' };
  const r = await strategy.generate(req);
  assert.ok(r.bytes.length <= 6);
  assert.deepEqual(Object.keys(r.ensemble.weights), ['tiny', other.name]);
  const lp = await strategy.score(req, enc.encode(' + b'));
  const alone = await new ExactStrategy().score({ ...a, maxTokens: 6 }, enc.encode(' + b'));
  assert.ok(Number.isFinite(lp) && lp < 0);
  assert.notEqual(lp, alone, 'the second model took part');
});
