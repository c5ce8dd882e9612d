/**
 * Where the middle ends, read off the text after the cursor. The middle ends
 * where the text generated so far joins what follows the cursor, so the
 * cache model's probability of the suffix's first bytes right after the
 * current context is evidence for END: the file seen with the middle ending
 * here reads like the rest of the file. A small logistic rule turns that
 * evidence (and the model's own END) into P(END).
 *
 * Why it matters: on the held-out spans (holes cut at random characters) the
 * small bundled model spends about 18 bits per case on the end of the middle,
 * over 40% of all its bits, because it rarely emits its stop token in the
 * middle of a word; the suffix's likelihood under the cache tells where the
 * join is.
 */
import type { ByteCacheModel } from './cacheModel';
import { END } from './mixture';
import { cutProbe } from '../boundary/suffixProbe';

/**
 * P(END) = σ(bias + model·ln P_model(END) + first·l_0 + sum·Σ_j l_j), with
 * l_j = log2 P_cache(s_j | context, s_<j) over the probe: the suffix's
 * leading whitespace (up to MAX_LEADING_SPACE bytes; an indentation run says
 * little by its first bytes, the text after it says how deep it is) and the
 * SUFFIX_PROBE bytes after it.
 */
export interface EndGate {
  readonly bias: number;
  readonly model: number;
  readonly first: number;
  readonly sum: number;
}

/**
 * Fitted (log loss of END vs not END at every middle byte after the first,
 * Adam) on the first 60 long-file spans (test/fixtures/eval/heldout-long-spans.jsonl):
 * END bits per middle byte 0.081 on the last 60 where the model's own END
 * costs 0.549; file-disjoint (fit on the cases of 10 files, test on the
 * other 10, both ways) 0.089 and 0.093 against the model's 0.662 and 0.550.
 * The model's END carries almost no weight: the bundled models nearly never
 * put mass on their stop token in the middle of a word. The mean of the l_j
 * as a further feature gained 0.002.
 */
export const DEFAULT_END_GATE: EndGate = { bias: 2.11, model: 0.02, first: 0.22, sum: 0.216 };

// The probe's shape is shared with the model's own join rule (boundary/suffixJoin.ts).
export { MAX_LEADING_SPACE, SUFFIX_PROBE, suffixProbeBytes } from '../boundary/suffixProbe';

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * The END evidence for one completion: the cache and the first bytes after
 * the cursor. Contexts are given as the bytes before the position in
 * question (the cache component's context, plus token bytes not yet taken).
 */
export class SuffixEnd {
  private readonly suffix: Uint8Array;
  private buf = new Uint8Array(0);
  private readonly probs = new Float64Array(256);

  constructor(
    private readonly cache: ByteCacheModel,
    after: Uint8Array,
    readonly gate: EndGate = DEFAULT_END_GATE,
  ) {
    const probe = cutProbe(after);
    this.suffix = probe.bytes;
    this.complete = probe.complete;
  }

  /**
   * Whether the suffix holds a whole probe (its leading whitespace and
   * SUFFIX_PROBE bytes after it). Near the end of the file it does not: a
   * short probe is little evidence, and the gate, fitted on whole probes,
   * would read it as a join everywhere; the caller keeps the model's END.
   */
  readonly complete: boolean;

  private fill(context: Uint8Array, extra?: Uint8Array): number {
    const n = context.length + (extra?.length ?? 0);
    if (this.buf.length < n + this.suffix.length) this.buf = new Uint8Array((n + this.suffix.length) * 2);
    this.buf.set(context, 0);
    if (extra) this.buf.set(extra, context.length);
    this.buf.set(this.suffix, n);
    return n;
  }

  /**
   * P(END) after `context` (then `extra`), with the model's own P(END)
   * `modelEnd`. `atMost`: the caller only needs to know whether P(END) exceeds
   * this; a cheaper answer below it may come back once that is clear (the
   * first suffix byte bounds the rest, since every term is at most 0).
   */
  pEnd(context: Uint8Array, modelEnd: number, extra?: Uint8Array, atMost?: number): number {
    const g = this.gate;
    let z = g.bias + g.model * Math.log(Math.max(modelEnd, 1e-12));
    const k = this.suffix.length;
    if (!k) return sigmoid(z);
    const n = this.fill(context, extra);
    // Every l_j is <= 0: with non-negative coefficients z only falls, so once under the threshold it stays there.
    const bounded = atMost !== undefined && g.first >= 0 && g.sum >= 0;
    for (let j = 0; j < k; j++) {
      this.cache.predict(this.buf, n + j, this.probs);
      const l = Math.log2(this.probs[this.suffix[j]!]!);
      z += g.sum * l + (j === 0 ? g.first * l : 0);
      if (bounded && sigmoid(z) <= atMost) return sigmoid(z);
    }
    return sigmoid(z);
  }
}

/**
 * `mixed` (a symbol distribution) with END set to `pEnd` and the bytes scaled
 * to fill the rest, in place: a proper distribution whenever `mixed` is one.
 */
export function withEnd(mixed: Float64Array, pEnd: number): Float64Array {
  const e = pEnd > 0 ? Math.min(1, pEnd) : 0;
  let bytes = 0;
  for (let b = 0; b < 256; b++) bytes += mixed[b]!;
  if (bytes > 0) {
    const s = (1 - e) / bytes;
    for (let b = 0; b < 256; b++) mixed[b]! *= s;
    mixed[END] = e;
  } else mixed[END] = 1;
  return mixed;
}
