/**
 * The lexical scanner: identifier/number/operator spans, strings and line
 * comments on one line, found from characters alone. It serves languages
 * without a grammar (C, SCSS, ...), grammars that failed to load, parses
 * that ran out of time, and regions tree-sitter could not parse (ERROR).
 * It never looks further than the cursor's line, so a 1 MB line or a
 * 50,000-line file costs no more than the line itself.
 */
import { lineCommentFor } from './languages';

/** What kind of text a span covers. */
export type SpanKind = 'identifier' | 'keyword' | 'number' | 'string' | 'comment' | 'operator';

/** A span of the text around the cursor, in UTF-16 offsets (end exclusive). */
export interface TokenSpan {
  readonly start: number;
  readonly end: number;
  readonly kind: SpanKind;
  readonly text: string;
  /** Whether the syntax tree or the lexical scanner produced it. */
  readonly source: 'tree' | 'lexical';
  /** The grammar's node type (tree spans only). */
  readonly nodeType?: string;
  /** For a word inside a string or comment: the whole literal/comment. */
  readonly container?: { readonly start: number; readonly end: number };
}

const DOLLAR_LANGUAGES = new Set(['javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'java']);

/** Whether UTF-16 unit `c` can be part of an identifier or number. */
export function isWordCode(c: number, dollar = false): boolean {
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f) return true;
  if (c === 0x24) return dollar;
  if (c < 0x80) return false;
  // Surrogate halves belong to astral letters (e.g. mathematical alphanumerics) often enough; treat as word.
  if (c >= 0xd800 && c <= 0xdfff) return true;
  return /[\p{L}\p{N}\p{Mn}\p{Mc}]/u.test(String.fromCharCode(c));
}

/** Word-character test for a language (`$` counts in JS/TS/Java). */
export function wordTester(languageId: string): (c: number) => boolean {
  const dollar = DOLLAR_LANGUAGES.has(languageId);
  return (c) => isWordCode(c, dollar);
}

function isSpaceCode(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029;
}

/** Operator characters: visible, not a word char, not a quote. */
function isOperatorCode(c: number, isWord: (c: number) => boolean): boolean {
  return !Number.isNaN(c) && !isSpaceCode(c) && !isWord(c) && c !== 0x22 && c !== 0x27 && c !== 0x60 && c !== 0;
}

const KEYWORDS = new Set(
  (
    'and as assert async await break case catch class const continue def default del delete do elif else enum export extends ' +
    'false final finally fn for from func function go if impl import in instanceof interface is lambda let loop match mod mut ' +
    'new nil none None not null or package pass private protected pub public raise return self static struct super switch ' +
    'this throw trait true True False try type typeof use var void where while with yield'
  ).split(' '),
);

/** Line start/end (UTF-16) around offset; the line break is not included. */
export function lineBounds(text: string, offset: number): { start: number; end: number } {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  let end = text.indexOf('\n', offset);
  if (end < 0) end = text.length;
  return { start, end };
}

/**
 * String and line-comment regions of one line, found by a quote scanner
 * (no escapes across lines, no block comments: it is a fallback).
 */
export function lexicalRegions(line: string, languageId: string): Array<{ start: number; end: number; kind: 'string' | 'comment' }> {
  const lc = lineCommentFor(languageId);
  const out: Array<{ start: number; end: number; kind: 'string' | 'comment' }> = [];
  let i = 0;
  while (i < line.length) {
    const c = line.charCodeAt(i);
    if (lc && line.startsWith(lc, i)) {
      out.push({ start: i, end: line.length, kind: 'comment' });
      break;
    }
    if (c === 0x2f && line.charCodeAt(i + 1) === 0x2a) {
      // A block comment that closes on this line; an unclosed one runs to the end.
      const close = line.indexOf('*/', i + 2);
      const end = close < 0 ? line.length : close + 2;
      out.push({ start: i, end, kind: 'comment' });
      i = end;
      continue;
    }
    if (c === 0x22 || c === 0x27 || c === 0x60) {
      let j = i + 1;
      while (j < line.length && line.charCodeAt(j) !== c) j += line.charCodeAt(j) === 0x5c ? 2 : 1;
      const end = Math.min(line.length, j + 1);
      out.push({ start: i, end, kind: 'string' });
      i = end;
      continue;
    }
    i++;
  }
  return out;
}

/** Extent of the run of units around `at` (inclusive) for which `pred` holds. */
function runAround(text: string, at: number, lo: number, hi: number, pred: (c: number) => boolean): { start: number; end: number } {
  let s = at;
  while (s > lo && pred(text.charCodeAt(s - 1))) s--;
  let e = at + 1;
  while (e < hi && pred(text.charCodeAt(e))) e++;
  return { start: s, end: e };
}

/**
 * Which character the cursor "is in": the one before it when that is part of
 * a word (`getUs|`, `get|Name`), else the one after it when that is (`(|foo`),
 * else an operator before, else one after; undefined between spaces.
 */
export function cursorCharacter(text: string, offset: number, isWord: (c: number) => boolean): { at: number; word: boolean } | undefined {
  const left = offset > 0 ? text.charCodeAt(offset - 1) : NaN;
  const right = offset < text.length ? text.charCodeAt(offset) : NaN;
  if (!Number.isNaN(left) && isWord(left)) return { at: offset - 1, word: true };
  if (!Number.isNaN(right) && isWord(right)) return { at: offset, word: true };
  if (isOperatorCode(left, isWord) || left === 0x22 || left === 0x27 || left === 0x60) return { at: offset - 1, word: false };
  if (isOperatorCode(right, isWord) || right === 0x22 || right === 0x27 || right === 0x60) return { at: offset, word: false };
  return undefined;
}

/** The word (or operator run) containing unit `at`, limited to [lo, hi). */
export function wordSpanAround(text: string, at: number, lo: number, hi: number, isWord: (c: number) => boolean): { start: number; end: number; word: boolean } {
  const c = text.charCodeAt(at);
  if (isWord(c)) return { ...runAround(text, at, lo, hi, isWord), word: true };
  if (isOperatorCode(c, isWord)) return { ...runAround(text, at, lo, hi, (x) => isOperatorCode(x, isWord)), word: false };
  return { start: at, end: at + 1, word: false };
}

function classifyWord(word: string): SpanKind {
  const c = word.charCodeAt(0);
  if (c >= 0x30 && c <= 0x39) return 'number';
  return KEYWORDS.has(word) ? 'keyword' : 'identifier';
}

/**
 * The span under/before the cursor at UTF-16 `offset`, lexically: a word
 * (identifier, keyword or number), an operator run, or a word inside a
 * string/comment (kind string/comment with the literal as container).
 */
export function lexicalSpanAt(text: string, offset: number, languageId: string): TokenSpan | undefined {
  offset = Math.max(0, Math.min(text.length, offset));
  const isWord = wordTester(languageId);
  const hit = cursorCharacter(text, offset, isWord);
  if (!hit) return undefined;
  const line = lineBounds(text, hit.at);
  // Only the cursor's line is scanned for strings and comments; cap a huge line's scan.
  const scanFrom = Math.max(line.start, hit.at - 4096);
  const regions = lexicalRegions(text.slice(scanFrom, Math.min(line.end, hit.at + 4096)), languageId);
  const rel = hit.at - scanFrom;
  const region = regions.find((r) => r.start <= rel && rel < r.end);
  const lo = Math.max(line.start, hit.at - 4096);
  const hi = Math.min(line.end, hit.at + 4096);
  const run = wordSpanAround(text, hit.at, lo, hi, isWord);
  if (region) {
    const cs = scanFrom + region.start;
    const ce = scanFrom + region.end;
    const start = Math.max(run.start, cs);
    const end = Math.min(run.end, ce);
    return { start, end, kind: region.kind, text: text.slice(start, end), source: 'lexical', container: { start: cs, end: ce } };
  }
  const word = text.slice(run.start, run.end);
  return { start: run.start, end: run.end, kind: run.word ? classifyWord(word) : 'operator', text: word, source: 'lexical' };
}

/** Every identifier-like word of `text` with its UTF-16 start (strings and comments included). */
export function* lexicalWords(text: string, languageId: string): Generator<{ start: number; end: number; text: string }> {
  const isWord = wordTester(languageId);
  let i = 0;
  const n = text.length;
  while (i < n) {
    if (!isWord(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const s = i;
    while (i < n && isWord(text.charCodeAt(i))) i++;
    yield { start: s, end: i, text: text.slice(s, i) };
  }
}
