/**
 * FIM formats as data: detection from real special-token strings, the
 * prompt layout of each family, and context windows in tokens cut at line
 * boundaries (with the suffix's fair share and a stable prefix start).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { chooseFimFormat, detectFimFormat, FIM_FORMATS, fimFormatById } from '../../../src/engine/fim/formats';
import { buildPrompt, LineTokenCounter, windowPrefix, windowPrefixStart, windowSuffix } from '../../../src/engine/fim/prompt';
import { loadTokenizerFile } from '../../../src/engine/model/tokenizerFile';
import type { Tokenizer } from '../../../src/engine/tokenizers/types';
import { fixture, recordingLogger } from '../model/helpers';

const tokenizers = new Map<string, Tokenizer>();
async function tok(name: string): Promise<Tokenizer> {
  let t = tokenizers.get(name);
  if (!t) {
    t = await loadTokenizerFile(join(fixture(name), 'tokenizer.json'), name);
    tokenizers.set(name, t);
  }
  return t;
}

const EXPECTED: Record<string, string> = {
  starcoder2: 'starcoder2',
  qwen25coder: 'qwen2.5-coder',
  codellama: 'codellama-psm',
  deepseekcoder: 'deepseek-coder',
  codegemma: 'codegemma',
  'subword-nomanifest': 'subword-spm',
  plain: 'plain',
};

test('the FIM format is detected from the special tokens of each family', async () => {
  for (const [name, id] of Object.entries(EXPECTED)) assert.equal(detectFimFormat(await tok(name)).id, id, name);
});

test('the choice is logged, and a manifest format wins when the tokenizer has its tokens', async () => {
  const log = recordingLogger();
  assert.equal(chooseFimFormat(await tok('codellama'), undefined, log, 'm').id, 'codellama-psm');
  assert.match(log.lines.at(-1)![1], /codellama-psm \(detected/);
  assert.equal(chooseFimFormat(await tok('codellama'), 'codellama-spm', log, 'm').id, 'codellama-spm');
  assert.match(log.lines.at(-1)![1], /from the manifest/);
  const plain = await tok('plain');
  assert.throws(() => chooseFimFormat(plain, 'subword-spm', log, 'm'), /lacks <\|fim_prefix\|>/);
  chooseFimFormat(plain, undefined, log, 'm');
  assert.equal(log.lines.at(-1)![0], 'warn');
  assert.equal(fimFormatById('qwen')?.id, 'qwen2.5-coder');
  assert.equal(fimFormatById('nonsense'), undefined);
});

const PREFIX = 'def add(a, b):\n    ret';
const SUFFIX = 'urn a + b\n\nprint(add(1, 2))\n';

test('each format lays out prefix, suffix and middle as its family expects', async () => {
  const expected: Record<string, string> = {
    starcoder2: `<file_sep>src/x.py\n<fim_prefix>${PREFIX}<fim_suffix>${SUFFIX}<fim_middle>`,
    qwen25coder: `<|fim_prefix|>${PREFIX}<|fim_suffix|>${SUFFIX}<|fim_middle|>`,
    codellama: `<s>\u2581<PRE>${PREFIX}\u2581<SUF>${SUFFIX}\u2581<MID>`,
    deepseekcoder: `<\uff5cbegin\u2581of\u2581sentence\uff5c><\uff5cfim\u2581begin\uff5c>${PREFIX}<\uff5cfim\u2581hole\uff5c>${SUFFIX}<\uff5cfim\u2581end\uff5c>`,
    codegemma: `<bos><|fim_prefix|>${PREFIX}<|fim_suffix|>${SUFFIX}<|fim_middle|>`,
    'subword-nomanifest': `<|fim_prefix|><|fim_suffix|>${SUFFIX}<|fim_middle|>`,
    plain: '',
  };
  for (const [name, head] of Object.entries(expected)) {
    const t = await tok(name);
    const format = detectFimFormat(t);
    const p = buildPrompt(format, t, { prefix: PREFIX, suffix: SUFFIX, path: 'src/x.py' }, { contextLength: 2048, maxTokens: 64 }, new LineTokenCounter(t));
    assert.equal(t.decode(p.headIds), head, name);
    // Joint formats continue the prefix as a byte stream (the cursor is at its end).
    assert.equal(new TextDecoder().decode(p.streamBytes), format.joint ? PREFIX : '', name);
    assert.ok(p.stopIds.length > 0, `${name} has stop tokens`);
    for (const id of p.stopIds) assert.ok(t.isSpecial(id));
  }
  // The CodeLlama SPM variant puts the suffix first and streams the prefix.
  const cl = await tok('codellama');
  const spm = buildPrompt(FIM_FORMATS['codellama-spm'], cl, { prefix: PREFIX, suffix: SUFFIX }, { contextLength: 2048, maxTokens: 64 }, new LineTokenCounter(cl));
  assert.equal(cl.decode(spm.headIds), `<s>\u2581<PRE>\u2581<SUF>${SUFFIX}\u2581<MID>`);
  assert.equal(new TextDecoder().decode(spm.streamBytes), PREFIX);
});

function numberedLines(n: number, from = 0): string {
  let s = '';
  for (let i = from; i < from + n; i++) s += `    value_${i} = compute(value_${i - 1}, ${i})\n`;
  return s;
}

test('windows are measured in tokens and cut at line boundaries; the suffix gets its share', async () => {
  const t = await tok('subword-nomanifest');
  const counter = new LineTokenCounter(t);
  const prefix = `${numberedLines(400)}    val`;
  const suffix = `ue_x = 1\n${numberedLines(400, 1000)}`;
  const p = buildPrompt(detectFimFormat(t), t, { prefix, suffix }, { contextLength: 512, maxTokens: 64 }, counter);
  const total = p.headIds.length + t.encodeBytes(p.streamBytes).length;
  assert.ok(total + 64 <= 512, `prompt of ${total} tokens + 64 fits 512`);
  assert.ok(total > 512 * 0.5, `the window is used (${total} tokens)`);
  assert.ok(prefix.endsWith(p.prefixText) && suffix.startsWith(p.suffixText));
  // Whole lines: the prefix window starts at a line start, the suffix window ends at a line end.
  assert.equal(prefix[prefix.length - p.prefixText.length - 1], '\n');
  assert.ok(p.suffixText.endsWith('\n'));
  const suffixTokens = t.encode(p.suffixText).length;
  // About a quarter of the window, in whole lines.
  assert.ok(suffixTokens >= 0.15 * (512 - 64) && suffixTokens <= 0.25 * (512 - 64), `suffix share ${suffixTokens}`);
  // A short prefix leaves its room to the suffix.
  const p2 = buildPrompt(detectFimFormat(t), t, { prefix: 'x = 1\n', suffix }, { contextLength: 512, maxTokens: 64 }, counter);
  assert.ok(t.encode(p2.suffixText).length > 200, 'suffix grows into the unused prefix budget');
});

test('typing keeps the prefix window start (so the KV cache stays valid) until it no longer fits', async () => {
  const t = await tok('subword-nomanifest');
  const counter = new LineTokenCounter(t);
  let prefix = numberedLines(300);
  const start0 = windowPrefixStart(prefix, 300, counter);
  let anchor = { start: start0, head: prefix.slice(start0, start0 + 64) };
  let moved = 0;
  for (let i = 0; i < 60; i++) {
    prefix += 'x';
    const s = windowPrefixStart(prefix, 300, counter, anchor);
    if (s !== anchor.start) moved++;
    anchor = { start: s, head: prefix.slice(s, s + 64) };
  }
  assert.equal(moved, 0, 'the window start did not move while typing 60 characters');
  // The fresh window is filled to 80%, so there is room to grow.
  assert.ok(t.encode(prefix.slice(start0)).length <= 300);
});

test('huge and odd inputs: 1 MB line, 50,000 lines, CRLF, tabs, lone surrogates, NUL', async () => {
  const t = await tok('subword-nomanifest');
  const counter = new LineTokenCounter(t);
  const format = detectFimFormat(t);
  const cases: Array<[string, string, string]> = [
    ['1 MB line', 'x = "' + 'ab'.repeat(512 * 1024), '" + y\n'],
    ['50,000 lines', numberedLines(50_000), numberedLines(50_000)],
    ['CRLF', 'a = 1\r\nb = 2\r\nc', ' = 3\r\n'],
    ['tabs', 'if x:\n\t\tret', '\n\telse:\n'],
    ['lone surrogates', 'x = "\ud800\udc00\ud800', '\udc00y"\n'],
    ['NUL', 'a\u0000b = 1\n', '\u0000\n'],
  ];
  for (const [name, prefix, suffix] of cases) {
    const t0 = performance.now();
    const p = buildPrompt(format, t, { prefix, suffix }, { contextLength: 1024, maxTokens: 64 }, counter);
    const ms = performance.now() - t0;
    assert.ok(p.headIds.length + t.encodeBytes(p.streamBytes).length + 64 <= 1024, name);
    assert.ok(ms < 1500, `${name} took ${ms.toFixed(0)} ms`);
  }
  // The cut of a 1 MB line never splits a surrogate pair.
  const emoji = '\u{1F600}'.repeat(300_000);
  const w = windowPrefix(emoji, 100, counter);
  assert.ok(w.length > 0 && w.length % 2 === 0 && w.codePointAt(0) === 0x1f600);
  assert.ok(windowSuffix(emoji, 100, counter).length % 2 === 0);
  assert.equal(windowPrefix('', 100, counter), '');
  assert.equal(windowSuffix('abc', 0, counter), '');
});
