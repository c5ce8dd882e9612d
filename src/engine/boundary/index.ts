/**
 * Completing from any character: the three boundary modes (setting
 * `subword.completion.boundary`, CLI flag `--boundary`).
 */
import { ExactStrategy, type ExactOptions } from './exact';
import { HealStrategy, type HealOptions } from './heal';
import { NaiveStrategy } from './naive';
import type { BoundaryMode, BoundaryStrategy } from './types';

export type { BoundaryMode, BoundaryRequest, BoundaryResult, BoundaryStrategy, ByteDistribution } from './types';
export { CoverState, DEFAULT_COVER_OPTIONS, type Cover, type CoverOptions, type ExactDistribution } from './covers';
export { ExactStrategy, DEFAULT_EXACT_OPTIONS, type ExactOptions } from './exact';
export { HealStrategy, DEFAULT_HEAL_OPTIONS, healPlan, lastPreTokenStart, type HealOptions, type HealPlan } from './heal';
export { NaiveStrategy } from './naive';
export { CanonicalTail, validAfter } from './canonical';

export const BOUNDARY_MODES: readonly BoundaryMode[] = ['naive', 'heal', 'exact'];

export function isBoundaryMode(s: string): s is BoundaryMode {
  return (BOUNDARY_MODES as readonly string[]).includes(s);
}

/** The strategy for a mode, with default settings unless given. */
export function strategyFor(mode: BoundaryMode, options?: { exact?: Partial<ExactOptions>; heal?: Partial<HealOptions> }): BoundaryStrategy {
  switch (mode) {
    case 'naive':
      return new NaiveStrategy();
    case 'heal':
      return new HealStrategy({ ...new HealStrategy().options, ...options?.heal });
    case 'exact':
      return new ExactStrategy({ ...new ExactStrategy().options, ...options?.exact });
  }
}
