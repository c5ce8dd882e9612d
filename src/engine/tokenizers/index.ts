/** Tokenizers: the BPE core, loaders, the registry and incremental counting. */
import { readFileSync } from 'node:fs';
import { BpeTokenizer } from './bpe';
import { parseTokenizerJson, TokenizerFileError } from './hfjson';

export type { Tokenizer, TokenizerInfo } from './types';
export { BpeTokenizer, TokenKind, type BpeData, type PieceCallback } from './bpe';
export { parseTokenizerJson, TokenizerFileError } from './hfjson';
export { parseTiktokenRanks, TIKTOKEN_SPECS } from './tiktoken';
export { readCompact, writeCompact } from './compact';
export { Utf8StreamDecoder } from './bytes';
export { BUILTIN_TOKENIZERS, TokenizerRegistry, type BuiltinTokenizer, type TokenizerRegistryOptions } from './registry';
export { DocumentTokenCounter, type DocumentEdit } from './incremental';

/**
 * Loads a Hugging Face tokenizer.json file (BPE) into our core. Errors name
 * the file and what is wrong with it.
 */
export function loadTokenizerJson(file: string, id = 'model'): BpeTokenizer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TokenizerFileError(file, `cannot read: ${(err as Error).message}`);
  }
  return new BpeTokenizer(parseTokenizerJson(text, file, id));
}
