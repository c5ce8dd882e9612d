// Copies the tree-sitter grammars Subword ships from @vscode/tree-sitter-wasm
// into grammars/ and writes grammars/manifest.json (generated: names, ABI,
// grammar versions read from the wasm itself, licences, sizes, sha256), so
// the VSIX carries an auditable list of what it ships.
//   node tools/copy-grammars.mjs           copy + write the manifest
//   node tools/copy-grammars.mjs --check   exit 1 when grammars/ is stale
// Also imported by tools/build.mjs and by the syntax tests (copyGrammars()).
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_PACKAGE = '@vscode/tree-sitter-wasm';

/**
 * Grammars we ship, keyed by the file stem in @vscode/tree-sitter-wasm/wasm.
 * Licences and upstream repositories are those of the grammar projects the
 * package builds from (the package itself is MIT). Left out: `regex` (only
 * useful injected into other languages, which Subword does not do) and
 * `powershell`: its first parse makes V8 tier up one huge lexer function,
 * measured at 7.5 s of CPU (10 s wall on a 2-core machine) against < 0.7 s for
 * every other grammar, and while that runs every later async grammar load
 * waits behind it. PowerShell uses the lexical scanner.
 */
const GRAMMARS = {
  bash: { repo: 'tree-sitter/tree-sitter-bash', license: 'MIT' },
  'c-sharp': { repo: 'tree-sitter/tree-sitter-c-sharp', license: 'MIT' },
  cpp: { repo: 'tree-sitter/tree-sitter-cpp', license: 'MIT' },
  css: { repo: 'tree-sitter/tree-sitter-css', license: 'MIT' },
  go: { repo: 'tree-sitter/tree-sitter-go', license: 'MIT' },
  ini: { repo: 'justinmk/tree-sitter-ini', license: 'Apache-2.0' },
  java: { repo: 'tree-sitter/tree-sitter-java', license: 'MIT' },
  javascript: { repo: 'tree-sitter/tree-sitter-javascript', license: 'MIT' },
  php: { repo: 'tree-sitter/tree-sitter-php', license: 'MIT' },
  python: { repo: 'tree-sitter/tree-sitter-python', license: 'MIT' },
  ruby: { repo: 'tree-sitter/tree-sitter-ruby', license: 'MIT' },
  rust: { repo: 'tree-sitter/tree-sitter-rust', license: 'MIT' },
  tsx: { repo: 'tree-sitter/tree-sitter-typescript', license: 'MIT' },
  typescript: { repo: 'tree-sitter/tree-sitter-typescript', license: 'MIT' },
};

function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

/** Reads the grammar's ABI and version by loading it in web-tree-sitter. */
async function grammarMetadata(files) {
  const { Parser, Language } = await import(pathToFileURL(join(root, 'node_modules/web-tree-sitter/web-tree-sitter.js')).href);
  await Parser.init();
  const out = {};
  for (const [stem, file] of Object.entries(files)) {
    const lang = await Language.load(new Uint8Array(readFileSync(file)));
    const m = lang.metadata;
    out[stem] = { languageName: lang.name, abi: lang.abiVersion, version: m ? `${m.major_version}.${m.minor_version}.${m.patch_version}` : null };
  }
  return out;
}

/**
 * Copies the grammars into `dest` (default grammars/) and writes the manifest.
 * Returns { copied, manifestChanged }. With check: true writes nothing and
 * reports whether anything would change.
 */
export async function copyGrammars({ dest = join(root, 'grammars'), check = false, quiet = false } = {}) {
  const pkgDir = join(root, 'node_modules', SOURCE_PACKAGE);
  if (!existsSync(pkgDir)) throw new Error(`${SOURCE_PACKAGE} is not installed (npm install)`);
  const pkgVersion = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
  const sources = {};
  for (const stem of Object.keys(GRAMMARS)) {
    const file = join(pkgDir, 'wasm', `tree-sitter-${stem}.wasm`);
    if (existsSync(file)) sources[stem] = file;
    else if (!quiet) console.warn(`copy-grammars: ${SOURCE_PACKAGE} has no tree-sitter-${stem}.wasm; skipped`);
  }
  const meta = await grammarMetadata(sources);
  if (!check) mkdirSync(dest, { recursive: true });
  let copied = 0;
  let stale = false;
  const grammars = [];
  for (const [stem, file] of Object.entries(sources)) {
    const buf = readFileSync(file);
    const name = `tree-sitter-${stem}.wasm`;
    const target = join(dest, name);
    const same = existsSync(target) && statSync(target).size === buf.length && sha256(readFileSync(target)) === sha256(buf);
    if (!same) {
      stale = true;
      if (!check) {
        copyFileSync(file, target);
        copied++;
      }
    }
    grammars.push({
      grammar: stem,
      file: name,
      languageName: meta[stem].languageName,
      abi: meta[stem].abi,
      grammarVersion: meta[stem].version,
      license: GRAMMARS[stem].license,
      upstream: `https://github.com/${GRAMMARS[stem].repo}`,
      bytes: buf.length,
      sha256: sha256(buf),
    });
  }
  const manifest = {
    generatedBy: 'tools/copy-grammars.mjs; generated, do not edit',
    source: `${SOURCE_PACKAGE}@${pkgVersion}`,
    sourceLicense: 'MIT',
    grammars,
  };
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  const manifestPath = join(dest, 'manifest.json');
  const manifestChanged = !existsSync(manifestPath) || readFileSync(manifestPath, 'utf8') !== text;
  if (manifestChanged) stale = true;
  if (!check && manifestChanged) writeFileSync(manifestPath, text);
  if (!quiet && !check) console.log(`copy-grammars: ${grammars.length} grammars in ${dest} (${copied} copied)`);
  return { copied, manifestChanged, stale, grammars: grammars.length };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  const r = await copyGrammars({ check });
  if (check && r.stale) {
    console.error('grammars/ is stale: run node tools/copy-grammars.mjs');
    process.exit(1);
  }
}
