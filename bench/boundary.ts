/**
 * `npm run bench -- boundary`: time to ghost text of exact vs heal (and
 * naive) through the completion core, on cursor positions cut at random
 * characters in held-out files (test/fixtures/eval/heldout-spans.jsonl, made
 * from the corpus's test split). Modes run side by side on each position, in
 * rotating order so that none always finds the other's KV cache warm. Then
 * cold: the completion benchmark's positions (bench/positions.ts), each
 * request on an empty KV cache, as when the cursor lands somewhere new.
 *
 * Environment: SUBWORD_BENCH_MODEL (model folder; default the bundled model,
 * else the random-weight fixture, said in the output), SUBWORD_BENCH_POSITIONS
 * (default 60), SUBWORD_BENCH_MAX_TOKENS (default 32), SUBWORD_BENCH_WINDOW (context
 * window in tokens; default the engine's, 0 = the model's full context),
 * SUBWORD_BENCH_COLD_POSITIONS (default 100).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BoundaryMode } from '../src/engine/boundary/types';
import { CompletionCore } from '../src/engine/completion/core';
import { parseCases } from '../src/engine/eval/cases';
import { silentLogger } from '../src/engine/log';
import { loadModel } from '../src/engine/model/load';
import { BUNDLED_MODEL_NAME } from '../src/engine/models';
import { drawPositions, heldOutFiles } from './positions';
import { BENCHES } from './registry';
import { percentile, printTable } from './util';

const ROOT = join(__dirname, '..');

BENCHES.push({
  name: 'boundary',
  summary: 'exact vs heal vs naive: time to ghost text on random-character cursor positions (ratios)',
  async run() {
    const bundled = join(ROOT, 'models', BUNDLED_MODEL_NAME);
    const fixture = join(ROOT, 'test', 'fixtures', 'models', 'subword-nomanifest');
    const dir = process.env.SUBWORD_BENCH_MODEL ?? (existsSync(bundled) ? bundled : fixture);
    const n = Number(process.env.SUBWORD_BENCH_POSITIONS ?? 60);
    const maxTokens = Number(process.env.SUBWORD_BENCH_MAX_TOKENS ?? 32);
    const cases = parseCases(readFileSync(join(ROOT, 'test', 'fixtures', 'eval', 'heldout-spans.jsonl'), 'utf8')).slice(0, n);
    const window = process.env.SUBWORD_BENCH_WINDOW ? Number(process.env.SUBWORD_BENCH_WINDOW) : undefined;
    const loaded = await loadModel(dir, { logger: silentLogger, skipChecksums: true, contextLength: window });
    console.log(`model ${loaded.name} (${dir === fixture ? 'random-weight fixture: no bundled model yet' : dir}), context window ${loaded.model.contextLength}, ${cases.length} positions, max ${maxTokens} tokens, greedy\n`);
    const core = new CompletionCore(loaded, silentLogger);
    const modes: BoundaryMode[] = ['naive', 'heal', 'exact'];
    const ms = new Map<BoundaryMode, number[]>(modes.map((m) => [m, []]));
    const calls = new Map<BoundaryMode, number[]>(modes.map((m) => [m, []]));
    // Warm-up: session start, first allocations.
    for (const m of modes) await core.complete({ prefix: cases[0]!.prompt, suffix: cases[0]!.suffix, boundary: m, maxTokens });
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      const order = modes.map((_, j) => modes[(i + j) % modes.length]!);
      for (const m of order) {
        const r = await core.complete({ prefix: c.prompt, suffix: c.suffix, boundary: m, maxTokens, languageId: 'plaintext' });
        ms.get(m)!.push(r.ms);
        calls.get(m)!.push(r.modelCalls);
      }
    }
    const median = (v: number[]) => percentile(v, 50);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
    const heal = ms.get('heal')!;
    printTable(
      ['mode', 'median ms', 'p90 ms', 'mean ms', 'model calls (mean)', 'median / heal', 'mean / heal'],
      modes.map((m) => {
        const v = ms.get(m)!;
        return [m, median(v), percentile(v, 90), mean(v), mean(calls.get(m)!), median(v) / median(heal), mean(v) / mean(heal)];
      }),
    );
    const perCase = ms.get('exact')!.map((v, i) => v / heal[i]!);
    console.log(`\nexact / heal per position: median ${percentile(perCase, 50).toFixed(2)}x, p90 ${percentile(perCase, 90).toFixed(2)}x`);

    // Cold: the completion benchmark's cursor positions, every request on an empty KV cache, as
    // when the cursor lands somewhere new (the warm table above: the prompt was cached by the
    // mode before, as when typing on).
    const { files, source } = heldOutFiles();
    const nCold = Number(process.env.SUBWORD_BENCH_COLD_POSITIONS ?? 100);
    const positions = drawPositions(files, nCold, 42);
    console.log(`\nCold: the first ${nCold} of the completion benchmark's positions (seed 42, ${source}), single-line completions at most 48 tokens, each request on an empty KV cache, modes in rotating order\n`);
    const cold = new Map<BoundaryMode, number[]>(modes.map((m) => [m, []]));
    for (let i = 0; i < positions.length; i++) {
      const pos = positions[i]!;
      for (const m of modes.map((_, j) => modes[(i + j) % modes.length]!)) {
        loaded.model.resetCache();
        const r = await core.complete({ prefix: pos.file.text.slice(0, pos.offset), suffix: pos.file.text.slice(pos.offset), languageId: pos.file.lang, boundary: m, maxTokens: 48, maxLines: 1 });
        cold.get(m)!.push(r.ms);
      }
    }
    const coldHeal = cold.get('heal')!;
    printTable(
      ['mode', 'median ms', 'p90 ms', 'mean ms', 'median / heal', 'mean / heal'],
      modes.map((m) => {
        const v = cold.get(m)!;
        return [m, median(v), percentile(v, 90), mean(v), median(v) / median(coldHeal), mean(v) / mean(coldHeal)];
      }),
    );
    const coldPerCase = cold.get('exact')!.map((v, i) => v / coldHeal[i]!);
    console.log(`\nexact / heal per position, cold: median ${percentile(coldPerCase, 50).toFixed(2)}x, p90 ${percentile(coldPerCase, 90).toFixed(2)}x (target: at most 1.5x on these positions)`);
    await loaded.model.dispose();
  },
});
