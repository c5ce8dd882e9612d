import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../../src/cli/main';
import type { CliIo } from '../../../src/cli/subcommands';
import { ROOT } from './corpus';
import { builtin } from './references';

async function run(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    readStdin: async () => Buffer.from(stdin, 'utf8'),
    packageRoot: ROOT,
  };
  const code = await main(args, io);
  return { code, out, err };
}

test('subword tokenizers lists the built-ins with sizes, sources and exactness', async () => {
  const r = await run(['tokenizers', '--json']);
  assert.equal(r.code, 0, r.err);
  const list = JSON.parse(r.out) as Array<{ id: string; vocabSize: number; source: string; exact: boolean }>;
  const byId = new Map(list.map((t) => [t.id, t]));
  for (const id of ['o200k_base', 'cl100k_base', 'llama3', 'qwen3', 'gemma3', 'deepseek-v3']) {
    assert.ok(byId.get(id)?.exact, id);
    assert.ok(byId.get(id)!.vocabSize > 100_000, id);
    assert.match(byId.get(id)!.source, /@\d+\.\d+\.\d+$/);
  }
  assert.equal(byId.get('o200k_base')!.vocabSize, 200019);
  assert.equal(byId.get('claude')?.exact, false);
  const table = await run(['tokenizers']);
  assert.match(table.out, /^claude\s+65000\s+approximate/m);
});

test('subword count prints the token count; --json has tokenizer, tokens, bytes, chars', async () => {
  const text = 'def f(x):\r\n\treturn x  # 😀 中文\n';
  const r = await run(['count', '--tokenizer', 'o200k_base', '--json', '-'], text);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), {
    tokenizer: 'o200k_base',
    tokens: builtin('o200k_base').encode(text).length,
    bytes: Buffer.byteLength(text),
    chars: [...text].length,
  });
  const plain = await run(['count', '-t', 'cl100k_base'], text);
  assert.equal(plain.out, `${builtin('cl100k_base').encode(text).length}\n`);
});

test('subword tokenize prints offsets, ids and token text that add up to the input', async () => {
  const text = 'héllo wörld\tfoo_bar(1234)';
  const r = await run(['tokenize', '-t', 'llama3', '--json'], text);
  assert.equal(r.code, 0, r.err);
  const toks = JSON.parse(r.out) as Array<{ id: number; offset: number; length: number; text: string }>;
  assert.deepEqual(
    toks.map((t) => t.id),
    builtin('llama3').encode(text),
  );
  assert.equal(toks.map((t) => t.text).join(''), text);
  assert.equal(toks.at(-1)!.offset + toks.at(-1)!.length, Buffer.byteLength(text));
  const lines = (await run(['tokenize', '-t', 'llama3'], text)).out.trim().split('\n');
  assert.equal(lines.length, toks.length);
  assert.match(lines[0]!, /^0\t\d+\t"h/);
});

test('bad tokenizer ids and files give clear errors, not crashes', async () => {
  const unknown = await run(['count', '--tokenizer', 'gpt-17'], 'x');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /unknown tokenizer "gpt-17"; known: .*o200k_base/);
  const dir = mkdtempSync(join(tmpdir(), 'subword-tok-'));
  const bad = join(dir, 'tokenizer.json');
  writeFileSync(bad, '{"model": {"type": "Unigram", "vocab": []}}');
  const r = await run(['count', '--tokenizer', bad], 'x');
  assert.equal(r.code, 1);
  assert.ok(r.err.includes(bad), r.err);
  assert.match(r.err, /model type "Unigram" is not supported/);
  const opt = await run(['count', '--frobnicate']);
  assert.equal(opt.code, 2);
  assert.match(opt.err, /unknown option --frobnicate/);
});
