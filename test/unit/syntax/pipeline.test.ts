/**
 * The real completion pipeline ranks by parse errors: CompletionCore hands
 * the SyntaxService's ERROR/MISSING counter to finalizeCompletion (overlap
 * cuts and candidate ranking), not only the lexical fallback.
 *
 * Real parts throughout: a trained model folder (the default bundled model,
 * or SUBWORD_PIPELINE_MODEL), onnxruntime, the shipped grammars. The
 * counter is the service's own, wrapped to count its calls. The positions
 * sit right before a closing bracket at the end of a line of the held-out
 * fixtures, where a completion that closes the call itself overlaps the
 * suffix and trimOverlap must choose a cut: with the counter passed, the
 * parser is asked; without it, it never is, and the test fails.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CompletionCore, type SyntaxErrorSource } from '../../../src/engine/completion/core';
import { CompletionEngine } from '../../../src/engine/completion/engine';
import { silentLogger } from '../../../src/engine/log';
import { loadModel } from '../../../src/engine/model/load';
import { BUNDLED_MODEL_NAME } from '../../../src/engine/models';
import { SyntaxService } from '../../../src/engine/syntax/service';
import { fixture as modelFixture, recordingLogger, WORKER_BOOT, WORKER_ENTRY } from '../model/helpers';
import { GRAMMARS_DIR, ROOT, ensureGrammars, fixture } from './helpers';

/** The default bundled model (a trained one: the tiny smoke model mostly generates nothing). */
const MODEL = process.env.SUBWORD_PIPELINE_MODEL ?? join(ROOT, 'models', BUNDLED_MODEL_NAME);
const skip = !existsSync(join(MODEL, 'model.onnx')) && `no trained model at ${MODEL}`;

/** Cursor before the last closing bracket of lines like `foo(a, b)`: prefix up to it, suffix from it. */
function closerPositions(file: string, languageId: string, max: number): Array<{ languageId: string; prefix: string; suffix: string }> {
  const text = fixture(file);
  const out: Array<{ languageId: string; prefix: string; suffix: string }> = [];
  const re = /[A-Za-z_]\w*\([^()\n]*[\w"'\]]([)\]]+;?)$/gm;
  for (let m = re.exec(text); m && out.length < max; m = re.exec(text)) {
    const at = m.index + m[0].length - m[1]!.length;
    out.push({ languageId, prefix: text.slice(0, at), suffix: text.slice(at) });
  }
  return out;
}

test('CompletionCore passes the SyntaxService error counter into the post-processing', { skip }, async () => {
  ensureGrammars();
  const cases = [...closerPositions('sample.py', 'python', 8), ...closerPositions('sample.ts', 'typescript', 6), ...closerPositions('sample.go', 'go', 6), ...closerPositions('sample.rs', 'rust', 6)];
  assert.ok(cases.length >= 12, `enough closing-bracket positions in the fixtures (${cases.length})`);
  const service = new SyntaxService({ grammarsDir: GRAMMARS_DIR, logger: silentLogger });
  let asked = 0;
  let counted = 0;
  const spy: SyntaxErrorSource = {
    language: (id) => service.language(id),
    errorCounter: (id) => {
      asked++;
      const count = service.errorCounter(id);
      return count && ((text) => (counted++, count(text)));
    },
  };
  const loaded = await loadModel(MODEL, { threads: 1, logger: silentLogger, skipChecksums: true });
  try {
    const core = new CompletionCore(loaded, silentLogger, undefined, spy);
    let overlapping = 0;
    for (const c of cases) {
      const before = counted;
      await core.complete({ ...c, boundary: 'naive', maxTokens: 16, temperature: 0 });
      if (counted > before) overlapping++;
    }
    assert.equal(asked, cases.length, 'the counter is requested once per completion');
    assert.ok(counted > 0, `the parser was never asked to count errors in ${cases.length} completions`);
    assert.ok(overlapping >= 1);
  } finally {
    service.dispose();
    await loaded.model.dispose();
  }
});

test('CompletionEngine hands grammarsDir to the core, in this thread and in the model worker', async () => {
  ensureGrammars();
  for (const worker of [false, true]) {
    const log = recordingLogger();
    const engine = CompletionEngine.create({
      modelDir: modelFixture('plain'),
      logger: log,
      grammarsDir: GRAMMARS_DIR,
      ...(worker ? { workerScript: WORKER_BOOT, workerBootstrapData: { entry: WORKER_ENTRY } } : {}),
    });
    try {
      await engine.complete({ prefix: 'def f(x):\n    return g(x', suffix: ')\n', languageId: 'python', boundary: 'naive', maxTokens: 4, temperature: 0 });
      assert.ok(
        log.lines.some(([level, m]) => level === 'debug' && /syntax: loaded .*tree-sitter-python\.wasm/.test(m)),
        `${worker ? 'worker' : 'in-process'}: the core loaded the Python grammar (${JSON.stringify(log.lines)})`,
      );
    } finally {
      await engine.dispose();
    }
  }
});
