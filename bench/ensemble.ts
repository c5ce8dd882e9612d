/**
 * `npm run bench -- ensemble`: time to ghost text of exact mode vs exact +
 * the workspace cache (subword.completion.ensemble "cache") through the
 * completion core, side by side on the same random-character cursor
 * positions (test/fixtures/eval/heldout-spans.jsonl), in alternating order;
 * and the cache model's cost per byte learnt and per byte predicted, against
 * the bundled tokenizer encoding the same text in the same run.
 *
 * Environment: SUBWORD_BENCH_MODEL (model folder; default the bundled
 * model), SUBWORD_BENCH_POSITIONS (default 40), SUBWORD_BENCH_MAX_TOKENS
 * (default 32).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompletionCore } from '../src/engine/completion/core';
import { ByteCacheModel } from '../src/engine/ensemble/cacheModel';
import { SuffixEnd } from '../src/engine/ensemble/endGate';
import { EnsembleHost } from '../src/engine/ensemble/host';
import { parseCases } from '../src/engine/eval/cases';
import { silentLogger } from '../src/engine/log';
import { loadModel } from '../src/engine/model/load';
import { loadTokenizerFile } from '../src/engine/model/tokenizerFile';
import { BUNDLED_MODEL_NAME } from '../src/engine/models';
import { BENCHES } from './registry';
import { bestOf, percentile, printTable } from './util';

const ROOT = join(__dirname, '..');

async function latency(): Promise<void> {
  const dir = process.env.SUBWORD_BENCH_MODEL ?? join(ROOT, 'models', BUNDLED_MODEL_NAME);
  const n = Number(process.env.SUBWORD_BENCH_POSITIONS ?? 40);
  const maxTokens = Number(process.env.SUBWORD_BENCH_MAX_TOKENS ?? 32);
  const cases = parseCases(readFileSync(join(ROOT, 'test', 'fixtures', 'eval', 'heldout-spans.jsonl'), 'utf8')).slice(0, n);
  const loaded = await loadModel(dir, { logger: silentLogger, skipChecksums: true });
  console.log(`model ${loaded.name}, ${cases.length} positions, max ${maxTokens} tokens, greedy; the cache holds the case's file (prefix and suffix, never the middle)\n`);
  const core = new CompletionCore(loaded, silentLogger);
  const host = new EnsembleHost({ cacheBytes: 32 * 1024 * 1024, logger: silentLogger });
  core.ensemble = host;
  const modes = ['exact', 'exact+cache'] as const;
  const ms = new Map<string, number[]>(modes.map((m) => [m, []]));
  const calls = new Map<string, number[]>(modes.map((m) => [m, []]));
  let driven = 0;
  const run = (m: (typeof modes)[number], prefix: string, suffix: string) =>
    core.complete({ prefix, suffix, boundary: 'exact', ensemble: m === 'exact' ? 'off' : 'cache', maxTokens, languageId: 'plaintext' });
  for (const m of modes) await run(m, cases[0]!.prompt, cases[0]!.suffix);
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    host.cache.model.clear();
    host.cache.feedDocument(`case${i}:suffix`, c.suffix);
    host.cache.feedDocument(`case${i}:prefix`, c.prompt);
    host.cache.drain();
    const order = i % 2 ? [...modes].reverse() : modes;
    for (const m of order) {
      const r = await run(m, c.prompt, c.suffix);
      ms.get(m)!.push(r.ms);
      calls.get(m)!.push(r.modelCalls);
      if (m !== 'exact' && r.driver && r.driver !== loaded.name) driven++;
    }
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  const base = ms.get('exact')!;
  printTable(
    ['mode', 'median ms', 'p90 ms', 'mean ms', 'model calls (mean)', 'median / exact', 'mean / exact'],
    modes.map((m) => {
      const v = ms.get(m)!;
      return [m, percentile(v, 50), percentile(v, 90), mean(v), mean(calls.get(m)!), percentile(v, 50) / percentile(base, 50), mean(v) / mean(base)];
    }),
  );
  const perCase = ms.get('exact+cache')!.map((v, i) => v / base[i]!);
  console.log(`\nexact+cache / exact per position: median ${percentile(perCase, 50).toFixed(2)}x, p90 ${percentile(perCase, 90).toFixed(2)}x (target: at most 1.2x); the cache changed ${driven} of ${cases.length} completions`);
  await host.dispose();
  await loaded.model.dispose();
}

async function cacheCost(): Promise<void> {
  const dir = join(ROOT, 'src', 'engine', 'boundary');
  const text = Buffer.concat(
    readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .sort()
      .map((f) => readFileSync(join(dir, f))),
  );
  const str = text.toString('utf8');
  const model = new ByteCacheModel({ memoryBytes: 32 * 1024 * 1024 });
  const out = new Float64Array(256);
  // Reference: the bundled model's tokenizer encoding the same text (work the editor already does per edit).
  const tokenizer = await loadTokenizerFile(join(ROOT, 'models', BUNDLED_MODEL_NAME, 'tokenizer.json'), BUNDLED_MODEL_NAME);
  const e = await bestOf(3, () => tokenizer.encode(str));
  const l = await bestOf(3, () => {
    model.clear();
    model.observe(text);
  });
  const p = await bestOf(3, () => {
    for (let i = 0; i < text.length; i++) model.predict(text, i, out);
  });
  // The END gate at every position, its suffix the text 100 bytes on: the full probe (scoring) and
  // the decision only (generation, which stops reading once END is ruled out).
  const positions: number[] = [];
  for (let i = 64; i + 200 < text.length; i += 7) positions.push(i);
  const endAt = (i: number) => new SuffixEnd(model, text.subarray(i + 100, i + 196));
  const enders = positions.map(endAt);
  const full = await bestOf(3, () => {
    positions.forEach((i, k) => enders[k]!.pEnd(text.subarray(0, i), 1e-6));
  });
  const decide = await bestOf(3, () => {
    positions.forEach((i, k) => enders[k]!.pEnd(text.subarray(0, i), 1e-6, undefined, 0.5));
  });
  console.log(`\ncache model on ${(text.length / 1024).toFixed(0)} KB of source (src/engine/boundary), ${(model.memoryBytes / 1048576).toFixed(1)} MB table:\n`);
  printTable(
    ['operation', 'µs per byte', 'ratio to tokenizer encode'],
    [
      ['tokenizer encode (reference)', (e * 1000) / text.length, 1],
      ['learn (observe)', (l * 1000) / text.length, l / e],
      ['predict (256-byte distribution)', (p * 1000) / text.length, p / e],
    ],
  );
  const perEncodedByte = e / text.length;
  console.log(`\nEND gate (${positions.length} positions; the cache's context is the text before each):\n`);
  printTable(
    ['operation', 'µs per position', 'ratio to a cache predict'],
    [
      ['P(END), whole probe (scoring)', (full * 1000) / positions.length, full / positions.length / (p / text.length)],
      ['END or not (generation, shortcut)', (decide * 1000) / positions.length, decide / positions.length / (p / text.length)],
      ['reference: tokenizer encode, per byte', perEncodedByte * 1000, perEncodedByte / (p / text.length)],
    ],
  );
}

BENCHES.push({
  name: 'ensemble',
  summary: 'exact vs exact+cache: time to ghost text (ratio), and the cache model cost per byte',
  async run() {
    await latency();
    await cacheCost();
  },
});
