/**
 * A byte-level cache model of the code being edited: a variable-order
 * context model over bytes (interpolated, Witten-Bell escapes, the blending
 * form of PPM), fed with the text of the current file and its neighbours.
 * Code repeats itself within a file and a project (Tu et al., "On the
 * Localness of Software", 2014): identifiers, call shapes and whole lines
 * come back, and a model of exactly this text predicts them better than a
 * small network that never saw them.
 *
 * Memory is fixed when the model is made: every count lives in one
 * open-addressed table of (context, byte) slots sized from the budget, and a
 * full neighbourhood evicts its lightest slot, so feeding more text never
 * grows memory; it only forgets the rarest statistics. Every prediction is a
 * proper distribution over the 256 bytes whatever the table holds (each
 * order's estimate is normalised over the counts it actually found).
 */

/** Context lengths (bytes) the model conditions on, besides orders 0 and 1 (dense). */
export const DEFAULT_ORDERS: readonly number[] = [2, 3, 4, 6, 8, 12, 16, 24, 32];

export interface CacheModelOptions {
  /** Upper bound on the model's memory, bytes (the count table plus small dense tables). */
  readonly memoryBytes?: number;
  /** Context lengths above 1, ascending (at most 64). */
  readonly orders?: readonly number[];
  /**
   * Absolute discount per seen successor (Kneser-Ney-like, 0..1); 0 gives
   * Witten-Bell escapes, which trust a context seen once too much.
   */
  readonly discount?: number;
}

export const DEFAULT_CACHE_MEMORY = 32 * 1024 * 1024;
/**
 * Measured in the mixture (the cache alone prefers more smoothing): on the
 * long-file spans 0.6 gave 1.183 bits/byte where 0.8 gave 1.192 with the same
 * gate (the END gate aside), and it did not cost bits on the short spans
 * (0.933 vs 0.936); 0.5 gave no more.
 */
export const DEFAULT_DISCOUNT = 0.6;

/** Bytes per slot: a 32-bit check and a 16-bit count. */
const SLOT_BYTES = 6;
/** Slots probed before evicting the lightest one. */
const PROBES = 8;
const MAX_COUNT = 0xffff;
/** Dense tables: order 0 (256 counts) and order 1 (256 x 256 counts), Uint32. */
const DENSE_BYTES = (256 + 65536) * 4;

function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The variable-order byte model. `observe` adds one byte after a context;
 * `predict` gives P(next byte | context) for all 256 bytes.
 */
export class ByteCacheModel {
  readonly orders: readonly number[];
  private readonly maxOrder: number;
  private readonly keys: Uint32Array;
  private readonly counts: Uint16Array;
  private readonly mask: number;
  private readonly order0 = new Uint32Array(256);
  private readonly order1 = new Uint32Array(65536);
  private total0 = 0;
  /** Slots in use (for stats). */
  private used = 0;
  /**
   * Longest context (bytes) the last predict() found seen before: 0 when
   * even the previous byte never had a successor. A mixer reads it as the
   * cache's confidence.
   */
  lastOrder = 0;
  /** Bytes observed since the last clear. */
  bytesSeen = 0;
  /** Slots taken over from other statistics because their neighbourhood was full. */
  evictions = 0;
  /** Scratch: context hashes per order, refilled per call. */
  private readonly ctxHash: Uint32Array;
  private readonly ctxValid: Uint8Array;
  private readonly discount: number;

  constructor(options: CacheModelOptions = {}) {
    this.discount = Math.max(0, Math.min(1, options.discount ?? DEFAULT_DISCOUNT));
    const orders = [...(options.orders ?? DEFAULT_ORDERS)].filter((o) => Number.isInteger(o) && o >= 2 && o <= 64).sort((a, b) => a - b);
    this.orders = [...new Set(orders)];
    this.maxOrder = this.orders.length ? this.orders[this.orders.length - 1]! : 1;
    const budget = Math.max(64 * 1024 + DENSE_BYTES, options.memoryBytes ?? DEFAULT_CACHE_MEMORY) - DENSE_BYTES;
    // Largest power of two of slots within the budget.
    let slots = 1;
    while (slots * 2 * SLOT_BYTES <= budget) slots *= 2;
    this.keys = new Uint32Array(slots);
    this.counts = new Uint16Array(slots);
    this.mask = slots - 1;
    this.ctxHash = new Uint32Array(this.orders.length);
    this.ctxValid = new Uint8Array(this.orders.length);
  }

  /** Memory the model holds, bytes (fixed at construction). */
  get memoryBytes(): number {
    return this.keys.byteLength + this.counts.byteLength + this.order0.byteLength + this.order1.byteLength;
  }

  /** Share of the count table in use. */
  get fill(): number {
    return this.used / this.keys.length;
  }

  /** Forgets everything (memory stays allocated). */
  clear(): void {
    this.keys.fill(0);
    this.counts.fill(0);
    this.order0.fill(0);
    this.order1.fill(0);
    this.total0 = 0;
    this.used = 0;
    this.bytesSeen = 0;
    this.evictions = 0;
  }

  /** Hashes of the last `order` bytes before `end` in `buf`, for each order; invalid where the buffer is too short. */
  private hashContexts(buf: Uint8Array, end: number): void {
    let h = 0x811c9dc5;
    let k = 0;
    for (let n = 1; n <= this.maxOrder && k < this.orders.length; n++) {
      const i = end - n;
      if (i < 0) break;
      h = Math.imul(h ^ buf[i]!, 0x01000193) >>> 0;
      if (n === this.orders[k]) {
        this.ctxHash[k] = mix32(h ^ Math.imul(n, 0x9e3779b1));
        this.ctxValid[k] = 1;
        k++;
      }
    }
    for (; k < this.orders.length; k++) this.ctxValid[k] = 0;
  }

  /** Slot key of (context hash, byte): never 0 (0 marks an empty slot). */
  private static key(ctx: number, b: number): number {
    return (mix32(ctx + Math.imul(b + 1, 0x27d4eb2f)) | 1) >>> 0;
  }

  private find(key: number): number {
    const keys = this.keys;
    const i = Math.imul(key, 0x9e3779b1) >>> 0;
    for (let p = 0; p < PROBES; p++) {
      const s = (i + p) & this.mask;
      const k = keys[s]!;
      if (k === key) return s;
      if (k === 0) return -1;
    }
    return -1;
  }

  private bump(key: number): void {
    const keys = this.keys;
    const counts = this.counts;
    const start = Math.imul(key, 0x9e3779b1) >>> 0;
    let lightest = -1;
    for (let p = 0; p < PROBES; p++) {
      const s = (start + p) & this.mask;
      const k = keys[s]!;
      if (k === key) {
        if (counts[s]! < MAX_COUNT) counts[s]!++;
        return;
      }
      if (k === 0) {
        keys[s] = key;
        counts[s] = 1;
        this.used++;
        return;
      }
      if (lightest < 0 || counts[s]! < counts[lightest]!) lightest = s;
    }
    // A full neighbourhood: the rarest statistic there gives way (memory stays bounded).
    keys[lightest] = key;
    counts[lightest] = 1;
    this.evictions++;
  }

  /** Adds byte `buf[pos]` after the context `buf[..pos]`. */
  observeAt(buf: Uint8Array, pos: number): void {
    const b = buf[pos]!;
    this.order0[b]!++;
    this.total0++;
    if (pos >= 1) this.order1[(buf[pos - 1]! << 8) | b]!++;
    this.hashContexts(buf, pos);
    for (let k = 0; k < this.orders.length; k++) if (this.ctxValid[k]) this.bump(ByteCacheModel.key(this.ctxHash[k]!, b));
    this.bytesSeen++;
  }

  /**
   * Adds all bytes of `bytes` as one segment (contexts do not reach before
   * its start). `from` skips statistics for the first bytes (they still serve
   * as context).
   */
  observe(bytes: Uint8Array, from = 0): void {
    for (let i = Math.max(0, from); i < bytes.length; i++) this.observeAt(bytes, i);
  }

  /**
   * P(next byte | the bytes before `end` in `buf`) for all 256 bytes, into
   * `out` (which is returned). Interpolated Witten-Bell: at each order,
   * P = (c(x) + u·P_lower(x)) / (c + u) with c the context's count and u its
   * number of distinct successors; an unseen context passes P_lower through.
   * Order -1 is uniform, so every byte keeps a little probability.
   */
  predict(buf: Uint8Array, end = buf.length, out: Float64Array = new Float64Array(256)): Float64Array {
    this.lastOrder = 0;
    // Order 0 over order -1 (uniform).
    let distinct = 0;
    for (let b = 0; b < 256; b++) if (this.order0[b]) distinct++;
    {
      const c = this.total0;
      const denom = c + distinct;
      for (let b = 0; b < 256; b++) out[b] = denom > 0 ? (this.order0[b]! + distinct / 256) / denom : 1 / 256;
      if (denom === 0) return out;
    }
    // Successors seen at the order below: a byte never seen at order n-1 is (barring evictions) never seen at n.
    let cand: number[] = [];
    if (end >= 1) {
      const base = buf[end - 1]! << 8;
      let c = 0;
      for (let b = 0; b < 256; b++) {
        const n = this.order1[base | b]!;
        if (n) {
          cand.push(b);
          c += n;
        }
      }
      if (c > 0) {
        this.blend(out, cand, cand.map((b) => this.order1[base | b]!), c);
        this.lastOrder = 1;
      }
    }
    if (!cand.length) return out;
    this.hashContexts(buf, end);
    const cnt: number[] = [];
    for (let k = 0; k < this.orders.length; k++) {
      if (!this.ctxValid[k]) break;
      const h = this.ctxHash[k]!;
      const next: number[] = [];
      cnt.length = 0;
      let c = 0;
      for (const b of cand) {
        const s = this.find(ByteCacheModel.key(h, b));
        if (s < 0) continue;
        const n = this.counts[s]!;
        next.push(b);
        cnt.push(n);
        c += n;
      }
      if (!next.length) break; // an unseen context: no longer one is seen either (barring collisions)
      this.blend(out, next, cnt, c);
      this.lastOrder = this.orders[k]!;
      cand = next;
    }
    return out;
  }

  /**
   * One order's estimate over the lower one, in place. Witten-Bell (discount
   * 0): (n(x) + u·P_lower(x)) / (c + u); discounted: (n(x) - d + d·u·P_lower(x)) / c.
   * Both keep the sum at 1 whatever counts were found (every n(x) >= 1 >= d).
   */
  private blend(out: Float64Array, seen: readonly number[], counts: readonly number[], c: number): void {
    const u = seen.length;
    const d = this.discount;
    const scale = d > 0 ? (d * u) / c : u / (c + u);
    for (let b = 0; b < 256; b++) out[b]! *= scale;
    for (let i = 0; i < u; i++) out[seen[i]!]! += d > 0 ? (counts[i]! - d) / c : counts[i]! / (c + u);
  }
}
