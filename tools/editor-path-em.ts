/**
 * Exact matches through the editor's completion core (stop rules during
 * generation, post-processing, the cache ensemble fed the case's file but
 * never its middle) at several join waits (CompletionCore.plainJoinLookahead
 * and joinLookahead: how far the syntax stop rules let generation run on
 * looking for the suffix join), with model calls and time per completion.
 * Every completion starts on an empty KV cache (as when the cursor lands
 * somewhere new), so the times compare across modes. `subword eval` scores
 * the strategies with the stop rules applied after generation; this is what
 * the editor gets.
 *
 *   node --import tsx tools/editor-path-em.ts CASES.jsonl [N] [WAITS, e.g. 0,8,16] [MODEL_DIR] [MODES, e.g. heal,exact,cache]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompletionCore, type CompletionRequest } from '../src/engine/completion/core';
import { EnsembleHost } from '../src/engine/ensemble/host';
import { silentLogger } from '../src/engine/log';
import { loadModel } from '../src/engine/model/load';
import { languageOfTask, parseCases } from '../src/engine/eval/cases';

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function main(): Promise<void> {
  const [file, n = '200', waits = '0,8', modelDir = join(__dirname, '..', 'models', 'subword-code-fast'), modes = 'cache,exact'] = process.argv.slice(2);
  if (!file) throw new Error('usage: editor-path-em.ts CASES.jsonl [N] [WAITS] [MODEL_DIR] [MODES]');
  const cases = parseCases(readFileSync(file, 'utf8'), file).slice(0, Number(n));
  const loaded = await loadModel(modelDir, { logger: silentLogger, skipChecksums: true });
  const core = new CompletionCore(loaded, silentLogger);
  try {
    for (const mode of modes.split(',')) {
      for (const wait of waits.split(',').map(Number)) {
        core.joinLookahead = wait;
        core.plainJoinLookahead = wait;
        let matches = 0;
        let calls = 0;
        const ms: number[] = [];
        for (const c of cases) {
          const req: CompletionRequest = { prefix: c.prompt, suffix: c.suffix, languageId: languageOfTask(c.task_id), maxTokens: 40 };
          let host: EnsembleHost | undefined;
          if (mode === 'cache') {
            host = new EnsembleHost({ cacheBytes: 4 << 20, logger: silentLogger });
            host.feed({ kind: 'document', key: 'file:///case', text: c.prompt + c.suffix, version: 1 });
            host.cache.drain();
            core.ensemble = host;
          }
          loaded.model.resetCache();
          const r = await core.complete(mode === 'cache' ? { ...req, ensemble: 'cache' } : { ...req, boundary: mode as 'naive' | 'heal' | 'exact' });
          ms.push(r.ms);
          calls += r.modelCalls;
          if (r.text === c.canonical_solution) matches++;
          await host?.dispose();
        }
        const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
        console.log(JSON.stringify({ mode: mode === 'cache' ? 'exact+cache' : mode, wait, n: cases.length, exactMatches: matches, modelCalls: +(calls / cases.length).toFixed(2), meanMs: +mean.toFixed(1), p50Ms: +percentile(ms, 50).toFixed(1), p95Ms: +percentile(ms, 95).toFixed(1) }));
      }
    }
  } finally {
    await loaded.model.dispose();
  }
}

void main();
