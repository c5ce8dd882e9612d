/** Metrics of the infilling evaluation. */

/** Levenshtein distance over code points (two rows, O(n·m) time). */
export function levenshtein(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  if (!x.length) return y.length;
  if (!y.length) return x.length;
  let prev = new Array<number>(y.length + 1);
  let cur = new Array<number>(y.length + 1);
  for (let j = 0; j <= y.length; j++) prev[j] = j;
  for (let i = 1; i <= x.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    [prev, cur] = [cur, prev];
  }
  return prev[y.length]!;
}

/** 1 - distance / longer length; 1 for two empty strings. */
export function editSimilarity(a: string, b: string): number {
  const n = Math.max([...a].length, [...b].length);
  return n === 0 ? 1 : 1 - levenshtein(a, b) / n;
}

/**
 * Paired exact matches of the modes: cell [a][b] counts the cases mode a
 * got right and mode b got wrong (with [b][a], the discordant pairs a
 * sign test reads).
 */
export function pairedWins(stats: ReadonlyArray<Pick<ModeStats, 'matched'>>): number[][] {
  const sets = stats.map((s) => new Set(s.matched));
  return sets.map((a) => sets.map((b) => [...a].filter((i) => !b.has(i)).length));
}

/** One mode's line of `subword eval --json`. */
export interface ModeSummary {
  exact_match: number;
  edit_similarity: number;
  /** Bits the mode assigns to the true middle followed by end-of-middle, per middle byte (teacher-forced). */
  middle_bits_per_byte: number | null;
  /** Share of executable cases whose tests pass; null without tests or python3. */
  pass_at_1: number | null;
  ms_per_case: number;
}

/** Accumulates one mode's results over the cases. */
export class ModeStats {
  private n = 0;
  private exact = 0;
  private edit = 0;
  private bits = 0;
  private bytes = 0;
  private infiniteScores = 0;
  private passed = 0;
  private tested = 0;
  private ms = 0;

  /** Indices (in the order added) of the cases this mode matched exactly: paired comparisons between modes. */
  readonly matched: number[] = [];

  add(r: { completion: string; truth: string; logProb: number | undefined; truthBytes: number; ms: number; passed?: boolean }): void {
    this.n++;
    if (r.completion === r.truth) {
      this.exact++;
      this.matched.push(this.n - 1);
    }
    this.edit += editSimilarity(r.completion, r.truth);
    if (r.logProb !== undefined) {
      if (Number.isFinite(r.logProb)) {
        this.bits += -r.logProb / Math.LN2;
        this.bytes += r.truthBytes;
      } else this.infiniteScores++;
    }
    if (r.passed !== undefined) {
      this.tested++;
      if (r.passed) this.passed++;
    }
    this.ms += r.ms;
  }

  /** The JSON shape of `subword eval --json` (per mode). */
  summary(): ModeSummary {
    const n = Math.max(1, this.n);
    return {
      exact_match: this.exact / n,
      edit_similarity: this.edit / n,
      // Micro-average: all bits over all middle bytes (the stop symbol's bits included).
      middle_bits_per_byte: this.bytes > 0 ? this.bits / this.bytes : null,
      pass_at_1: this.tested ? this.passed / this.tested : null,
      ms_per_case: this.ms / n,
    };
  }

  /** Cases whose middle got probability 0 (left out of bits per byte). */
  get zeroProbabilityCases(): number {
    return this.infiniteScores;
  }
}
