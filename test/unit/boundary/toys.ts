/**
 * Toy parts for the boundary oracle tests: two tokenizers implementing the
 * real Tokenizer interface (a rank-based BPE with a pre-tokenizer, and a
 * longest-match one), a byte-level Markov chain with an end probability, and
 * an "LM" whose next-token distributions are computed exactly from the chain
 * by enumerating every text up to a length bound and tokenizing it.
 */
import type { NextTokenModel } from '../../../src/engine/model/types';
import type { Tokenizer } from '../../../src/engine/tokenizers/types';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Bytes as a latin1 string: a cheap map key whose string prefixes are byte prefixes. */
function key(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function eqIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Shared Tokenizer plumbing over a vocabulary: ids 0..255 are the single bytes, then multi-byte tokens, then one special. */
abstract class ToyTokenizer implements Tokenizer {
  readonly vocab: Uint8Array[];
  readonly eos: number;
  readonly vocabSize: number;
  constructor(
    readonly id: string,
    multi: readonly string[],
  ) {
    this.vocab = [];
    for (let b = 0; b < 256; b++) this.vocab.push(new Uint8Array([b]));
    for (const m of multi) this.vocab.push(enc.encode(m));
    this.eos = this.vocab.length;
    this.vocabSize = this.vocab.length + 1;
    this.vocab.forEach((v, id) => this.byKey.set(key(v), id));
  }
  /** Token id by its bytes (latin1 key), and memo tables: the oracle asks the same questions many times. */
  protected readonly byKey = new Map<string, number>();
  private readonly encMemo = new Map<string, number[]>();
  private readonly startMemo = new Map<string, number[]>();
  private readonly prefixMemo = new Map<string, number[]>();
  protected abstract encodeUncached(bytes: Uint8Array): number[];
  abstract stableBoundary(bytes: Uint8Array): number;
  encodeBytes(bytes: Uint8Array): number[] {
    const k = key(bytes);
    let ids = this.encMemo.get(k);
    if (!ids) this.encMemo.set(k, (ids = this.encodeUncached(bytes)));
    return [...ids];
  }
  encode(text: string): number[] {
    return this.encodeBytes(enc.encode(text));
  }
  encodeWithOffsets(text: string): { ids: number[]; offsets: number[] } {
    const ids = this.encode(text);
    const offsets: number[] = [];
    let o = 0;
    for (const id of ids) {
      offsets.push(o);
      o += this.tokenBytes(id).length;
    }
    return { ids, offsets };
  }
  tokenBytes(id: number): Uint8Array {
    if (id === this.eos) return enc.encode('<eos>');
    const v = this.vocab[id];
    if (!v) throw new RangeError(`no token ${id}`);
    return v;
  }
  decodeBytes(ids: readonly number[]): Uint8Array {
    const parts = ids.map((i) => this.tokenBytes(i));
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
  decode(ids: readonly number[]): string {
    return dec.decode(this.decodeBytes(ids));
  }
  specialTokenId(text: string): number | undefined {
    return text === '<eos>' ? this.eos : undefined;
  }
  isSpecial(id: number): boolean {
    return id === this.eos;
  }
  isCanonical(ids: readonly number[]): boolean {
    if (ids.some((i) => this.isSpecial(i))) return false;
    return eqIds(this.encodeBytes(this.decodeBytes(ids)), ids);
  }
  tokensStartingWith(prefix: Uint8Array): number[] {
    const k = key(prefix);
    let out = this.startMemo.get(k);
    if (!out) {
      out = [];
      for (let id = 0; id < this.vocab.length; id++) if (key(this.vocab[id]!).startsWith(k)) out.push(id);
      this.startMemo.set(k, out);
    }
    return out;
  }
  tokensPrefixOf(bytes: Uint8Array): number[] {
    const k = key(bytes);
    let out = this.prefixMemo.get(k);
    if (!out) {
      out = [];
      for (let n = 1; n <= k.length; n++) {
        const id = this.byKey.get(k.slice(0, n));
        if (id !== undefined) out.push(id);
      }
      this.prefixMemo.set(k, out);
    }
    return out;
  }
}

/**
 * Rank-based BPE as Hugging Face's BPE model does it (merge the lowest-rank
 * adjacent pair, all its non-overlapping occurrences left to right, repeat),
 * inside pre-tokens that start at every 'c' (like GPT-2's space-prefixed
 * words). A 'c' always starts a piece, so the last 'c' is a stable boundary.
 */
export class ToyBpe extends ToyTokenizer {
  private readonly ranks = new Map<string, { rank: number; id: number }>();
  constructor(merges: ReadonlyArray<readonly [string, string]> = DEFAULT_MERGES) {
    super(
      'toy-bpe',
      merges.map(([a, b]) => a + b),
    );
    merges.forEach(([a, b], rank) => {
      this.ranks.set(`${this.idOf(a)},${this.idOf(b)}`, { rank, id: 256 + rank });
    });
  }
  private idOf(s: string): number {
    const bytes = enc.encode(s);
    const id = this.vocab.findIndex((v) => v.length === bytes.length && v.every((b, i) => b === bytes[i]));
    if (id < 0) throw new Error(`merge operand ${s} is not a token`);
    return id;
  }
  private bpe(piece: Uint8Array): number[] {
    let ids = [...piece];
    for (;;) {
      let best: { rank: number; id: number } | undefined;
      let pair = '';
      for (let i = 0; i + 1 < ids.length; i++) {
        const k = `${ids[i]},${ids[i + 1]}`;
        const r = this.ranks.get(k);
        if (r && (!best || r.rank < best.rank)) {
          best = r;
          pair = k;
        }
      }
      if (!best) return ids;
      const [a, b] = pair.split(',').map(Number);
      const out: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
          out.push(best.id);
          i++;
        } else out.push(ids[i]!);
      }
      ids = out;
    }
  }
  protected encodeUncached(bytes: Uint8Array): number[] {
    const out: number[] = [];
    let start = 0;
    for (let i = 1; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x63) {
        out.push(...this.bpe(bytes.subarray(start, i)));
        start = i;
      }
    }
    return out;
  }
  stableBoundary(bytes: Uint8Array): number {
    return Math.max(0, bytes.lastIndexOf(0x63));
  }
}

export const DEFAULT_MERGES: ReadonlyArray<readonly [string, string]> = [
  ['a', 'b'],
  ['c', 'a'],
  ['b', 'a'],
  ['ab', 'a'],
  ['a', 'a'],
  ['ca', 'b'],
  ['b', 'b'],
  ['ab', 'b'],
  ['aa', 'b'],
  ['c', 'c'],
  ['ba', 'b'],
];

/** Greedy longest-match from the left over a fixed vocabulary (no merges, no pre-tokenizer). */
export class ToyLongestMatch extends ToyTokenizer {
  private readonly maxLen: number;
  constructor(multi: readonly string[] = ['ab', 'ba', 'abc', 'bca', 'aa', 'bb', 'cab', 'abab', 'cc']) {
    super('toy-longest', multi);
    this.maxLen = Math.max(...this.vocab.map((v) => v.length));
  }
  protected encodeUncached(bytes: Uint8Array): number[] {
    const k = key(bytes);
    const out: number[] = [];
    let i = 0;
    while (i < k.length) {
      let len = Math.min(this.maxLen, k.length - i);
      while (len > 1 && !this.byKey.has(k.slice(i, i + len))) len--;
      out.push(this.byKey.get(k.slice(i, i + len))!);
      i += len;
    }
    return out;
  }
  stableBoundary(): number {
    return 0;
  }
}

/** A byte-level Markov chain over a few letters that ends after each byte with a per-letter probability. */
export interface MarkovChain {
  readonly alphabet: readonly number[];
  readonly initial: ReadonlyMap<number, number>;
  readonly next: ReadonlyMap<number, ReadonlyMap<number, number>>;
  readonly end: ReadonlyMap<number, number>;
  /** Texts longer than this do not exist (the enumeration bound); next-byte truths hold below it. */
  readonly maxLen: number;
}

const A = 0x61;
const B = 0x62;
const C = 0x63;

export const CHAIN_ABC: MarkovChain = {
  alphabet: [A, B, C],
  initial: new Map([
    [A, 0.5],
    [B, 0.3],
    [C, 0.2],
  ]),
  next: new Map([
    [A, new Map([[A, 0.2], [B, 0.5], [C, 0.3]])],
    [B, new Map([[A, 0.6], [B, 0.1], [C, 0.3]])],
    [C, new Map([[A, 0.4], [B, 0.4], [C, 0.2]])],
  ]),
  end: new Map([
    [A, 0.1],
    [B, 0.15],
    [C, 0.05],
  ]),
  maxLen: 10,
};

/** The chain's next-symbol distribution after `prefix`: byte -> p, and 'end'. */
export function chainNext(chain: MarkovChain, prefix: readonly number[]): { bytes: Map<number, number>; end: number } {
  if (!prefix.length) return { bytes: new Map(chain.initial), end: 0 };
  const last = prefix[prefix.length - 1]!;
  if (prefix.length >= chain.maxLen) return { bytes: new Map(), end: 1 };
  const e = chain.end.get(last)!;
  const m = chain.next.get(last)!;
  return { bytes: new Map([...m].map(([b, p]) => [b, (1 - e) * p])), end: e };
}

/** Every text the chain can produce with its probability. */
export function enumerateTexts(chain: MarkovChain): Array<{ bytes: number[]; p: number }> {
  const out: Array<{ bytes: number[]; p: number }> = [];
  const walk = (prefix: number[], p: number) => {
    const nx = chainNext(chain, prefix);
    if (nx.end > 0) out.push({ bytes: prefix, p: p * nx.end });
    for (const [b, q] of nx.bytes) walk([...prefix, b], p * q);
  };
  walk([], 1);
  return out;
}

interface Node {
  mass: number;
  endMass: number;
  children: Map<number, Node>;
  row?: Float64Array;
}

/**
 * The true token process of the chain under a tokenizer: P(next token | token
 * prefix) from the trie of encode(text) over all texts. Unseen (non-canonical)
 * prefixes get a uniform row, so a strategy that queries them is visibly wrong.
 * Rows are float64 (returned through the Float32Array-typed seam; the
 * strategies only index into them) so that the oracle can be checked to 1e-9.
 */
export class ChainLM implements NextTokenModel {
  readonly vocabSize: number;
  readonly contextLength = 1 << 20;
  calls = 0;
  private readonly root: Node = { mass: 0, endMass: 0, children: new Map() };
  constructor(
    readonly tokenizer: ToyTokenizer,
    texts: ReadonlyArray<{ bytes: number[]; p: number }>,
  ) {
    this.vocabSize = tokenizer.vocabSize;
    for (const { bytes, p } of texts) {
      const ids = tokenizer.encodeBytes(new Uint8Array(bytes));
      let node = this.root;
      node.mass += p;
      for (const id of ids) {
        let c = node.children.get(id);
        if (!c) node.children.set(id, (c = { mass: 0, endMass: 0, children: new Map() }));
        c.mass += p;
        node = c;
      }
      node.endMass += p;
    }
  }

  rowFor(ids: readonly number[]): Float64Array {
    let node: Node | undefined = this.root;
    for (const id of ids) {
      node = node.children.get(id);
      if (!node) break;
    }
    if (!node || !(node.mass > 0)) return new Float64Array(this.vocabSize).fill(-Math.log(this.vocabSize));
    if (!node.row) {
      const row = new Float64Array(this.vocabSize).fill(-Infinity);
      for (const [id, c] of node.children) row[id] = Math.log(c.mass / node.mass);
      if (node.endMass > 0) row[this.tokenizer.eos] = Math.log(node.endMass / node.mass);
      node.row = row;
    }
    return node.row;
  }

  async nextTokenLogProbs(ids: readonly number[]): Promise<Float32Array> {
    this.calls++;
    return this.rowFor(ids) as unknown as Float32Array;
  }

  async nextTokenLogProbsBatch(sequences: ReadonlyArray<readonly number[]>): Promise<Float32Array[]> {
    this.calls++;
    return sequences.map((s) => this.rowFor(s) as unknown as Float32Array);
  }
}

/** All byte strings over the alphabet with length <= n. */
export function allStrings(alphabet: readonly number[], n: number): number[][] {
  const out: number[][] = [[]];
  let layer: number[][] = [[]];
  for (let k = 1; k <= n; k++) {
    const nextLayer: number[][] = [];
    for (const s of layer) for (const b of alphabet) nextLayer.push([...s, b]);
    out.push(...nextLayer);
    layer = nextLayer;
  }
  return out;
}
