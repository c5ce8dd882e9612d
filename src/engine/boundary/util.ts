/**
 * Small numeric and byte helpers shared by the boundary strategies. All
 * probability arithmetic is in float64 (JS numbers): model rows arrive as
 * Float32Array, but sums over covers must not lose precision.
 */

/** A model row: natural-log probabilities indexed by token id. */
export type LogProbRow = ArrayLike<number>;

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export function appendByte(a: Uint8Array, b: number): Uint8Array {
  const out = new Uint8Array(a.length + 1);
  out.set(a, 0);
  out[a.length] = b;
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `a` starts with `prefix`. */
export function startsWithBytes(a: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > a.length) return false;
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

export function sameIds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function startsWithIds(a: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > a.length) return false;
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

export function logSumExp(values: readonly number[]): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  if (max === -Infinity) return -Infinity;
  if (max === Infinity) return Infinity;
  let s = 0;
  for (const v of values) s += Math.exp(v - max);
  return max + Math.log(s);
}

/** Index of the largest value among `candidates` (ties: the first), or -1. */
export function argmaxOf(row: LogProbRow, candidates: Iterable<number>): number {
  let best = -1;
  let bestV = -Infinity;
  for (const c of candidates) {
    const v = row[c]!;
    if (best < 0 || v > bestV) {
      best = c;
      bestV = v;
    }
  }
  return best;
}

/** Sampling settings as a request gives them. */
export interface SamplingParams {
  readonly temperature?: number;
  readonly topP?: number;
  readonly random?: () => number;
}

export function isGreedy(p: SamplingParams): boolean {
  return !p.temperature || p.temperature <= 0;
}

/**
 * Picks one key from (key, probability) pairs (probabilities need not be
 * normalised): argmax when greedy, otherwise temperature + nucleus sampling.
 * Returns undefined when every weight is zero.
 */
export function pick<K>(items: ReadonlyArray<readonly [K, number]>, params: SamplingParams): K | undefined {
  const live = items.filter(([, w]) => w > 0 && Number.isFinite(w));
  if (!live.length) return undefined;
  if (isGreedy(params)) {
    let best = live[0]!;
    for (const it of live) if (it[1] > best[1]) best = it;
    return best[0];
  }
  const t = params.temperature!;
  const maxW = Math.max(...live.map(([, w]) => w));
  let weighted = live.map(([k, w]) => [k, Math.pow(w / maxW, 1 / t)] as const).sort((a, b) => b[1] - a[1]);
  const total = weighted.reduce((s, [, w]) => s + w, 0);
  const topP = params.topP ?? 1;
  if (topP < 1) {
    let acc = 0;
    let keep = 0;
    while (keep < weighted.length && acc < topP * total) acc += weighted[keep++]![1];
    weighted = weighted.slice(0, Math.max(1, keep));
  }
  const sum = weighted.reduce((s, [, w]) => s + w, 0);
  let r = (params.random ?? Math.random)() * sum;
  for (const [k, w] of weighted) {
    r -= w;
    if (r < 0) return k;
  }
  return weighted[weighted.length - 1]![0];
}

/**
 * Token ids ordered by decreasing log-probability, lazily: the best id alone
 * by one plain scan (greedy decoding almost always takes it), the top
 * `chunk` by a partial selection when a second is asked for, and the rest by
 * one sort of everything after that.
 */
export class RankedTokens {
  private order: number[] | undefined;
  private top: number[] | undefined;
  private best: number | undefined;
  constructor(
    private readonly row: LogProbRow,
    private readonly width: number,
    private readonly include: (id: number) => boolean,
    private readonly chunk = 32,
    /** The caller will walk past the first id (exact mode's validity checks): select the top chunk at once. */
    walk = false,
  ) {
    if (walk) this.top = topK(row, width, chunk, include);
  }

  /** The i-th best id, or -1 past the end. */
  at(i: number): number {
    if (i === 0 && !this.top) return (this.best ??= bestId(this.row, this.width, this.include));
    this.top ??= topK(this.row, this.width, this.chunk, this.include);
    if (i < this.top.length) return this.top[i]!;
    if (!this.order) {
      const ids: number[] = [];
      for (let t = 0; t < this.width; t++) if (this.include(t) && this.row[t]! > -Infinity) ids.push(t);
      ids.sort((a, b) => this.row[b]! - this.row[a]! || a - b);
      this.order = ids;
    }
    return i < this.order.length ? this.order[i]! : -1;
  }
}

/** The id of the largest finite entry (ties: lower id first), or -1 if there is none; topK(…, 1)[0] by a plain scan. */
function bestId(row: LogProbRow, width: number, include: (id: number) => boolean): number {
  let best = -1;
  let value = -Infinity;
  for (let t = 0; t < width; t++) {
    const v = row[t]!;
    if (v > value && include(t)) {
      best = t;
      value = v;
    }
  }
  return best;
}

/** Ids of the k largest finite entries, best first (ties: lower id first). */
export function topK(row: LogProbRow, width: number, k: number, include: (id: number) => boolean): number[] {
  const out: number[] = [];
  if (k <= 0) return out;
  // The k-th best value so far: once the list is full, most ids fall below
  // it and are skipped before `include` (a closure call per id) is asked.
  let floor = -Infinity;
  for (let t = 0; t < width; t++) {
    const v = row[t]!;
    if (!(v > floor)) continue;
    if (!include(t)) continue;
    if (out.length < k) {
      out.push(t);
      if (out.length === k) {
        out.sort((a, b) => row[b]! - row[a]! || a - b);
        floor = row[out[k - 1]!]!;
      }
      continue;
    }
    // insertion into the sorted top list
    let j = k - 1;
    while (j > 0 && row[out[j - 1]!]! < v) {
      out[j] = out[j - 1]!;
      j--;
    }
    out[j] = t;
    floor = row[out[k - 1]!]!;
  }
  if (out.length < k) out.sort((a, b) => row[b]! - row[a]! || a - b);
  return out;
}
