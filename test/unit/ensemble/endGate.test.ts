/**
 * END from the text after the cursor (endGate.ts): the mixture with the
 * gate's END stays a proper distribution; on real source the gate says
 * "ends here" at the join of a hole and not inside it; its shortcut never
 * changes a decision; and through the strategy, on a real model, a middle
 * that ends mid-word costs far fewer bits and generation stops at the join,
 * where the model's own END does neither.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CompletionCore } from '../../../src/engine/completion/core';
import { ByteCacheModel } from '../../../src/engine/ensemble/cacheModel';
import { DEFAULT_END_GATE, SuffixEnd, withEnd } from '../../../src/engine/ensemble/endGate';
import { END, SYMBOLS } from '../../../src/engine/ensemble/mixture';
import { DEFAULT_ENSEMBLE_OPTIONS, EnsembleStrategy } from '../../../src/engine/ensemble/strategy';
import { fillCaseCache } from '../../../src/engine/eval/ensemble';
import { silentLogger } from '../../../src/engine/log';
import { seededRandom } from '../../../src/engine/random';
import { useTinyModel } from './tinyModel';

const root = join(__dirname, '..', '..', '..');
const enc = new TextEncoder();

test('withEnd: END set, bytes keep their ratios, the sum stays 1 (1e-12), also for 0, 1 and NaN', () => {
  const rnd = seededRandom(5);
  for (let trial = 0; trial < 200; trial++) {
    const m = new Float64Array(SYMBOLS);
    for (let i = 0; i < SYMBOLS; i++) m[i] = trial % 4 === 0 && i < 256 && rnd() < 0.9 ? 0 : rnd() ** 3;
    let z = 0;
    for (let i = 0; i < SYMBOLS; i++) z += m[i]!;
    for (let i = 0; i < SYMBOLS; i++) m[i]! /= z;
    const before = m.slice();
    const e = [0, 1, Number.NaN, rnd()][trial % 4]!;
    withEnd(m, e);
    let s = 0;
    for (let i = 0; i < SYMBOLS; i++) {
      assert.ok(m[i]! >= 0);
      s += m[i]!;
    }
    assert.ok(Math.abs(s - 1) < 1e-12, `sum ${s}`);
    assert.equal(m[END], e > 0 ? e : 0);
    const ref = before.indexOf(Math.max(...before.subarray(0, 256)));
    if (e < 1) for (let b = 0; b < 256; b++) if (before[b]! > 0) assert.ok(Math.abs(m[b]! / m[ref]! / (before[b]! / before[ref]!) - 1) < 1e-9);
  }
});

/** Holes cut at seeded random characters of a real source file (a frozen copy), the cache filled as the eval fills it. */
function holes(n: number): Array<{ prefix: Uint8Array; middle: Uint8Array; cache: ByteCacheModel; after: Uint8Array }> {
  const text = readFileSync(join(root, 'test', 'fixtures', 'ensemble', 'covers-snapshot.ts.txt'), 'utf8');
  const rnd = seededRandom(17);
  const out = [];
  for (let i = 0; i < n; i++) {
    const start = 2000 + Math.floor(rnd() * (text.length - 4000));
    const end = start + 3 + Math.floor(rnd() * 20);
    const c = { task_id: 't', prompt: text.slice(0, start), canonical_solution: text.slice(start, end), suffix: text.slice(end) };
    const cache = new ByteCacheModel({ memoryBytes: 4 << 20 });
    fillCaseCache(cache, c, []);
    out.push({ prefix: enc.encode(c.prompt), middle: enc.encode(c.canonical_solution), cache, after: enc.encode(c.suffix.slice(0, 96)) });
  }
  return out;
}

test('on real source the gate tells the join of a hole from the positions inside it far better than any fixed rate; the shortcut never changes the decision', () => {
  let atJoin = 0;
  let inside = 0;
  let insideHigh = 0;
  let bits = 0;
  const cases = holes(16);
  for (const h of cases) {
    const ender = new SuffixEnd(h.cache, h.after);
    const context = (k: number) => {
      const b = new Uint8Array(h.prefix.length + k);
      b.set(h.prefix, 0);
      b.set(h.middle.subarray(0, k), h.prefix.length);
      return b;
    };
    const pJoin = ender.pEnd(context(h.middle.length), 0);
    bits -= Math.log2(pJoin);
    if (pJoin > 0.5) atJoin++;
    for (let k = 1; k < h.middle.length; k++) {
      const ctx = context(k);
      const p = ender.pEnd(ctx, 0);
      inside++;
      bits -= Math.log2(1 - p);
      if (p > 0.5) insideHigh++;
      const cheap = ender.pEnd(ctx, 0, undefined, 0.5);
      assert.equal(cheap > 0.5, p > 0.5, 'the shortcut decides as the full computation does');
      // The context may also come in two parts (the cache's context, token bytes not taken yet).
      assert.ok(Math.abs(ender.pEnd(ctx.subarray(0, ctx.length - 1), 0, ctx.subarray(ctx.length - 1)) - p) < 1e-12);
    }
  }
  // The best fixed rate knows how many positions are joins, and still pays the entropy of that split.
  const n = cases.length + inside;
  const r = cases.length / n;
  const fixed = -(cases.length * Math.log2(r) + inside * Math.log2(1 - r));
  assert.ok(bits < 0.5 * fixed, `gate ${bits.toFixed(1)} bits vs the best fixed rate ${fixed.toFixed(1)}`);
  assert.ok(atJoin >= cases.length * 0.4, `ends at ${atJoin} of ${cases.length} joins`);
  assert.ok(insideHigh <= inside * 0.05, `${insideHigh} of ${inside} inner positions look like the end`);
});

const tinyModel = useTinyModel();

test('a middle that ends mid-word: the gate costs far fewer bits than the model\'s END and generation stops at the join', async () => {
  const tiny = tinyModel();
  const line = 'registerHandler("qzvKx_flumph", onQzvKxFlumph);\n';
  const prefix = `${line}${line}${line}registerHandler("qzvK`;
  const middle = 'x_flu';
  const suffix = `mph", onQzvKxFlumph);\n${line}`;
  const cache = new ByteCacheModel({ memoryBytes: 1 << 20 });
  const warm = fillCaseCache(cache, { task_id: 't', prompt: prefix, suffix, canonical_solution: middle }, []);
  const p = new CompletionCore(tiny, silentLogger).prompt({ prefix, suffix, maxTokens: 16 });
  const req = { model: tiny.model, tokenizer: tiny.tokenizer, headIds: p.headIds, streamBytes: p.streamBytes, stopIds: p.stopIds, maxTokens: 16, temperature: 0, before: enc.encode(prefix), cache, cacheWarmupBits: warm, after: enc.encode(suffix.slice(0, 96)) };
  const options = { ...DEFAULT_ENSEMBLE_OPTIONS, cachePrior: 0.5 };
  const gated = new EnsembleStrategy(options);
  const modelEnd = new EnsembleStrategy({ ...options, endGate: undefined });
  const target = enc.encode(middle);
  const withGate = await gated.score(req, target);
  const without = await modelEnd.score(req, target);
  assert.ok(withGate > without + 5, `gate ${withGate} vs model END ${without} nats`);
  assert.ok(DEFAULT_END_GATE.sum > 0);
  const g = await gated.generate(req);
  const m = await modelEnd.generate(req);
  assert.equal(new TextDecoder().decode(g.bytes), middle);
  assert.equal(g.joinsSuffix, true, 'the result says the completion joins the suffix, so post-processing keeps it as it is');
  assert.equal(m.joinsSuffix, false);
  assert.notEqual(new TextDecoder().decode(m.bytes), middle, 'the model\'s own END does not stop there (else this proves nothing)');
});

test('near the end of the file (a suffix shorter than a probe) the gate stays out: the model\'s END, as without it', async () => {
  const tiny = tinyModel();
  const cache = new ByteCacheModel({ memoryBytes: 1 << 20 });
  cache.observe(enc.encode('function f() {\n  return 1;\n}\n'));
  assert.equal(new SuffixEnd(cache, enc.encode('}\n')).complete, false);
  assert.equal(new SuffixEnd(cache, enc.encode('   \n  ')).complete, false);
  assert.equal(new SuffixEnd(cache, enc.encode('')).complete, false);
  assert.equal(new SuffixEnd(cache, enc.encode('\n  return 1;\n}\n')).complete, true);
  const prefix = 'function f() {\n  ret';
  const p = new CompletionCore(tiny, silentLogger).prompt({ prefix, suffix: '}\n', maxTokens: 8 });
  const req = { model: tiny.model, tokenizer: tiny.tokenizer, headIds: p.headIds, streamBytes: p.streamBytes, stopIds: p.stopIds, maxTokens: 8, temperature: 0, before: enc.encode(prefix), cache, after: enc.encode('}\n') };
  const target = enc.encode('urn 1;\n');
  const gated = await new EnsembleStrategy().score(req, target);
  const plain = await new EnsembleStrategy({ ...DEFAULT_ENSEMBLE_OPTIONS, endGate: undefined }).score(req, target);
  // Not 1e-12: the runner's float32 logits differ in the last bits between a cold and a warm KV cache.
  assert.ok(Math.abs(gated - plain) < 1e-6, `${gated} vs ${plain}`);
});
