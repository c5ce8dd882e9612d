// Builds the VSIX exactly as `npm run package` does (into a temp folder) and
// checks what is inside: the allow-list in .vscodeignore must let through the
// bundles, models, grammars and the Linux x64 onnxruntime binary, and nothing
// from the sources, tests, tools, training data or other platforms.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { inflateRawSync } from 'node:zlib';
import { ensureTestVsix } from '../integration/vsix';

const root = join(__dirname, '..', '..');

interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

/** Reads a zip's central directory (no zip64: a VSIX is far below 4 GB). */
function zipEntries(zip: Buffer): ZipEntry[] {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  assert.ok(eocd >= 0, 'not a zip file (no end of central directory)');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(p), 0x02014b50, 'bad central directory entry');
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    entries.push({
      method: zip.readUInt16LE(p + 10),
      compressedSize: zip.readUInt32LE(p + 20),
      size: zip.readUInt32LE(p + 24),
      name: zip.toString('utf8', p + 46, p + 46 + nameLen),
      localHeaderOffset: zip.readUInt32LE(p + 42),
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function zipRead(zip: Buffer, e: ZipEntry): Buffer {
  const p = e.localHeaderOffset;
  assert.equal(zip.readUInt32LE(p), 0x04034b50, `bad local header for ${e.name}`);
  const start = p + 30 + zip.readUInt16LE(p + 26) + zip.readUInt16LE(p + 28);
  const data = zip.subarray(start, start + e.compressedSize);
  if (e.method === 0) return Buffer.from(data);
  assert.equal(e.method, 8, `unsupported compression ${e.method} for ${e.name}`);
  return inflateRawSync(data);
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(relative(root, p).split('\\').join('/'));
  }
  return out;
}

let tmp = '';
let vsixPath = '';
let zip: Buffer;
let names: string[] = [];
let packageOutput = '';

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'subword-package-test-'));
  // The same VSIX the integration test installs into VS Code (built once per run).
  const built = ensureTestVsix();
  vsixPath = built.path;
  packageOutput = built.output;
  zip = readFileSync(vsixPath);
  names = zipEntries(zip).map((e) => e.name);
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('the VSIX holds the bundles, the manifest, the Linux x64 onnxruntime and no source maps', () => {
  for (const required of [
    'extension.vsixmanifest',
    'extension/package.json',
    'extension/readme.md',
    'extension/LICENSE.txt',
    'extension/dist/extension.js',
    'extension/dist/cli.js',
    'extension/dist/web-tree-sitter.wasm',
    'extension/media/icon.png',
    'extension/node_modules/onnxruntime-node/package.json',
    'extension/node_modules/onnxruntime-node/dist/index.js',
    'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
    'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
    'extension/node_modules/onnxruntime-common/dist/cjs/index.js',
  ]) {
    assert.ok(names.includes(required), `${required} is missing from the VSIX`);
  }
  // Every bundle the build makes is shipped (e.g. a model worker), without its map.
  for (const f of filesUnder(join(root, 'dist'))) {
    if (f.endsWith('.map')) assert.ok(!names.includes(`extension/${f}`), `${f} should not be shipped`);
    else assert.ok(names.includes(`extension/${f}`), `${f} was built but is not in the VSIX`);
  }
  const manifest = zipRead(zip, zipEntries(zip).find((e) => e.name === 'extension.vsixmanifest')!).toString('utf8');
  assert.match(manifest, /TargetPlatform="linux-x64"/, 'the VSIX is marked as linux-x64 only');
  const pkg = JSON.parse(zipRead(zip, zipEntries(zip).find((e) => e.name === 'extension/package.json')!).toString('utf8'));
  assert.equal(pkg.main, './dist/extension.js');
});

test('the VSIX holds every file of models/ and grammars/ (checked once they have files)', () => {
  // models/ and grammars/ are filled by the model and syntax work; an empty
  // folder in the repository has nothing to require yet.
  const shipped = [...filesUnder(join(root, 'models')), ...filesUnder(join(root, 'grammars'))].filter((f) => !f.endsWith('.gitkeep'));
  for (const f of shipped) assert.ok(names.includes(`extension/${f}`), `${f} is missing from the VSIX`);
  if (filesUnder(join(root, 'grammars')).some((f) => f.endsWith('.wasm'))) {
    assert.ok(names.some((n) => /^extension\/grammars\/.+\.wasm$/.test(n)), 'no grammar wasm in the VSIX');
  }
});

test('nothing from sources, tests, tools, training data or other platforms gets in', () => {
  const bad: string[] = [];
  for (const n of names) {
    const inExt = n.startsWith('extension/') ? n.slice('extension/'.length) : n;
    if (/^(src|test|tools|bench|out|scratch[^/]*|\.vscode-test|\.corpus-cache|\.subword-cache|\.git|\.ci)\//.test(inExt)) bad.push(`${n} (not for users)`);
    else if (/\.(ts|map|npy|npz|pt|pth|ckpt|safetensors|parquet|arrow|jsonl)$/.test(inExt) && !inExt.endsWith('.d.ts')) bad.push(`${n} (source or training data)`);
    else if (/(^|\/)(tsconfig[^/]*\.json|eslint\.config\.mjs|package-lock\.json|\.npmrc|\.gitignore)$/.test(inExt)) bad.push(`${n} (development file)`);
    else if (/onnxruntime-node\/bin\//.test(inExt) && !/onnxruntime-node\/bin\/napi-v6\/linux\/x64\//.test(inExt)) bad.push(`${n} (not a linux-x64 binary)`);
    else if (inExt.startsWith('node_modules/') && !/^node_modules\/onnxruntime-(node|common)\//.test(inExt)) bad.push(`${n} (a dependency that is bundled or only used at install time)`);
  }
  assert.deepEqual(bad, []);
});

test('the packaged onnxruntime-node and CLI load from the unpacked VSIX alone', () => {
  const dest = join(tmp, 'unpacked');
  for (const e of zipEntries(zip)) {
    if (e.name.endsWith('/')) continue;
    const p = join(dest, e.name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, zipRead(zip, e));
  }
  const ext = join(dest, 'extension');
  // A fresh Node with the unpacked folder as its only module root.
  const ort = spawnSync(
    process.execPath,
    ['-e', 'const ort = require(process.argv[1]); if (typeof ort.InferenceSession?.create !== "function") throw new Error("no InferenceSession"); console.log("ok")', join(ext, 'node_modules', 'onnxruntime-node')],
    { cwd: ext, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
  );
  assert.equal(ort.status, 0, `onnxruntime-node does not load from the VSIX:\n${ort.stderr}`);
  assert.match(ort.stdout, /ok/);
  const cli = spawnSync(process.execPath, [join(ext, 'dist', 'cli.js'), '--help'], { cwd: tmp, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  assert.equal(cli.status, 0, `the packaged CLI fails:\n${cli.stdout}${cli.stderr}`);
  assert.match(cli.stdout, /subword/i);
});

test('the VSIX size is reported', (t) => {
  const mb = statSync(vsixPath).size / 1024 / 1024;
  t.diagnostic(`VSIX ${mb.toFixed(1)} MB, ${names.length} files`);
  assert.match(packageOutput, /MB/);
  // onnxruntime's Linux library alone is ~45 MB unpacked; far more means other platforms or data slipped in.
  assert.ok(mb < 300, `VSIX is ${mb.toFixed(0)} MB`);
});
