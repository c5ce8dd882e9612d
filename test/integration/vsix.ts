// The VSIX that the package content test and the install test share: built
// once per `npm test` run with `npm run package`'s own script, reused while it
// is newer than everything that goes into it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
export const testVsixPath = join(root, 'out', 'vsix', 'subword-test.vsix');

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** Builds the test VSIX with tools/package.mjs unless a fresh one exists; returns its path and the packager's output. */
export function ensureTestVsix(): { path: string; output: string; reused: boolean } {
  const inputs = ['package.json', '.vscodeignore', 'README.md', 'LICENSE', 'dist', 'models', 'grammars', 'media'];
  const newestInput = Math.max(...inputs.map((p) => newestMtime(join(root, p))));
  if (existsSync(testVsixPath) && statSync(testVsixPath).mtimeMs > newestInput) {
    return { path: testVsixPath, output: `reused ${testVsixPath} (${(statSync(testVsixPath).size / 1024 / 1024).toFixed(1)} MB)`, reused: true };
  }
  // --no-build: `npm test` has just built dist/ (tools/test.mjs), and the
  // freshness check above compares against that build.
  const r = spawnSync(process.execPath, [join(root, 'tools', 'package.mjs'), '--no-build', '--out', testVsixPath], { cwd: root, encoding: 'utf8' });
  const output = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`npm run package failed (exit ${r.status ?? r.signal}):\n${output}`);
  return { path: testVsixPath, output, reused: false };
}
