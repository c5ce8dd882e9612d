/** Real tokenizers for the editor layer's unit tests (the compact files the test runner builds, else the npm data). */
import { join } from 'node:path';
import type { Tokenizer } from '../../../src/engine/tokenizers/types';
import { engineRegistry } from '../../../src/extension/registryBinding';

export const ROOT = join(__dirname, '..', '..', '..');

const cache = new Map<string, Promise<Tokenizer>>();

export function tokenizer(id: string): Promise<Tokenizer> {
  let p = cache.get(id);
  if (!p) {
    p = Promise.resolve(engineRegistry(ROOT).get(id));
    cache.set(id, p);
  }
  return p;
}

/** A deterministic pseudo-random generator (tests reproduce their edits). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
