/**
 * The one place the model layer reaches into the tokenizer core: reading a
 * model folder's tokenizer.json.
 */
import { readFile } from 'node:fs/promises';
import { BpeTokenizer } from '../tokenizers/bpe';
import { parseTokenizerJson } from '../tokenizers/hfjson';
import type { Tokenizer } from '../tokenizers/types';

export async function loadTokenizerFile(path: string, id: string): Promise<Tokenizer> {
  const text = await readFile(path, 'utf8');
  return new BpeTokenizer(parseTokenizerJson(text, path, id));
}
