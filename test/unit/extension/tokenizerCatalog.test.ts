import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../../src/engine/log';
import { locateModelFolder } from '../../../src/engine/model/manifest';
import { loadTokenizerFile } from '../../../src/engine/model/tokenizerFile';
import { engineRegistry } from '../../../src/extension/registryBinding';
import { isTokenizerFile, MODEL_TOKENIZER_ID, TokenizerCatalog, type ModelTokenizerSource } from '../../../src/extension/tokenizerCatalog';
import { ROOT } from './helpers';

const fromFolder = (dir: string): ModelTokenizerSource => ({ label: dir, load: () => loadTokenizerFile(locateModelFolder(dir).tokenizerPath, 'model') });
const PLAIN = join(ROOT, 'test', 'fixtures', 'models', 'plain');

test('"model" comes first in the list, followed by the registry without duplicates', () => {
  const c = new TokenizerCatalog({ registry: engineRegistry(ROOT), modelSources: [fromFolder(PLAIN)], fallbackId: 'o200k_base', logger: silentLogger });
  const ids = c.list().map((t) => t.id);
  assert.equal(ids[0], MODEL_TOKENIZER_ID);
  assert.ok(ids.includes('o200k_base') && ids.includes('cl100k_base'));
  assert.equal(new Set(ids).size, ids.length);
});

test('"model" loads from the first model folder that works and reports it', async () => {
  const c = new TokenizerCatalog({ registry: engineRegistry(ROOT), modelSources: [fromFolder('/nonexistent/model'), fromFolder(PLAIN)], fallbackId: 'o200k_base', logger: silentLogger });
  const tok = await c.get(MODEL_TOKENIZER_ID);
  const direct = await loadTokenizerFile(join(PLAIN, 'tokenizer.json'), 'x');
  assert.equal(tok.vocabSize, direct.vocabSize);
  assert.deepEqual(tok.encode('def f(x): return x'), direct.encode('def f(x): return x'));
  assert.equal(c.info(MODEL_TOKENIZER_ID)?.source, PLAIN);
  assert.equal(c.loaded(MODEL_TOKENIZER_ID), tok);
});

test('with no usable model folder "model" falls back to the registry tokenizer, marked approximate', async () => {
  const lines: string[] = [];
  const logger = { ...silentLogger, warn: (m: string) => lines.push(m) };
  const c = new TokenizerCatalog({ registry: engineRegistry(ROOT), modelSources: [fromFolder('/nonexistent/model')], fallbackId: 'o200k_base', logger });
  const tok = await c.get(MODEL_TOKENIZER_ID);
  const o200k = await c.get('o200k_base');
  assert.deepEqual(tok.encode('hello world'), o200k.encode('hello world'));
  assert.equal(c.info(MODEL_TOKENIZER_ID)?.exact, false);
  assert.match(lines.join('\n'), /\/nonexistent\/model/);
  // A model switch makes "model" load again from the new sources.
  c.setModelSources([fromFolder(PLAIN)]);
  const again = await c.get(MODEL_TOKENIZER_ID);
  assert.notEqual(again.vocabSize, o200k.vocabSize);
  assert.equal(c.info(MODEL_TOKENIZER_ID)?.exact, true);
});

test('an unknown id rejects with the known ids', async () => {
  const c = new TokenizerCatalog({ registry: engineRegistry(ROOT), modelSources: [], fallbackId: 'o200k_base', logger: silentLogger });
  await assert.rejects(c.get('nope'), /unknown tokenizer "nope".*o200k_base/);
  assert.equal(c.has('nope'), false);
});

test('a path to a tokenizer.json is a tokenizer id of its own', async () => {
  const c = new TokenizerCatalog({ registry: engineRegistry(ROOT), modelSources: [], fallbackId: 'o200k_base', logger: silentLogger });
  const file = join(PLAIN, 'tokenizer.json');
  assert.equal(isTokenizerFile(file), true);
  assert.equal(isTokenizerFile('o200k_base'), false);
  assert.equal(c.has(file), true);
  assert.equal(c.has(join(PLAIN, 'missing.json')), false);
  const tok = await c.get(file);
  assert.deepEqual(tok.encode('x = 1'), (await loadTokenizerFile(file, 'x')).encode('x = 1'));
  assert.equal(c.info(file)?.vocabSize, tok.vocabSize);
});
