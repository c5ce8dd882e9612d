/**
 * `subword syntax` through the built CLI bundle (dist/cli.js): proves the
 * bundled web-tree-sitter finds its runtime wasm next to the bundle and the
 * grammars in grammars/, as the extension bundle does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES, ROOT, ensureGrammars } from './helpers';

const CLI = join(ROOT, 'dist', 'cli.js');

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  ensureGrammars();
  return spawnSync(process.execPath, [CLI, 'syntax', ...args], { cwd: '/', encoding: 'utf8' });
}

test('dist/cli.js syntax parses with a real grammar from the bundle and shows blocks and the span at a position', { skip: existsSync(CLI) ? false : 'dist/cli.js not built (npm run build)' }, () => {
  const r = run(join(FIXTURES, 'sample.py'), '--at', '38:10', '--fragments', '3');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /python, \d+ lines, grammar python, parsed in [\d.]+ ms, 0 ERROR\/MISSING nodes/);
  assert.match(r.stdout, /^ {4}function restock lines 20-23: \d+ tokens$/m);
  assert.match(r.stdout, /at 38:10: identifier "load_inventory" \(tree identifier\)/);
  assert.match(r.stdout, /2 tokens alone: "load" "_inventory"/);
  assert.equal(r.stdout.split('identifiers taking the most o200k_base tokens:\n')[1]!.trim().split('\n').length, 3);
});

test('dist/cli.js syntax on C says it uses lexical rules', { skip: existsSync(CLI) ? false : 'dist/cli.js not built' }, () => {
  const r = run(join(FIXTURES, 'sample.c'), '--at', '34:8');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /c, \d+ lines, no grammar \(lexical rules\)/);
  assert.match(r.stderr, /no tree-sitter grammar for "c"/);
  assert.match(r.stdout, /at 34:8: identifier "memcpy" \(lexical\)/);
});
