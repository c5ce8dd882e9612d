/**
 * The one BPE implementation behind every tokenizer in Subword (tokenizer.json
 * files, tiktoken rank files, test tokenizers). Data comes in as a `BpeData`
 * (from `loadTokenizerJson`, from our compact binary format, or built by
 * hand); this class adds the pre-tokenizer, the merge loop, the byte trie and
 * the canonical-encoding checks the boundary strategies rely on.
 */
import type { PieceScanner } from './scanner';
import type { Tokenizer } from './types';
import { bytesToEscaped, decodeUtf8Lossy, sanitize, utf8, utf8Into, utf8Length } from './bytes';
import { compilePreTokenizer, lineAnchorRule, RUST_WS_CLASS, scannerOf, type LineAnchorRule, type PreTokenizer, type PreTokenizerSpec } from './pretokenize';

/** Kinds of ids (BpeData.tokenKind). */
export const enum TokenKind {
  /** A vocabulary entry of the BPE model. */
  Ordinary = 0,
  /** A byte-fallback entry (`<0x41>`): ordinary, but never the preferred id for its bytes. */
  ByteFallback = 1,
  /** An added token that is not special: matched in text before pre-tokenization (Hugging Face semantics). */
  Added = 2,
  /** A special/control token: never produced from text. */
  Special = 3,
  /** An id with no token (a hole in the id space). */
  Unused = 4,
}

export type Normalizer = 'none' | 'NFC' | 'NFKC' | 'NFD' | 'NFKD';

/** Everything a BpeTokenizer is made of; plain typed arrays so it serializes cheaply. */
export interface BpeData {
  readonly id: string;
  /** Ids run from 0 to vocabSize - 1. */
  readonly vocabSize: number;
  /** Bytes of every id, concatenated (specials: the UTF-8 of their text). */
  readonly tokenBytes: Uint8Array;
  /** tokenBytes offsets, length vocabSize + 1. */
  readonly tokenOffsets: Int32Array;
  /** TokenKind per id. */
  readonly tokenKind: Uint8Array;
  /** Merge rules as (left id, right id, result id) triples, in priority order (or `pairs`). */
  readonly merges?: Int32Array;
  /** The merge rules already in lookup form (compact files); `merges` is then not needed. */
  readonly pairs?: PairTable;
  /** The bytes -> preferred id hash table (compact files); built when absent. */
  readonly bytesSlots?: Int32Array;
  /**
   * 'index': a merge's priority is its position (Hugging Face merges);
   * 'result': its priority is the result id (tiktoken ranks; ties go to the leftmost pair).
   */
  readonly mergePriority: 'index' | 'result';
  /** BPE starts from one symbol per byte (byte-level) or per character with byte fallback (SentencePiece style). */
  readonly symbols: 'bytes' | 'chars';
  /** A pre-token that is itself a token is emitted whole (tiktoken; Hugging Face ignore_merges). */
  readonly ignoreMerges: boolean;
  readonly preTokenizer: PreTokenizerSpec;
  readonly normalizer: Normalizer;
  /** Id for characters with no token and no byte fallback, or -1. */
  readonly unkId: number;
  /** Ordinary and added ids sorted by their bytes (optional; computed on first trie query otherwise). */
  readonly sortedIds?: Int32Array;
}

/**
 * Merge rules in lookup form: the rules whose left id is a are at
 * [start[a], start[a + 1]), sorted by right id; each has a result id and a
 * priority (lower merges first).
 */
export interface PairTable {
  readonly start: Int32Array;
  readonly right: Int32Array;
  readonly result: Int32Array;
  readonly priority: Int32Array;
}

const NO_ID = -1;
const WHITESPACE_ONLY = new RegExp(`^[${RUST_WS_CLASS}]+$`, 'u');
const EMPTY = new Int32Array(0);
/** Pieces up to this many symbols use the simple quadratic merge loop; longer ones use a heap. */
const SMALL_PIECE = 48;
/** Heap keys are priority * 2^26 + position: exact in a double for pieces under 64 MB and priorities under 2^26. */
const HEAP_SHIFT = 0x4000000;
/** Memoized pieces: longer ones are not kept; the table starts over past this many bytes (estimated, keys and values). */
const CACHE_MAX_PIECE = 1 << 16;
const CACHE_MAX_BYTES = 8 << 20;
/**
 * A copy of `s` that does not keep the string it was sliced from alive. V8
 * represents a slice of 13+ characters as a view of its parent, so a memo key
 * sliced from a request's text held that whole text (in the editor, a new
 * copy of the document per request) for as long as the key lived; flattening
 * a concatenation copies the characters out.
 */
export function detachString(s: string): string {
  return s.length < 13 ? s : (s + '.').slice(0, -1);
}

/**
 * Estimated heap bytes of a memo entry: the key string, and for a piece of
 * several tokens an Int32Array (its object, its ArrayBuffer, the ids). The
 * array objects dominate: exact mode's canonicality checks encode a stream
 * of new short pieces, and counting characters alone let the memo hold
 * 65,536 entries (~20 MB) in a 10,000-completion soak.
 */
const memoBytes = (len: number, val: number | Int32Array): number => 24 + 2 * len + (typeof val === 'number' ? 0 : 160 + 4 * val.length);

function hashBytes(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

function nextPow2(n: number): number {
  let c = 1;
  while (c < n) c <<= 1;
  return c;
}

/** Builds the PairTable from priority-ordered merge triples; for a repeated pair the first rule wins. */
export function buildPairTable(merges: Int32Array, vocabSize: number, mode: 'index' | 'result'): PairTable {
  const M = merges.length / 3;
  const count = new Int32Array(vocabSize + 1);
  for (let m = 0; m < M; m++) count[merges[3 * m]! + 1]!++;
  for (let a = 0; a < vocabSize; a++) count[a + 1]! += count[a]!;
  // Per left id: (right id * 2^23 + merge index), sorted, so equal pairs keep their first rule.
  const keys = new Float64Array(M);
  const fill = count.slice();
  for (let m = 0; m < M; m++) keys[fill[merges[3 * m]!]!++] = merges[3 * m + 1]! * 0x800000 + m;
  const start = new Int32Array(vocabSize + 1);
  const right = new Int32Array(M);
  const result = new Int32Array(M);
  const priority = new Int32Array(M);
  let n = 0;
  for (let a = 0; a < vocabSize; a++) {
    start[a] = n;
    const seg = keys.subarray(count[a]!, count[a + 1]!);
    seg.sort();
    let last = -1;
    for (let i = 0; i < seg.length; i++) {
      const m = seg[i]! % 0x800000;
      const b = (seg[i]! - m) / 0x800000;
      if (b === last) continue;
      last = b;
      right[n] = b;
      result[n] = merges[3 * m + 2]!;
      priority[n] = mode === 'result' ? merges[3 * m + 2]! : m;
      n++;
    }
  }
  start[vocabSize] = n;
  return { start, right: right.slice(0, n), result: result.slice(0, n), priority: priority.slice(0, n) };
}

function buildBytesTable(data: BpeData): Int32Array {
  const V = data.vocabSize;
  const bytes = data.tokenBytes;
  const offs = data.tokenOffsets;
  const cap = nextPow2(Math.max(16, V * 2));
  const slots = new Int32Array(cap).fill(NO_ID);
  const mask = cap - 1;
  // Ordinary first, so they win over byte-fallback and added twins with the same bytes.
  for (const pass of [TokenKind.Ordinary, TokenKind.ByteFallback, TokenKind.Added]) {
    for (let id = 0; id < V; id++) {
      if (data.tokenKind[id] !== pass) continue;
      const s = offs[id]!;
      const e = offs[id + 1]!;
      if (e === s) continue;
      let h = hashBytes(bytes, s, e) & mask;
      for (;;) {
        const cur = slots[h]!;
        if (cur === NO_ID) {
          slots[h] = id;
          break;
        }
        const cs = offs[cur]!;
        let same = offs[cur + 1]! - cs === e - s;
        for (let i = 0; same && i < e - s; i++) if (bytes[cs + i] !== bytes[s + i]) same = false;
        if (same) break;
        h = (h + 1) & mask;
      }
    }
  }
  return slots;
}

/** Added tokens, indexed for matching in text. */
interface AddedInfo {
  /** Non-special added tokens by text (matched in input). */
  readonly ids: Map<string, number>;
  /** Every added/special token by text. */
  readonly all: Map<string, number>;
  readonly contents: string[];
  /** Finds candidate starts (first characters of the non-special added tokens). */
  readonly first: RegExp | undefined;
  /** Distinct lengths of those tokens, longest first. */
  readonly lengths: number[];
}

/** One pre-token piece and its tokens, reported by BpeTokenizer.forEachPiece. */
export type PieceCallback = (startUtf16: number, endUtf16: number, tokenCount: number) => void;

export class BpeTokenizer implements Tokenizer {
  readonly id: string;
  readonly vocabSize: number;
  /** Which line starts always begin a piece (used by DocumentTokenCounter). */
  readonly lineAnchors: LineAnchorRule;
  /** Whether the tokenizer rewrites text before splitting (offsets then refer to the normalized text). */
  readonly normalizes: boolean;
  /** The tables this tokenizer was built from (for serialization). */
  readonly data: BpeData;

  private readonly bytes: Uint8Array;
  private readonly offs: Int32Array;
  private readonly kind: Uint8Array;
  private readonly charSymbols: boolean;
  private readonly ignoreMerges: boolean;
  private readonly normalizer: Normalizer;
  private readonly unkId: number;
  private readonly pre: PreTokenizer;
  /** The hand-written splitter when the pattern is a known family (the fast path). */
  private readonly scanner: PieceScanner | undefined;
  private readonly byteIds = new Int32Array(256).fill(NO_ID);
  // bytes -> id (open addressing; preferred id for each byte string)
  private readonly bytesSlots: Int32Array;
  private readonly bytesMask: number;
  // merges as a CSR table: pairs with left id a sit at [pairStart[a], pairStart[a + 1]), sorted by right id
  private readonly pairStart: Int32Array;
  private readonly pairRight: Int32Array;
  private readonly pairResult: Int32Array;
  private readonly pairPriority: Int32Array;
  private addedInfo: AddedInfo | undefined;
  private sorted: Int32Array | undefined;
  private maxTokenLen = 0;
  private readonly cacheKeys: Array<string | undefined> = new Array<string | undefined>(1 << 17).fill(undefined);
  private readonly cacheVals: Array<number | Int32Array> = new Array<number | Int32Array>(1 << 17).fill(0);
  private cacheUsed = 0;
  private cacheBytes = 0;
  private scratch = new Uint8Array(4096);
  // scratch state for merging
  private sym = new Int32Array(256);
  private rank = new Float64Array(256);
  private res = new Int32Array(256);

  constructor(data: BpeData) {
    this.data = data;
    this.id = data.id;
    this.vocabSize = data.vocabSize;
    this.bytes = data.tokenBytes;
    this.offs = data.tokenOffsets;
    this.kind = data.tokenKind;
    this.charSymbols = data.symbols === 'chars';
    this.ignoreMerges = data.ignoreMerges;
    this.normalizer = data.normalizer;
    this.normalizes = data.normalizer !== 'none';
    this.unkId = data.unkId;
    this.pre = compilePreTokenizer(data.preTokenizer);
    this.scanner = scannerOf(this.pre);
    this.lineAnchors = lineAnchorRule(data.preTokenizer);
    this.sorted = data.sortedIds;
    if (data.tokenOffsets.length !== data.vocabSize + 1 || data.tokenKind.length !== data.vocabSize) {
      throw new Error(`tokenizer ${data.id}: token tables do not match vocabSize ${data.vocabSize}`);
    }

    const V = data.vocabSize;
    for (let id = 0; id < V; id++) {
      const len = this.offs[id + 1]! - this.offs[id]!;
      const k = this.kind[id];
      if (k === TokenKind.Special || k === TokenKind.Unused) continue;
      if (len > this.maxTokenLen) this.maxTokenLen = len;
      if (len === 1 && k !== TokenKind.Added) {
        const b = this.bytes[this.offs[id]!]!;
        // ordinary single bytes win over byte-fallback twins
        if (this.byteIds[b] === NO_ID || (k === TokenKind.Ordinary && this.kind[this.byteIds[b]!] !== TokenKind.Ordinary)) this.byteIds[b] = id;
      }
    }
    this.bytesSlots = data.bytesSlots ?? buildBytesTable(data);
    this.bytesMask = this.bytesSlots.length - 1;
    const pairs = data.pairs ?? buildPairTable(data.merges ?? EMPTY, V, data.mergePriority);
    this.pairStart = pairs.start;
    this.pairRight = pairs.right;
    this.pairResult = pairs.result;
    this.pairPriority = pairs.priority;
  }

  /** Added tokens by text; built on first use (Gemma has thousands). */
  private added(): AddedInfo {
    if (this.addedInfo) return this.addedInfo;
    const ids = new Map<string, number>();
    const all = new Map<string, number>();
    const contents: string[] = [];
    for (let id = 0; id < this.vocabSize; id++) {
      const k = this.kind[id];
      if (k !== TokenKind.Added && k !== TokenKind.Special) continue;
      const text = decodeUtf8Lossy(this.bytes.subarray(this.offs[id]!, this.offs[id + 1]!));
      if (!all.has(text)) all.set(text, id);
      if (k === TokenKind.Added && text.length > 0 && !ids.has(text)) {
        ids.set(text, id);
        contents.push(text);
      }
    }
    let first: RegExp | undefined;
    const lengths: number[] = [];
    if (contents.length) {
      // Candidates are found by their first character; at each, the longest added token that
      // matches wins (leftmost-longest, like Hugging Face's matcher). A handful of distinct lengths
      // and a Map lookup each: no 6,000-way regex to compile (Gemma).
      const firsts = new Set<string>();
      const lens = new Set<number>();
      for (const c of contents) {
        firsts.add(String.fromCodePoint(c.codePointAt(0)!));
        lens.add(c.length);
      }
      first = new RegExp(`[${[...firsts].map((c) => (/[\\\]^-]/.test(c) ? `\\${c}` : c)).join('')}]`, 'gu');
      lengths.push(...[...lens].sort((a, b) => b - a));
    }
    this.addedInfo = { ids, all, contents, first, lengths };
    return this.addedInfo;
  }

  /** The bytes -> id table, for serialization. */
  bytesTable(): Int32Array {
    return this.bytesSlots;
  }

  /** The merge table, for serialization. */
  pairTable(): PairTable {
    return { start: this.pairStart, right: this.pairRight, result: this.pairResult, priority: this.pairPriority };
  }

  private sameBytes(id: number, b: Uint8Array, s: number, e: number): boolean {
    const ts = this.offs[id]!;
    if (this.offs[id + 1]! - ts !== e - s) return false;
    for (let i = 0; i < e - s; i++) if (this.bytes[ts + i] !== b[s + i]) return false;
    return true;
  }

  /** Preferred id whose bytes are b[s, e), or -1. */
  lookupBytes(b: Uint8Array, s: number, e: number): number {
    let h = hashBytes(b, s, e) & this.bytesMask;
    for (;;) {
      const id = this.bytesSlots[h]!;
      if (id === NO_ID) return NO_ID;
      if (this.sameBytes(id, b, s, e)) return id;
      h = (h + 1) & this.bytesMask;
    }
  }

  /** Position of the pair (a, b) in the pair table, or -1. */
  private pairIndex(a: number, b: number): number {
    let lo = this.pairStart[a]!;
    let hi = this.pairStart[a + 1]!;
    const right = this.pairRight;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = right[mid]!;
      if (r === b) return mid;
      if (r < b) lo = mid + 1;
      else hi = mid;
    }
    return NO_ID;
  }

  // ---------------------------------------------------------------- encoding

  encode(text: string): number[] {
    const out: number[] = [];
    this.encodeString(sanitize(text), out, null);
    return out;
  }

  encodeBytes(bytes: Uint8Array): number[] {
    const out: number[] = [];
    this.encodeString(bytesToEscaped(bytes), out, null);
    return out;
  }

  encodeWithOffsets(text: string): { ids: number[]; offsets: number[] } {
    const ids: number[] = [];
    const offsets: number[] = [];
    this.encodeString(sanitize(text), ids, offsets);
    return { ids, offsets };
  }

  /** Number of tokens of text (no id array is built). */
  count(text: string): number {
    const scanner = this.scanner;
    if (scanner && !this.normalizes && !this.added().first) {
      const t = sanitize(text);
      const len = t.length;
      let n = 0;
      for (let i = 0; i < len; ) {
        const j = scanner.next(t, i, len);
        if (j === i + 1 && t.charCodeAt(i) < 0x80 && !this.charSymbols) n++;
        else {
          const r = this.pieceTokens(t, i, j);
          n += typeof r === 'number' ? 1 : r.length;
        }
        i = j;
      }
      return n;
    }
    let n = 0;
    this.forEachPiece(sanitize(text), 0, text.length, (_s, _e, c) => {
      n += c;
    });
    return n;
  }

  /** The text as the pre-tokenizer sees it (the tokenizer.json normalizer, if any). */
  normalize(s: string): string {
    return this.normalizer === 'none' ? s : s.normalize(this.normalizer);
  }

  /**
   * Walks the pieces of text[start, end) (added tokens, then pre-tokens) and
   * reports each with its token count. `text` must already be sanitized or
   * escaped. Positions are UTF-16 offsets into `text`, except with a
   * normalizer that changes the text, where the whole range is reported as one
   * piece (pass alreadyNormalized when the caller normalized the text itself).
   */
  forEachPiece(text: string, start: number, end: number, cb: PieceCallback, alreadyNormalized = false): void {
    if (this.normalizes && !alreadyNormalized) {
      const raw = text.slice(start, end);
      const norm = this.normalize(raw);
      if (norm !== raw) {
        const ids: number[] = [];
        this.encodeString(raw, ids, null);
        cb(start, end, ids.length);
        return;
      }
    }
    this.walk(text, start, end, (s, e, id) => {
      if (id >= 0) cb(s, e, 1);
      else {
        const r = this.pieceTokens(text, s, e);
        cb(s, e, typeof r === 'number' ? 1 : r.length);
      }
    });
  }

  /** Splits text[start, end) into added tokens (id >= 0) and pre-token pieces (id -1). */
  private walk(text: string, start: number, end: number, sink: (s: number, e: number, addedId: number) => void): void {
    const info = this.added();
    const re = info.first;
    const pieces = (a: number, b: number) => this.pre.split(text, a, b, (s, e) => sink(s, e, NO_ID));
    if (!re) {
      pieces(start, end);
      return;
    }
    re.lastIndex = start;
    let prev = start;
    for (let m = re.exec(text); m !== null && m.index < end; m = re.exec(text)) {
      const p = m.index;
      for (const len of info.lengths) {
        if (p + len > end) continue;
        const id = info.ids.get(text.substr(p, len));
        if (id === undefined) continue;
        if (p > prev) pieces(prev, p);
        sink(p, p + len, id);
        prev = p + len;
        re.lastIndex = prev;
        break;
      }
    }
    if (prev < end) pieces(prev, end);
  }

  private encodeString(text0: string, out: number[], offsets: number[] | null): void {
    const text = this.normalize(text0);
    const scanner = this.scanner;
    if (scanner && !this.added().first) {
      // Fast path: no added tokens to look for, a hand-written splitter, no callbacks.
      const n = text.length;
      const byteLevel = !this.charSymbols;
      let bytePos = 0;
      for (let i = 0; i < n; ) {
        const j = scanner.next(text, i, n);
        const c = text.charCodeAt(i);
        let r: number | Int32Array;
        if (j === i + 1 && c < 0x80 && byteLevel) r = this.byteIds[c]!;
        else r = this.pieceTokens(text, i, j);
        bytePos = this.pushIds(r, out, offsets, bytePos);
        i = j;
      }
      return;
    }
    let bytePos = 0;
    let lastEnd = 0;
    this.walk(text, 0, text.length, (s, e, added) => {
      if (offsets) bytePos += utf8Length(text, lastEnd, s);
      lastEnd = e;
      bytePos = this.pushIds(added >= 0 ? added : this.pieceTokens(text, s, e), out, offsets, bytePos);
    });
  }

  /**
   * Appends one piece's ids to `out` and, when offsets are wanted, the byte
   * offset of each (counting from `bytePos`); returns the byte position after
   * the piece.
   */
  private pushIds(r: number | Int32Array, out: number[], offsets: number[] | null, bytePos: number): number {
    if (typeof r === 'number') {
      out.push(r);
      if (offsets) {
        offsets.push(bytePos);
        bytePos += this.offs[r + 1]! - this.offs[r]!;
      }
      return bytePos;
    }
    for (let k = 0; k < r.length; k++) {
      const id = r[k]!;
      out.push(id);
      if (offsets) {
        offsets.push(bytePos);
        bytePos += this.offs[id + 1]! - this.offs[id]!;
      }
    }
    return bytePos;
  }

  /**
   * Tokens of one piece (a number when it is a single token), memoized by the
   * piece's text in an open-addressing table hashed over the UTF-16 units, so
   * a hit allocates nothing (no substring, no Map hashing).
   */
  private pieceTokens(text: string, s: number, e: number): number | Int32Array {
    let h = 0x811c9dc5;
    for (let i = s; i < e; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    const mask = this.cacheKeys.length - 1;
    let slot = (h ^ (h >>> 15)) & mask;
    const len = e - s;
    for (;;) {
      const key = this.cacheKeys[slot];
      if (key === undefined) break;
      if (key.length === len && text.startsWith(key, s)) return this.cacheVals[slot]!;
      slot = (slot + 1) & mask;
    }
    if (this.scratch.length < len * 3) this.scratch = new Uint8Array(len * 3 + 16);
    const buf = this.scratch;
    const n = utf8Into(text, s, e, buf);
    const piece = text.slice(s, e);
    const r = this.encodePieceBytes(buf, n, piece);
    if (len <= CACHE_MAX_PIECE) {
      if (this.cacheUsed * 2 >= this.cacheKeys.length || this.cacheBytes > CACHE_MAX_BYTES) {
        // Full: start over (the steady state of a file refills it quickly).
        this.clearCache();
        slot = (h ^ (h >>> 15)) & mask;
        while (this.cacheKeys[slot] !== undefined) slot = (slot + 1) & mask;
      }
      this.cacheKeys[slot] = detachString(piece);
      this.cacheVals[slot] = r;
      this.cacheUsed++;
      this.cacheBytes += memoBytes(len, r);
    }
    return r;
  }

  /** Forgets memoized pieces (benchmarks use it to time cold encoding). */
  clearCache(): void {
    this.cacheKeys.fill(undefined);
    // The values too: a stale id array would stay reachable until its slot is reused.
    this.cacheVals.fill(0);
    this.cacheUsed = 0;
    this.cacheBytes = 0;
  }

  /** What the piece memo holds, counted from its slots (for tests: it stays within its byte budget). */
  memoStats(): { entries: number; idArrays: number; bytes: number; budget: number } {
    let entries = 0;
    let idArrays = 0;
    let bytes = 0;
    for (let i = 0; i < this.cacheKeys.length; i++) {
      const k = this.cacheKeys[i];
      const v = this.cacheVals[i]!;
      if (typeof v !== 'number') idArrays++;
      if (k === undefined) continue;
      entries++;
      bytes += memoBytes(k.length, v);
    }
    return { entries, idArrays, bytes, budget: CACHE_MAX_BYTES };
  }

  private encodePieceBytes(buf: Uint8Array, n: number, piece: string): number | Int32Array {
    if (n === 0) return EMPTY;
    if (!this.charSymbols) {
      if (n === 1) return this.byteIds[buf[0]!]!;
      if (this.ignoreMerges) {
        const whole = this.lookupBytes(buf, 0, n);
        if (whole >= 0) return whole;
      }
      if (this.sym.length < n) this.growScratch(n);
      const sym = this.sym;
      for (let i = 0; i < n; i++) sym[i] = this.byteIds[buf[i]!]!;
      return this.mergeSymbols(n);
    }
    // SentencePiece-style: one symbol per character, bytes only where the character has no token.
    if (this.ignoreMerges) {
      const whole = this.lookupBytes(buf, 0, n);
      if (whole >= 0) return whole;
    }
    if (this.sym.length < n) this.growScratch(n);
    const sym = this.sym;
    let k = 0;
    let bi = 0;
    for (let ci = 0; ci < piece.length; ci++) {
      const c = piece.charCodeAt(ci);
      const wide = c >= 0xd800 && c < 0xdc00 && ci + 1 < piece.length && (piece.charCodeAt(ci + 1) & 0xfc00) === 0xdc00;
      const blen = utf8Length(piece, ci, wide ? ci + 2 : ci + 1);
      if (wide) ci++;
      const id = this.lookupBytes(buf, bi, bi + blen);
      if (id >= 0 && this.kind[id] !== TokenKind.ByteFallback) sym[k++] = id;
      else {
        let ok = true;
        for (let j = bi; j < bi + blen; j++) if (this.byteIds[buf[j]!]! < 0) ok = false;
        if (ok) for (let j = bi; j < bi + blen; j++) sym[k++] = this.byteIds[buf[j]!]!;
        else if (this.unkId >= 0) sym[k++] = this.unkId;
      }
      bi += blen;
    }
    return this.mergeSymbols(k);
  }

  private growScratch(n: number): void {
    const c = nextPow2(n);
    this.sym = new Int32Array(c);
    this.rank = new Float64Array(c);
    this.res = new Int32Array(c);
  }

  private pairRank(a: number, b: number, i: number): number {
    const m = this.pairIndex(a, b);
    if (m < 0) return Infinity;
    this.res[i] = this.pairResult[m]!;
    return this.pairPriority[m]!;
  }

  /** Applies merges to sym[0, n) and returns the resulting ids. */
  private mergeSymbols(n: number): number | Int32Array {
    if (n === 1) return this.sym[0]!;
    if (n > SMALL_PIECE && n < HEAP_SHIFT) return this.mergeLong(n);
    const sym = this.sym;
    const rank = this.rank;
    const res = this.res;
    let len = n;
    for (let i = 0; i < len - 1; i++) rank[i] = this.pairRank(sym[i]!, sym[i + 1]!, i);
    for (;;) {
      let best = Infinity;
      let bi = -1;
      for (let i = 0; i < len - 1; i++) {
        if (rank[i]! < best) {
          best = rank[i]!;
          bi = i;
        }
      }
      if (bi < 0) break;
      sym[bi] = res[bi]!;
      for (let i = bi + 1; i < len - 1; i++) {
        sym[i] = sym[i + 1]!;
        rank[i] = rank[i + 1]!;
        res[i] = res[i + 1]!;
      }
      len--;
      if (bi > 0) rank[bi - 1] = this.pairRank(sym[bi - 1]!, sym[bi]!, bi - 1);
      if (bi < len - 1) rank[bi] = this.pairRank(sym[bi]!, sym[bi + 1]!, bi);
    }
    if (len === 1) return sym[0]!;
    return sym.slice(0, len);
  }

  /**
   * O(n log n) merge loop for long pieces (1 MB lines, long runs): a binary
   * heap of candidate merges keyed by priority * 2^26 + position (HEAP_SHIFT),
   * i.e. lowest priority
   * first and leftmost on ties, exactly like the quadratic loop. Candidates go
   * stale when a neighbour merges; they are re-checked when popped.
   */
  private mergeLong(n: number): number | Int32Array {
    const sym = this.sym.slice(0, n);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const SHIFT = HEAP_SHIFT;
    // At most n - 1 initial candidates plus two per merge.
    const heap = new Float64Array(3 * n + 4);
    let size = 0;
    const pri = this.pairPriority;
    for (let i = 0; i + 1 < n; i++) {
      const m = this.pairIndex(sym[i]!, sym[i + 1]!);
      if (m < 0) continue;
      const key = pri[m]! * SHIFT + i;
      let j = size++;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (heap[p]! <= key) break;
        heap[j] = heap[p]!;
        j = p;
      }
      heap[j] = key;
    }
    while (size > 0) {
      const top = heap[0]!;
      const last = heap[--size]!;
      let j = 0;
      for (;;) {
        const l = 2 * j + 1;
        if (l >= size) break;
        const r = l + 1;
        const c = r < size && heap[r]! < heap[l]! ? r : l;
        if (heap[c]! >= last) break;
        heap[j] = heap[c]!;
        j = c;
      }
      heap[j] = last;
      const want = Math.floor(top / SHIFT);
      const pos = top - want * SHIFT;
      const left = sym[pos]!;
      if (left < 0) continue;
      const nx = next[pos]!;
      if (nx < 0) continue;
      const m = this.pairIndex(left, sym[nx]!);
      if (m < 0 || pri[m] !== want) continue;
      const merged = this.pairResult[m]!;
      sym[pos] = merged;
      sym[nx] = -1;
      const nn = next[nx]!;
      next[pos] = nn;
      if (nn >= 0) prev[nn] = pos;
      const pv = prev[pos]!;
      // New candidates with the left and right neighbours.
      for (let side = 0; side < 2; side++) {
        const at = side === 0 ? pv : pos;
        if (at < 0 || (side === 1 && nn < 0)) continue;
        const mm = side === 0 ? this.pairIndex(sym[pv]!, merged) : this.pairIndex(merged, sym[nn]!);
        if (mm < 0) continue;
        const key = pri[mm]! * SHIFT + at;
        let k = size++;
        while (k > 0) {
          const p = (k - 1) >> 1;
          if (heap[p]! <= key) break;
          heap[k] = heap[p]!;
          k = p;
        }
        heap[k] = key;
      }
    }
    let count = 0;
    for (let i = 0; i >= 0; i = next[i]!) count++;
    if (count === 1) return sym[0]!;
    const out = new Int32Array(count);
    let k = 0;
    for (let i = 0; i >= 0; i = next[i]!) out[k++] = sym[i]!;
    return out;
  }

  // ---------------------------------------------------------------- decoding

  tokenBytes(id: number): Uint8Array {
    if (!(id >= 0 && id < this.vocabSize)) return new Uint8Array(0);
    // A view, not a copy: exact mode and the join rule read thousands of tokens' bytes per completion.
    return this.bytes.subarray(this.offs[id]!, this.offs[id + 1]!);
  }

  /** Byte length of one token (0 for unknown ids). */
  tokenLength(id: number): number {
    if (!(id >= 0 && id < this.vocabSize)) return 0;
    return this.offs[id + 1]! - this.offs[id]!;
  }

  decodeBytes(ids: readonly number[]): Uint8Array {
    let n = 0;
    for (const id of ids) n += this.tokenLength(id);
    const out = new Uint8Array(n);
    let p = 0;
    for (const id of ids) {
      if (!(id >= 0 && id < this.vocabSize)) continue;
      const s = this.offs[id]!;
      const e = this.offs[id + 1]!;
      out.set(this.bytes.subarray(s, e), p);
      p += e - s;
    }
    return out;
  }

  decode(ids: readonly number[]): string {
    return decodeUtf8Lossy(this.decodeBytes(ids));
  }

  specialTokenId(text: string): number | undefined {
    return this.added().all.get(text);
  }

  isSpecial(id: number): boolean {
    return this.kind[id] === TokenKind.Special;
  }

  /** Kind of an id (TokenKind), Unused outside the id range. */
  tokenKind(id: number): TokenKind {
    return id >= 0 && id < this.vocabSize ? (this.kind[id] as TokenKind) : TokenKind.Unused;
  }

  isCanonical(ids: readonly number[]): boolean {
    for (const id of ids) {
      const k = this.tokenKind(id);
      if (k === TokenKind.Special || k === TokenKind.Unused) return false;
    }
    const again = this.encodeBytes(this.decodeBytes(ids));
    if (again.length !== ids.length) return false;
    for (let i = 0; i < ids.length; i++) if (again[i] !== ids[i]) return false;
    return true;
  }

  // ---------------------------------------------------------------- trie

  /** Ordinary and added ids sorted by bytes (the byte trie, flattened). */
  sortedIds(): Int32Array {
    if (this.sorted) return this.sorted;
    const ids: number[] = [];
    const keys: string[] = [];
    for (let id = 0; id < this.vocabSize; id++) {
      const k = this.kind[id];
      if (k === TokenKind.Special || k === TokenKind.Unused) continue;
      if (this.offs[id + 1] === this.offs[id]) continue;
      ids.push(id);
    }
    // latin1 strings compare code unit by code unit, i.e. bytewise.
    for (const id of ids) keys[id] = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.offs[id]!, this.offs[id + 1]! - this.offs[id]!).toString('latin1');
    ids.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : a - b));
    this.sorted = Int32Array.from(ids);
    return this.sorted;
  }

  /** Compares token `id`'s bytes with p[0, plen) as prefixes: -1, 0 (id starts with p), 1. */
  private cmpPrefix(id: number, p: Uint8Array, plen: number): number {
    const s = this.offs[id]!;
    const len = this.offs[id + 1]! - s;
    const n = Math.min(len, plen);
    for (let i = 0; i < n; i++) {
      const d = this.bytes[s + i]! - p[i]!;
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    return len < plen ? -1 : 0;
  }

  tokensStartingWith(prefix: Uint8Array): Int32Array {
    const sorted = this.sortedIds();
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cmpPrefix(sorted[mid]!, prefix, prefix.length) < 0) lo = mid + 1;
      else hi = mid;
    }
    const first = lo;
    hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cmpPrefix(sorted[mid]!, prefix, prefix.length) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return sorted.subarray(first, lo);
  }

  tokensPrefixOf(bytes: Uint8Array): number[] {
    const sorted = this.sortedIds();
    const out: number[] = [];
    let lo = 0;
    let hi = sorted.length;
    const limit = Math.min(bytes.length, this.maxTokenLen);
    for (let k = 0; k <= limit && lo < hi; k++) {
      // Tokens in [lo, hi) all start with bytes[0, k); those exactly k long sort first.
      while (lo < hi && this.offs[sorted[lo]! + 1]! - this.offs[sorted[lo]!]! === k) {
        if (k > 0) out.push(sorted[lo]!);
        lo++;
      }
      if (k === limit) break;
      const b = bytes[k]!;
      let a = lo;
      let z = hi;
      while (a < z) {
        const mid = (a + z) >> 1;
        if (this.bytes[this.offs[sorted[mid]!]! + k]! < b) a = mid + 1;
        else z = mid;
      }
      lo = a;
      z = hi;
      while (a < z) {
        const mid = (a + z) >> 1;
        if (this.bytes[this.offs[sorted[mid]!]! + k]! <= b) a = mid + 1;
        else z = mid;
      }
      hi = a;
    }
    return out;
  }

  // ---------------------------------------------------------------- boundaries

  /** Start offsets (UTF-16, into the escaped string) of the pieces of s. */
  private pieceStarts(s: string): number[] {
    const starts: number[] = [];
    this.walk(s, 0, s.length, (a) => starts.push(a));
    return starts;
  }

  stableBoundary(bytes: Uint8Array): number {
    const s = bytesToEscaped(bytes);
    if (this.normalizes && this.normalize(s) !== s) return 0;
    const starts = this.pieceStarts(s);
    if (starts.length < 3) return 0;
    let cut = starts[starts.length - 2]!;
    // A partly typed added token (e.g. "<thi" of "<think>") could still swallow the tail.
    for (const content of this.added().contents) {
      for (let k = Math.min(content.length - 1, s.length); k > 0; k--) {
        if (s.endsWith(content.slice(0, k))) {
          cut = Math.min(cut, s.length - k);
          break;
        }
      }
    }
    // Back up to a piece start at or before the cut.
    let j = starts.length - 1;
    while (j > 0 && starts[j]! > cut) j--;
    // Whitespace just before the cut may split differently once the text ends there
    // ("0  9": " ", " ", "9"; "0  " alone: "  "), so the cut also goes before such pieces:
    // then encodeBytes(bytes before the boundary) is a prefix of the encoding of any continuation.
    while (j > 0 && WHITESPACE_ONLY.test(s.slice(starts[j - 1]!, starts[j]!))) j--;
    return utf8Length(s, 0, starts[j]!);
  }

  /** The pre-token pieces of bytes as byte ranges [start, end) (added tokens count as pieces). */
  preTokenize(bytes: Uint8Array): Array<[number, number]> {
    const s = bytesToEscaped(bytes);
    const out: Array<[number, number]> = [];
    let pos = 0;
    let last = 0;
    this.walk(s, 0, s.length, (a, b) => {
      pos += utf8Length(s, last, a);
      const len = utf8Length(s, a, b);
      out.push([pos, pos + len]);
      pos += len;
      last = b;
    });
    return out;
  }

  /** Whether some non-special added token contains a newline (pieces may then cross lines anywhere). */
  addedTokensCrossLines(): boolean {
    return this.added().contents.some((c) => c.includes('\n'));
  }

  /** Bytes of text as this tokenizer sees them (after sanitizing lone surrogates). */
  static textBytes(text: string): Uint8Array {
    return utf8(sanitize(text));
  }
}
