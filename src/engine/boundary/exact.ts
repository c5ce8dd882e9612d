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
import { CoverState, DEFAULT_COVER_OPTIONS, type ByteDistribution, type CoverOptions } from './covers';
import { startsNewPreToken } from './heal';
import { runTokenLevel, throwIfAborted } from './tokenLevel';
import type { BoundaryRequest, BoundaryResult, BoundaryStrategy } from './types';
import { concatBytes, isGreedy, pick } from './util';

export interface ExactOptions {
  /** Cover enumeration settings for generation (speed: a little unchecked mass is fine). */
  readonly generate: CoverOptions;
  /** Cover enumeration settings for score() and nextByteDistribution() (precision). */
  readonly score: CoverOptions;
  /** Return to token level once covers with a remainder hold less than this share of the mass. */
  readonly switchShare: number;
  /** Longest byte-level phase, in bytes, before returning to token level anyway. */
  readonly maxBytePhase: number;
}

export const DEFAULT_EXACT_OPTIONS: ExactOptions = {
  generate: DEFAULT_COVER_OPTIONS,
  score: { ...DEFAULT_COVER_OPTIONS, epsilon: 1e-6, maxChecks: 256 },
  switchShare: 0.02,
  maxBytePhase: 48,
};

export class ExactStrategy implements BoundaryStrategy {
  readonly mode = 'exact' as const;
  constructor(readonly options: ExactOptions = DEFAULT_EXACT_OPTIONS) {}

  async generate(req: BoundaryRequest): Promise<BoundaryResult> {
    const state = await CoverState.create(req.tokenizer, req.model, req.headIds, req.streamBytes, this.options.generate, req.signal);
    if (isGreedy(req)) return this.greedy(req, state);
    return this.sampleCover(req, state);
  }

  private async greedy(req: BoundaryRequest, state: CoverState): Promise<BoundaryResult> {
    let out: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
    let steps = 0;
    for (let phase = 0; ; phase++) {
      throwIfAborted(req.signal);
      if (steps >= req.maxTokens) return { bytes: out, stoppedBy: 'max-tokens', modelCalls: state.modelCalls, steps };
      if (state.anchor.length + state.T.ids.length >= req.model.contextLength) return { bytes: out, stoppedBy: 'context-full', modelCalls: state.modelCalls, steps };
      const d = await state.distribution(req.stopIds, req.signal);
      const sym = pickSymbol(d, req);
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

  private async sampleCover(req: BoundaryRequest, state: CoverState): Promise<BoundaryResult> {
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
    });
  }

  /**
   * Exact byte-level log-probability of `target` then the first stop token:
   * the product of the normalised next-byte distributions along the target.
   */
  async score(req: BoundaryRequest, target: Uint8Array): Promise<number> {
    const state = await CoverState.create(req.tokenizer, req.model, req.headIds, req.streamBytes, this.options.score, req.signal);
    let lp = 0;
    for (const b of target) {
      throwIfAborted(req.signal);
      const d = await state.distribution(req.stopIds, req.signal);
      const p = d.bytes[b]!;
      if (!(p > 0)) return -Infinity;
      lp += Math.log(p);
      await state.advance(b, req.signal);
    }
    const d = await state.distribution(req.stopIds, req.signal);
    const stop = req.stopIds[0];
    const ps = stop === undefined ? 1 : (d.stops.get(stop) ?? 0);
    return ps > 0 ? lp + Math.log(ps) : -Infinity;
  }

  async nextByteDistribution(req: BoundaryRequest): Promise<ByteDistribution> {
    const state = await CoverState.create(req.tokenizer, req.model, req.headIds, req.streamBytes, this.options.score, req.signal);
    return state.distribution(req.stopIds, req.signal);
  }
}

/** The most likely (or a sampled) symbol of a byte distribution: a byte or a stop token. */
export function pickSymbol(d: ByteDistribution, req: BoundaryRequest): { stop: boolean; value: number } | undefined {
  const items: Array<readonly [string, number]> = [];
  for (let b = 0; b < 256; b++) if (d.bytes[b]! > 0) items.push([`b${b}`, d.bytes[b]!]);
  for (const [s, p] of d.stops) if (p > 0) items.push([`s${s}`, p]);
  const k = pick(items, req);
  if (k === undefined) return undefined;
  return { stop: k[0] === 's', value: Number(k.slice(1)) };
}
