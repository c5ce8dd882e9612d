/**
 * Pre-tokenization: splitting text into the pieces BPE runs on (tokens never
 * cross a piece boundary). Patterns come in the Rust/Oniguruma dialect used by
 * tokenizer.json files and tiktoken; `rustRegexToJs` rewrites them so that a
 * JavaScript RegExp splits exactly like the Rust references. The one
 * difference that bites in practice: JS `\s` matches U+FEFF and not U+0085,
 * Rust's (and Oniguruma's) `\s` is the Unicode White_Space property.
 */

/** How a Split pre-tokenizer treats the matches (Hugging Face "behavior"). */
export type SplitBehavior = 'isolated' | 'removed' | 'merged_with_previous' | 'merged_with_next' | 'contiguous';

/** A pre-tokenizer description, stored in our compact format and built from tokenizer.json. */
export type PreTokenizerSpec =
  | { readonly type: 'none' }
  | { readonly type: 'split'; readonly pattern: string; readonly literal?: boolean; readonly behavior: SplitBehavior }
  | { readonly type: 'sequence'; readonly items: readonly PreTokenizerSpec[] };

import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN, RUST_WS_CLASS } from './patterns';
import { scannerFor, type PieceScanner } from './scanner';

export { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN, RUST_WS_CLASS } from './patterns';
const RUST_WS_RE = new RegExp(`[${RUST_WS_CLASS}]`, 'u');

/** Whether a code point is whitespace in the Rust sense (Unicode White_Space). */
export function isRustWhitespace(ch: string): boolean {
  return RUST_WS_RE.test(ch);
}

const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

/** Extra characters Unicode simple case folding adds to ASCII letters (what Rust's (?i) matches too). */
const FOLD_EXTRA: Record<string, string> = { s: '\u017f', k: '\u212a' };

function caseVariants(ch: string): string {
  const lower = ch.toLowerCase();
  if (!/^[a-z]$/.test(lower)) return ch;
  return lower + lower.toUpperCase() + (FOLD_EXTRA[lower] ?? '');
}

/**
 * Rewrites a Rust/Oniguruma-dialect regex (as found in tokenizer.json and
 * tiktoken) into an equivalent JS regex source for the `u` flag: `\s`/`\S` get
 * Rust's whitespace set, `\d`/`\w` become Unicode, `(?i:...)` groups (which
 * Node 20 lacks) are expanded into character classes, `\pL` gets braces and
 * escapes JS rejects under `u` become plain literals.
 * Throws on constructs it cannot translate exactly.
 */
export function rustRegexToJs(src: string): string {
  let out = '';
  let inClass = false;
  // Depth bookkeeping for (?i: groups: a stack of booleans, one per open group.
  const groups: boolean[] = [];
  const ci = () => groups.includes(true);
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) throw new Error('pattern ends with a backslash');
      i += 2;
      if (n === 's') out += inClass ? RUST_WS_CLASS : `[${RUST_WS_CLASS}]`;
      else if (n === 'S') {
        if (inClass) throw new Error('\\S inside a character class is not supported');
        out += `[^${RUST_WS_CLASS}]`;
      } else if (n === 'd') out += '\\p{Nd}';
      else if (n === 'D') {
        if (inClass) throw new Error('\\D inside a character class is not supported');
        out += '\\P{Nd}';
      } else if (n === 'w') {
        const body = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
        out += inClass ? body : `[${body}]`;
      } else if (n === 'p' || n === 'P') {
        if (src[i] === '{') {
          const close = src.indexOf('}', i);
          if (close < 0) throw new Error('unterminated \\p{');
          out += `\\${n}${src.slice(i, close + 1)}`;
          i = close + 1;
        } else {
          out += `\\${n}{${src[i]}}`;
          i += 1;
        }
      } else if (n === 'x' && src[i] === '{') {
        const close = src.indexOf('}', i);
        out += `\\u{${src.slice(i + 1, close)}}`;
        i = close + 1;
      } else if (/[A-Za-z0-9]/.test(n)) {
        // \r \n \t \x41 \u1234 \b \B ... mean the same in both dialects.
        out += `\\${n}`;
      } else if (JS_SYNTAX.has(n) || (inClass && n === '-')) {
        out += `\\${n}`;
      } else {
        out += n; // Rust lets any punctuation be escaped; JS `u` mode does not.
      }
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      if (ci() && /[A-Za-z]/.test(c)) out += caseVariants(c);
      else out += c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      i++;
      if (src[i] === '^') {
        out += '^';
        i++;
      }
      if (src[i] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(') {
      const m = /^\(\?([a-zA-Z]*)(-[a-zA-Z]*)?:/.exec(src.slice(i));
      if (m && m[1]!.length + (m[2]?.length ?? 0) > 0) {
        if (m[2] || /[^i]/.test(m[1]!)) throw new Error(`inline flags ${m[0]} are not supported`);
        groups.push(true);
        out += '(?:';
        i += m[0].length;
        continue;
      }
      if (src.startsWith('(?', i) && !/^\(\?(?::|=|!|<=|<!|<[A-Za-z])/.test(src.slice(i))) {
        throw new Error(`group syntax ${src.slice(i, i + 4)} is not supported`);
      }
      groups.push(false);
      out += c;
      i++;
      continue;
    }
    if (c === ')') {
      groups.pop();
      out += c;
      i++;
      continue;
    }
    if (c === '{') {
      const m = /^\{\d+(,\d*)?\}/.exec(src.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length;
      } else {
        out += '\\{';
        i++;
      }
      continue;
    }
    if (c === '}') {
      out += '\\}';
      i++;
      continue;
    }
    if (ci() && /[A-Za-z]/.test(c)) {
      const v = caseVariants(c);
      out += v.length > 1 ? `[${v}]` : v;
      i++;
      continue;
    }
    out += c;
    i++;
  }
  if (inClass) throw new Error('unterminated character class');
  return out;
}

export function escapeRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** Receives one piece [start, end) in UTF-16 units of the string being split. */
export type PieceSink = (start: number, end: number) => void;

/** A compiled pre-tokenizer. */
export interface PreTokenizer {
  /** Calls sink for each piece of text[start, end), in order, covering it without gaps or overlaps. */
  split(text: string, start: number, end: number, sink: PieceSink): void;
}

class NoSplit implements PreTokenizer {
  split(_text: string, start: number, end: number, sink: PieceSink): void {
    if (end > start) sink(start, end);
  }
}

/** A known pattern family split by the hand-written scanner (Isolated behaviour). */
class ScannerSplit implements PreTokenizer {
  constructor(readonly scanner: PieceScanner) {}
  split(text: string, start: number, end: number, sink: PieceSink): void {
    let i = start;
    while (i < end) {
      const j = this.scanner.next(text, i, end);
      sink(i, j);
      i = j;
    }
  }
}

/** The scanner behind a compiled pre-tokenizer, when it is a single known pattern. */
export function scannerOf(pre: PreTokenizer): PieceScanner | undefined {
  return pre instanceof ScannerSplit ? pre.scanner : undefined;
}

class RegexSplit implements PreTokenizer {
  private readonly re: RegExp;
  constructor(
    source: string,
    private readonly behavior: SplitBehavior,
  ) {
    this.re = new RegExp(source, 'gu');
  }

  split(text: string, start: number, end: number, sink: PieceSink): void {
    if (end <= start) return;
    // The regex must not see beyond `end` (lookaheads included), so run it on the slice.
    const s = start === 0 && end === text.length ? text : text.slice(start, end);
    const re = this.re;
    re.lastIndex = 0;
    let prev = 0;
    // For merged_with_next: start of a match waiting to be glued to what follows.
    let pendingStart = -1;
    const emit = (a: number, b: number) => {
      if (b > a) sink(start + a, start + b);
    };
    let lastMatchEnd = -1;
    for (;;) {
      const m = re.exec(s);
      if (m === null) break;
      const ms = m.index;
      const me = ms + m[0].length;
      if (me === ms) {
        // Empty matches never make pieces; step past them.
        re.lastIndex = ms + (s.charCodeAt(ms) >= 0xd800 && s.charCodeAt(ms) < 0xdc00 ? 2 : 1);
        if (ms >= s.length) break;
        continue;
      }
      switch (this.behavior) {
        case 'isolated':
          emit(prev, ms);
          emit(ms, me);
          prev = me;
          break;
        case 'removed':
          emit(prev, ms);
          prev = me;
          break;
        case 'merged_with_previous':
          emit(prev, me);
          prev = me;
          break;
        case 'merged_with_next':
          if (pendingStart >= 0) {
            emit(pendingStart, ms);
          } else emit(prev, ms);
          pendingStart = ms;
          prev = me;
          break;
        case 'contiguous':
          if (ms === lastMatchEnd) {
            // extend the previous match: handled by delaying emission
          } else {
            if (pendingStart >= 0) emit(pendingStart, lastMatchEnd);
            emit(prev, ms);
            pendingStart = ms;
          }
          lastMatchEnd = me;
          prev = me;
          break;
      }
    }
    if (this.behavior === 'merged_with_next' && pendingStart >= 0) {
      emit(pendingStart, s.length);
      return;
    }
    if (this.behavior === 'contiguous' && pendingStart >= 0) emit(pendingStart, lastMatchEnd);
    emit(prev, s.length);
  }
}

class SequenceSplit implements PreTokenizer {
  constructor(private readonly items: readonly PreTokenizer[]) {}
  split(text: string, start: number, end: number, sink: PieceSink): void {
    this.run(0, text, start, end, sink);
  }
  private run(k: number, text: string, start: number, end: number, sink: PieceSink): void {
    if (k === this.items.length) {
      sink(start, end);
      return;
    }
    this.items[k]!.split(text, start, end, (a, b) => this.run(k + 1, text, a, b, sink));
  }
}

/** Compiles a spec; throws with the offending pattern on anything it cannot honour exactly. */
export function compilePreTokenizer(spec: PreTokenizerSpec, useScanner = true): PreTokenizer {
  switch (spec.type) {
    case 'none':
      return new NoSplit();
    case 'split': {
      let source: string;
      try {
        source = spec.literal ? escapeRegex(spec.pattern) : rustRegexToJs(spec.pattern);
        new RegExp(source, 'gu');
      } catch (err) {
        throw new Error(`cannot use the pre-tokenizer pattern ${JSON.stringify(spec.pattern)}: ${(err as Error).message}`);
      }
      const scanner = useScanner && !spec.literal && spec.behavior === 'isolated' ? scannerFor(spec.pattern) : undefined;
      return scanner ? new ScannerSplit(scanner) : new RegexSplit(source, spec.behavior);
    }
    case 'sequence': {
      const items = spec.items.filter((s) => s.type !== 'none').map((s) => compilePreTokenizer(s, useScanner));
      if (items.length === 0) return new NoSplit();
      if (items.length === 1) return items[0]!;
      return new SequenceSplit(items);
    }
  }
}

/**
 * Which line starts are guaranteed piece boundaries, whatever the rest of the
 * text is (the incremental counter re-tokenizes between such anchors):
 * - 'indented': a line start after "\n" whose line is [ \t]* then a character
 *   that is not whitespace and not '/' (pattern families with `\s*[\r\n]+`:
 *   cl100k, o200k, Llama 3, Qwen, DeepSeek, our own model);
 * - 'unindented': the same but with no leading blanks (GPT-2 style, whose
 *   `\s+(?!\S)` carries a newline into the next line's indentation);
 * - 'none': unknown pattern; only the document start is an anchor.
 */
export type LineAnchorRule = 'indented' | 'unindented' | 'none';

const INDENTED_FAMILY = new Set<string>([
  CL100K_PATTERN,
  CL100K_PATTERN.replace('\\p{N}{1,3}', '\\p{N}'),
  O200K_PATTERN,
  "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
]);
/** Patterns that never join a newline to what follows (digit groups, CJK runs). */
const LINE_LOCAL = new Set<string>(['\\p{N}{1,3}', '[一-龥぀-ゟ゠-ヿ]+', '\\p{N}']);

export function lineAnchorRule(spec: PreTokenizerSpec): LineAnchorRule {
  const rules: LineAnchorRule[] = [];
  const visit = (s: PreTokenizerSpec): boolean => {
    if (s.type === 'none') return true;
    if (s.type === 'sequence') return s.items.every(visit);
    if (s.behavior !== 'isolated' || s.literal) return false;
    if (LINE_LOCAL.has(s.pattern)) return true;
    if (INDENTED_FAMILY.has(s.pattern)) rules.push('indented');
    else if (s.pattern === GPT2_PATTERN) rules.push('unindented');
    else return false;
    return true;
  };
  if (!visit(spec)) return 'none';
  if (rules.length === 0) return spec.type === 'none' ? 'none' : 'indented';
  return rules.includes('unindented') ? 'unindented' : 'indented';
}
