/**
 * The join rule in the evaluation (`subword eval --boundary exact+join,heal-join`):
 * a boundary mode with the rule forced on (`+join`: END from the model's
 * reading of the suffix, boundary/suffixJoin.ts) or off (`-join`: the
 * model's own END), whatever the mode's default is, so that both can be
 * measured side by side in one run.
 */
import { BOUNDARY_MODES, isBoundaryMode, strategyFor } from '../boundary/index';
import { DEFAULT_JOIN_RULE, type JoinRule } from '../boundary/suffixJoin';
import type { BoundaryMode, BoundaryStrategy } from '../boundary/types';

export const JOIN_EVAL_MODES: readonly string[] = BOUNDARY_MODES.flatMap((m) => [`${m}+join`, `${m}-join`]);

/** The boundary mode and the rule's switch of a join mode name, or undefined. */
export function parseJoinMode(name: string): { mode: BoundaryMode; join: boolean } | undefined {
  const m = /^(\w+)([+-])join$/.exec(name);
  if (!m || !isBoundaryMode(m[1]!)) return undefined;
  return { mode: m[1], join: m[2] === '+' };
}

export function isJoinEvalMode(name: string): boolean {
  return parseJoinMode(name) !== undefined;
}

/** The strategy of a join mode name (undefined for other names). */
export function joinModeStrategy(name: string, rule: JoinRule = DEFAULT_JOIN_RULE): BoundaryStrategy | undefined {
  const p = parseJoinMode(name);
  if (!p) return undefined;
  const join = p.join ? rule : undefined;
  return strategyFor(p.mode, { exact: { join }, heal: { join }, naive: { join } });
}
