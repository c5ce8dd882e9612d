/**
 * Exact matches through the editor's completion core (stop rules during
 * generation, post-processing, the cache ensemble fed the case's file but
 * never its middle), for exact mode and for ensemble "cache" at several join
 * waits (CompletionCore.plainJoinLookahead and joinLookahead: how far the
 * syntax stop rules let generation run on looking for the suffix join).
 * `subword eval` scores the strategies with the stop rules applied after
 * generation; this is what the editor gets.
 *
 *   node --import tsx tools/editor-path-em.ts CASES.jsonl [N] [WAITS, e.g. 0,8,16] [MODEL_DIR]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompletionCore } from '../src/engine/completion/core';
import { EnsembleHost } from '../src/engine/ensemble/host';
import { silentLogger } from '../src/engine/log';
import { loadModel } from '../src/engine/model/load';
import { languageOfTask, parseCases } from '../src/engine/eval/cases';

async function main(): Promise<void> {
  const [file, n = '200', waits = '0,8', modelDir = join(__dirname, '..', 'models', 'subword-code-fast')] = process.argv.slice(2);
  if (!file) throw new Error('usage: editor-path-em.ts CASES.jsonl [N] [WAITS] [MODEL_DIR]');
  const cases = parseCases(readFileSync(file, 'utf8'), file).slice(0, Number(n));
  const loaded = await loadModel(modelDir, { logger: silentLogger, skipChecksums: true });
  const core = new CompletionCore(loaded, silentLogger);
  try {
    for (const wait of waits.split(',').map(Number)) {
      core.joinLookahead = wait;
      core.plainJoinLookahead = wait;
      let cacheMatches = 0;
      let exactMatches = 0;
      let cacheMs = 0;
      let exactMs = 0;
      let exactCalls = 0;
      for (const c of cases) {
        const req = { prefix: c.prompt, suffix: c.suffix, languageId: languageOfTask(c.task_id), maxTokens: 40 };
        const host = new EnsembleHost({ cacheBytes: 4 << 20, logger: silentLogger });
        host.feed({ kind: 'document', key: 'file:///case', text: c.prompt + c.suffix, version: 1 });
        host.cache.drain();
        core.ensemble = host;
        const t0 = performance.now();
        const mixed = await core.complete({ ...req, ensemble: 'cache' });
        cacheMs += performance.now() - t0;
        if (mixed.text === c.canonical_solution) cacheMatches++;
        const t1 = performance.now();
        const plain = await core.complete({ ...req, boundary: 'exact' });
        exactMs += performance.now() - t1;
        exactCalls += plain.modelCalls;
        if (plain.text === c.canonical_solution) exactMatches++;
        await host.dispose();
      }
      console.log(JSON.stringify({ wait, n: cases.length, exactPlusCacheMatches: cacheMatches, exactMatches, cacheMsPerCase: +(cacheMs / cases.length).toFixed(1), exactMsPerCase: +(exactMs / cases.length).toFixed(1), exactModelCalls: +(exactCalls / cases.length).toFixed(2) }));
    }
  } finally {
    await loaded.model.dispose();
  }
}

void main();
