// `npm run package`: builds the bundles and makes a platform VSIX with @vscode/vsce.
//   node tools/package.mjs [--target linux-x64] [--out FILE.vsix] [--no-build]
//
// What goes in is decided by .vscodeignore, an allow-list. vsce is run in a
// staging folder that holds (as hard links) only the top-level paths the
// allow-list can let through plus the production dependency tree: run in the
// repository itself, vsce would walk and pattern-match every file of the
// training caches and the test VS Code (tens of thousands of files, a minute).
// The onnxruntime-node binary is native, so the VSIX is per platform; the
// allow-list names linux/x64 and another --target swaps that path.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** vsce target -> the onnxruntime-node binary folder it needs. */
const TARGETS = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-arm64': 'darwin/arm64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
};
const DEFAULT_TARGET = 'linux-x64';

function parseArgs(argv) {
  const opts = { target: DEFAULT_TARGET, out: undefined, build: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--target') opts.target = argv[++i];
    else if (a === '--out') opts.out = argv[++i];
    else if (a === '--no-build') opts.build = false;
    else throw new Error(`unknown argument ${a}\nusage: node tools/package.mjs [--target ${Object.keys(TARGETS).join('|')}] [--out FILE.vsix] [--no-build]`);
  }
  if (!(opts.target in TARGETS)) throw new Error(`unknown --target ${opts.target}; one of ${Object.keys(TARGETS).join(', ')}`);
  return opts;
}

/** Hard-links a file or folder tree into `dst` (copies where links cannot cross devices). */
function linkTree(src, dst) {
  const st = lstatSync(src);
  if (st.isDirectory()) {
    mkdirSync(dst, { recursive: true });
    for (const name of readdirSync(src)) linkTree(join(src, name), join(dst, name));
  } else if (st.isFile()) {
    mkdirSync(dirname(dst), { recursive: true });
    try {
      linkSync(src, dst);
    } catch {
      copyFileSync(src, dst);
    }
  }
  // Symlinks and other special files are left out, as vsce would.
}

/** The production dependency folders, as npm (and therefore vsce) sees them. */
function productionDependencies() {
  const out = execFileSync('npm', ['list', '--omit=dev', '--parseable', '--all', '--loglevel=error'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && resolve(l) !== resolve(root))
    .map((l) => relative(root, l));
}

/** Top-level names that a `!` line of the allow-list can let through. */
function allowedTopLevel(ignoreText) {
  const names = new Set(['package.json', 'README.md', '.vscodeignore']);
  for (const raw of ignoreText.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line.startsWith('!')) continue;
    const first = line.slice(1).replace(/^\//, '').split('/')[0];
    if (first && !/[*?[{]/.test(first) && first !== 'node_modules') names.add(first);
  }
  return [...names];
}

/**
 * Builds the VSIX and returns its path and size.
 * @param {{ target?: string, out?: string, build?: boolean, log?: (line: string) => void }} [o]
 */
export function packageVsix(o = {}) {
  const opts = { target: DEFAULT_TARGET, build: true, ...o };
  const log = o.log ?? ((l) => console.log(l));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const out = resolve(opts.out ?? join(root, `${pkg.name}-${pkg.version}-${opts.target}.vsix`));
  if (opts.build) {
    const b = spawnSync(process.execPath, [join(root, 'tools', 'build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (b.status !== 0) throw new Error(`build failed (exit ${b.status ?? b.signal})`);
  }
  for (const f of ['dist/extension.js', 'dist/cli.js']) {
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: the build did not produce it`);
  }

  let ignoreText = readFileSync(join(root, '.vscodeignore'), 'utf8');
  const binDir = TARGETS[opts.target];
  if (binDir !== TARGETS[DEFAULT_TARGET]) ignoreText = ignoreText.split(TARGETS[DEFAULT_TARGET]).join(binDir);

  const stage = mkdtempSync(join(tmpdir(), 'subword-vsix-'));
  try {
    for (const name of allowedTopLevel(ignoreText)) {
      if (existsSync(join(root, name))) linkTree(join(root, name), join(stage, name));
    }
    writeFileSync(join(stage, '.vscodeignore'), ignoreText);
    for (const dep of productionDependencies()) {
      if (!dep.startsWith(`node_modules${sep}`) && dep !== 'node_modules') continue;
      // Only the package's own files; nested node_modules are listed separately by npm.
      const src = join(root, dep);
      const dst = join(stage, dep);
      mkdirSync(dst, { recursive: true });
      for (const name of readdirSync(src)) if (name !== 'node_modules') linkTree(join(src, name), join(dst, name));
    }
    const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
    const args = [
      vsce,
      'package',
      '--target', opts.target,
      '--out', out,
      // There is no public repository yet: keep README links relative (the
      // images they point at are in the VSIX) instead of failing.
      '--no-rewrite-relative-links',
      '--allow-missing-repository',
    ];
    mkdirSync(dirname(out), { recursive: true });
    const r = spawnSync(process.execPath, args, { cwd: stage, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
    const text = `${r.stdout ?? ''}${r.stderr ?? ''}`
      .split('\n')
      .filter((l) => l.trim() && !/Unknown project config/.test(l))
      .join('\n');
    if (r.status !== 0) throw new Error(`vsce package failed (exit ${r.status ?? r.signal}):\n${text}`);
    if (text) log(text);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const bytes = statSync(out).size;
  return { path: out, bytes, target: opts.target };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const started = Date.now();
    const r = packageVsix(parseArgs(process.argv.slice(2)));
    console.log(
      `${relative(process.cwd(), r.path) || r.path}: ${(r.bytes / 1024 / 1024).toFixed(1)} MB (${r.bytes} bytes), target ${r.target}, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  } catch (err) {
    console.error(`package: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
