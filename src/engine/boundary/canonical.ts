/**
 * Canonicality checks relative to a stable anchor. A token sequence is valid
 * when it is what the tokenizer itself produces for its bytes; the model was
 * trained only on such sequences, so exact mode masks every other one.
 *
 * The checks re-encode only the bytes after the last stable boundary
 * (Tokenizer.stableBoundary): everything before it encodes the same whatever
 * follows, so re-encoding the whole prompt would give the same answer slower.
 */
import type { Tokenizer } from '../tokenizers/types';
import { concatBytes, sameIds, startsWithIds } from './util';

/** Per-tokenizer tables the strategies consult on every step. */
export interface TokenTables {
  /** First byte of each ordinary token; -1 for specials and empty tokens. */
  readonly firstByte: Int16Array;
  /** Byte length of each token. */
  readonly length: Int32Array;
  /** Every token's bytes, one after another (token id's at offset[id]): read without a view per token. */
  readonly bytes: Uint8Array;
  readonly offset: Int32Array;
  readonly width: number;
}

const tablesCache = new WeakMap<Tokenizer, TokenTables>();

export function tokenTables(tokenizer: Tokenizer): TokenTables {
  let t = tablesCache.get(tokenizer);
  if (t) return t;
  const width = tokenizer.vocabSize;
  const firstByte = new Int16Array(width).fill(-1);
  const length = new Int32Array(width);
  const offset = new Int32Array(width + 1);
  const all: Uint8Array[] = [];
  for (let id = 0; id < width; id++) {
    offset[id + 1] = offset[id]!;
    let bytes: Uint8Array;
    try {
      bytes = tokenizer.tokenBytes(id);
    } catch {
      continue; // holes in the id space
    }
    length[id] = bytes.length;
    offset[id + 1] = offset[id]! + bytes.length;
    all.push(bytes);
    if (!tokenizer.isSpecial(id) && bytes.length > 0) firstByte[id] = bytes[0]!;
  }
  const bytes = new Uint8Array(offset[width]!);
  let at = 0;
  for (const b of all) {
    bytes.set(b, at);
    at += b.length;
  }
  t = { firstByte, length, bytes, offset, width };
  tablesCache.set(tokenizer, t);
  return t;
}

/**
 * One byte of each class a pre-tokenizer's lookahead rules tell apart (space,
 * letter, closing punctuation, newline): enough to see whether some
 * continuation keeps a sequence canonical.
 */
const PROBES = [' ', 'a', '}', '\n'].map((c) => new TextEncoder().encode(c));

/**
 * Whether `ids` (the encoding-so-far of `bytes`, from a stable boundary) is
 * valid: a prefix of the canonical encoding of bytes + something. Usually
 * that means encode(bytes) == ids; but lookahead rules of the pre-tokenizer
 * make some valid prefixes non-canonical on their own: "\t\t\t" encodes as
 * one token, yet "\t\t\t}" as "\t\t" "\t" "}", so ["\t\t", "\t"] must
 * count as a way to spell "\t\t\t". One probe byte per class decides.
 */
export function prefixValid(tokenizer: Tokenizer, bytes: Uint8Array, ids: readonly number[]): boolean {
  if (sameIds(tokenizer.encodeBytes(bytes), ids)) return true;
  if (!lookaheadSensitive(bytes)) return false;
  for (const z of PROBES) if (startsWithIds(tokenizer.encodeBytes(concatBytes(bytes, z)), ids)) return true;
  return false;
}

/**
 * Whether a continuation can still change how the end of `bytes` splits:
 * trailing whitespace (`\s+(?!\S)`, `\s*[\r\n]+`) or an apostrophe
 * (contractions). Elsewhere regex pre-tokenizers decide without lookahead,
 * and the probes would only cost time.
 */
export function lookaheadSensitive(bytes: Uint8Array): boolean {
  const b = bytes[bytes.length - 1];
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c || b === 0x27;
}

/** Whether idsBefore + [t] is valid (see prefixValid), idsBefore spelling bytesBefore from a stable boundary. */
export function validAfter(tokenizer: Tokenizer, bytesBefore: Uint8Array, idsBefore: readonly number[], t: number): boolean {
  return prefixValid(tokenizer, concatBytes(bytesBefore, tokenizer.tokenBytes(t)), [...idsBefore, t]);
}

/**
 * The unstable tail of a token stream (bytes and ids since the last stable
 * boundary), kept short by moving its stable part out after every token, so
 * that a validity check costs an encode of a few bytes.
 */
export class CanonicalTail {
  private memo = new Map<number, boolean>();
  constructor(
    private readonly tokenizer: Tokenizer,
    private bytes: Uint8Array,
    private ids: number[],
  ) {
    this.reanchor();
  }

  /** Whether appending t keeps the stream canonical. */
  valid(t: number): boolean {
    let v = this.memo.get(t);
    if (v === undefined) {
      v = validAfter(this.tokenizer, this.bytes, this.ids, t);
      this.memo.set(t, v);
    }
    return v;
  }

  push(t: number): void {
    this.bytes = concatBytes(this.bytes, this.tokenizer.tokenBytes(t));
    this.ids = [...this.ids, t];
    this.memo.clear();
    this.reanchor();
  }

  private reanchor(): void {
    const s = this.tokenizer.stableBoundary(this.bytes);
    if (s <= 0) return;
    const stable = this.tokenizer.encodeBytes(this.bytes.subarray(0, s));
    // A tokenizer that breaks its own stableBoundary contract keeps the long tail (slower, still right).
    if (!startsWithIds(this.ids, stable)) return;
    this.bytes = this.bytes.slice(s);
    this.ids = this.ids.slice(stable.length);
  }
}
