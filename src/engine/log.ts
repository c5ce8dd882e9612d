/**
 * The engine never writes to a console or a file itself: callers hand it a
 * Logger (the extension's output channel, the CLI's stderr, a test's array).
 */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string | Error): void;
}

/** A logger that drops everything; for tests and quiet CLI runs. */
export const silentLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Formats an error with its cause chain, so "no silent failures" includes the why. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    if (cur instanceof Error) {
      parts.push(cur.message);
      cur = (cur as Error & { cause?: unknown }).cause;
    } else {
      parts.push(String(cur));
      break;
    }
  }
  return parts.join(': caused by: ');
}

/** A monotonic millisecond clock, passed in so tests and benchmarks can control time. */
export type Clock = () => number;
export const performanceClock: Clock = () => performance.now();
