/**
 * Hand-written pre-tokenizers for the pattern families almost every BPE
 * tokenizer uses (GPT-2, cl100k / Llama 3, Qwen, o200k). They split exactly
 * like the Rust-semantics regex (test/unit/tokenizers/scanner.test.ts checks
 * them against it) but without regex backtracking, match objects or
 * closures: the encoder's inner loop asks for "the end of the piece that
 * starts here". Unknown patterns keep using the regex.
 */
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN, RUST_WS_CLASS } from './patterns';

// Character classes as bit flags, per code point.
const L = 1; // \p{L}
const N = 2; // \p{N}
const WS = 4; // Rust \s (Unicode White_Space)
const UP = 8; // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
const LO = 16; // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
const NL = 32; // \r or \n
const KNOWN = 128;

const RE_L = /^\p{L}$/u;
const RE_N = /^\p{N}$/u;
const RE_WS = new RegExp(`^[${RUST_WS_CLASS}]$`, 'u');
const RE_UP = /^[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]$/u;
const RE_LO = /^[\p{Ll}\p{Lm}\p{Lo}\p{M}]$/u;

function computeClass(cp: number): number {
  const s = String.fromCodePoint(cp);
  let v = KNOWN;
  if (RE_L.test(s)) v |= L;
  if (RE_N.test(s)) v |= N;
  if (RE_WS.test(s)) v |= WS;
  if (RE_UP.test(s)) v |= UP;
  if (RE_LO.test(s)) v |= LO;
  if (cp === 10 || cp === 13) v |= NL;
  return v;
}

const ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) ASCII[c] = computeClass(c);
let table: Uint8Array | undefined;

/** Class flags of the code point at i (lone surrogates are classified as themselves: no class). */
function classAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c < 128) return ASCII[c]!;
  const cp = text.codePointAt(i)!;
  if (!table) table = new Uint8Array(0x110000);
  let v = table[cp]!;
  if (v === 0) {
    v = computeClass(cp);
    table[cp] = v;
  }
  return v;
}

/** UTF-16 width of the code point at i. */
function width(text: string, i: number, end: number): number {
  const c = text.charCodeAt(i);
  if (c < 0xd800) return 1;
  if (c < 0xdc00 && i + 1 < end) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d < 0xe000) return 2;
  }
  return 1;
}

/** Finds the end of the piece that starts at pos; text ends at `end` for all purposes. */
export interface PieceScanner {
  next(text: string, pos: number, end: number): number;
}

type Family = 'gpt2' | 'cl100k' | 'qwen' | 'o200k';

/** A scanner for the pattern when it is one of the known families, else undefined. */
export function scannerFor(pattern: string): PieceScanner | undefined {
  let family: Family | undefined;
  if (pattern === GPT2_PATTERN) family = 'gpt2';
  else if (pattern === CL100K_PATTERN) family = 'cl100k';
  else if (pattern === CL100K_PATTERN.replace('\\p{N}{1,3}', '\\p{N}')) family = 'qwen';
  else if (pattern === O200K_PATTERN) family = 'o200k';
  return family ? new FamilyScanner(family) : undefined;
}

function isS(c: number): boolean {
  return c === 0x73 || c === 0x53 || c === 0x17f;
}

/** Length of a contraction ('s 't 're 've 'm 'll 'd) at i, or 0; caseless adds Rust's (?i) folding. */
function contraction(text: string, i: number, end: number, caseless: boolean): number {
  if (text.charCodeAt(i) !== 0x27 || i + 1 >= end) return 0;
  let a = text.charCodeAt(i + 1);
  if (caseless) {
    if (isS(a)) return 2;
    if (a >= 0x41 && a <= 0x5a) a += 32;
  } else if (a === 0x73) return 2;
  if (a === 0x74 || a === 0x6d || a === 0x64) return 2; // t m d
  if (i + 2 >= end) return 0;
  let b = text.charCodeAt(i + 2);
  if (caseless && b >= 0x41 && b <= 0x5a) b += 32;
  if ((a === 0x72 || a === 0x76) && b === 0x65) return 3; // re ve
  if (a === 0x6c && b === 0x6c) return 3; // ll
  return 0;
}

class FamilyScanner implements PieceScanner {
  constructor(private readonly family: Family) {}

  next(text: string, i: number, end: number): number {
    switch (this.family) {
      case 'gpt2':
        return this.gpt2(text, i, end);
      case 'o200k':
        return this.o200k(text, i, end);
      default:
        return this.cl100k(text, i, end, this.family === 'qwen' ? 1 : 3);
    }
  }

  /** End of the run of code points whose class has `flag`, from i. */
  private run(text: string, i: number, end: number, flag: number): number {
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < 128) {
        if (!(ASCII[c]! & flag)) break;
        i++;
      } else {
        if (!(classAt(text, i) & flag)) break;
        i += width(text, i, end);
      }
    }
    return i;
  }

  /** `\s*[\r\n]+|\s+(?!\S)|\s+` at a whitespace character. */
  private whitespace(text: string, i: number, end: number): number {
    let j = i;
    let lastNl = -1;
    while (j < end) {
      const k = classAt(text, j);
      if (!(k & WS)) break;
      if (k & NL) lastNl = j;
      j += width(text, j, end);
    }
    if (lastNl >= 0) return lastNl + 1;
    if (j >= end) return j;
    // Followed by a non-space: leave its last character for the next piece (all Rust White_Space is BMP).
    return j - i >= 2 ? j - 1 : j;
  }

  private gpt2(text: string, i: number, end: number): number {
    const c = contraction(text, i, end, false);
    if (c) return i + c;
    const k = classAt(text, i);
    let q = i;
    let kq = k;
    if (text.charCodeAt(i) === 0x20 && i + 1 < end) {
      q = i + 1;
      kq = classAt(text, q);
    }
    if (kq & L) return this.run(text, q, end, L);
    if (kq & N) return this.run(text, q, end, N);
    if (!(kq & (WS | L | N))) return this.runOther(text, q, end);
    return this.whitespaceGpt2(text, i, end);
  }

  /** GPT-2 has no `\s*[\r\n]+`: `\s+(?!\S)|\s+` only. */
  private whitespaceGpt2(text: string, i: number, end: number): number {
    const j = this.run(text, i, end, WS);
    if (j >= end) return j;
    return j - i >= 2 ? j - 1 : j;
  }

  /** `[^\s\p{L}\p{N}]+` from i. */
  private runOther(text: string, i: number, end: number): number {
    while (i < end && !(classAt(text, i) & (WS | L | N))) i += width(text, i, end);
    return i;
  }

  private cl100k(text: string, i: number, end: number, maxDigits: number): number {
    const c = contraction(text, i, end, true);
    if (c) return i + c;
    const k = classAt(text, i);
    if (k & L) return this.run(text, i, end, L);
    const w = width(text, i, end);
    if (!(k & (NL | N)) && i + w < end && classAt(text, i + w) & L) return this.run(text, i + w, end, L);
    if (k & N) {
      let j = i;
      for (let d = 0; d < maxDigits && j < end && classAt(text, j) & N; d++) j += width(text, j, end);
      return j;
    }
    let q = i;
    if (text.charCodeAt(i) === 0x20 && i + 1 < end && !(classAt(text, i + 1) & (WS | L | N))) q = i + 1;
    if (!(classAt(text, q) & (WS | L | N))) {
      let j = this.runOther(text, q, end);
      while (j < end && classAt(text, j) & NL) j++;
      return j;
    }
    return this.whitespace(text, i, end);
  }

  /** `[UP]*[LO]+` from q (greedy with backtracking), or -1. */
  private upperLower(text: string, q: number, end: number): number {
    let r = q;
    let lastLo = -1;
    while (r < end) {
      const k = classAt(text, r);
      if (!(k & UP)) break;
      const w = width(text, r, end);
      if (k & LO) lastLo = r + w;
      r += w;
    }
    if (r < end && classAt(text, r) & LO) return this.run(text, r, end, LO);
    return lastLo;
  }

  private o200k(text: string, i: number, end: number): number {
    const k = classAt(text, i);
    const w = width(text, i, end);
    const prefixOk = !(k & (NL | L | N));
    // Alternative 1: [^\r\n\p{L}\p{N}]?[UP]*[LO]+ contraction?
    let m = prefixOk && i + w < end ? this.upperLower(text, i + w, end) : -1;
    if (m < 0 && k & (UP | LO)) m = this.upperLower(text, i, end);
    // Alternative 2: [^\r\n\p{L}\p{N}]?[UP]+[LO]* contraction?
    if (m < 0) {
      if (prefixOk && i + w < end && classAt(text, i + w) & UP) m = this.run(text, this.run(text, i + w, end, UP), end, LO);
      else if (k & UP) m = this.run(text, this.run(text, i, end, UP), end, LO);
    }
    if (m >= 0) return m + contraction(text, m, end, true);
    if (k & N) {
      let j = i;
      for (let d = 0; d < 3 && j < end && classAt(text, j) & N; d++) j += width(text, j, end);
      return j;
    }
    let q = i;
    if (text.charCodeAt(i) === 0x20 && i + 1 < end && !(classAt(text, i + 1) & (WS | L | N))) q = i + 1;
    if (!(classAt(text, q) & (WS | L | N))) {
      let j = this.runOther(text, q, end);
      while (j < end && (classAt(text, j) & NL || text.charCodeAt(j) === 0x2f)) j++;
      return j;
    }
    return this.whitespace(text, i, end);
  }
}
