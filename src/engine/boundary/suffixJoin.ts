/**
 * Where the middle ends, from the model's own reading of the suffix. Our FIM
 * prompt puts the suffix first, so the model has read the text after the
 * hole and can copy it: when the text generated so far is complete, the
 * model's probability that the next bytes are the suffix's first bytes is
 * high. That probability is evidence for END that needs no other model, and
 * it is what the bundled models lack: they almost never emit their
 * end-of-middle token in the middle of a word, so completions run past the
 * hole (about 18 bits per case, 43-58% of all middle bits, go to the end).
 *
 * P(END) = σ(bias + model·ln P_model(END) + first·log2 P(s_0) + ahead·A)
 *
 *   P(s_0)  the model's probability that the next byte is the probe's first
 *           byte: exact mode's byte distribution (any byte, mid-token
 *           included), or at a token boundary the next-token row's mass on
 *           tokens starting with that byte;
 *   A       log2 P(probe bytes | context) along the canonical tokenization
 *           of (open tail + probe), relative to all covers of the open tail,
 *           from one batched look-ahead call (a lower bound on the exact
 *           byte-level value, tight when one tokenization dominates). Its
 *           last token is left out: the probe is cut at a fixed length, so
 *           that token is usually a partial word, which the model would
 *           score with the very tokenization bias exact mode avoids.
 *
 * The look-ahead call is made only where it can matter: A <= 0 and its
 * coefficient is >= 0, so without it z is an upper bound, and greedy
 * decoding skips the call when even that bound cannot make END win.
 *
 * Distributions with the rule stay proper: END gets P(END) and the other
 * symbols share the rest in the model's proportions (withJoinEnd).
 *
 * On by default in all three modes. On the 600 clean held-out holes
 * (heldout-clean-spans.jsonl, nothing fitted on them; --postprocess, 40
 * tokens) exact match naive 4 -> 7, heal 21 -> 28, exact 21 -> 48 of 600,
 * middle bits per byte 1.749 -> 1.668, 1.267 -> 1.165, 1.257 -> 0.831;
 * exact against heal, both with the rule: 22 holes only exact gets, 2 only
 * heal. Exact gains most because it can ask at any byte, inside a word
 * included, where a token-level mode only asks between its tokens.
 */
import { probabilitiesOf, type NextTokenModel } from '../model/types';
import type { Tokenizer } from '../tokenizers/types';
import { tokenTables } from './canonical';
import { cutProbe } from './suffixProbe';
import type { BoundaryRequest, ByteDistribution } from './types';
import { concatBytes, type LogProbRow } from './util';

/** Constants of one join gate (natural log for END, bits for the suffix terms). */
export interface JoinGate {
  readonly bias: number;
  readonly model: number;
  readonly first: number;
  readonly ahead: number;
}

/**
 * The rule for a mode: exact's byte-level positions and token boundaries are
 * different populations (a byte position inside a word ends the middle less
 * often than a token boundary), so each has its own fitted gate.
 */
export interface JoinRule {
  /** Positions between bytes (exact mode's byte phase). */
  readonly byteLevel: JoinGate;
  /** Token boundaries (naive, heal, exact's token phase). */
  readonly tokenLevel: JoinGate;
}

/**
 * Fitted by tools/fit-end-gate.ts (logistic regression, Newton's method, on
 * every middle position after the first byte: END vs not END) on the first
 * 60 cases of test/fixtures/eval/heldout-long-spans.jsonl with
 * subword-code-fast; nothing was fitted on heldout-clean-spans.jsonl. END
 * bits per middle byte on the other 60 long cases: byte positions 0.533
 * with the model's own END, 0.115 with the gate without the look-ahead,
 * 0.058 with it; token boundaries 0.217, 0.089, 0.078. The model's END
 * barely counts at byte positions (it rarely puts mass there mid-word);
 * A per byte instead of summed, or both, changed the test figure by
 * under 0.01 either way. Rerun after the runner's later numeric changes the
 * tool gives 2.336 / -0.029 / 0.669 / 0.225 and 6.484 / 0.73 / 0.118 / 0.08,
 * the same bits to 0.001.
 */
export const DEFAULT_JOIN_RULE: JoinRule = {
  byteLevel: { bias: 2.368, model: -0.029, first: 0.674, ahead: 0.228 },
  tokenLevel: { bias: 6.487, model: 0.728, first: 0.116, ahead: 0.082 },
};

/** Where the model stands when the rule asks whether the suffix follows. */
export interface JoinContext {
  /** Token ids that no continuation re-tokenizes (head, stable text, or the ids so far at token level). */
  readonly anchor: readonly number[];
  /** Bytes after the anchor whose tokenization is still open (exact mode's cover tail; empty at token level). */
  readonly tail: Uint8Array;
  /** The canonical tokens of `tail` (exact mode's T; empty at token level). */
  readonly tailIds: readonly number[];
  /**
   * ln(P(tail) / P(tailIds)): how much more mass all covers of the tail hold
   * than T alone (>= 0; 0 at token level). Cover log-probabilities are kept
   * relative to an older anchor after re-anchoring, so P(T | anchor) itself
   * comes from the look-ahead call.
   */
  readonly coverShare: number;
  /**
   * Inside a token at token level: P(tail | anchor) from the anchor's row,
   * the mass of the tokens that start with the tail (the covers of one
   * token; with T, when T has more, the covers that carry nearly all the
   * mass). Replaces coverShare.
   */
  readonly tailMass?: number;
}

/** The features of one position (what the gate reads; the fitting tool records them). */
export interface JoinFeatures {
  /** ln P_model(END), floored at 1e-12. */
  readonly lnEnd: number;
  /** log2 P(next byte = the probe's first byte), floored at 1e-12. */
  readonly first: number;
  /** log2 P(probe bytes | context) over `aheadBytes` bytes (<= 0). */
  readonly ahead: number;
  readonly aheadBytes: number;
}

/**
 * Probability of the suffix's first byte above which the model is taken to
 * read the suffix as what follows. At the true ends of the 120 long-set
 * middles it had a median of 0.99 at byte positions and of 0.011 at token
 * boundaries (where the canonical path usually splits the word the hole
 * cuts), so token-level ENDs rarely count as joins. Chosen on the long and
 * the 200 short spans (--postprocess exact matches, heal+join / exact+join):
 * this alone 8+15 / 14+37, also asking each look-ahead byte for 1/2 on
 * average 8+15 / 13+34, trusting every END of the rule 8+11 / 14+34 (and
 * suffix duplication at mid-identifier cursors, test/unit/syntax).
 */
const JOIN_EVIDENCE = 0.5;

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const FLOOR = 1e-12;

/** The linear part of the gate without the look-ahead term. */
function zBase(g: JoinGate, modelEnd: number, pFirst: number): number {
  return g.bias + g.model * Math.log(Math.max(modelEnd, FLOOR)) + g.first * Math.log2(Math.max(pFirst, FLOOR));
}

/** The gate's P(END) from recorded features. */
export function gateProbability(g: JoinGate, f: JoinFeatures): number {
  return sigmoid(g.bias + g.model * f.lnEnd + g.first * f.first + g.ahead * f.ahead);
}

/**
 * The join evidence for one request: the probe cut from the text after the
 * cursor, and the look-ahead calls made for it.
 */
export class SuffixJoin {
  /** Look-ahead model calls made (each a batch of one prefix chain). */
  calls = 0;
  private readonly firstTokens: ArrayLike<number>;

  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly model: NextTokenModel,
    readonly probe: Uint8Array,
    readonly rule: JoinRule,
  ) {
    this.firstTokens = tokenizer.tokensStartingWith(probe.subarray(0, 1));
  }

  /**
   * The rule for a request, or undefined where it does not apply: no rule,
   * no text after the cursor, or not a whole probe of it (near the end of
   * the file the model's own END decides).
   */
  static create(req: Pick<BoundaryRequest, 'tokenizer' | 'model' | 'after'>, rule: JoinRule | undefined): SuffixJoin | undefined {
    if (!rule || !req.after) return undefined;
    const probe = cutProbe(req.after);
    return probe.complete ? new SuffixJoin(req.tokenizer, req.model, probe.bytes, rule) : undefined;
  }

  /** The probe's first byte. */
  get firstByte(): number {
    return this.probe[0]!;
  }

  /**
   * At a token boundary: the row's mass on tokens starting with the probe's
   * first byte, and on the stop tokens.
   */
  rowMasses(row: LogProbRow, stopIds: readonly number[]): { first: number; stop: number } {
    const width = Math.min(tokenTables(this.tokenizer).width, this.model.vocabSize);
    const probs = probabilitiesOf(row);
    let first = 0;
    for (let k = 0; k < this.firstTokens.length; k++) {
      const t = this.firstTokens[k]!;
      if (t < width) first += probs ? probs[t]! : Math.exp(row[t]!);
    }
    let stop = 0;
    for (const s of new Set(stopIds)) if (s < width) stop += Math.exp(row[s]!);
    return { first, stop };
  }

  /**
   * log2 P(probe | context) along the canonical tokenization of tail + probe
   * (its last token left out), relative to P(tail), and how many probe
   * bytes that covers. One batched call for the prefix chain.
   */
  async ahead(at: JoinContext, signal?: AbortSignal): Promise<{ bits: number; bytes: number }> {
    const joint = this.tokenizer.encodeBytes(concatBytes(at.tail, this.probe));
    const ends: number[] = [];
    let end = 0;
    for (const t of joint) ends.push((end += this.tokenizer.tokenBytes(t).length));
    // The longest prefix of the joint tokens that reaches into the probe without its last token.
    let k = joint.length - 1;
    if (k < 1 || ends[k - 1]! <= at.tail.length) k = joint.length;
    k = Math.min(k, this.model.contextLength - at.anchor.length);
    if (k < 1 || ends[k - 1]! <= at.tail.length || at.anchor.length === 0 || at.anchor.length + at.tailIds.length > this.model.contextLength) return { bits: 0, bytes: 0 };
    // Rows along the joint path, and along T where it leaves the joint path (one call; shared prefixes run once).
    const seqs: number[][] = [];
    for (let j = 0; j < k; j++) seqs.push([...at.anchor, ...joint.slice(0, j)]);
    let shared = 0;
    while (shared < at.tailIds.length && shared < k && at.tailIds[shared] === joint[shared]) shared++;
    for (let j = shared; j < at.tailIds.length; j++) if (j > shared || j >= k) seqs.push([...at.anchor, ...at.tailIds.slice(0, j)]);
    const rows = await this.model.nextTokenLogProbsBatch(seqs, signal);
    this.calls++;
    // Both paths share their first `shared` tokens: only the parts after them differ.
    let lp = 0;
    for (let j = shared; j < k; j++) lp += rows[j]![joint[j]!]!;
    let tLogp = 0;
    for (let j = shared, r = k; j < at.tailIds.length; j++) tLogp += (j === shared && j < k ? rows[j]! : rows[r++]!)[at.tailIds[j]!]!;
    let tailLogp = tLogp + at.coverShare;
    if (at.tailMass !== undefined) {
      // Against the one-token covers' mass the shared part no longer cancels: make both sides absolute.
      let sharedLogp = 0;
      for (let j = 0; j < shared; j++) sharedLogp += rows[j]![joint[j]!]!;
      lp += sharedLogp;
      tailLogp = Math.log(at.tailMass + (at.tailIds.length > 1 ? Math.exp(tLogp + sharedLogp) : 0));
    }
    const bits = Math.min(0, (lp - tailLogp) / Math.LN2);
    return { bits: Number.isFinite(bits) ? bits : -1e3, bytes: ends[k - 1]! - at.tail.length };
  }

  /** All features of a position (the fitting tool's view; decoding uses pEnd). */
  async features(at: JoinContext, modelEnd: number, pFirst: number, signal?: AbortSignal): Promise<JoinFeatures> {
    const a = await this.ahead(at, signal);
    return { lnEnd: Math.log(Math.max(modelEnd, FLOOR)), first: Math.log2(Math.max(pFirst, FLOOR)), ahead: a.bits, aheadBytes: a.bytes };
  }

  /**
   * P(END) at a position, given the model's own END mass and its
   * probability of the probe's first byte there. `atMost`: the caller only
   * needs to know whether P(END) exceeds it; when the bound without the
   * look-ahead already does not, that bound comes back and no call is made.
   */
  async pEnd(gate: JoinGate, at: JoinContext, modelEnd: number, pFirst: number, atMost?: number, signal?: AbortSignal): Promise<number> {
    const z = zBase(gate, modelEnd, pFirst);
    this.readsJoin = pFirst >= JOIN_EVIDENCE;
    if (gate.ahead === 0) return sigmoid(z);
    if (atMost !== undefined && gate.ahead > 0 && sigmoid(z) <= atMost) return sigmoid(z);
    const a = await this.ahead(at, signal);
    return sigmoid(z + gate.ahead * a.bits);
  }

  /**
   * An upper bound on pEnd() inside a token (byte-level gate, the model's
   * END taken as nil, as joinInside asks) where the probe's first byte has
   * at most `pFirstAtMost` of the next-byte mass; 1 where the gate's signs
   * do not allow a bound (a negative look-ahead or first-byte weight).
   */
  endBoundInToken(pFirstAtMost: number): number {
    const g = this.rule.byteLevel;
    if (g.ahead < 0 || g.first < 0) return 1;
    return sigmoid(zBase(g, 0, Math.max(0, Math.min(1, pFirstAtMost))));
  }

  /**
   * Whether at the last pEnd() position the model reads the suffix as what
   * follows: it gives the suffix's first byte at least JOIN_EVIDENCE. An END
   * the rule decides there is a join (the caller says joinsSuffix, and
   * post-processing keeps the text whole); an END it decides without that
   * (at token boundaries mostly: the model's own END and an uncertain next
   * token) is only an end, and the usual merge and stop rules still see the
   * text (else a completion that ends by repeating the suffix's first word
   * would be kept). Set by every pEnd() call.
   */
  readsJoin = false;
}

/**
 * Greedy decoding's question: END beats the best other symbol, whose share
 * of the non-END mass is `m`, iff P(END) > m / (1 + m) (the others are
 * scaled together, so their order does not change).
 */
export function endWinsAbove(m: number): number {
  return m / (1 + m);
}

/**
 * `d` with END (all stop tokens, reported under `stopId`) at `pEnd` and the
 * bytes scaled to share the rest: a proper distribution.
 */
export function withJoinEnd(d: ByteDistribution, pEnd: number, stopId: number | undefined): ByteDistribution {
  const e = pEnd > 0 ? Math.min(1, pEnd) : 0;
  let total = 0;
  for (let b = 0; b < 256; b++) total += d.bytes[b]!;
  const bytes = new Float64Array(256);
  const stops = new Map<number, number>();
  if (total > 0) {
    const s = (1 - e) / total;
    for (let b = 0; b < 256; b++) bytes[b] = d.bytes[b]! * s;
    if (stopId !== undefined) stops.set(stopId, e);
  } else if (stopId !== undefined) stops.set(stopId, 1);
  return { bytes, stops };
}
