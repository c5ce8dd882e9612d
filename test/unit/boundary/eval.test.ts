/**
 * The evaluation: random-character spans, metrics, and `subword eval` end to
 * end on a real (random-weight) onnxruntime model, including pass@1 through
 * a python3 subprocess and the exact JSON shape of --json.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { evalCommand, runPythonTests } from '../../../src/cli/evalCommand';
import type { CliIo } from '../../../src/cli/subcommands';
import { makeRandomSpans, parseCases } from '../../../src/engine/eval/cases';
import { editSimilarity, levenshtein } from '../../../src/engine/eval/metrics';

const root = join(__dirname, '..', '..', '..');

function io(): CliIo & { out: string; err: string } {
  const o = {
    out: '',
    err: '',
    stdout: (t: string) => void (o.out += t),
    stderr: (t: string) => void (o.err += t),
    readStdin: async () => Buffer.alloc(0),
    packageRoot: root,
  };
  return o;
}

test('random spans cut at characters, deterministic in the seed, never inside a surrogate pair, contiguous in the file', () => {
  const files = [
    { path: 'a.py', text: 'def getUserName(user_id):\n    return db.lookup(user_id).name  # 👋 emoji 😀 here\n'.repeat(3) },
    { path: 'b.ts', text: 'export function add(a: number, b: number): number {\n  return a + b;\n}\n'.repeat(4) },
  ];
  const a = makeRandomSpans(files, { seed: 3, n: 40 });
  const b = makeRandomSpans(files, { seed: 3, n: 40 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, makeRandomSpans(files, { seed: 4, n: 40 }));
  assert.equal(a.length, 40);
  let midWord = 0;
  for (const c of a) {
    const f = files.find((x) => c.task_id.startsWith(`heldout/${x.path}@`))!;
    assert.ok(f.text.includes(c.prompt + c.canonical_solution + c.suffix));
    assert.ok(c.canonical_solution.length >= 1);
    for (const s of [c.prompt, c.canonical_solution, c.suffix]) assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s), 'no lone surrogate');
    if (/\w$/.test(c.prompt) && /^\w/.test(c.canonical_solution)) midWord++;
  }
  assert.ok(midWord > 0, 'some holes start inside a word');
});

test('long-file spans: --whole-file keeps the whole file around the hole, --min-bytes/--max-bytes/--ext pick the files', async () => {
  const long = 'def long_function_name(x):\n    return x * 2  # é\n'.repeat(300);
  const files = [
    { path: 'pkg/long.py', text: long },
    { path: 'pkg/short.py', text: 'def short(x):\n    return x\n'.repeat(5) },
    { path: 'pkg/long.md', text: long },
  ];
  const spans = makeRandomSpans(files, { seed: 5, n: 20, maxPrefixChars: Infinity, maxSuffixChars: Infinity, minFileBytes: 4000, maxFileBytes: 1 << 20 });
  assert.equal(spans.length, 20);
  for (const c of spans) {
    assert.match(c.task_id, /^heldout\/pkg\/long\.(py|md)@/, 'the short file is never picked');
    assert.equal(c.prompt + c.canonical_solution + c.suffix, long, 'prompt + middle + suffix is the whole file');
  }
  assert.ok(spans.some((c) => c.prompt.length > 3000 && c.suffix.length > 1000), 'beyond the default 3000/1000-character window');
  assert.throws(() => makeRandomSpans(files, { seed: 5, n: 1, minFileBytes: 1 << 20 }), /1048576/);
  const dir = mkdtempSync(join(tmpdir(), 'subword-spans-'));
  try {
    const src = join(dir, 'files.jsonl');
    writeFileSync(src, files.map((f) => JSON.stringify(f)).join('\n') + '\n');
    const o = io();
    assert.equal(await evalCommand.run(['--make-random-spans', src, '--seed', '5', '--n', '10', '--whole-file', '--min-bytes', '4000', '--ext', 'py'], o), 0, o.err);
    const cases = parseCases(o.out);
    assert.equal(cases.length, 10);
    for (const c of cases) {
      assert.match(c.task_id, /^heldout\/pkg\/long\.py@/);
      assert.equal(c.prompt + c.canonical_solution + c.suffix, long);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('edit similarity and Levenshtein distance over code points', () => {
  assert.equal(levenshtein('kitten', 'sitting'), 3);
  assert.equal(levenshtein('', 'abc'), 3);
  assert.equal(levenshtein('😀a', '😀b'), 1);
  assert.equal(editSimilarity('', ''), 1);
  assert.equal(editSimilarity('abcd', 'abce'), 0.75);
});

test('JSON-lines parsing names the bad line', () => {
  assert.throws(() => parseCases('{"task_id":"x","prompt":"","suffix":""}\n', 'f.jsonl'), /f\.jsonl:1: field "canonical_solution"/);
  assert.throws(() => parseCases('\n{oops\n', 'f.jsonl'), /f\.jsonl:2: not JSON/);
});

test('subword eval on a real onnxruntime model: the --json shape, samples, and pass@1 through python3', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'subword-eval-test-'));
  try {
    const data = join(dir, 'cases.jsonl');
    const cases = [
      // An executable case whose true middle passes and whose model middle (random weights) will not.
      { task_id: 'py/0', prompt: 'def add(a, b):\n    return a', suffix: '\n', canonical_solution: ' + b', test: 'def check(f):\n    assert f(2, 3) == 5\n', entry_point: 'add' },
      { task_id: 'ts/1', prompt: 'const userNa', suffix: ' = 1;\n', canonical_solution: 'me' },
    ];
    writeFileSync(data, cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
    const samples = join(dir, 'samples.jsonl');
    const o = io();
    const code = await evalCommand.run(['--data', data, '--model', join(root, 'test', 'fixtures', 'models', 'subword-nomanifest'), '--max-tokens', '4', '--json', '--samples', samples], o);
    assert.equal(code, 0, o.err);
    const report = JSON.parse(o.out) as { n: number; results: Record<string, Record<string, unknown>> };
    assert.equal(report.n, 2);
    assert.deepEqual(Object.keys(report.results), ['naive', 'heal', 'exact']);
    const hasPython = spawnSync('python3', ['--version']).status === 0;
    for (const r of Object.values(report.results)) {
      assert.deepEqual(Object.keys(r), ['exact_match', 'edit_similarity', 'middle_bits_per_byte', 'pass_at_1', 'ms_per_case']);
      assert.ok(typeof r.middle_bits_per_byte === 'number' && r.middle_bits_per_byte > 0);
      assert.equal(r.pass_at_1 === null, !hasPython);
    }
    await new Promise((r) => setTimeout(r, 50)); // the samples stream flushes on end()
    const lines = readFileSync(samples, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    assert.equal(lines.length, 6);
    assert.deepEqual(Object.keys(lines[0]!), ['task_id', 'mode', 'completion']);
    if (hasPython) {
      // The runner itself: the true middle passes, a wrong one fails, a hanging one is killed.
      const c = cases[0]!;
      assert.equal(await runPythonTests(c, c.canonical_solution, 10), true);
      assert.equal(await runPythonTests(c, ' - b', 10), false);
      const t0 = Date.now();
      assert.equal(await runPythonTests(c, " + (__import__('time').sleep(30) or b)", 1), false);
      assert.ok(Date.now() - t0 < 5000);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
