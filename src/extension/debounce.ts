/**
 * When to ask the model after a keystroke. Pure (no `vscode`), so the rules
 * are unit-tested in plain Node.
 *
 * A request fired while the user is still typing is wasted work that the next
 * keystroke cancels. So the wait follows the typist: someone typing in a
 * quick burst (short gaps between keys) gets a wait a little longer than
 * their usual gap, so a request starts only once they really pause; someone
 * typing slowly gets the base delay, because their next key is far off
 * anyway and waiting longer would only make the ghost text late.
 */

/** Gaps longer than this are pauses, not typing rhythm, and are not averaged. */
export const PAUSE_MS = 1500;
/** Weight of the newest gap in the running average. */
const ALPHA = 0.3;
/** Wait this multiple of the typical gap during a burst. */
const GAP_FACTOR = 1.25;
/** Never wait more than this multiple of the base delay. */
const MAX_FACTOR = 4;

export class TypingRhythm {
  private last: number | undefined;
  private avgGap: number | undefined;

  /** Records a keystroke (a document change) at time `now` (ms, monotonic). */
  keystroke(now: number): void {
    if (this.last !== undefined) {
      const gap = now - this.last;
      if (gap >= 0 && gap < PAUSE_MS) this.avgGap = this.avgGap === undefined ? gap : (1 - ALPHA) * this.avgGap + ALPHA * gap;
    }
    this.last = now;
  }

  /** The running average gap between keystrokes, if the user has typed a burst yet. */
  get typicalGapMs(): number | undefined {
    return this.avgGap;
  }

  /** How long to wait before requesting a completion, given the configured base delay. */
  delayMs(baseMs: number): number {
    if (!(baseMs > 0)) return 0;
    if (this.avgGap === undefined) return baseMs;
    const wait = this.avgGap * GAP_FACTOR;
    // A burst: wait out one typical gap. Beyond the cap the user types slowly,
    // so the next key is not imminent and the base delay is enough.
    if (wait > baseMs * MAX_FACTOR) return baseMs;
    return Math.max(baseMs, Math.round(wait));
  }
}

/** What was last shown as ghost text, to recognise typing through it. */
export interface ShownCompletion {
  readonly documentKey: string;
  readonly line: number;
  /** Text of the line before the cursor when the completion was shown. */
  readonly linePrefix: string;
  readonly text: string;
}

/**
 * How many characters of `shown` the user has typed since it was shown
 * (0 when the new position is not a type-through of it). A type-through is
 * answered from the engine's cache, so it needs no debounce.
 */
export function typedThroughLength(shown: ShownCompletion | undefined, documentKey: string, line: number, linePrefix: string): number {
  if (!shown || shown.documentKey !== documentKey || shown.line !== line) return 0;
  if (linePrefix.length <= shown.linePrefix.length || !linePrefix.startsWith(shown.linePrefix)) return 0;
  const typed = linePrefix.slice(shown.linePrefix.length);
  if (typed.length >= shown.text.length || !shown.text.startsWith(typed)) return 0;
  return typed.length;
}
