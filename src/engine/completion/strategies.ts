/**
 * The boundary strategy for each mode (src/engine/boundary), created once
 * per model so their per-tokenizer tables are built once.
 */
import { strategyFor as boundaryStrategyFor } from '../boundary';
import type { BoundaryMode, BoundaryStrategy } from '../boundary/types';

export class StrategySet {
  private readonly byMode = new Map<BoundaryMode, BoundaryStrategy>();

  get(mode: BoundaryMode): BoundaryStrategy {
    let s = this.byMode.get(mode);
    if (!s) {
      s = boundaryStrategyFor(mode);
      this.byMode.set(mode, s);
    }
    return s;
  }
}
