/**
 * Split invariance on real parts (onnxruntime, a tokenizer.json through the
 * tokenizer core, the FIM prompt): for a string s and every cut k,
 * log P(s[:k]) + log P(s[k:] then end | s[:k]) must equal log P(s then end).
 * Under exact mode both sides are byte-level probabilities computed along
 * different routes (incremental cover updates from the start vs. a fresh
 * cover enumeration at the cut), so any error in either shows up as a gap.
 * Naive and heal break it at cuts inside words; their gaps are reported.
 *
 * Runs on the random-weight Subword-format fixture always, and on the
 * bundled models/subword-tiny when it is present.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CoverState, ExactStrategy, HealStrategy, NaiveStrategy, type BoundaryRequest, type BoundaryStrategy } from '../../../src/engine/boundary/index';
import { CompletionCore } from '../../../src/engine/completion/core';
import { silentLogger } from '../../../src/engine/log';
import { loadModel, type LoadedModel } from '../../../src/engine/model/load';

const root = join(__dirname, '..', '..', '..');
const enc = new TextEncoder();

/** Sum of log next-byte probabilities along s from an empty stream: log P(s[:k]) for every k, exact mode. */
async function exactPrefixLogProbs(base: Omit<BoundaryRequest, 'streamBytes'>, s: Uint8Array, epsilon: number): Promise<{ prefix: number[]; masked: number }> {
  const st = await CoverState.create(base.tokenizer, base.model, base.headIds, new Uint8Array(0), { epsilon, maxTail: 96 });
  const out = [0];
  let masked = 0;
  for (const b of s) {
    const d = await st.distribution(base.stopIds);
    masked = Math.max(masked, d.maskedMass);
    out.push(out[out.length - 1]! + Math.log(d.bytes[b]!));
    await st.advance(b);
  }
  return { prefix: out, masked };
}

/** Token-level log P(encode(x)) (naive's and heal's probability of a prefix). */
async function tokenPrefixLogProb(base: Omit<BoundaryRequest, 'streamBytes'>, x: Uint8Array): Promise<number> {
  const ids = [...base.headIds];
  let lp = 0;
  for (const t of base.tokenizer.encodeBytes(x)) {
    lp += (await base.model.nextTokenLogProbs(ids))[t]!;
    ids.push(t);
  }
  return lp;
}

async function gaps(loaded: LoadedModel, strings: readonly string[], epsilon: number): Promise<Record<string, { gap: number; at: string }> & { masked: number }> {
  const core = new CompletionCore(loaded, silentLogger);
  const p = core.prompt({ prefix: '', suffix: '\n' });
  const base = { model: loaded.model, tokenizer: loaded.tokenizer, headIds: p.headIds, stopIds: p.stopIds, maxTokens: 16 };
  const exact = new ExactStrategy({ generate: { epsilon, maxTail: 96 }, score: { epsilon, maxTail: 96 }, switchShare: 0.02, maxBytePhase: 48 });
  const modes: Array<[string, BoundaryStrategy]> = [
    ['exact', exact],
    ['heal', new HealStrategy()],
    ['naive', new NaiveStrategy()],
  ];
  const worst: Record<string, { gap: number; at: string }> = {};
  let masked = 0;
  for (const text of strings) {
    const s = enc.encode(text);
    const ex = await exactPrefixLogProbs(base, s, epsilon);
    masked = Math.max(masked, ex.masked);
    for (const [name, strategy] of modes) {
      const whole = await strategy.score({ ...base, streamBytes: new Uint8Array(0) }, s);
      for (let k = 1; k < s.length; k++) {
        const left = s.subarray(0, k);
        const prefix = name === 'exact' ? ex.prefix[k]! : await tokenPrefixLogProb(base, left);
        const cond = await strategy.score({ ...base, streamBytes: left }, s.subarray(k));
        const gap = Math.abs(prefix + cond - whole);
        if (!(gap <= (worst[name]?.gap ?? -1))) worst[name] = { gap, at: `${JSON.stringify(new TextDecoder().decode(left))}|${JSON.stringify(new TextDecoder().decode(s.subarray(k)))}` };
      }
    }
  }
  return Object.assign(worst, { masked });
}

function heldOutStrings(n: number, maxLen: number): string[] {
  const lines = readFileSync(join(root, 'test', 'fixtures', 'eval', 'heldout-spans.jsonl'), 'utf8').split('\n').filter(Boolean);
  return lines
    .map((l) => (JSON.parse(l) as { canonical_solution: string }).canonical_solution)
    .filter((s) => s.length >= 8 && /[A-Za-z]{3}/.test(s))
    .slice(0, n)
    .map((s) => s.slice(0, maxLen));
}

test('split invariance on a real onnxruntime model and tokenizer.json (random-weight Subword-format fixture): exact gap <= 1e-3 nats, naive much larger', async () => {
  const loaded = await loadModel(join(root, 'test', 'fixtures', 'models', 'subword-nomanifest'), { logger: silentLogger, skipChecksums: true });
  try {
    const g = await gaps(loaded, ['getUserName(id)', '    return self.value', ...heldOutStrings(2, 14)], 0);
    console.log(`  fixture: largest gap exact ${g.exact!.gap.toExponential(2)} nats, heal ${g.heal!.gap.toFixed(3)} (${g.heal!.at}), naive ${g.naive!.gap.toFixed(3)} (${g.naive!.at}); max masked non-canonical mass per step ${g.masked.toFixed(3)}`);
    assert.ok(g.exact!.gap <= 1e-3, `exact split gap ${g.exact!.gap} at ${g.exact!.at}`);
    assert.ok(g.naive!.gap > 10 * Math.max(g.exact!.gap, 1e-4), 'naive should break split invariance');
  } finally {
    await loaded.model.dispose();
  }
});

const tiny = join(root, 'models', 'subword-tiny');
test('split invariance on the bundled model (models/subword-tiny)', { skip: existsSync(join(tiny, 'tokenizer.json')) ? false : 'models/subword-tiny is not there yet' }, async () => {
  const loaded = await loadModel(tiny, { logger: silentLogger, skipChecksums: true });
  try {
    const g = await gaps(loaded, heldOutStrings(2, 10), 1e-6);
    console.log(`  subword-tiny: largest gap exact ${g.exact!.gap.toExponential(2)} nats, heal ${g.heal!.gap.toFixed(3)} (${g.heal!.at}), naive ${g.naive!.gap.toFixed(3)} (${g.naive!.at}); max masked non-canonical mass per step ${g.masked.toFixed(4)}`);
    assert.ok(g.exact!.gap <= 1e-3, `exact split gap ${g.exact!.gap} at ${g.exact!.at}`);
  } finally {
    await loaded.model.dispose();
  }
});
