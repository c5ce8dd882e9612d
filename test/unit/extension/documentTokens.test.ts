import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tokenizer } from '../../../src/engine/tokenizers/types';
import { DocumentTokens, splitLines, type LineEdit } from '../../../src/extension/documentTokens';
import { rng, tokenizer } from './helpers';

const SAMPLE = [
  'import { readFile } from "node:fs";',
  '',
  'export async function load(path: string): Promise<string> {',
  '\tconst text = await readFile(path, "utf8"); // 読み込み',
  '    return text.replace(/\\r\\n/g, "\\n");   ',
  '}',
  '',
  '',
  'const emoji = "👍🏽 ok";',
].join('\n');

/** The same tokenizer, hidden behind the plain Tokenizer interface (forces the fallback path). */
function plain(tok: Tokenizer): Tokenizer {
  return {
    id: tok.id,
    vocabSize: tok.vocabSize,
    encode: (t) => tok.encode(t),
    encodeBytes: (b) => tok.encodeBytes(b),
    encodeWithOffsets: (t) => tok.encodeWithOffsets(t),
    tokenBytes: (i) => tok.tokenBytes(i),
    decodeBytes: (ids) => tok.decodeBytes(ids),
    decode: (ids) => tok.decode(ids),
    specialTokenId: (t) => tok.specialTokenId(t),
    isSpecial: (i) => tok.isSpecial(i),
    isCanonical: (ids) => tok.isCanonical(ids),
    tokensStartingWith: (p) => tok.tokensStartingWith(p),
    tokensPrefixOf: (b) => tok.tokensPrefixOf(b),
    stableBoundary: (b) => tok.stableBoundary(b),
  };
}

/** An edit at (line, character) positions of `text`, with its offsets, as VS Code reports it. */
function edit(text: string, sl: number, sc: number, el: number, ec: number, insert: string): LineEdit {
  const lines = text.split('\n');
  const off = (l: number, c: number) => {
    let o = 0;
    for (let i = 0; i < l; i++) o += lines[i]!.length + 1;
    return o + c;
  };
  const offset = off(sl, sc);
  return { startLine: sl, startCharacter: sc, endLine: el, endCharacter: ec, offset, length: off(el, ec) - offset, text: insert };
}

const applyTo = (text: string, e: LineEdit) => text.slice(0, e.offset) + e.text + text.slice(e.offset + e.length);

test('with our BPE core the counts are incremental, per line, and add up to the exact total', async () => {
  const tok = await tokenizer('o200k_base');
  const d = new DocumentTokens(tok, SAMPLE);
  assert.equal(d.incremental, true);
  assert.equal(d.lineCount, SAMPLE.split('\n').length);
  const lines = d.lineTokensRange(0, d.lineCount);
  assert.equal(lines.reduce((a, b) => a + b, 0), tok.encode(SAMPLE).length, 'line counts add up to the whole-text count');
  assert.equal(d.total(), tok.encode(SAMPLE).length);
  assert.ok(d.totalKnown);
  assert.equal(d.lineTokens(-1), undefined);
  assert.equal(d.lineTokens(999), undefined);
});

test('the fallback (a plain Tokenizer) counts each line alone and encodes the whole text for the total', async () => {
  const tok = plain(await tokenizer('o200k_base'));
  const d = new DocumentTokens(tok, SAMPLE);
  assert.equal(d.incremental, false);
  SAMPLE.split('\n').forEach((l, i) => assert.equal(d.lineTokens(i), tok.encode(l).length, `line ${i}`));
  assert.equal(d.total(), tok.encode(SAMPLE).length);
});

for (const kind of ['incremental', 'fallback'] as const) {
  test(`random edit sequences match a full recount (${kind})`, async () => {
    const base = await tokenizer('o200k_base');
    const tok = kind === 'incremental' ? base : plain(base);
    const r = rng(kind === 'incremental' ? 7 : 11);
    const pieces = ['x', ' ', '\n', '\t', '  ', 'foo', 'é', '😀', '}', '"', '\n    return 1;\n', '\n\n', '/'];
    let text = SAMPLE;
    const d = new DocumentTokens(tok, text);
    for (let step = 0; step < 300; step++) {
      const lines = text.split('\n');
      const sl = Math.floor(r() * lines.length);
      const sc = Math.floor(r() * (lines[sl]!.length + 1));
      const el = Math.min(lines.length - 1, sl + (r() < 0.8 ? 0 : Math.floor(r() * 3)));
      const ec = el === sl ? Math.min(lines[el]!.length, sc + Math.floor(r() * 4)) : Math.floor(r() * (lines[el]!.length + 1));
      let insert = '';
      for (let k = Math.floor(r() * 3); k > 0; k--) insert += pieces[Math.floor(r() * pieces.length)]!;
      // Positions inside a surrogate pair do not happen in VS Code; skip those.
      const bad = (l: number, c: number) => c > 0 && /[\udc00-\udfff]/.test(lines[l]![c] ?? '');
      if (bad(sl, sc) || bad(el, ec)) continue;
      const e = edit(text, sl, sc, el, ec, insert);
      const recountedBefore = d.recounted;
      d.apply([e]);
      text = applyTo(text, e);
      if (kind === 'fallback') assert.ok(d.recounted - recountedBefore <= splitLines(insert).length, 'only the touched lines were recounted');
      if (step % 10 === 0) {
        assert.equal(d.text(), text);
        assert.equal(d.lineCount, text.split('\n').length, `step ${step}`);
        assert.equal(d.total(), base.encode(text).length, `total at step ${step}`);
        const fresh = new DocumentTokens(tok, text);
        assert.deepEqual(d.lineTokensRange(0, d.lineCount), fresh.lineTokensRange(0, fresh.lineCount), `step ${step}`);
      }
    }
  });
}

test('several changes of one event (descending offsets) and CRLF documents', async () => {
  const tok = await tokenizer('o200k_base');
  const text = 'a = 1\r\nb = 2\r\nc = 3';
  const d = new DocumentTokens(tok, text);
  assert.equal(d.lineCount, 3);
  assert.equal(d.total(), tok.encode(text).length);
  // Multi-cursor edit as VS Code reports it: later positions first.
  d.apply([
    { startLine: 2, startCharacter: 4, endLine: 2, endCharacter: 5, offset: 18, length: 1, text: '33' },
    { startLine: 0, startCharacter: 4, endLine: 0, endCharacter: 5, offset: 4, length: 1, text: '11' },
  ]);
  assert.equal(d.text(), 'a = 11\r\nb = 2\r\nc = 33');
  assert.equal(d.total(), tok.encode('a = 11\r\nb = 2\r\nc = 33').length);
});

test('a lone CR (a line break for VS Code, not for the counter) moves the document to the fallback, still exact', async () => {
  const tok = await tokenizer('o200k_base');
  const d = new DocumentTokens(tok, 'ab\ncd');
  d.apply([{ startLine: 0, startCharacter: 1, endLine: 0, endCharacter: 1, offset: 1, length: 0, text: '\r' }]);
  assert.equal(d.incremental, false);
  assert.equal(d.lineCount, 3, 'a\\r b\\n cd: three lines as VS Code sees them');
  assert.equal(d.total(), tok.encode('a\rb\ncd').length);
  assert.equal(new DocumentTokens(tok, 'x\ry').incremental, false);
});

test('totalOnly shows no line counts but keeps an exact total; bad input never throws', async () => {
  const tok = await tokenizer('o200k_base');
  const big = 'let x = 1;\n'.repeat(5000);
  const d = new DocumentTokens(tok, big, true);
  assert.equal(d.lineTokens(0), undefined);
  assert.deepEqual(d.lineTokensRange(0, 10), []);
  assert.equal(d.total(), tok.encode(big).length);
  for (const t of [plain(tok), tok]) {
    const odd = new DocumentTokens(t, '\u0000\ud800\t\r\n\r');
    odd.apply([{ startLine: 99, startCharacter: 99, endLine: 120, endCharacter: -4, offset: 99, length: -3, text: '\udc00' }]);
    assert.ok(odd.total() > 0);
  }
});
