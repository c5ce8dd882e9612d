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
import { probabilitiesOf, type NextTokenModel } from '../model/types';
import type { Tokenizer } from '../tokenizers/types';
import type { ByteDistribution } from './types';
import { lookaheadSensitive, tokenTables, validAfter, type TokenTables } from './canonical';
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
  /** Per byte, the share of its mass that comes from extensions of the canonical T. */
  readonly tShare: Float64Array;
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

/**
 * Generation's settings. 16 validity checks per terminal and byte, not 48:
 * on the three held-out sets (200 short, 600 clean, 120 long; --postprocess,
 * 40 tokens) exact matches 37 / 43 / 14 either way, edit similarity within
 * 0.001, and a third of the re-encodes (28.9k -> 10.1k on the bench's 200
 * completions). Scoring keeps its own, finer settings (exact.ts).
 */
export const DEFAULT_COVER_OPTIONS: CoverOptions = { epsilon: 1e-4, maxTail: 96, maxChecks: 16 };

const keyOf = (ids: readonly number[]) => ids.join(',');

/**
 * Adds each ordinary token's probability in `row` to `mass` at its first
 * byte; returns their total. Reads the probabilities the runner attached
 * when there are (onnxruntime's Exp: this loop is then a sum, about 7x
 * faster than a Math.exp per entry).
 */
function massByFirstByte(row: LogProbRow, width: number, firstByte: Int16Array, mass: Float64Array): number {
  let ordinary = 0;
  const probs = probabilitiesOf(row);
  if (probs) {
    for (let t = 0; t < width; t++) {
      const b = firstByte[t]!;
      if (b < 0) continue;
      const p = probs[t]!;
      mass[b] += p;
      ordinary += p;
    }
    return ordinary;
  }
  for (let t = 0; t < width; t++) {
    const b = firstByte[t]!;
    if (b < 0) continue;
    const p = Math.exp(row[t]!);
    mass[b] += p;
    ordinary += p;
  }
  return ordinary;
}

const PROBE_BYTES = [' ', 'a', '}', '\n'].map((c) => new TextEncoder().encode(c));

/**
 * Valid spellings of x: encode(x), and the spelling of x inside encode(x+z)
 * for one probe byte z per class (lookahead rules can split x differently
 * when something follows), when a token boundary falls at |x|.
 */
function spellings(tokenizer: Tokenizer, x: Uint8Array): number[][] {
  const out = [tokenizer.encodeBytes(x)];
  if (!lookaheadSensitive(x)) return out;
  const seen = new Set([keyOf(out[0]!)]);
  for (const z of PROBE_BYTES) {
    const ids = tokenizer.encodeBytes(concatBytes(x, z));
    let len = 0;
    let k = 0;
    while (k < ids.length && len < x.length) len += tokenizer.tokenBytes(ids[k++]!).length;
    if (len !== x.length) continue;
    const sp = ids.slice(0, k);
    if (!seen.has(keyOf(sp))) {
      seen.add(keyOf(sp));
      out.push(sp);
    }
  }
  return out;
}

/**
 * The covers of the bytes after a stable anchor, their probabilities, and the
 * incremental update as bytes are appended.
 */
export class CoverState {
  /** Model calls made (a batch counts once). */
  modelCalls = 0;
  /** Times a T lost to pruning was restored (restoreT) rather than re-enumerated. */
  restoredT = 0;
  /** Next-token rows of terminals, by ids key. */
  private readonly rows = new Map<string, LogProbRow>();
  /** Validity verdicts of the last distribution(), per terminal key. */
  private readonly checked = new Map<string, Map<number, boolean>>();
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

  /** The canonical cover with the empty remainder: encode(y). */
  get T(): Cover {
    const canon = this.canonical();
    const t = this.covers.find((c) => c.rem.length === 0 && sameIds(c.ids, canon));
    if (!t) throw new Error('internal: no cover is encode(y)');
    return t;
  }

  /**
   * Covers that spell y exactly: T, plus (with lookahead pre-tokenizer rules)
   * valid non-canonical spellings such as ["\t\t", "\t"] for "\t\t\t",
   * which only a continuation like "}" makes canonical.
   */
  get terminals(): Cover[] {
    return this.covers.filter((c) => c.rem.length === 0);
  }

  private canonKey = '';
  private canonIds: number[] = [];
  private canonical(): number[] {
    const k = this.y.join(',');
    if (k !== this.canonKey) {
      this.canonKey = k;
      this.canonIds = this.tokenizer.encodeBytes(this.y);
    }
    return this.canonIds;
  }

  /** Stream ids of every cover (anchor's stream part included), for tests. */
  fullCovers(): Array<{ ids: number[]; rem: Uint8Array; logp: number }> {
    const stable = this.anchor.slice(this.headIds.length);
    return this.covers.map((c) => ({ ids: [...stable, ...c.ids], rem: c.rem, logp: c.logp }));
  }

  private async enumerate(signal?: AbortSignal): Promise<void> {
    const { tokenizer, y } = this;
    const n = y.length;
    const T = this.canonical();
    // Splits where some token starts with the rest of y: only those can end a cover. Tokens do not cross
    // pre-token boundaries, so in a tail like " return thi" only the splits inside " thi" have any.
    // The left part before split i is encode(y[:i]), or (lookahead rules) another valid spelling
    // of y[:i]: the one a following byte of some class induces, e.g. "\t\t" "\t" before "}".
    const lefts = new Map<number, number[][]>();
    const starting = new Map<number, ArrayLike<number>>();
    for (let i = 0; i < n; i++) {
      const ts = tokenizer.tokensStartingWith(y.subarray(i));
      if (!ts.length) continue;
      starting.set(i, ts);
      lefts.set(i, i === 0 ? [[]] : spellings(tokenizer, y.subarray(0, i)));
    }
    // Every prefix of every left part and of T needs a next-token row: one batch.
    const need = new Map<string, number[]>();
    for (const seq of [...[...lefts.values()].flat(), T]) for (let j = 0; j <= seq.length; j++) need.set(keyOf(seq.slice(0, j)), seq.slice(0, j));
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
    const tKey = keyOf(T);
    const covers: Cover[] = [{ ids: T, rem: new Uint8Array(0), logp: seqLogp(T) }];
    this.rows.clear();
    this.rows.set(tKey, rowOf.get(tKey)!);
    // Candidates in parallel arrays, their ids built only for the few that are kept: a split near
    // the end of y has hundreds of tokens starting with its last byte, nearly all below epsilon.
    const candLeft: Array<readonly number[]> = [];
    const candSplit: number[] = [];
    const candToken: number[] = [];
    const candLogp: number[] = [];
    for (const [i, variants] of lefts) {
      for (const left of variants) {
        const lp = seqLogp(left);
        if (lp === -Infinity) continue;
        const row = rowOf.get(keyOf(left))!;
        const ts = starting.get(i)!;
        const mayBeT = left.length === T.length - 1 && startsWithIds(T, left);
        for (let k = 0; k < ts.length; k++) {
          const t = ts[k]!;
          const l = lp + row[t]!;
          if (l === -Infinity) continue;
          if (mayBeT && t === T[T.length - 1] && this.tables.length[t] === n - i) continue; // T is in already
          candLeft.push(left);
          candSplit.push(i);
          candToken.push(t);
          candLogp.push(l);
        }
      }
    }
    const total = logSumExp([covers[0]!.logp, ...candLogp]);
    // Best first; ties in the order they were found. The loop below stops once the candidates left
    // hold at most epsilon, so one with a share under epsilon / count is never reached (all after it
    // are lighter still): only the others are sorted (a few of hundreds).
    const floor = this.opts.epsilon > 0 ? total + Math.log(this.opts.epsilon / Math.max(1, candLogp.length)) : -Infinity;
    const order: number[] = [];
    for (let k = 0; k < candLogp.length; k++) if (candLogp[k]! > floor) order.push(k);
    order.sort((a, b) => candLogp[b]! - candLogp[a]! || a - b);
    // The candidates' share of the mass not yet checked. T is known valid and is not a candidate:
    // counting it as unchecked (as before) kept the epsilon stop from ever firing, so every
    // candidate in the budget was re-encoded, however light (10.5k -> 3.0k re-encodes on the
    // bench's 200 completions; exact matches and bits per byte on the held-out sets unchanged).
    let unchecked = 1 - Math.exp(covers[0]!.logp - total);
    const budget = (this.opts.maxChecks ?? Infinity) * 2;
    for (let i = 0; i < order.length; i++) {
      if (this.opts.epsilon > 0 && unchecked <= this.opts.epsilon) break;
      const k = order[i]!;
      const t = candToken[k]!;
      const logp = candLogp[k]!;
      const split = candSplit[k]!;
      const share = Math.exp(logp - total);
      unchecked -= share;
      const remFrom = n - split;
      const exactLength = remFrom === this.tables.length[t];
      // Past the check budget a candidate is kept unchecked (counted as valid, like unchecked
      // T-extensions in distribution()); spellings of y exactly are always checked.
      if (i >= budget && !exactLength && ((this.opts.epsilon > 0 && share < this.opts.epsilon * 1e-2) || i >= budget + (this.opts.maxKeep ?? Infinity))) continue;
      if ((i >= budget && !exactLength) || validAfter(tokenizer, y.subarray(0, split), candLeft[k]!, t)) {
        covers.push({ ids: [...candLeft[k]!, t], rem: tokenizer.tokenBytes(t).subarray(remFrom), logp });
      }
    }
    this.covers = covers;
    this.checked.clear();
  }

  /** Next-token rows of the terminals, fetched in one call for all that lack one. */
  private async terminalRows(signal?: AbortSignal): Promise<void> {
    const missing = this.terminals.filter((c) => !this.rows.has(keyOf(c.ids)));
    if (!missing.length) return;
    const rows =
      missing.length === 1
        ? [await this.model.nextTokenLogProbs([...this.anchor, ...missing[0]!.ids], signal)]
        : await this.model.nextTokenLogProbsBatch(
            missing.map((c) => [...this.anchor, ...c.ids]),
            signal,
          );
    this.modelCalls++;
    missing.forEach((c, i) => this.rows.set(keyOf(c.ids), rows[i]!));
  }

  /** The next-byte distribution after the bytes covered so far (one model call unless cached). */
  async distribution(stopIds: readonly number[], signal?: AbortSignal): Promise<ExactDistribution> {
    const T = this.T;
    await this.terminalRows(signal);
    const { firstByte } = this.tables;
    const width = Math.min(this.tables.width, this.model.vocabSize);
    const ref = Math.max(...this.covers.map((c) => c.logp));
    // The three returned arrays share one buffer: a typed array of 2 KB is allocated outside the
    // JS heap, and three allocations per byte cost more than the one.
    const out = new ArrayBuffer(3 * 256 * Float64Array.BYTES_PER_ELEMENT);
    const bytes = new Float64Array(out, 0, 256);
    const fromT = new Float64Array(out, 256 * Float64Array.BYTES_PER_ELEMENT, 256);
    const tShare = new Float64Array(out, 512 * Float64Array.BYTES_PER_ELEMENT, 256);
    let masked = 0;
    let tOrdinary = 0;
    let other = 0;
    this.checked.clear();
    // Each terminal's mass by first byte, summed into `bytes` before the next terminal's.
    const scratch = new Float64Array(256);
    for (const term of this.terminals) {
      const key = keyOf(term.ids);
      const row = this.rows.get(key)!;
      const w = Math.exp(term.logp - ref);
      if (!(w > 0)) continue;
      const mass = scratch.fill(0);
      const ordinary = massByFirstByte(row, width, firstByte, mass);
      // Check validity in order of probability until the unchecked rest is negligible.
      const checked = new Map<number, boolean>();
      let unchecked = ordinary;
      let bad = 0;
      const budget = this.opts.maxChecks ?? Infinity;
      const ranked = new RankedTokens(row, width, (id) => firstByte[id]! >= 0, Number.isFinite(budget) ? budget + 1 : 64, true);
      for (let i = 0; i < budget; i++) {
        if (this.opts.epsilon > 0 && unchecked <= this.opts.epsilon * ordinary) break;
        const t = ranked.at(i);
        if (t < 0) break;
        const p = Math.exp(row[t]!);
        unchecked -= p;
        const ok = validAfter(this.tokenizer, this.y, term.ids, t);
        checked.set(t, ok);
        if (!ok) {
          mass[firstByte[t]!] -= p;
          bad += p;
        }
      }
      this.checked.set(key, checked);
      for (let b = 0; b < 256; b++) bytes[b] += w * Math.max(0, mass[b]!);
      if (term === T) {
        for (let b = 0; b < 256; b++) fromT[b] = w * Math.max(0, mass[b]!);
        masked = ordinary > 0 ? bad / ordinary : 0;
        tOrdinary = w;
      } else other += w;
    }
    for (const c of this.covers) {
      if (!c.rem.length) continue;
      const w = Math.exp(c.logp - ref);
      bytes[c.rem[0]!] += w;
      other += w;
    }
    // Only the canonical spelling can end the text here.
    const stops = new Map<number, number>();
    const tRow = this.rows.get(keyOf(T.ids))!;
    const wT = Math.exp(T.logp - ref);
    for (const s of stopIds) if (s < width) stops.set(s, (stops.get(s) ?? 0) + wT * Math.exp(tRow[s]!));
    let z = 0;
    for (let b = 0; b < 256; b++) z += bytes[b]!;
    for (const v of stops.values()) z += v;
    for (let b = 0; b < 256; b++) tShare[b] = bytes[b]! > 0 ? fromT[b]! / bytes[b]! : 0;
    if (z > 0 && Number.isFinite(z)) {
      for (let b = 0; b < 256; b++) bytes[b] /= z;
      for (const [k, v] of stops) stops.set(k, v / z);
    }
    const covered = tOrdinary + other;
    return { bytes, stops, remainderShare: covered > 0 ? other / covered : 0, maskedMass: masked, tShare };
  }

  /**
   * The covers of y+b from those of y, with no model call: covers whose
   * remainder starts with b lose that byte, and every terminal grows by each
   * valid token starting with b. Needs the rows distribution() fetched.
   */
  async advance(b: number, signal?: AbortSignal): Promise<void> {
    await this.terminalRows(signal);
    const before = this.T;
    const next: Cover[] = [];
    for (const c of this.covers) if (c.rem.length && c.rem[0] === b) next.push({ ids: c.ids, rem: c.rem.subarray(1), logp: c.logp });
    const ref = Math.max(...this.covers.map((c) => c.logp));
    const ts = this.tokenizer.tokensStartingWith(new Uint8Array([b]));
    // Light unchecked tokens are dropped below this (relative to the heaviest cover, natural log).
    const light = this.opts.epsilon > 0 ? Math.log(this.opts.epsilon * 1e-2) : -Infinity;
    for (const term of this.terminals) {
      const key = keyOf(term.ids);
      const row = this.rows.get(key)!;
      const checked = this.checked.get(key);
      const wT = term.logp - ref;
      const unchecked: number[] = [];
      for (let k = 0; k < ts.length; k++) {
        const t = ts[k]!;
        const lq = row[t]!;
        if (lq === -Infinity || t >= this.model.vocabSize) continue;
        const ok = checked?.get(t);
        if (ok === false) continue;
        if (ok === undefined) {
          // Light unchecked tokens are dropped; the one-byte token (a spelling of y+b) never is.
          if (wT + lq < light && this.tables.length[t] !== 1) continue;
          unchecked.push(t);
          continue;
        }
        next.push({ ids: [...term.ids, t], rem: this.tokenizer.tokenBytes(t).subarray(1), logp: term.logp + lq });
      }
      // Tokens starting with b that distribution() left unchecked: check the heaviest now (few tokens
      // start with one byte), keep the rest unchecked (counted as valid, as distribution() did).
      unchecked.sort((a, c) => row[c]! - row[a]!);
      const budget = this.opts.maxChecks ?? Infinity;
      unchecked.forEach((t, i) => {
        if ((i < budget || this.tables.length[t] === 1) && !validAfter(this.tokenizer, this.y, term.ids, t)) return;
        next.push({ ids: [...term.ids, t], rem: this.tokenizer.tokenBytes(t).subarray(1), logp: term.logp + row[t]! });
      });
    }
    this.y = appendByte(this.y, b);
    this.checked.clear();
    const keep = new Map<string, Cover>();
    for (const c of next) {
      const k = `${keyOf(c.ids)}|${c.rem.length}`;
      const had = keep.get(k);
      if (!had || had.logp < c.logp) keep.set(k, c);
    }
    this.covers = [...keep.values()];
    const live = new Set(this.terminals.map((c) => keyOf(c.ids)));
    for (const k of [...this.rows.keys()]) if (!live.has(k)) this.rows.delete(k);
    const canon = this.canonical();
    if (!this.covers.some((c) => c.rem.length === 0 && sameIds(c.ids, canon))) {
      // The new T grows from a cover too light to keep (pruned here or at enumeration): put it back
      // from the previous T. Failing that (a tokenizer outside the assumptions), start over from the bytes.
      if (!(await this.restoreT(before, canon, signal))) await this.enumerate(signal);
    }
    this.reanchor();
  }

  /**
   * Adds T = `canon` (the canonical spelling of y, missing from the covers)
   * with its probability on the covers' scale: the previous T's, less its
   * tokens after the two paths part, plus T's own there. Cover log-probs
   * carry a common factor from earlier anchors, so only a difference of two
   * paths is known; the rows are the prefixes from where they part (usually
   * one: T and the previous T differ in their last token). One model call,
   * where a new enumeration costs a batch of 3-4 runs: on the bench's 200
   * completions T went missing 116 times, 8% of exact's time.
   */
  private async restoreT(previous: Cover, canon: number[], signal?: AbortSignal): Promise<boolean> {
    let shared = 0;
    while (shared < previous.ids.length && shared < canon.length && previous.ids[shared] === canon[shared]) shared++;
    if (shared >= canon.length || this.anchor.length + canon.length > this.model.contextLength) return false;
    const index = new Map<string, number>();
    const seqs: number[][] = [];
    for (const path of [previous.ids, canon]) {
      for (let j = shared; j < path.length; j++) {
        const k = keyOf(path.slice(0, j));
        if (!index.has(k)) {
          index.set(k, seqs.length);
          seqs.push([...this.anchor, ...path.slice(0, j)]);
        }
      }
    }
    const rows = await this.model.nextTokenLogProbsBatch(seqs, signal);
    this.modelCalls++;
    const step = (path: readonly number[], j: number) => rows[index.get(keyOf(path.slice(0, j)))!]![path[j]!]!;
    let logp = previous.logp;
    for (let j = shared; j < previous.ids.length; j++) logp -= step(previous.ids, j);
    for (let j = shared; j < canon.length; j++) logp += step(canon, j);
    if (!Number.isFinite(logp)) return false;
    this.covers.push({ ids: canon, rem: new Uint8Array(0), logp });
    this.restoredT++;
    return true;
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
    const rows = [...this.rows];
    this.rows.clear();
    for (const [k, row] of rows) {
      const ids = k === '' ? [] : k.split(',').map(Number);
      if (startsWithIds(ids, stable)) this.rows.set(keyOf(ids.slice(stable.length)), row);
    }
    this.anchor = [...this.anchor, ...stable];
    this.y = this.y.slice(s);
  }

  /** The next-token row for anchor+T, if distribution() fetched it. */
  get rowAfterT(): LogProbRow | undefined {
    return this.rows.get(keyOf(this.T.ids));
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
