/**
 * Covers and the exact next-byte distribution (Phan et al., ICLR 2025; see
 * shared/design/byte-exact.md). For the bytes y after a stable anchor:
 *
 * - a cover of y is a canonical token sequence whose tokens but the last
 *   decode to a prefix of y and whose last token runs to or past y's end;
 *   its remainder is what the last token adds beyond y;
 * - P(text continues with y) = sum of P(cover) over the covers of y, and
 *   exactly one cover (T = encode(y)) has an empty remainder;
 * - the next-byte distribution puts P(T)·q_T(t) on the first byte of every
 *   token t with T+[t] canonical, P(c) on the first remainder byte of every
 *   other cover c, and P(T)·q_T(stop) on each stop symbol.
 *
 * Probabilities are float64 log-values relative to the anchor (the anchor's
 * own probability is a common factor that cancels).
 */
import type { NextTokenModel } from '../model/types';
import type { Tokenizer } from '../tokenizers/types';
import type { ByteDistribution } from './types';
import { tokenTables, validAfter, type TokenTables } from './canonical';
import { appendByte, concatBytes, logSumExp, RankedTokens, sameBytes, sameIds, startsWithIds, type LogProbRow } from './util';

export interface Cover {
  /** Token ids after the anchor. */
  readonly ids: readonly number[];
  /** Bytes the last token adds beyond the covered text (empty for T). */
  readonly rem: Uint8Array;
  /** Natural log of P(ids | anchor) under the model. */
  readonly logp: number;
}

export type { ByteDistribution };

export interface ExactDistribution extends ByteDistribution {
  /** Share of the covered mass held by covers with a remainder (0: the text may end a token here). */
  readonly remainderShare: number;
  /** Model mass (share of T's next-token row) put on ordinary tokens that would make T non-canonical; masked out. */
  readonly maskedMass: number;
}

export interface CoverOptions {
  /**
   * Relative probability mass that may go unchecked per step: candidate
   * tokens are checked for canonicality in order of probability until the
   * unchecked rest is below this share; unchecked tokens count as valid in
   * the distribution and are not kept as covers. 0 checks everything (exact).
   */
  readonly epsilon: number;
  /**
   * Longest tail (bytes after the stable boundary) enumerated exactly; a
   * longer one (a tokenizer that never finds a stable point, e.g. a 1 MB
   * line) is cut there and the part before it treated as stable.
   */
  readonly maxTail: number;
  /**
   * Most canonicality checks per step (each re-encodes the tail, ~25 µs with
   * a 16k vocabulary); tokens past it are counted as valid. A flat model
   * would otherwise need the whole vocabulary checked on every byte.
   */
  readonly maxChecks?: number;
  /**
   * Most unchecked covers kept per enumeration or byte (the heaviest; checked
   * ones are all kept). Unbounded by default: on the tiny model a cap of 256
   * cost 0.12 bits per byte and saved no time (T got lost and re-enumerated).
   */
  readonly maxKeep?: number;
}

export const DEFAULT_COVER_OPTIONS: CoverOptions = { epsilon: 1e-4, maxTail: 96, maxChecks: 48 };

interface Candidate {
  readonly ids: number[];
  readonly before: Uint8Array;
  readonly beforeIds: readonly number[];
  readonly t: number;
  readonly logp: number;
  readonly remFrom: number;
}

const keyOf = (ids: readonly number[]) => ids.join(',');

/**
 * The covers of the bytes after a stable anchor, their probabilities, and the
 * incremental update as bytes are appended.
 */
export class CoverState {
  /** Model calls made (a batch counts once). */
  modelCalls = 0;
  private tRow: LogProbRow | undefined;
  /** Canonical T-extensions found by the last distribution(): token -> log q_T(t). */
  private checked = new Map<number, boolean>();
  private readonly tables: TokenTables;

  private constructor(
    readonly tokenizer: Tokenizer,
    readonly model: NextTokenModel,
    readonly headIds: readonly number[],
    private readonly opts: CoverOptions,
    /** Full ids of the anchor: head + the encoding of the stable bytes. */
    public anchor: number[],
    /** Bytes after the anchor. */
    public y: Uint8Array,
    public covers: Cover[],
  ) {
    this.tables = tokenTables(tokenizer);
  }

  /** Enumerates the covers of `stream` (continuing headIds) from scratch. */
  static async create(
    tokenizer: Tokenizer,
    model: NextTokenModel,
    headIds: readonly number[],
    stream: Uint8Array,
    opts: CoverOptions = DEFAULT_COVER_OPTIONS,
    signal?: AbortSignal,
  ): Promise<CoverState> {
    let s = Math.max(0, Math.min(stream.length, tokenizer.stableBoundary(stream)));
    if (stream.length - s > opts.maxTail) s = stream.length - opts.maxTail;
    const anchor = [...headIds, ...(s > 0 ? tokenizer.encodeBytes(stream.subarray(0, s)) : [])];
    const st = new CoverState(tokenizer, model, headIds, opts, anchor, stream.slice(s), []);
    await st.enumerate(signal);
    return st;
  }

  /** The cover with the empty remainder. */
  get T(): Cover {
    const t = this.covers.find((c) => c.rem.length === 0);
    if (!t) throw new Error('internal: no cover with an empty remainder');
    return t;
  }

  /** Stream ids of every cover (anchor's stream part included), for tests. */
  fullCovers(): Array<{ ids: number[]; rem: Uint8Array; logp: number }> {
    const stable = this.anchor.slice(this.headIds.length);
    return this.covers.map((c) => ({ ids: [...stable, ...c.ids], rem: c.rem, logp: c.logp }));
  }

  private async enumerate(signal?: AbortSignal): Promise<void> {
    const { tokenizer, y } = this;
    const n = y.length;
    const T = tokenizer.encodeBytes(y);
    // Splits where some token starts with the rest of y: only those can end a cover. Tokens do not cross
    // pre-token boundaries, so in a tail like " return thi" only the splits inside " thi" have any.
    const lefts = new Map<number, number[]>();
    const starting = new Map<number, ArrayLike<number>>();
    for (let i = 0; i < n; i++) {
      const rest = y.subarray(i);
      const ts = tokenizer.tokensStartingWith(rest);
      let any = false;
      for (let k = 0; k < ts.length; k++) if (this.tables.length[ts[k]!] !== rest.length) any = true;
      if (!any) continue;
      starting.set(i, ts);
      lefts.set(i, i === 0 ? [] : tokenizer.encodeBytes(y.subarray(0, i)));
    }
    // Every prefix of every left part and of T needs a next-token row: one batch.
    const need = new Map<string, number[]>();
    for (const seq of [...lefts.values(), T]) for (let j = 0; j <= seq.length; j++) need.set(keyOf(seq.slice(0, j)), seq.slice(0, j));
    const keys = [...need.keys()];
    const seqs = keys.map((k) => [...this.anchor, ...need.get(k)!]);
    const rows = await this.model.nextTokenLogProbsBatch(seqs, signal);
    this.modelCalls++;
    const rowOf = new Map<string, LogProbRow>();
    keys.forEach((k, i) => rowOf.set(k, rows[i]!));
    const seqLogp = (seq: readonly number[]) => {
      let lp = 0;
      for (let j = 0; j < seq.length; j++) lp += rowOf.get(keyOf(seq.slice(0, j)))![seq[j]!]!;
      return lp;
    };
    const covers: Cover[] = [{ ids: T, rem: new Uint8Array(0), logp: seqLogp(T) }];
    this.tRow = rowOf.get(keyOf(T));
    const cands: Candidate[] = [];
    for (const [i, left] of lefts) {
      const lp = seqLogp(left);
      if (lp === -Infinity) continue;
      const row = rowOf.get(keyOf(left))!;
      const rest = y.subarray(i);
      const ts = starting.get(i)!;
      for (let k = 0; k < ts.length; k++) {
        const t = ts[k]!;
        if (this.tables.length[t] === rest.length) continue; // covers y exactly: only T may, and T is in already
        const l = lp + row[t]!;
        if (l === -Infinity) continue;
        cands.push({ ids: [...left, t], before: y.subarray(0, i), beforeIds: left, t, logp: l, remFrom: n - i });
      }
    }
    cands.sort((a, b) => b.logp - a.logp);
    const total = logSumExp([covers[0]!.logp, ...cands.map((c) => c.logp)]);
    let unchecked = 1;
    const budget = (this.opts.maxChecks ?? Infinity) * 2;
    for (const [i, c] of cands.entries()) {
      if (this.opts.epsilon > 0 && unchecked <= this.opts.epsilon) break;
      unchecked -= Math.exp(c.logp - total);
      // Past the check budget a candidate is kept unchecked (counted as valid, like unchecked
      // T-extensions in distribution()); if it ever becomes T it is verified then.
      if (i >= budget && ((this.opts.epsilon > 0 && Math.exp(c.logp - total) < this.opts.epsilon * 1e-2) || i >= budget + (this.opts.maxKeep ?? Infinity))) continue;
      if (i >= budget || validAfter(tokenizer, c.before, c.beforeIds, c.t)) {
        covers.push({ ids: c.ids, rem: tokenizer.tokenBytes(c.t).slice(c.remFrom), logp: c.logp });
      }
    }
    this.covers = covers;
    this.checked.clear();
  }

  /** The next-byte distribution after the bytes covered so far (one model call unless cached). */
  async distribution(stopIds: readonly number[], signal?: AbortSignal): Promise<ExactDistribution> {
    const T = this.T;
    if (!this.tRow) {
      this.tRow = await this.model.nextTokenLogProbs([...this.anchor, ...T.ids], signal);
      this.modelCalls++;
    }
    const row = this.tRow;
    const { firstByte } = this.tables;
    const width = Math.min(this.tables.width, this.model.vocabSize);
    const ref = Math.max(...this.covers.map((c) => c.logp));
    const wT = Math.exp(T.logp - ref);
    const tMass = new Float64Array(256);
    let ordinary = 0;
    for (let t = 0; t < width; t++) {
      const b = firstByte[t]!;
      if (b < 0) continue;
      const p = Math.exp(row[t]!);
      tMass[b] += p;
      ordinary += p;
    }
    // Check canonicality in order of probability until the unchecked rest is negligible.
    this.checked.clear();
    let masked = 0;
    let unchecked = ordinary;
    const budget = this.opts.maxChecks ?? Infinity;
    const ranked = new RankedTokens(row, width, (id) => firstByte[id]! >= 0, Number.isFinite(budget) ? budget + 1 : 64);
    for (let i = 0; i < budget; i++) {
      if (this.opts.epsilon > 0 && unchecked <= this.opts.epsilon * ordinary) break;
      const t = ranked.at(i);
      if (t < 0) break;
      const p = Math.exp(row[t]!);
      unchecked -= p;
      const ok = validAfter(this.tokenizer, this.y, T.ids, t);
      this.checked.set(t, ok);
      if (!ok) {
        tMass[firstByte[t]!] -= p;
        masked += p;
      }
    }
    const bytes = new Float64Array(256);
    for (let b = 0; b < 256; b++) bytes[b] = wT * Math.max(0, tMass[b]!);
    let remMass = 0;
    for (const c of this.covers) {
      if (!c.rem.length) continue;
      const w = Math.exp(c.logp - ref);
      bytes[c.rem[0]!] += w;
      remMass += w;
    }
    const stops = new Map<number, number>();
    for (const s of stopIds) if (s < width) stops.set(s, (stops.get(s) ?? 0) + wT * Math.exp(row[s]!));
    let z = 0;
    for (let b = 0; b < 256; b++) z += bytes[b]!;
    for (const v of stops.values()) z += v;
    if (z > 0 && Number.isFinite(z)) {
      for (let b = 0; b < 256; b++) bytes[b] /= z;
      for (const [k, v] of stops) stops.set(k, v / z);
    }
    const covered = wT + remMass;
    return { bytes, stops, remainderShare: covered > 0 ? remMass / covered : 0, maskedMass: ordinary > 0 ? masked / ordinary : 0 };
  }

  /**
   * The covers of y+b from those of y, with no model call: covers whose
   * remainder starts with b lose that byte, and T grows by every canonical
   * token starting with b. Needs the row distribution() fetched for T.
   */
  async advance(b: number, signal?: AbortSignal): Promise<void> {
    const T = this.T;
    if (!this.tRow) await this.distribution([], signal);
    const row = this.tRow!;
    const next: Cover[] = [];
    for (const c of this.covers) if (c.rem.length && c.rem[0] === b) next.push({ ids: c.ids, rem: c.rem.subarray(1), logp: c.logp });
    const ref = Math.max(...this.covers.map((c) => c.logp));
    const single = new Uint8Array([b]);
    const wT = T.logp - ref;
    const extensions: Array<{ t: number; lq: number; checked: boolean }> = [];
    const ts = this.tokenizer.tokensStartingWith(single);
    for (let k = 0; k < ts.length; k++) {
      const t = ts[k]!;
      const lq = row[t]!;
      if (lq === -Infinity || t >= this.model.vocabSize) continue;
      const ok = this.checked.get(t);
      // Unchecked tokens (past distribution()'s budget) count as valid there, so they are kept here too.
      if (ok === false) continue;
      // Unchecked covers too light to matter (below a hundredth of epsilon) are dropped; the one-byte token stays (it may be the new T).
      if (ok === undefined && this.opts.epsilon > 0 && Math.exp(wT + lq) < this.opts.epsilon * 1e-2 && this.tables.length[t] !== 1) continue;
      extensions.push({ t, lq, checked: ok === true || this.tables.length[t] === 1 });
    }
    // A flat model keeps thousands of light unchecked covers alive; the heaviest maxKeep are plenty.
    const keep = this.opts.maxKeep ?? Infinity;
    if (extensions.length > keep) {
      extensions.sort((a, c) => Number(c.checked) - Number(a.checked) || c.lq - a.lq);
      extensions.length = Math.max(keep, extensions.filter((e) => e.checked).length);
    }
    for (const { t, lq } of extensions) next.push({ ids: [...T.ids, t], rem: this.tokenizer.tokenBytes(t).subarray(1), logp: T.logp + lq });
    this.y = appendByte(this.y, b);
    this.tRow = undefined;
    this.checked.clear();
    // The new T is the cover that spells y exactly and is its canonical encoding; other covers
    // that spell y exactly (unchecked ones) are not canonical and leave.
    const canonical = this.tokenizer.encodeBytes(this.y);
    const empties = next.filter((c) => c.rem.length === 0);
    const t = empties.find((c) => sameIds(c.ids, canonical));
    this.covers = next.filter((c) => c.rem.length > 0 || c === t);
    if (!t) {
      // A tokenizer outside the assumptions lost T: start over from the bytes.
      await this.enumerate(signal);
    }
    this.reanchor();
  }

  /** Moves the part of y that became stable into the anchor, keeping the tail (and each check) short. */
  private reanchor(): void {
    let s = this.tokenizer.stableBoundary(this.y);
    if (this.y.length - s > this.opts.maxTail) s = this.y.length - this.opts.maxTail;
    if (s <= 0) return;
    const stable = this.tokenizer.encodeBytes(this.y.subarray(0, s));
    if (!startsWithIds(this.T.ids, stable)) return;
    // Every cover shares the stable ids (same log-prob factor, which cancels), so strip them.
    this.covers = this.covers.filter((c) => startsWithIds(c.ids, stable)).map((c) => ({ ids: c.ids.slice(stable.length), rem: c.rem, logp: c.logp }));
    this.anchor = [...this.anchor, ...stable];
    this.y = this.y.slice(s);
  }

  /** The next-token row for anchor+T, if distribution() fetched it. */
  get rowAfterT(): LogProbRow | undefined {
    return this.tRow;
  }

  /** Whether y equals `bytes` (for tests). */
  tailEquals(bytes: Uint8Array): boolean {
    return sameBytes(this.y, bytes);
  }

  /** Bytes after the anchor plus ids of T (what the canonical mask continues from). */
  tailForMask(): { bytes: Uint8Array; ids: number[] } {
    return { bytes: concatBytes(this.y, new Uint8Array(0)), ids: [...this.T.ids] };
  }
}
