/**
 * Generation and scoring with a byte-level ensemble: the primary model's
 * exact next-byte distribution mixed with a second model's and/or the
 * workspace cache model's, one byte at a time (mixture.ts).
 *
 * Cost: a byte-level step needs one model call per neural component, a
 * token-level step one call for a whole token. With the cache as the only
 * partner, generation returns to token level once the partial word is done
 * and the mixture picked what the model alone would have picked (exact
 * mode's switch-back, plus agreement); at token level every token the model
 * proposes is checked byte by byte against the mixture the model's own row
 * implies (no extra model call), and the first disagreement drops back to
 * byte level at that token's start. So the model calls grow only where the
 * cache actually changes the text.
 */
import { CanonicalTail, tokenTables } from '../boundary/canonical';
import { DEFAULT_EXACT_OPTIONS, type ExactOptions } from '../boundary/exact';
import { startsNewPreToken } from '../boundary/heal';
import { runTokenLevel, throwIfAborted } from '../boundary/tokenLevel';
import type { BoundaryRequest, BoundaryResult, BoundaryStrategy, ByteDistribution } from '../boundary/types';
import { concatBytes, isGreedy, pick, type LogProbRow } from '../boundary/util';
import type { ByteCacheModel } from './cacheModel';
import { CacheComponent, ExactComponent, type ByteComponent, type NeuralPrompt } from './components';
import { DEFAULT_END_GATE, SuffixEnd, withEnd, type EndGate } from './endGate';
import { byteBits, confidenceFactor, confidenceWeights, DEFAULT_CACHE_CONFIDENCE, DEFAULT_CACHE_GATE, DEFAULT_WEIGHT_OPTIONS, END, gatedWeights, gateShareBound, mix, mixFirstEnd, OnlineWeights, SYMBOLS, type CacheGate, type ComponentPrediction, type WeightOptions } from './mixture';

/** What an ensemble request adds to a boundary request (the primary model's prompt). */
export interface EnsembleInputs {
  /** The text before the cursor, as bytes (the cache's context). */
  readonly before: Uint8Array;
  /** The workspace cache, when it takes part. */
  readonly cache?: ByteCacheModel;
  /**
   * The text after the cursor, as bytes (its first few are read): with the
   * cache, where the middle ends (endGate.ts).
   */
  readonly after?: Uint8Array;
  /** Other neural models, each with its own prompt for the same cursor. */
  readonly others?: readonly NeuralPrompt[];
  /**
   * The cache's recent losses (bits per byte, oldest first) on text it had
   * not seen yet, e.g. the last bytes before the cursor predicted before they
   * were added: the starting evidence for the weights.
   */
  readonly cacheWarmupBits?: readonly number[];
  /** Name of the primary model (logs). */
  readonly primaryName?: string;
  /**
   * Weights to generate with, when the caller learnt them (the editor learns
   * them from what the user typed after earlier requests); they replace the
   * priors and the warm-up.
   */
  readonly startWeights?: readonly number[];
  /** Told the components' predictions for the first byte after the cursor (so the caller can score what the user types next). */
  readonly onFirstPrediction?: (preds: readonly ComponentPrediction[]) => void;
}

export type EnsembleRequest = BoundaryRequest & Partial<EnsembleInputs>;

export interface EnsembleOptions {
  readonly exact: ExactOptions;
  readonly weights: WeightOptions;
  /** Prior weight of each neural model (the cache's is 1 minus their sum share). */
  readonly cachePrior: number;
  /**
   * The model's assumed per-byte loss (bits) over the warm-up bytes, where
   * computing its real loss would cost a model call per byte.
   */
  readonly modelPriorBits: number;
  /** Fixed weights instead of online ones (the `cache` eval mode: all weight on the cache). */
  readonly fixedWeights?: readonly number[];
  /** γ of confidenceWeights: the cache's weight follows its confidence byte by byte (0: off). Used only without cacheGate. */
  readonly cacheConfidence: number;
  /** The learned gate on the cache's share byte by byte (gatedWeights); undefined: cacheConfidence's rule. */
  readonly cacheGate?: CacheGate;
  /** Never return to token level (the two-model mode, and tests). */
  readonly byteLevelOnly?: boolean;
  /**
   * Most tokens the cache may refuse per completion: each refusal costs a
   * fresh cover enumeration and byte-level steps, so this bounds the extra
   * latency; past it the token phase runs unchecked.
   */
  readonly maxRefusals: number;
  /**
   * END from the suffix's likelihood under the cache (endGate.ts) once a byte
   * was generated, when the request has the cache and the text after the
   * cursor; undefined: END as the components give it.
   */
  readonly endGate?: EndGate;
}

export const DEFAULT_ENSEMBLE_OPTIONS: EnsembleOptions = {
  exact: DEFAULT_EXACT_OPTIONS,
  weights: DEFAULT_WEIGHT_OPTIONS,
  cachePrior: 0.1,
  modelPriorBits: 0.5,
  cacheConfidence: DEFAULT_CACHE_CONFIDENCE,
  cacheGate: DEFAULT_CACHE_GATE,
  maxRefusals: 2,
  endGate: DEFAULT_END_GATE,
};

/**
 * Two neural models: byte level throughout (the second model's token stream
 * differs, so there is no shared token level to return to), and a long loss
 * memory with the full learning rate: close to the Bayes mixture, whose
 * log-loss is within log(1/prior) of the better model's on any text.
 */
export const MODELS_ENSEMBLE_OPTIONS: EnsembleOptions = {
  ...DEFAULT_ENSEMBLE_OPTIONS,
  byteLevelOnly: true,
  weights: { decay: 0.98, share: 0.01, rate: 1 },
};

/** Who drove a completion: how many generated bytes the mixture chose differently from the primary model alone. */
export interface EnsembleReport {
  /** Bytes generated at byte level. */
  readonly byteSteps: number;
  /** Bytes where the mixture's choice differed from the primary model's own. */
  readonly drivenBytes: number;
  /** "model" when no byte was changed, else the name of the component that pulled hardest. */
  readonly driver: string;
  /** Weights at the start, by component name. */
  readonly weights: Readonly<Record<string, number>>;
}

export type EnsembleResult = BoundaryResult & { readonly ensemble: EnsembleReport };

function argmax(p: Float64Array): number {
  let best = -1;
  let bestV = -Infinity;
  for (let i = 0; i < p.length; i++) {
    if (p[i]! > bestV) {
      best = i;
      bestV = p[i]!;
    }
  }
  return bestV > 0 ? best : -1;
}

/** Symbol (0..255 or END) picked from a symbol distribution, greedy or sampled. */
function pickSymbol(p: Float64Array, req: BoundaryRequest): number {
  if (isGreedy(req)) return argmax(p);
  const items: Array<readonly [number, number]> = [];
  for (let s = 0; s < SYMBOLS; s++) if (p[s]! > 0) items.push([s, p[s]!]);
  return pick(items, req) ?? -1;
}

/** A cache prediction whose weighted probability is below this cannot flip a token: not checked. */
const MIN_PULL = 0.05;
/** How much more the mixture must prefer another byte before a token is refused. */
const REFUSE_MARGIN = 1.5;

export class EnsembleStrategy implements BoundaryStrategy {
  readonly mode = 'exact' as const;
  constructor(readonly options: EnsembleOptions = DEFAULT_ENSEMBLE_OPTIONS) {}

  private async components(req: EnsembleRequest, score: boolean): Promise<{ parts: ByteComponent[]; primary: ExactComponent; cache?: CacheComponent; ender?: SuffixEnd }> {
    const covers = score ? this.options.exact.score : this.options.exact.generate;
    const primary = await ExactComponent.create({ name: req.primaryName ?? 'model', model: req.model, tokenizer: req.tokenizer, headIds: req.headIds, streamBytes: req.streamBytes, stopIds: req.stopIds }, covers, req.signal);
    const parts: ByteComponent[] = [primary];
    for (const o of req.others ?? []) parts.push(await ExactComponent.create(o, covers, req.signal));
    let cache: CacheComponent | undefined;
    if (req.cache) {
      cache = new CacheComponent(req.cache, req.before ?? req.streamBytes);
      parts.push(cache);
    }
    const gate = this.options.endGate;
    const ender = cache && req.after && gate && !this.options.fixedWeights ? new SuffixEnd(cache.cache, req.after, gate) : undefined;
    return { parts, primary, cache, ender: ender?.complete ? ender : undefined };
  }

  /** Starting weights: priors, then the warm-up evidence (the cache's honest losses against the model's assumed loss). */
  private initialWeights(req: EnsembleRequest, parts: readonly ByteComponent[]): OnlineWeights {
    const neural = parts.filter((p) => p.hasEnd).length;
    const hasCache = parts.some((p) => !p.hasEnd);
    const cp = hasCache ? this.options.cachePrior : 0;
    const prior = parts.map((p) => (p.hasEnd ? (1 - cp) / neural : cp));
    const w = new OnlineWeights(prior, this.options.weights);
    const warm = req.cacheWarmupBits ?? [];
    if (hasCache) for (const bits of warm) w.update(parts.map((p) => (p.hasEnd ? this.options.modelPriorBits : bits)));
    return w;
  }

  /** The weights one byte is mixed with: the gate's, or the confidence rule's. */
  private byteWeights(preds: readonly ComponentPrediction[], weights: readonly number[]): number[] {
    return this.options.cacheGate ? gatedWeights(preds, weights, this.options.cacheGate) : confidenceWeights(preds, weights, this.options.cacheConfidence);
  }

  private weightsNow(w: OnlineWeights): number[] {
    return this.options.fixedWeights ? [...this.options.fixedWeights] : w.weights();
  }

  async generate(req: EnsembleRequest): Promise<EnsembleResult> {
    const { parts, primary, cache, ender } = await this.components(req, false);
    const online = this.initialWeights(req, parts);
    const weights = req.startWeights && req.startWeights.length === parts.length && !this.options.fixedWeights ? [...req.startWeights] : this.weightsNow(online);
    const names = parts.map((p) => p.name);
    const report = (byteSteps: number, drivenBytes: number): EnsembleReport => ({
      byteSteps,
      drivenBytes,
      driver: drivenBytes ? names[weights.indexOf(Math.max(...weights.slice(1)), 1)] ?? 'mixture' : names[0]!,
      weights: Object.fromEntries(names.map((n, i) => [n, weights[i]!])),
    });
    const calls = () => parts.reduce((s, p) => s + p.modelCalls, 0);
    const tokenLevelOk = !this.options.byteLevelOnly && !this.options.fixedWeights && parts.length === 2 && cache !== undefined;
    let out: Uint8Array = new Uint8Array(0);
    let steps = 0;
    let byteSteps = 0;
    let driven = 0;
    let extraCalls = 0;
    let current = primary;
    /** Bytes to generate at byte level before token level may resume (after a refused token). */
    let forced = 0;
    let refusals = 0;
    const mixed = new Float64Array(SYMBOLS);
    for (let phase = 0; ; phase++) {
      throwIfAborted(req.signal);
      const done = (stoppedBy: BoundaryResult['stoppedBy'], joined = false): EnsembleResult => ({ bytes: out, stoppedBy, modelCalls: calls() + extraCalls, steps, joinsSuffix: joined, ensemble: report(byteSteps, driven) });
      if (steps >= req.maxTokens) return done('max-tokens');
      const st = current.covers;
      if (st.anchor.length + st.T.ids.length >= req.model.contextLength) return done('context-full');
      const preds: ComponentPrediction[] = [];
      for (const p of parts) preds.push(await p.predict(req.signal));
      if (phase === 0 && steps === 0) req.onFirstPrediction?.(preds);
      mix(preds, this.byteWeights(preds, weights), mixed);
      if (ender && cache && out.length > 0) withEnd(mixed, this.endAt(ender, cache, preds[0]!.probs[END]!, mixed, req));
      const sym = pickSymbol(mixed, req);
      const own = pickSymbol(preds[0]!.probs, { ...req, temperature: 0 });
      const d = current.last!;
      // Back to token level: the word is finished for the model (exact mode's rule) and the
      // mixture chose what the model alone would have chosen.
      const finished =
        sym === own &&
        (d.remainderShare < this.options.exact.switchShare || (sym >= 0 && sym !== END && d.tShare[sym]! > 1 - this.options.exact.switchShare && startsNewPreToken(req.tokenizer, st.y, sym)));
      if (tokenLevelOk && forced <= 0 && (finished || phase >= this.options.exact.maxBytePhase)) {
        const r = await this.tokenPhase(req, current, cache!, refusals < this.options.maxRefusals ? weights : undefined, ender, out, steps);
        refusals++;
        out = r.out;
        steps = r.steps;
        extraCalls += r.calls;
        if (r.stoppedBy) return { ...done(r.stoppedBy, r.joined), bytes: out };
        // The cache disagreed with a token at byte r.refusedAt: byte level again from the
        // token's start, with fresh covers, at least past the disagreement.
        forced = r.refusedAt + 1;
        extraCalls += current.modelCalls;
        const stream = concatBytes(req.streamBytes, out);
        current = await ExactComponent.create({ ...current.prompt, streamBytes: stream }, this.options.exact.generate, req.signal);
        parts[0] = current;
        phase = 0;
        continue;
      }
      // Past the first byte the gate alone gives END its probability.
      if (sym < 0 || sym === END) return done('stop-token', sym === END && ender !== undefined && out.length > 0);
      if (sym !== own) driven++;
      forced--;
      out = concatBytes(out, new Uint8Array([sym]));
      steps++;
      byteSteps++;
      const keep = req.stopAt?.(out);
      if (keep !== undefined) return { ...done('stop-rule'), bytes: out.slice(0, Math.max(0, keep)) };
      for (const p of parts) await p.advance(sym, req.signal);
    }
  }

  /**
   * The END gate's P(END) for a byte-level step. Greedy decoding only needs
   * to know whether END beats the best byte: once it cannot, the gate stops
   * reading the suffix (the bytes' order is the same whatever END's share).
   */
  private endAt(ender: SuffixEnd, cache: CacheComponent, modelEnd: number, mixed: Float64Array, req: BoundaryRequest): number {
    if (!isGreedy(req)) return ender.pEnd(cache.context, modelEnd);
    let bytes = 0;
    let top = 0;
    for (let b = 0; b < 256; b++) {
      bytes += mixed[b]!;
      if (mixed[b]! > top) top = mixed[b]!;
    }
    // END wins over the top byte after withEnd iff e > m / (1 + m), m the top byte's share of the bytes.
    const m = bytes > 0 ? top / bytes : 0;
    return ender.pEnd(cache.context, modelEnd, undefined, m / (1 + m));
  }

  /**
   * Token-level decoding with the primary model (the boundary strategies'
   * own loop) while the cache agrees with each token and the middle does
   * not end: each chosen token is reviewed before it is taken. Returns
   * stoppedBy when generation ended, or the byte where the cache refused a
   * token (the caller resumes at byte level from `out`).
   */
  private async tokenPhase(
    req: EnsembleRequest,
    primary: ExactComponent,
    cache: CacheComponent,
    /** Mixture weights for the check; undefined: no check (the refusal budget is spent). */
    weights: readonly number[] | undefined,
    ender: SuffixEnd | undefined,
    generated: Uint8Array,
    stepsBefore: number,
  ): Promise<{ out: Uint8Array; steps: number; calls: number; refusedAt: number; stoppedBy?: BoundaryResult['stoppedBy']; joined?: boolean }> {
    const { tokenizer } = req;
    const st = primary.covers;
    const tail = st.tailForMask();
    const mask = new CanonicalTail(tokenizer, tail.bytes, tail.ids);
    const stops = new Set(req.stopIds);
    const width = Math.min(tokenTables(tokenizer).width, req.model.vocabSize);
    let produced = generated.length;
    /** Why the review stopped the loop: the middle ends (after `cut` bytes of the token), or the cache refused the token at byte `at`. */
    let halt: { end: true; cut: number; bytes: Uint8Array } | { end: false; at: number } | undefined;
    const r = await runTokenLevel(req, {
      ids: [...st.anchor, ...tail.ids],
      generated,
      valid: (t) => mask.valid(t),
      accept: (t) => {
        mask.push(t);
        const tb = tokenizer.tokenBytes(t);
        for (const b of tb) cache.advanceSync(b);
        produced += tb.length;
      },
      review: (t, row) => {
        const tb = tokenizer.tokenBytes(t);
        if (ender) {
          // The middle may end before this token, or inside it (a hole that ends mid-word).
          let stopMass = 0;
          for (const s of stops) if (s < width) stopMass += Math.exp(row[s]!);
          for (let i = 0; i < tb.length; i++) {
            if (produced + i === 0) continue; // never an empty completion
            const p = ender.pEnd(cache.context, i === 0 ? stopMass : 0, tb.subarray(0, i), 0.5);
            if (p > 0.5) {
              halt = { end: true, cut: i, bytes: tb };
              return false;
            }
          }
        }
        const at = weights ? this.refusedAt(row, width, tokenizer, tb, cache, weights, stops) : -1;
        if (at < 0) return true;
        halt = { end: false, at };
        return false;
      },
      steps: stepsBefore,
      modelCalls: 0,
      firstRow: st.rowAfterT,
    });
    let out = r.bytes;
    if (!r.halted || !halt) return { out, steps: r.steps, calls: r.modelCalls, refusedAt: -1, stoppedBy: r.stoppedBy };
    if (!halt.end) return { out, steps: r.steps, calls: r.modelCalls, refusedAt: halt.at };
    if (halt.cut > 0) {
      // The token's first bytes end the middle: they are part of the completion, the rest is not.
      out = concatBytes(out, halt.bytes.subarray(0, halt.cut));
      const keep = req.stopAt?.(out);
      if (keep !== undefined) return { out: out.slice(0, Math.max(0, keep)), steps: r.steps + 1, calls: r.modelCalls, refusedAt: -1, stoppedBy: 'stop-rule' };
      return { out, steps: r.steps + 1, calls: r.modelCalls, refusedAt: -1, stoppedBy: 'stop-token', joined: true };
    }
    return { out, steps: r.steps, calls: r.modelCalls, refusedAt: -1, stoppedBy: 'stop-token', joined: true };
  }

  /**
   * Where the byte-level mixture would stop spelling token bytes `tb` (-1: it spells them all). The
   * model's byte distribution inside the coming token is read off its row:
   * P(x_i | x_<i) ∝ the mass of tokens starting with x_<i x_i (continuations
   * that end a token inside are left out: they would need another model
   * call, and at a finished word they carry little mass).
   */
  private refusedAt(row: LogProbRow, width: number, tokenizer: BoundaryRequest['tokenizer'], tb: Uint8Array, cache: CacheComponent, weights: readonly number[], stops: ReadonlySet<number>): number {
    const ctx = new Uint8Array(cache.context.length + tb.length);
    ctx.set(cache.context, 0);
    ctx.set(tb, cache.context.length);
    const base = cache.context.length;
    const model = new Float64Array(SYMBOLS);
    const cacheProbs = new Float64Array(SYMBOLS);
    const mixed = new Float64Array(SYMBOLS);
    const { firstByte } = tokenTables(tokenizer);
    for (let i = 0; i < tb.length; i++) {
      // Cheap first: a cache that agrees with the token, or is too weak to flip it, cannot refuse.
      cache.cache.predict(ctx, base + i, cacheProbs);
      cacheProbs[END] = 0;
      const c = argmax(cacheProbs);
      if (c === tb[i]) continue;
      // The cache's share after byteWeights (its top byte is c); under the gate an upper bound.
      const gate = this.options.cacheGate;
      const wc = weights[1]! * (this.options.cacheConfidence > 0 ? confidenceFactor(cacheProbs[c]!, this.options.cacheConfidence) : 1);
      const share = gate ? gateShareBound(gate, weights[0]!, weights[1]!, cacheProbs[c]!) : wc / (weights[0]! + wc);
      if (share * cacheProbs[c]! < MIN_PULL) continue;
      model.fill(0);
      let z = 0;
      if (i === 0) {
        for (let id = 0; id < width; id++) {
          const fb = firstByte[id]!;
          if (fb < 0) continue;
          const p = Math.exp(row[id]!);
          model[fb]! += p;
          z += p;
        }
        for (const s of stops) {
          if (s >= width) continue;
          model[END]! += Math.exp(row[s]!);
          z += Math.exp(row[s]!);
        }
      } else {
        const ts = tokenizer.tokensStartingWith(tb.subarray(0, i));
        for (let k = 0; k < ts.length; k++) {
          const id = ts[k]!;
          if (id >= width) continue;
          const bytes = tokenizer.tokenBytes(id);
          if (bytes.length <= i || tokenizer.isSpecial(id)) continue;
          const p = Math.exp(row[id]!);
          model[bytes[i]!]! += p;
          z += p;
        }
      }
      if (!(z > 0)) return -1;
      for (let s = 0; s < SYMBOLS; s++) model[s]! /= z;
      const pair = [
        { probs: model, hasEnd: true },
        { probs: cacheProbs, hasEnd: false },
      ];
      mix(pair, this.byteWeights(pair, weights), mixed);
      // A clear win only: the within-token view approximates the byte-level one, and a false
      // alarm costs a cover enumeration and byte-level steps.
      const m = argmax(mixed);
      if (m !== tb[i] && mixed[m]! > REFUSE_MARGIN * mixed[tb[i]!]!) return i;
    }
    return -1;
  }

  /**
   * Log-probability (natural log) of `target` then END under the mixture,
   * teacher-forced, with the weights learning from each byte as it comes
   * (each byte is predicted with weights from the bytes before it only).
   */
  async score(req: EnsembleRequest, target: Uint8Array): Promise<number> {
    const { parts, cache, ender } = await this.components(req, true);
    const online = this.initialWeights(req, parts);
    const mixed = new Float64Array(SYMBOLS);
    let lp = 0;
    let done = 0;
    for (const b of target) {
      throwIfAborted(req.signal);
      const preds: ComponentPrediction[] = [];
      for (const p of parts) preds.push(await p.predict(req.signal));
      mix(preds, this.byteWeights(preds, this.weightsNow(online)), mixed);
      if (ender && cache && done > 0) withEnd(mixed, ender.pEnd(cache.context, preds[0]!.probs[END]!));
      done++;
      const p = mixed[b]!;
      if (!(p > 0)) return -Infinity;
      lp += Math.log(p);
      online.update(preds.map((q) => byteBits(q, b)));
      for (const c of parts) await c.advance(b, req.signal);
    }
    const preds: ComponentPrediction[] = [];
    for (const p of parts) preds.push(await p.predict(req.signal));
    // The middle ends with the first stop token (end of middle), as exact mode scores it.
    const pe = ender && cache && done > 0 ? ender.pEnd(cache.context, preds[0]!.probs[END]!) : mixFirstEnd(preds, this.weightsNow(online));
    return pe > 0 ? lp + Math.log(pe) : -Infinity;
  }

  /** The mixture's first-byte distribution (END reported under the first stop id). */
  async nextByteDistribution(req: EnsembleRequest): Promise<ByteDistribution> {
    const { parts } = await this.components(req, true);
    const online = this.initialWeights(req, parts);
    const preds: ComponentPrediction[] = [];
    for (const p of parts) preds.push(await p.predict(req.signal));
    const m = mix(preds, this.byteWeights(preds, this.weightsNow(online)));
    const stops = new Map<number, number>();
    if (req.stopIds.length) stops.set(req.stopIds[0]!, m[END]!);
    return { bytes: m.slice(0, 256), stops };
  }
}
