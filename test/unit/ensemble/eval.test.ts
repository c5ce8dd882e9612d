/**
 * The ensemble modes of `subword eval`: the cache is filled from the case's
 * own prefix and suffix (never the middle), the modes report in the same
 * JSON shape, the cache-alone mode is far worse than the model on a case
 * it cannot know, and the two-model modes need --model2.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { evalCommand } from '../../../src/cli/evalCommand';
import type { CliIo } from '../../../src/cli/subcommands';
import { ByteCacheModel } from '../../../src/engine/ensemble/cacheModel';
import { fillCaseCache } from '../../../src/engine/eval/ensemble';

const root = join(__dirname, '..', '..', '..');
const enc = new TextEncoder();

function io(): CliIo & { out: string; err: string } {
  const o = { out: '', err: '', stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t), readStdin: async () => Buffer.alloc(0), packageRoot: root };
  return o;
}

test('the case cache learns the prefix and suffix, never the middle; other files of the package only when asked, never the same file', () => {
  const middle = 'zqxSecretMiddleToken';
  const c = { task_id: 'heldout/pkg/a.js@10-30', prompt: 'const before = 1;\n'.repeat(30), suffix: 'const after = 2;\n', canonical_solution: middle };
  const sameFile = { task_id: 'heldout/pkg/a.js@50-60', prompt: `x ${middle} y`, suffix: '', canonical_solution: 'q' };
  const otherFile = { task_id: 'heldout/pkg/b.js@1-2', prompt: 'function otherFileHelper() {}\n', suffix: '', canonical_solution: 'q' };
  const cache = new ByteCacheModel({ memoryBytes: 1 << 20 });
  const p = (ctx: string, next: string) => {
    const b = enc.encode(ctx + next);
    return cache.predict(b, b.length - 1)[b[b.length - 1]!]!;
  };
  const warm = fillCaseCache(cache, c, [c, sameFile, otherFile], { warmupBytes: 64, packageBytes: 1 << 16 });
  assert.equal(warm.length, 64, 'the last prefix bytes are predicted before they are learnt');
  assert.ok(warm.slice(-16).every((b) => b < 1), 'a repetitive prefix is cheap for the cache');
  assert.ok(p('const afte', 'r') > 0.6, `the suffix is learnt: ${p('const afte', 'r')}`);
  assert.ok(p('zqxSecretMiddleToke', 'n') < 0.2, "the middle is not learnt, not even from another case's window of the same file");
  assert.ok(p('function otherFileHelpe', 'r') > 0.6, 'another file of the package is');
  fillCaseCache(cache, c, [c, otherFile], { warmupBytes: 64, packageBytes: 0 });
  assert.ok(p('function otherFileHelpe', 'r') < 0.2, 'and only when asked');
});

test('the package can come from the source files: same folder first within the budget, never the case\'s own file, never another package', () => {
  const c = { task_id: 'heldout/pkg/src/a.js@10-30', prompt: 'const before = 1;\n'.repeat(30), suffix: '', canonical_solution: 'zqxOwnFileMiddle' };
  const files = [
    { path: 'pkg/src/a.js', text: 'zqxOwnFileMiddle\n'.repeat(20) },
    { path: 'pkg/lib/far.js', text: 'remoteJqpv();\n'.repeat(20) },
    { path: 'pkg/src/near.js', text: 'nearbyWvkh();\n'.repeat(20) },
    { path: 'other/src/x.js', text: 'foreignXybg();\n'.repeat(20) },
  ];
  const cache = new ByteCacheModel({ memoryBytes: 1 << 20 });
  const p = (ctx: string, next: string) => {
    const b = enc.encode(ctx + next);
    return cache.predict(b, b.length - 1)[b[b.length - 1]!]!;
  };
  const nearBytes = enc.encode(files[2]!.text).length;
  fillCaseCache(cache, c, [c], { warmupBytes: 64, packageBytes: nearBytes, packageFiles: files });
  assert.ok(p('nearbyWvk', 'h') > 0.6, 'the file in the same folder comes first');
  assert.ok(p('remoteJqp', 'v') < 0.2, 'the budget ran out before the farther one');
  assert.ok(p('zqxOwnFileMiddl', 'e') < 0.2, "the case's own file (which holds the middle) is left out");
  fillCaseCache(cache, c, [c], { warmupBytes: 64, packageBytes: 1 << 20, packageFiles: files });
  assert.ok(p('remoteJqp', 'v') > 0.6, 'with room, the farther file too');
  assert.ok(p('foreignXyb', 'g') < 0.2, 'never another package');
  assert.ok(p('zqxOwnFileMiddl', 'e') < 0.2);
});

test('subword eval --boundary exact,exact+cache,cache on a real model: same JSON shape; cache alone is the worst; model2 modes need --model2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'subword-ens-eval-'));
  try {
    const data = join(dir, 'cases.jsonl');
    const cases = [
      { task_id: 'heldout/p/a.py@0-1', prompt: 'def add(a, b):\n    return a', suffix: '\n\nprint(add(1, 2))\n', canonical_solution: ' + b' },
      { task_id: 'heldout/p/b.ts@0-1', prompt: 'const userName = 1;\nconst userNa', suffix: ' = 1;\n', canonical_solution: 'me2' },
    ];
    writeFileSync(data, cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
    const o = io();
    const code = await evalCommand.run(['--data', data, '--model', join(root, 'models', 'subword-tiny'), '--max-tokens', '4', '--json', '--boundary', 'exact,exact+cache,cache', '--cache-mb', '1'], o);
    assert.equal(code, 0, o.err);
    const report = JSON.parse(o.out) as { n: number; results: Record<string, Record<string, number>> };
    assert.deepEqual(Object.keys(report.results), ['exact', 'exact+cache', 'cache']);
    for (const r of Object.values(report.results)) assert.deepEqual(Object.keys(r), ['exact_match', 'edit_similarity', 'middle_bits_per_byte', 'pass_at_1', 'ms_per_case']);
    const bits = (m: string) => report.results[m]!.middle_bits_per_byte!;
    assert.ok(bits('cache') > bits('exact') && bits('cache') > bits('exact+cache'), JSON.stringify(report.results));
    // --cache-confidence swaps the learned gate for the older rule: the scores must move.
    const older = io();
    assert.equal(await evalCommand.run(['--data', data, '--model', join(root, 'models', 'subword-tiny'), '--max-tokens', '4', '--json', '--boundary', 'exact+cache', '--cache-mb', '1', '--cache-confidence', '0'], older), 0, older.err);
    const olderBits = (JSON.parse(older.out) as typeof report).results['exact+cache']!.middle_bits_per_byte!;
    assert.notEqual(olderBits, bits('exact+cache'), 'the flag changes the mixing rule');
    const bad = io();
    assert.equal(await evalCommand.run(['--data', data, '--boundary', 'exact+model2'], bad), 2);
    assert.match(bad.err, /--model2/);
    assert.equal(await evalCommand.run(['--data', data, '--boundary', 'exact+nonsense'], io()), 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
