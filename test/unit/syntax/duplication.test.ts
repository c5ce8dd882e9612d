/**
 * Suffix duplication at mid-identifier cursors (issue 8: at most 2% for
 * naive, heal and exact on 200 held-out positions).
 *
 * - The metric itself (duplicatesSuffix, sampling) on clear cases.
 * - The post-processing alone, on 200 real positions of the held-out
 *   fixtures, fed the worst realistic over-generation: the file's own
 *   continuation (the rest of the word and the rest of its line), which a
 *   model that ignores the suffix produces. Raw it duplicates nearly always;
 *   after finalizeCompletion it must not.
 * - The real thing: the completion engine on a trained model for each
 *   boundary mode. It needs a trained model folder (models/<name>/model.onnx,
 *   or SUBWORD_DUP_MODEL=folder); without one the test is skipped and says
 *   why. The fixture models under test/fixtures/models have random weights and
 *   would measure nothing, so they are not used here. It prints how many
 *   completions were non-empty: a weak model that mostly stops at once passes
 *   trivially, and the log says so.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { duplicatesSuffix, measureDuplication, sampleMidIdentifierCases, type MidIdentifierCase } from '../../../src/engine/syntax/duplication';
import { finalizeCompletion } from '../../../src/engine/syntax/postprocess';
import { FIXTURE_LANGUAGES, ROOT, fixture } from './helpers';

const HELD_OUT = FIXTURE_LANGUAGES.filter(([, l]) => !['css', 'ini', 'shellscript'].includes(l)).map(([file, languageId]) => ({ file, languageId, text: fixture(file) }));

test('duplicatesSuffix: the three ways a completion repeats the suffix', () => {
  assert.equal(duplicatesSuffix('python', 'UserName', 'Name(x)\n'), true, 'rest of the word repeated');
  assert.equal(duplicatesSuffix('python', 'User', 'Name(x)\n'), false);
  assert.equal(duplicatesSuffix('python', 'value, limit)', ', limit)\n'), true, 'rest of the line repeated');
  assert.equal(duplicatesSuffix('python', 'value', ')\n'), false);
  assert.equal(duplicatesSuffix('python', 'x = 1\n    return x', '\n    return x\n'), true, 'next line repeated');
  assert.equal(duplicatesSuffix('python', 'x = 1\n    y = 2', '\n    return x\n'), false);
  assert.equal(duplicatesSuffix('python', '', 'Name'), false);
});

test('sampleMidIdentifierCases: reproducible, strictly inside identifiers outside comments', () => {
  const a = sampleMidIdentifierCases(HELD_OUT, 200, { seed: 3 });
  const b = sampleMidIdentifierCases(HELD_OUT, 200, { seed: 3 });
  assert.equal(a.length, 200);
  assert.deepEqual(a, b);
  for (const c of a) {
    assert.ok(c.cut > 0 && c.cut < c.identifier.length);
    assert.ok(c.prefix.endsWith(c.identifier.slice(0, c.cut)) && c.suffix.startsWith(c.identifier.slice(c.cut)));
  }
  assert.ok(new Set(a.map((c) => c.file)).size >= 8, 'positions spread over the files');
});

function overGeneration(c: MidIdentifierCase): string {
  // The rest of the word, the rest of the line and the next line: what the file itself says next.
  const firstNl = c.suffix.indexOf('\n');
  const secondNl = firstNl < 0 ? -1 : c.suffix.indexOf('\n', firstNl + 1);
  return c.suffix.slice(0, secondNl < 0 ? c.suffix.length : secondNl);
}

test('post-processing alone: 200 held-out mid-identifier positions, over-generated completions, duplication <= 2%', async () => {
  const cases = sampleMidIdentifierCases(HELD_OUT, 200, { seed: 8 });
  const raw = await measureDuplication(cases, (c) => Promise.resolve(overGeneration(c)));
  assert.ok(raw.rate > 0.9, `the raw over-generation should duplicate (rate ${raw.rate})`);
  const final = await measureDuplication(cases, (c) => Promise.resolve(finalizeCompletion({ languageId: c.languageId, prefix: c.prefix, suffix: c.suffix }, overGeneration(c)).text));
  assert.ok(final.rate <= 0.02, `duplication ${(final.rate * 100).toFixed(1)}%: ${JSON.stringify(final.examples.slice(0, 3))}`);
  // A different word that then runs into the suffix (`get|Name` -> `UserName(x)`) keeps only the new part.
  const diverging = await measureDuplication(cases, (c) =>
    Promise.resolve(finalizeCompletion({ languageId: c.languageId, prefix: c.prefix, suffix: c.suffix }, 'Zq' + overGeneration(c)).text),
  );
  assert.ok(diverging.rate <= 0.02, `diverging: ${(diverging.rate * 100).toFixed(1)}%: ${JSON.stringify(diverging.examples.slice(0, 3))}`);
});

/** A trained model folder, if this checkout has one. */
function trainedModel(): string | undefined {
  const env = process.env.SUBWORD_DUP_MODEL;
  if (env) return env;
  const dir = join(ROOT, 'models');
  if (!existsSync(dir)) return undefined;
  for (const name of readdirSync(dir).sort()) if (existsSync(join(dir, name, 'model.onnx'))) return join(dir, name);
  return undefined;
}

const MODEL = trainedModel();
/** Mid-word completions end at the word's end (stop rules); a few tokens cover that. */
const MAX_TOKENS = 8;

/**
 * 600 completions (200 positions x 3 modes) take ~20-50 s on a 2-core machine,
 * too long for every unit run: the unit run takes the first 60 of the same
 * 200 positions; SUBWORD_DUP_POSITIONS=200 runs the full measure.
 */
const POSITIONS = Number(process.env.SUBWORD_DUP_POSITIONS ?? 60);

test(
  `the completion engine on a trained model: duplication <= 2% for naive, heal and exact (${POSITIONS} of 200 held-out positions)`,
  { skip: MODEL ? false : 'no trained model (models/<name>/model.onnx or SUBWORD_DUP_MODEL); measureDuplication is ready for it' },
  async () => {
    const { CompletionEngine } = await import('../../../src/engine/completion/engine');
    const { silentLogger } = await import('../../../src/engine/log');
    const engine = CompletionEngine.create({ modelDir: MODEL!, logger: silentLogger });
    try {
      await engine.whenReady();
      const cases = sampleMidIdentifierCases(HELD_OUT, Math.max(200, POSITIONS), { seed: 8, window: 1500 }).slice(0, POSITIONS);
      const rates: Record<string, number> = {};
      for (const boundary of ['naive', 'heal', 'exact'] as const) {
        let nonEmpty = 0;
        const t0 = performance.now();
        const report = await measureDuplication(cases, async (c) => {
          const text = (await engine.complete({ prefix: c.prefix, suffix: c.suffix, languageId: c.languageId, boundary, maxTokens: MAX_TOKENS, temperature: 0 })).text;
          if (text) nonEmpty++;
          return text;
        });
        rates[boundary] = report.rate;
        const ms = (performance.now() - t0) / cases.length;
        console.log(`duplication ${boundary}: ${report.duplicated}/${report.total} = ${(report.rate * 100).toFixed(1)}% (${nonEmpty} non-empty, ${ms.toFixed(0)} ms per completion)`);
        // Honest about weak evidence: a model that mostly returns nothing cannot duplicate anything.
        if (nonEmpty < report.total / 4) console.log(`  note: only ${nonEmpty}/${report.total} ${boundary} completions are non-empty with ${MODEL}; the rate says little about the merge rules until a stronger model`);
      }
      for (const [mode, rate] of Object.entries(rates)) assert.ok(rate <= 0.02, `${mode}: ${(rate * 100).toFixed(1)}%`);
    } finally {
      await engine.dispose();
    }
  },
);
