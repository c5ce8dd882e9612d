// `npm test`: typecheck, lint, build, then ONE node:test run over the unit
// tests and the integration tests (which drive a real VS Code), so node's
// closing summary counts everything.
//   --unit        skip the in-VS-Code integration tests
//   --no-static   skip typecheck and lint (quick local loops)
//   --only PAT    run only test files whose path contains PAT
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const noStatic = args.includes('--no-static');
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;

function step(label, cmd, cmdArgs) {
  const started = Date.now();
  console.log(`\n▶ ${label}`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: process.env });
  if (r.status !== 0) {
    console.error(`✖ ${label} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
  console.log(`✔ ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out.sort();
}

const npmCli = process.env.npm_execpath;
const npm = (script) => (npmCli ? [process.execPath, [npmCli, 'run', '--silent', script]] : ['npm', ['run', '--silent', script]]);

if (!noStatic) {
  step('typecheck', ...npm('typecheck'));
  step('lint', ...npm('lint'));
}
step('build', process.execPath, ['tools/build.mjs', '--tests']);

let files = findTests(join(root, 'test', 'unit'));
if (!unitOnly) files.push(...findTests(join(root, 'test', 'integration')));
if (only) files = files.filter((f) => f.includes(only));
if (files.length === 0) {
  // Without file arguments `node --test` would discover files on its own (tools/test-*.mjs included).
  console.error(`no test files${only ? ` match --only ${only}` : ''}`);
  process.exit(1);
}

const testArgs = ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files];
console.log(`\n▶ node --test (${files.length} files)`);
const r = spawnSync(process.execPath, testArgs, { cwd: root, stdio: 'inherit', env: process.env });
process.exit(r.status ?? 1);
