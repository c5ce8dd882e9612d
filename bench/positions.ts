/**
 * Cursor positions shared by the completion benchmarks: random characters
 * (mid-identifier included) of held-out source files, drawn with a fixed
 * seed, so `complete` and `boundary` time the same places.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../src/engine/completion/sampling';

const ROOT = join(__dirname, '..');

export interface SourceFile {
  readonly lang: string;
  readonly path: string;
  readonly text: string;
}

export interface Position {
  readonly file: SourceFile;
  readonly offset: number;
}

const EXT_LANG: Record<string, string> = { '.py': 'python', '.js': 'javascript', '.ts': 'typescript', '.mjs': 'javascript' };

/**
 * Held-out test files from the training corpus (tools/train writes
 * .corpus-cache/corpus/test.jsonl); without it, real source files installed
 * on this machine (said in the output).
 */
export function heldOutFiles(): { files: SourceFile[]; source: string } {
  const jsonl = join(ROOT, '.corpus-cache', 'corpus', 'test.jsonl');
  if (existsSync(jsonl)) {
    const files = readFileSync(jsonl, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as SourceFile)
      .filter((f) => ['python', 'javascript', 'typescript'].includes(f.lang) && f.text.length > 200);
    return { files, source: `${files.length} held-out test files from .corpus-cache/corpus/test.jsonl (never trained on)` };
  }
  const files: SourceFile[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 3 || files.length >= 400) return;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p, depth + 1);
      else {
        const lang = EXT_LANG[name.slice(name.lastIndexOf('.'))];
        if (lang && st.size > 500 && st.size < 200_000) files.push({ lang, path: p, text: readFileSync(p, 'utf8') });
      }
    }
  };
  for (const d of ['/usr/lib/python3.11', '/usr/lib/python3/dist-packages']) if (existsSync(d)) walk(d, 0);
  return { files, source: `${files.length} source files from /usr/lib/python3* (no held-out split found; NOT guaranteed unseen by the model)` };
}

/** Random characters (never inside a surrogate pair), mid-identifier included. */
export function drawPositions(files: readonly SourceFile[], n: number, seed: number): Position[] {
  const rnd = seededRandom(seed);
  const out: Position[] = [];
  while (out.length < n) {
    const file = files[Math.floor(rnd() * files.length)]!;
    let offset = 1 + Math.floor(rnd() * (file.text.length - 1));
    const c = file.text.charCodeAt(offset);
    if (c >= 0xdc00 && c <= 0xdfff) offset++;
    out.push({ file, offset });
  }
  return out;
}

