/**
 * Completing from any character: the three boundary modes (setting
 * `subword.completion.boundary`, CLI flag `--boundary`).
 */
import { ExactStrategy, type ExactOptions } from './exact';
import { HealStrategy, type HealOptions } from './heal';
import { NaiveStrategy, type NaiveOptions } from './naive';
import type { BoundaryMode, BoundaryStrategy } from './types';

export type { BoundaryMode, BoundaryRequest, BoundaryResult, BoundaryStrategy, ByteDistribution } from './types';
export { CoverState, DEFAULT_COVER_OPTIONS, type Cover, type CoverOptions, type ExactDistribution } from './covers';
export { ExactStrategy, DEFAULT_EXACT_OPTIONS, type ExactOptions } from './exact';
export { HealStrategy, DEFAULT_HEAL_OPTIONS, healPlan, lastPreTokenStart, type HealOptions, type HealPlan } from './heal';
export { NaiveStrategy, DEFAULT_NAIVE_OPTIONS, type NaiveOptions } from './naive';
export { SuffixJoin, DEFAULT_JOIN_RULE, gateProbability, withJoinEnd, type JoinContext, type JoinFeatures, type JoinGate, type JoinRule } from './suffixJoin';
export { cutProbe, suffixProbeBytes, SUFFIX_PROBE, MAX_LEADING_SPACE, type SuffixProbe } from './suffixProbe';
export { CanonicalTail, validAfter } from './canonical';

export const BOUNDARY_MODES: readonly BoundaryMode[] = ['naive', 'heal', 'exact'];

export function isBoundaryMode(s: string): s is BoundaryMode {
  return (BOUNDARY_MODES as readonly string[]).includes(s);
}

/** The strategy for a mode, with default settings unless given. */
export function strategyFor(mode: BoundaryMode, options?: { exact?: Partial<ExactOptions>; heal?: Partial<HealOptions>; naive?: Partial<NaiveOptions> }): BoundaryStrategy {
  switch (mode) {
    case 'naive':
      return new NaiveStrategy({ ...new NaiveStrategy().options, ...options?.naive });
    case 'heal':
      return new HealStrategy({ ...new HealStrategy().options, ...options?.heal });
    case 'exact':
      return new ExactStrategy({ ...new ExactStrategy().options, ...options?.exact });
  }
}
