/**
 * A tiny sequential test harness that runs inside the VS Code extension host.
 *
 * Suite files call `suite()`/`test()` at import time; `runRegistered()` runs
 * the tests one after another and prints one JSON line per result, prefixed
 * with RESULT_PREFIX, on the extension host's console. The outer node:test
 * file (test/integration/vscode.test.ts) receives that console through the
 * workbench's automation hooks and turns each line into a node:test subtest,
 * so node's closing summary counts the tests that ran inside VS Code.
 */

export const RESULT_PREFIX = 'SUBWORD_TEST ';

export type TestFn = () => unknown | Promise<unknown>;

interface Registered {
  readonly suite: string;
  readonly name: string;
  readonly fn: TestFn;
  readonly timeoutMs: number;
}

/** One line of the protocol between the inner and the outer side. */
export type ResultLine =
  | { readonly event: 'start'; readonly count: number; readonly vscode: string; readonly uiKind: string; readonly node: string }
  | { readonly event: 'result'; readonly suite: string; readonly name: string; readonly ok: boolean; readonly ms: number; readonly error?: string }
  | { readonly event: 'end'; readonly passed: number; readonly failed: number; readonly ms: number };

const registered: Registered[] = [];
let currentSuite = '';

/** Groups the tests registered inside `body` under a suite name. */
export function suite(name: string, body: () => void): void {
  const outer = currentSuite;
  currentSuite = outer ? `${outer} › ${name}` : name;
  try {
    body();
  } finally {
    currentSuite = outer;
  }
}

/** Registers a test; it runs after all earlier registered tests finished. */
export function test(name: string, fn: TestFn, opts: { timeoutMs?: number } = {}): void {
  registered.push({ suite: currentSuite, name, fn, timeoutMs: opts.timeoutMs ?? 20_000 });
}

function emit(line: ResultLine): void {
  console.log(RESULT_PREFIX + JSON.stringify(line));
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    return (err.stack ?? `${err.name}: ${err.message}`) + (cause !== undefined ? `\ncaused by: ${describe(cause)}` : '');
  }
  return String(err);
}

async function withTimeout(fn: TestFn, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(fn),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every registered test in order; resolves to the number of failures. */
export async function runRegistered(info: { vscode: string; uiKind: string }): Promise<number> {
  const started = performance.now();
  emit({ event: 'start', count: registered.length, vscode: info.vscode, uiKind: info.uiKind, node: process.version });
  let failed = 0;
  for (const t of registered) {
    const t0 = performance.now();
    let error: string | undefined;
    try {
      await withTimeout(t.fn, t.timeoutMs);
    } catch (err) {
      error = describe(err);
      failed++;
    }
    emit({ event: 'result', suite: t.suite, name: t.name, ok: error === undefined, ms: Math.round(performance.now() - t0), ...(error ? { error } : {}) });
  }
  emit({ event: 'end', passed: registered.length - failed, failed, ms: Math.round(performance.now() - started) });
  return failed;
}
