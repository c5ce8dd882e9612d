/** Shared bits of the model and completion tests. */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../../src/engine/log';

export const ROOT = join(__dirname, '..', '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'models');
/** Tiny random models in the Optimum layout, with real special tokens of each family. */
export const fixture = (name: string) => join(FIXTURES, name);
/** The bundled model, when it is in the tree. */
export const BUNDLED = join(ROOT, 'models', 'subword-tiny');
/** Bootstrap that runs src/engine/model/worker.ts under tsx in a worker thread. */
export const WORKER_BOOT = join(__dirname, 'worker-boot.mjs');
export const WORKER_ENTRY = join(ROOT, 'src', 'engine', 'model', 'worker.ts');

/** A logger that keeps every line, for assertions on what was said. */
export function recordingLogger(): Logger & { lines: Array<[string, string]> } {
  const lines: Array<[string, string]> = [];
  const rec = (level: string) => (m: string | Error) => lines.push([level, m instanceof Error ? m.message : m]);
  return { lines, trace: rec('trace'), debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}

/** A scratch copy of a fixture folder; remove it with the returned cleanup. */
export function scratchCopy(name: string): { dir: string; cleanup(): void } {
  const base = mkdtempSync(join(tmpdir(), 'subword-model-'));
  const dir = join(base, name);
  cpSync(fixture(name), dir, { recursive: true });
  return { dir, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export function logSoftmax(values: readonly number[]): number[] {
  const max = Math.max(...values);
  const lse = max + Math.log(values.reduce((s, v) => s + Math.exp(v - max), 0));
  return values.map((v) => v - lse);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
