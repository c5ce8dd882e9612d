// Bundles the extension and the CLI with esbuild.
//   node tools/build.mjs            one production build
//   node tools/build.mjs --watch    rebuild on change
//   node tools/build.mjs --tests    also bundle the in-VS-Code test suite
// onnxruntime-node (a native addon) and `vscode` (provided by the host) stay
// external; grammars/ and models/ are read from the package root at run time.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyGrammars } from './copy-grammars.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const withTests = process.argv.includes('--tests') || watch;

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['vscode', 'onnxruntime-node'],
  // web-tree-sitter's ESM build finds its wasm through import.meta.url, which a
  // CJS bundle does not have; its CJS build uses __dirname (= dist/) instead.
  alias: { 'web-tree-sitter': './node_modules/web-tree-sitter/web-tree-sitter.cjs' },
  logLevel: 'info',
  absWorkingDir: root,
};

/** Extra files the bundles load at run time, copied next to them. */
function copyRuntimeAssets() {
  mkdirSync(join(root, 'dist'), { recursive: true });
  // web-tree-sitter's own runtime wasm must sit beside the bundle that loads it.
  const wts = join(root, 'node_modules', 'web-tree-sitter');
  for (const name of existsSync(wts) ? readdirSync(wts) : []) {
    if (name.endsWith('.wasm')) cpSync(join(wts, name), join(root, 'dist', name));
  }
}

const builds = [
  { ...common, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist' },
  {
    ...common,
    entryPoints: { cli: 'src/cli/index.ts' },
    outdir: 'dist',
  },
];
if (existsSync(join(root, 'src/engine/model/worker.ts'))) {
  builds.push({ ...common, entryPoints: { 'model-worker': 'src/engine/model/worker.ts' }, outdir: 'dist' });
}
if (withTests && existsSync(join(root, 'test/vscode/index.ts'))) {
  builds.push({
    ...common,
    entryPoints: { index: 'test/vscode/index.ts' },
    outdir: 'out/test/vscode',
    external: [...common.external],
  });
}

copyRuntimeAssets();
// Built-in tokenizers, compiled from devDependencies into dist/tokenizers (skipped when up to date).
const tokBuild = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'tools', 'build-tokenizers.ts')], { cwd: root, stdio: 'inherit' });
if (tokBuild.status !== 0) process.exit(tokBuild.status ?? 1);
await copyGrammars({ quiet: true });
if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('watching for changes...');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  chmodSync(join(root, 'dist', 'cli.js'), 0o755);
}
