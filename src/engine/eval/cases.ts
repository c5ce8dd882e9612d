/**
 * Evaluation cases in the public HumanEval-infilling JSON-lines shape, and
 * the random-character span maker that builds such a file from held-out
 * source files (as in Phan et al.: the hole starts and ends at random
 * characters, so the cursor usually sits inside a token).
 */

import { seededRandom } from '../random';

/** One infilling case. Field names follow HumanEval-infilling. */
export interface EvalCase {
  readonly task_id: string;
  /** Text before the hole. */
  readonly prompt: string;
  /** Text after the hole. */
  readonly suffix: string;
  /** The true middle. */
  readonly canonical_solution: string;
  /** Python test code defining check(candidate), when the case is executable. */
  readonly test?: string;
  readonly entry_point?: string;
}

/** Parses JSON lines into cases; a bad line is an error naming the line. */
export function parseCases(text: string, source = 'input'): EvalCase[] {
  const out: EvalCase[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      throw new Error(`${source}:${i + 1}: not JSON (${(err as Error).message})`);
    }
    const o = raw as Record<string, unknown>;
    for (const k of ['task_id', 'prompt', 'suffix', 'canonical_solution'] as const) {
      if (typeof o[k] !== 'string') throw new Error(`${source}:${i + 1}: field "${k}" must be a string`);
    }
    out.push({
      task_id: o.task_id as string,
      prompt: o.prompt as string,
      suffix: o.suffix as string,
      canonical_solution: o.canonical_solution as string,
      ...(typeof o.test === 'string' ? { test: o.test } : {}),
      ...(typeof o.entry_point === 'string' ? { entry_point: o.entry_point } : {}),
    });
  });
  return out;
}

/** The engine's seeded PRNG; the same seed gives the same spans everywhere. */
export const seededUniform = seededRandom;

export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

export interface SpanOptions {
  readonly seed: number;
  readonly n: number;
  /** Longest middle, in characters (code points); lengths are uniform in 1..max. */
  readonly maxMiddleChars?: number;
  /** Prefix kept before the hole, in characters, cut at a line start. */
  readonly maxPrefixChars?: number;
  /** Suffix kept after the hole, in characters, cut at a line end. */
  readonly maxSuffixChars?: number;
  /** Only files of at least this many UTF-8 bytes (long files: the model's window sees a part, a cache the rest). */
  readonly minFileBytes?: number;
  /** Only files of at most this many UTF-8 bytes. */
  readonly maxFileBytes?: number;
}

const utf8 = new TextEncoder();

/** Index just after code point boundaries: never splits a surrogate pair. */
function isBoundary(text: string, i: number): boolean {
  if (i <= 0 || i >= text.length) return true;
  const c = text.charCodeAt(i);
  return !(c >= 0xdc00 && c <= 0xdfff && (text.charCodeAt(i - 1) & 0xfc00) === 0xd800);
}

/**
 * Cuts one random span per case: a file chosen uniformly (among files of at
 * least 64 characters), a hole starting at a uniformly random character
 * boundary, a middle of 1..maxMiddleChars characters. Deterministic in the
 * seed and the set of `files` (they are sorted by path first). With
 * maxPrefixChars and maxSuffixChars Infinity, prompt + middle + suffix is
 * the whole file.
 */
export function makeRandomSpans(files: readonly SourceFile[], opts: SpanOptions): EvalCase[] {
  const maxMid = opts.maxMiddleChars ?? 64;
  const maxPre = opts.maxPrefixChars ?? 3000;
  const maxSuf = opts.maxSuffixChars ?? 1000;
  const minBytes = opts.minFileBytes ?? 0;
  const maxBytes = opts.maxFileBytes ?? Infinity;
  const pool = files
    .filter((f) => {
      if (f.text.length < 64) return false;
      const n = utf8.encode(f.text).length;
      return n >= minBytes && n <= maxBytes;
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (!pool.length) throw new Error(`no source file of at least 64 characters${opts.minFileBytes !== undefined || opts.maxFileBytes !== undefined ? ` and ${minBytes}..${maxBytes} bytes` : ''}`);
  const rnd = seededUniform(opts.seed);
  const out: EvalCase[] = [];
  const seen = new Set<string>();
  for (let tries = 0; out.length < opts.n && tries < opts.n * 20; tries++) {
    const f = pool[Math.floor(rnd() * pool.length)]!;
    const t = f.text;
    let start = Math.floor(rnd() * t.length);
    while (!isBoundary(t, start)) start--;
    let end = Math.min(t.length, start + 1 + Math.floor(rnd() * maxMid));
    while (!isBoundary(t, end)) end++;
    if (end <= start) continue;
    const id = `${f.path}@${start}-${end}`;
    if (seen.has(id)) continue;
    seen.add(id);
    let pre = Math.max(0, start - maxPre);
    if (pre > 0) {
      const nl = t.indexOf('\n', pre);
      pre = nl >= 0 && nl < start ? nl + 1 : start;
    }
    let suf = Math.min(t.length, end + maxSuf);
    if (suf < t.length) {
      const nl = t.lastIndexOf('\n', suf);
      suf = nl >= end ? nl + 1 : end;
    }
    out.push({ task_id: `heldout/${id}`, prompt: t.slice(pre, start), suffix: t.slice(end, suf), canonical_solution: t.slice(start, end) });
  }
  return out;
}

const LANGUAGE_BY_EXT: Record<string, string> = { '.py': 'python', '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript', '.ts': 'typescript', '.mts': 'typescript', '.cts': 'typescript', '.tsx': 'typescriptreact', '.jsx': 'javascriptreact', '.md': 'markdown', '.css': 'css' };

/** Language id from a task id that carries a path (held-out spans: "heldout/<path>@<start>-<end>"); HumanEval ids are Python. */
export function languageOfTask(taskId: string): string {
  const path = taskId.replace(/@\d+-\d+$/, '');
  const m = /\.[A-Za-z]+$/.exec(path);
  if (m) return LANGUAGE_BY_EXT[m[0].toLowerCase()] ?? 'plaintext';
  return /humaneval/i.test(taskId) ? 'python' : 'plaintext';
}
