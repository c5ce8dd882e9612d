/**
 * The token-level decoding loop all three strategies end in: one model call
 * per token, greedy or sampled, with two optional hooks: a constraint on the
 * first bytes (token healing) and a validity mask (exact mode's canonical
 * check).
 */
import { CancelledError } from '../model/types';
import type { BoundaryRequest, BoundaryResult } from './types';
import { tokenTables } from './canonical';
import { concatBytes, isGreedy, pick, RankedTokens, startsWithBytes, type LogProbRow } from './util';

export interface TokenLoopState {
  /** Full prompt ids to continue from. */
  ids: number[];
  /** Completion bytes produced before the loop (exact mode's byte phase, a sampled cover's remainder). */
  generated: Uint8Array;
  /** Bytes the output must start with that lie BEFORE the cursor (token healing's removed bytes). */
  heal?: Uint8Array;
  /** Canonical mask: whether appending the token keeps the stream valid. */
  valid?: (t: number) => boolean;
  /** Told about every accepted ordinary token. */
  accept?: (t: number) => void;
  /**
   * Asked about each chosen ordinary token (with the row it was chosen
   * from) before it is taken; false ends the loop without it, and the
   * result says `halted` (a caller that goes on some other way, e.g. the
   * ensemble dropping back to byte level). Not asked while healing.
   */
  review?: (t: number, row: LogProbRow) => boolean;
  steps: number;
  modelCalls: number;
  /** The next-token row for `ids` when the caller already has it. */
  firstRow?: LogProbRow;
}

/** Ordinary tokens whose bytes extend `rest` or are a prefix of it: healing's allowed set. */
export function healCandidates(req: BoundaryRequest, rest: Uint8Array): number[] {
  const set = new Set<number>();
  for (const t of req.tokenizer.tokensStartingWith(rest)) set.add(t);
  for (const t of req.tokenizer.tokensPrefixOf(rest)) set.add(t);
  return [...set];
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledError();
}

/** Cap on how many masked-out candidates greedy decoding walks past before giving up on the mask. */
const MAX_MASK_TRIES = 256;

export async function runTokenLevel(req: BoundaryRequest, st: TokenLoopState): Promise<BoundaryResult & { halted?: boolean }> {
  const { model, tokenizer, stopIds } = req;
  const tables = tokenTables(tokenizer);
  const width = Math.min(tables.width, model.vocabSize);
  const stops = new Set(stopIds);
  const include = (id: number) => stops.has(id) || tables.firstByte[id]! >= 0;
  const ids = [...st.ids];
  let out = st.generated;
  let rest = st.heal ?? new Uint8Array(0);
  let steps = st.steps;
  let calls = st.modelCalls;
  let row: LogProbRow | undefined = st.firstRow;
  const done = (stoppedBy: BoundaryResult['stoppedBy']): BoundaryResult => ({ bytes: out, stoppedBy, modelCalls: calls, steps });

  for (;;) {
    throwIfAborted(req.signal);
    if (steps >= req.maxTokens) return done('max-tokens');
    if (ids.length >= model.contextLength) return done('context-full');
    if (!row) {
      row = await model.nextTokenLogProbs(ids, req.signal);
      calls++;
    }
    let t: number | undefined;
    if (rest.length) {
      const allowed = healCandidates(req, rest);
      const r = row;
      t = pick(
        allowed.map((id) => [id, Math.exp(r[id]!)] as const),
        req,
      );
      if (t === undefined) return done('stop-token'); // nothing can spell the healed bytes: no completion
    } else {
      t = chooseFree(row, width, include, st.valid ? (id) => stops.has(id) || st.valid!(id) : undefined, req);
      if (t === undefined) return done('stop-token');
    }
    const chosenFrom = row;
    row = undefined;
    if (stops.has(t)) return done('stop-token');
    if (st.review && !rest.length && !st.review(t, chosenFrom)) return { ...done('stop-token'), halted: true };
    ids.push(t);
    steps++;
    st.accept?.(t);
    const tb = tokenizer.tokenBytes(t);
    if (rest.length) {
      if (tb.length <= rest.length) {
        rest = rest.subarray(tb.length);
        continue;
      }
      if (!startsWithBytes(tb, rest)) return done('stop-token');
      out = concatBytes(out, tb.subarray(rest.length));
      rest = new Uint8Array(0);
    } else {
      out = concatBytes(out, tb);
    }
    const keep = req.stopAt?.(out);
    if (keep !== undefined) {
      out = out.slice(0, Math.max(0, Math.min(out.length, keep)));
      return done('stop-rule');
    }
  }
}

/** Next token from a free (unconstrained) step, honouring the validity mask. */
function chooseFree(
  row: LogProbRow,
  width: number,
  include: (id: number) => boolean,
  valid: ((t: number) => boolean) | undefined,
  params: BoundaryRequest,
): number | undefined {
  if (isGreedy(params)) {
    const ranked = new RankedTokens(row, width, include);
    let first: number | undefined;
    for (let i = 0; i < MAX_MASK_TRIES; i++) {
      const t = ranked.at(i);
      if (t < 0) break;
      first ??= t;
      if (!valid || valid(t)) return t;
    }
    return first;
  }
  // Sampling: rejection against the mask is exact sampling from the masked distribution.
  const items: Array<readonly [number, number]> = [];
  for (let id = 0; id < width; id++) if (include(id)) items.push([id, Math.exp(row[id]!)]);
  const banned = new Set<number>();
  for (let i = 0; i < 16; i++) {
    const t = pick(
      banned.size ? items.filter(([id]) => !banned.has(id)) : items,
      params,
    );
    if (t === undefined) return undefined;
    if (!valid || valid(t)) return t;
    banned.add(t);
  }
  return pick(
    items.filter(([id]) => !banned.has(id)),
    { ...params, temperature: 0 },
  );
}
