import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { SUBCOMMANDS } from '../../src/cli/subcommands';

const root = join(__dirname, '..', '..');

test('the built CLI (dist/cli.js) lists every subcommand in --help', () => {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const sub of SUBCOMMANDS) assert.match(r.stdout, new RegExp(`^  ${sub.name}\\s`, 'm'));
});

test('an unknown subcommand exits 2 with a clear message', () => {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'frobnicate'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
});
