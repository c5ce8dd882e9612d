/**
 * heal: token healing. Remove the prompt's last tokens back to the start of
 * the last pre-token (word, punctuation run, whitespace run), at most
 * `maxBackup` of them, and decode with the constraint that the output starts
 * with the removed bytes h: each step allows the tokens whose bytes extend
 * the rest of h or are a prefix of it (multi-step healing); once h is spelt
 * the decoding is free. The completion is what comes after h.
 *
 * Healing commits to one token boundary and ignores the mass of every other
 * way of covering h, so unlike exact it is not the model's true conditional.
 */
import type { ByteDistribution } from './covers';
import { joinFor, normalise, producedBytes, rowToBytes, teacherForced, withJoinCalls } from './naive';
import { DEFAULT_JOIN_RULE, type JoinRule } from './suffixJoin';
import { healCandidates, runTokenLevel } from './tokenLevel';
import type { BoundaryRequest, BoundaryResult, BoundaryStrategy } from './types';
import { concatBytes, startsWithIds } from './util';

export interface HealOptions {
  /** Most prompt tokens removed. */
  readonly maxBackup: number;
  /** END from the model's reading of the suffix at token boundaries (suffixJoin.ts); undefined: the model's own END. */
  readonly join?: JoinRule;
}

// The join rule on: on the 600 clean held-out holes exact match 21 -> 28, bits per byte 1.267 -> 1.165 (suffixJoin.ts).
export const DEFAULT_HEAL_OPTIONS: HealOptions = { maxBackup: 4, join: DEFAULT_JOIN_RULE };

/** How a prompt is healed: the kept stream ids and the removed bytes. */
export interface HealPlan {
  readonly keptIds: number[];
  readonly healed: Uint8Array;
}

export class HealStrategy implements BoundaryStrategy {
  readonly mode = 'heal' as const;
  constructor(readonly options: HealOptions = DEFAULT_HEAL_OPTIONS) {}

  plan(req: BoundaryRequest): HealPlan {
    return healPlan(req, this.options.maxBackup);
  }

  async generate(req: BoundaryRequest): Promise<BoundaryResult> {
    const p = this.plan(req);
    const join = joinFor(req, this.options.join);
    return withJoinCalls(await runTokenLevel(req, { ids: [...req.headIds, ...p.keptIds], generated: new Uint8Array(0), heal: p.healed, steps: 0, modelCalls: 0, join }), join);
  }

  /**
   * Healing's own probability of the target: teacher-forced over the tokens
   * of encode(prefix + target) after the kept prompt (falling back to
   * encode(h + target) when the kept part does not survive), each step
   * renormalised over the allowed set while h is not yet spelt, then the
   * first stop token. This is the probability healing's decoder gives to
   * producing that canonical token path.
   */
  async score(req: BoundaryRequest, target: Uint8Array): Promise<number> {
    const { tokenizer } = req;
    const p = this.plan(req);
    const full = tokenizer.encodeBytes(concatBytes(req.streamBytes, target));
    const cont = startsWithIds(full, p.keptIds) ? full.slice(p.keptIds.length) : tokenizer.encodeBytes(concatBytes(p.healed, target));
    // Which steps are constrained, and by what: replay h over the continuation.
    const sets: Array<readonly number[] | undefined> = [];
    let rest = p.healed;
    for (const t of cont) {
      if (!rest.length) break;
      sets.push(healCandidates(req, rest));
      rest = rest.subarray(Math.min(rest.length, tokenizer.tokenBytes(t).length));
    }
    const join = joinFor(req, this.options.join);
    return teacherForced(req, [...req.headIds, ...p.keptIds], cont, (i) => sets[i], join && { join, produced: producedBytes(tokenizer, cont, p.healed.length) });
  }

  /** Distribution of the first byte after the cursor under healing's constrained decoding. */
  async nextByteDistribution(req: BoundaryRequest): Promise<ByteDistribution> {
    const p = this.plan(req);
    const acc = { bytes: new Float64Array(256), stops: new Map<number, number>() };
    const walk = async (ids: number[], rest: Uint8Array, w: number): Promise<void> => {
      const row = await req.model.nextTokenLogProbs(ids, req.signal);
      if (!rest.length) {
        rowToBytes(req, row, w, acc);
        return;
      }
      const allowed = healCandidates(req, rest);
      let z = 0;
      for (const t of allowed) z += Math.exp(row[t]!);
      if (!(z > 0)) return;
      for (const t of allowed) {
        const pt = (w * Math.exp(row[t]!)) / z;
        if (!(pt > 0)) continue;
        const tb = req.tokenizer.tokenBytes(t);
        if (tb.length > rest.length) acc.bytes[tb[rest.length]!] += pt;
        else await walk([...ids, t], rest.subarray(tb.length), pt);
      }
    };
    await walk([...req.headIds, ...p.keptIds], p.healed, 1);
    normalise(acc);
    return acc;
  }
}

export function healPlan(req: BoundaryRequest, maxBackup: number): HealPlan {
  const { tokenizer, streamBytes } = req;
  const ids = tokenizer.encodeBytes(streamBytes);
  if (!ids.length) return { keptIds: [], healed: new Uint8Array(0) };
  const cut = preTokenStart(tokenizer, streamBytes);
  let start = streamBytes.length;
  let k = 0;
  while (k < Math.min(maxBackup, ids.length)) {
    const len = tokenizer.tokenBytes(ids[ids.length - 1 - k]!).length;
    // Always heal the last token; further ones only while they lie inside the last pre-token.
    if (k > 0 && start - len < cut) break;
    start -= len;
    k++;
    if (start <= cut) break;
  }
  return { keptIds: ids.slice(0, ids.length - k), healed: streamBytes.slice(start) };
}

/** Tokenizers that can show their pre-token split (the tokenizer core's BPE can). */
interface PreTokenizing {
  preTokenize(bytes: Uint8Array): Array<[number, number]>;
}

/** Window the pre-tokenizer sees: the last piece never reaches further back in practice. */
const PRETOKEN_WINDOW = 256;

/** Start of the last pre-token: the tokenizer's own split when it offers one, else the cl100k approximation. */
export function preTokenStart(tokenizer: BoundaryRequest['tokenizer'], bytes: Uint8Array): number {
  const pt = (tokenizer as Partial<PreTokenizing>).preTokenize;
  if (typeof pt === 'function' && bytes.length) {
    try {
      const from = Math.max(0, bytes.length - PRETOKEN_WINDOW);
      const pieces = pt.call(tokenizer, bytes.subarray(from));
      const last = pieces[pieces.length - 1];
      // A window that starts mid-piece only changes the first piece; the last one is the same.
      if (last && last[1] === bytes.length - from && (last[0] > 0 || from === 0)) return from + last[0];
    } catch {
      // fall through to the approximation
    }
  }
  return lastPreTokenStart(bytes);
}

/**
 * Whether byte b appended to `bytes` starts a new pre-token: then no token
 * can cross the boundary before it, and the partial word is finished.
 */
export function startsNewPreToken(tokenizer: BoundaryRequest['tokenizer'], bytes: Uint8Array, b: number): boolean {
  const from = Math.max(0, bytes.length - 64);
  const joined = new Uint8Array(bytes.length - from + 1);
  joined.set(bytes.subarray(from), 0);
  joined[joined.length - 1] = b;
  return preTokenStart(tokenizer, joined) === joined.length - 1;
}

const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
// Bytes of multi-byte UTF-8 count as letters: identifiers in most scripts (an approximation for symbols and emoji).
const isLetter = (b: number) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b >= 0x80;
const isNewline = (b: number) => b === 0x0a || b === 0x0d;
const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0b || b === 0x0c || isNewline(b);

/**
 * Byte offset where the last pre-token of `bytes` starts, following the
 * cl100k / Llama-3 split that Subword's tokenizer uses: a letter run with one
 * optional leading non-letter (`Ġfoo`, `.foo`), digit groups of three, a
 * punctuation run with an optional leading space, the trailing spaces after
 * the last newline (a partial indentation), or a whitespace run ending in a
 * newline.
 */
export function lastPreTokenStart(bytes: Uint8Array): number {
  const n = bytes.length;
  if (!n) return 0;
  let i = n;
  const last = bytes[n - 1]!;
  if (isLetter(last)) {
    while (i > 0 && isLetter(bytes[i - 1]!)) i--;
    if (i > 0) {
      const b = bytes[i - 1]!;
      if (!isNewline(b) && !isDigit(b)) i--;
    }
    return i;
  }
  if (isDigit(last)) {
    while (i > 0 && isDigit(bytes[i - 1]!)) i--;
    const run = n - i;
    return n - (run % 3 || 3);
  }
  if (isSpace(last)) {
    while (i > 0 && isSpace(bytes[i - 1]!)) i--;
    if (isNewline(last)) {
      // `\s*[\r\n]+`; a newline run right after punctuation belongs to it (` ?[^\s\p{L}\p{N}]+[\r\n]*`).
      let onlyNewlines = true;
      for (let j = i; j < n; j++) if (!isNewline(bytes[j]!)) onlyNewlines = false;
      if (onlyNewlines && i > 0 && !isLetter(bytes[i - 1]!) && !isDigit(bytes[i - 1]!)) return punctStart(bytes, i);
      return i;
    }
    // Trailing spaces after the run's last newline form their own pre-token.
    for (let j = n - 1; j >= i; j--) if (isNewline(bytes[j]!)) return j + 1;
    return i;
  }
  return punctStart(bytes, n);
}

function punctStart(bytes: Uint8Array, end: number): number {
  let i = end;
  while (i > 0 && !isSpace(bytes[i - 1]!) && !isLetter(bytes[i - 1]!) && !isDigit(bytes[i - 1]!)) i--;
  if (i > 0 && bytes[i - 1] === 0x20) i--;
  return i;
}
