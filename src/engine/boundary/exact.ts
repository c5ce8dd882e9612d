/**
 * exact: byte-level probabilities from the covers of the unstable tail
 * (Phan et al., ICLR 2025). Greedy decoding walks byte by byte (one model call
 * per byte, covers updated incrementally) while the partial word is open,
 * then returns to token level from T = encode(prompt + generated) once covers
 * with a remainder hold less than `switchShare` of the mass. Sampling draws
 * one cover in proportion to its probability and continues token-level from
 * it, which samples the exact byte-level distribution without a byte loop.
 */
import { CanonicalTail } from './canonical';
import { CoverState, DEFAULT_COVER_OPTIONS, type ByteDistribution, type CoverOptions, type ExactDistribution } from './covers';
import { joinFor, withJoinCalls } from './naive';
import { DEFAULT_JOIN_RULE, endWinsAbove, withJoinEnd, type JoinRule, type SuffixJoin } from './suffixJoin';
import { startsNewPreToken } from './heal';
import { runTokenLevel, throwIfAborted } from './tokenLevel';
import type { BoundaryRequest, BoundaryResult, BoundaryStrategy } from './types';
import { concatBytes, isGreedy, logSumExp, pick } from './util';

export interface ExactOptions {
  /** Cover enumeration settings for generation (speed: a little unchecked mass is fine). */
  readonly generate: CoverOptions;
  /** Cover enumeration settings for score() and nextByteDistribution() (precision). */
  readonly score: CoverOptions;
  /** Return to token level once covers with a remainder hold less than this share of the mass. */
  readonly switchShare: number;
  /** Longest byte-level phase, in bytes, before returning to token level anyway. */
  readonly maxBytePhase: number;
  /** END from the model's reading of the suffix, at every byte (suffixJoin.ts); undefined: the model's own END. */
  readonly join?: JoinRule;
}

export const DEFAULT_EXACT_OPTIONS: ExactOptions = {
  generate: DEFAULT_COVER_OPTIONS,
  score: { ...DEFAULT_COVER_OPTIONS, epsilon: 1e-6, maxChecks: 256 },
  switchShare: 0.02,
  maxBytePhase: 48,
  // The join rule on: on the 600 clean held-out holes exact match 21 -> 48, bits per byte 1.257 -> 0.831 (suffixJoin.ts).
  join: DEFAULT_JOIN_RULE,
};

export class ExactStrategy implements BoundaryStrategy {
  readonly mode = 'exact' as const;
  constructor(readonly options: ExactOptions = DEFAULT_EXACT_OPTIONS) {}

  async generate(req: BoundaryRequest): Promise<BoundaryResult> {
    const state = await CoverState.create(req.tokenizer, req.model, req.headIds, req.streamBytes, this.options.generate, req.signal);
    const join = joinFor(req, this.options.join);
    return withJoinCalls(isGreedy(req) ? await this.greedy(req, state, join) : await this.sampleCover(req, state, join), join);
  }

  private async greedy(req: BoundaryRequest, state: CoverState, join: SuffixJoin | undefined): Promise<BoundaryResult> {
    let out: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
    let steps = 0;
    for (let phase = 0; ; phase++) {
      throwIfAborted(req.signal);
      if (steps >= req.maxTokens) return { bytes: out, stoppedBy: 'max-tokens', modelCalls: state.modelCalls, steps };
      if (state.anchor.length + state.T.ids.length >= req.model.contextLength) return { bytes: out, stoppedBy: 'context-full', modelCalls: state.modelCalls, steps };
      const d = await state.distribution(req.stopIds, req.signal);
      // Past the first byte the join rule gives END its probability (the first keeps the model's: never an empty middle).
      const joinAsked = join !== undefined && out.length > 0;
      const sym = pickSymbol(joinAsked ? await joinDistribution(join, state, d, req, isGreedy(req)) : d, req);
      if (joinAsked && sym?.stop) return { bytes: out, stoppedBy: 'stop-token', modelCalls: state.modelCalls, steps, joinsSuffix: join.readsJoin };
      // Back to token level once the partial word is finished: covers with a remainder hold
      // almost nothing, or the chosen byte starts a new pre-token (no token crosses that
      // boundary, so T's own next-token row has all the mass there).
      // T must carry that byte's mass itself: a valid non-canonical spelling (["\t\t", "\t"] before "}") cannot be reached from T.
      const finished =
        d.remainderShare < this.options.switchShare ||
        (sym !== undefined && !sym.stop && d.tShare[sym.value]! > 1 - this.options.switchShare && startsNewPreToken(req.tokenizer, state.y, sym.value));
      if (finished || phase >= this.options.maxBytePhase) {
        const tail = state.tailForMask();
        const mask = new CanonicalTail(req.tokenizer, tail.bytes, tail.ids);
        return runTokenLevel(req, {
          ids: [...state.anchor, ...tail.ids],
          generated: out,
          valid: (t) => mask.valid(t),
          accept: (t) => mask.push(t),
          steps,
          modelCalls: state.modelCalls,
          firstRow: state.rowAfterT,
          join,
          joinDecided: joinAsked,
          joinInToken: true,
        });
      }
      if (sym === undefined || sym.stop) return { bytes: out, stoppedBy: 'stop-token', modelCalls: state.modelCalls, steps };
      out = concatBytes(out, new Uint8Array([sym.value]));
      steps++;
      const keep = req.stopAt?.(out);
      if (keep !== undefined) return { bytes: out.slice(0, Math.max(0, keep)), stoppedBy: 'stop-rule', modelCalls: state.modelCalls, steps };
      await state.advance(sym.value, req.signal);
    }
  }

  private async sampleCover(req: BoundaryRequest, state: CoverState, join: SuffixJoin | undefined): Promise<BoundaryResult> {
    const ref = Math.max(...state.covers.map((c) => c.logp));
    const idx = pick(
      state.covers.map((c, i) => [i, Math.exp(c.logp - ref)] as const),
      // The cover is drawn from the true mixture; temperature applies to the tokens after it.
      { random: req.random, temperature: 1 },
    );
    const cover = state.covers[idx ?? state.covers.findIndex((c) => !c.rem.length)]!;
    const out = cover.rem.slice();
    const keep = out.length ? req.stopAt?.(out) : undefined;
    if (keep !== undefined) return { bytes: out.slice(0, Math.max(0, keep)), stoppedBy: 'stop-rule', modelCalls: state.modelCalls, steps: 1 };
    const mask = new CanonicalTail(req.tokenizer, concatBytes(state.y, cover.rem), [...cover.ids]);
    return runTokenLevel(req, {
      ids: [...state.anchor, ...cover.ids],
      generated: out,
      valid: (t) => mask.valid(t),
      accept: (t) => mask.push(t),
      steps: cover.rem.length ? 1 : 0,
      modelCalls: state.modelCalls,
      join,
      joinInToken: true,
    });
  }

  /**
   * Exact byte-level log-probability of `target` then the first stop token:
   * the product of the normalised next-byte distributions along the target.
   */
  async score(req: BoundaryRequest, target: Uint8Array): Promise<number> {
    const state = await CoverState.create(req.tokenizer, req.model, req.headIds, req.streamBytes, this.options.score, req.signal);
    const join = joinFor(req, this.options.join);
    let lp = 0;
    let done = 0;
    for (const b of target) {
      throwIfAborted(req.signal);
      const d = await scoringDistribution(state, req, join, done > 0);
      const p = d.bytes[b]!;
      if (!(p > 0)) return -Infinity;
      lp += Math.log(p);
      done++;
      await state.advance(b, req.signal);
    }
    const d = await scoringDistribution(state, req, join, done > 0);
    const stop = req.stopIds[0];
    const ps = stop === undefined ? 1 : (d.stops.get(stop) ?? 0);
    return ps > 0 ? lp + Math.log(ps) : -Infinity;
  }

  async nextByteDistribution(req: BoundaryRequest): Promise<ByteDistribution> {
    const state = await CoverState.create(req.tokenizer, req.model, req.headIds, req.streamBytes, this.options.score, req.signal);
    return state.distribution(req.stopIds, req.signal);
  }

  /**
   * The distribution of the next symbol once `generated` bytes of the middle
   * are out, as score() sees it: with the join rule past the first byte.
   */
  async distributionAfter(req: BoundaryRequest, generated: Uint8Array): Promise<ByteDistribution> {
    const state = await CoverState.create(req.tokenizer, req.model, req.headIds, concatBytes(req.streamBytes, generated), this.options.score, req.signal);
    return scoringDistribution(state, req, joinFor(req, this.options.join), generated.length > 0);
  }
}

/** The next-symbol distribution as scoring reads it: with the join rule once a byte of the middle is out (the first keeps the model's END). */
async function scoringDistribution(state: CoverState, req: BoundaryRequest, join: SuffixJoin | undefined, pastFirstByte: boolean): Promise<ByteDistribution> {
  const d = await state.distribution(req.stopIds, req.signal);
  return join && pastFirstByte ? joinDistribution(join, state, d, req, false) : d;
}

/**
 * The byte distribution with END from the join rule. `greedy`: the caller
 * only needs END's rank, so the look-ahead call is skipped where END cannot
 * beat the best byte (the bytes' order does not depend on END's share).
 */
async function joinDistribution(join: SuffixJoin, state: CoverState, d: ExactDistribution, req: BoundaryRequest, greedy: boolean): Promise<ByteDistribution> {
  let modelEnd = 0;
  for (const v of d.stops.values()) modelEnd += v;
  let bytes = 0;
  let top = 0;
  for (let b = 0; b < 256; b++) {
    bytes += d.bytes[b]!;
    if (d.bytes[b]! > top) top = d.bytes[b]!;
  }
  const T = state.T;
  const at = { anchor: state.anchor, tail: state.y, tailIds: T.ids, coverShare: logSumExp(state.covers.map((c) => c.logp)) - T.logp };
  const above = greedy ? endWinsAbove(bytes > 0 ? top / bytes : 0) : undefined;
  const e = await join.pEnd(join.rule.byteLevel, at, modelEnd, d.bytes[join.firstByte]!, above, req.signal);
  return withJoinEnd(d, e, req.stopIds[0]);
}

/** The most likely (or a sampled) symbol of a byte distribution: a byte or a stop token. */
export function pickSymbol(d: ByteDistribution, req: BoundaryRequest): { stop: boolean; value: number } | undefined {
  if (isGreedy(req)) {
    // pick()'s greedy choice without building the items: the first largest, bytes before stops.
    let best: { stop: boolean; value: number } | undefined;
    let top = 0;
    for (let b = 0; b < 256; b++) {
      const p = d.bytes[b]!;
      if (p > top && Number.isFinite(p)) {
        top = p;
        best = { stop: false, value: b };
      }
    }
    for (const [s, p] of d.stops) {
      if (p > top && Number.isFinite(p)) {
        top = p;
        best = { stop: true, value: s };
      }
    }
    return best;
  }
  const items: Array<readonly [string, number]> = [];
  for (let b = 0; b < 256; b++) if (d.bytes[b]! > 0) items.push([`b${b}`, d.bytes[b]!]);
  for (const [s, p] of d.stops) if (p > 0) items.push([`s${s}`, p]);
  const k = pick(items, req);
  if (k === undefined) return undefined;
  return { stop: k[0] === 's', value: Number(k.slice(1)) };
}
