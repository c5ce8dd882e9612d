import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DocumentTokens, splitLines, type LineEdit } from '../../../src/extension/documentTokens';
import { rng, tokenizer } from './helpers';

const SAMPLE = [
  'import { readFile } from "node:fs";',
  '',
  'export async function load(path: string): Promise<string> {',
  '\tconst text = await readFile(path, "utf8"); // 読み込み',
  '    return text.replace(/\\r\\n/g, "\\n");   ',
  '}',
  'const emoji = "👍🏽 ok";',
].join('\n');

/** Applies an edit to a plain string the way VS Code would (line/character positions). */
function applyToString(text: string, e: LineEdit): string {
  const lines = splitLines(text);
  const offsetOf = (line: number, ch: number) => {
    let o = 0;
    for (let i = 0; i < line; i++) o += lines[i]!.length + 1;
    return o + ch;
  };
  return text.slice(0, offsetOf(e.startLine, e.startCharacter)) + e.text + text.slice(offsetOf(e.endLine, e.endCharacter));
}

test('per-line counts are each line encoded alone, and the total is the exact whole-text count', async () => {
  const tok = await tokenizer('o200k_base');
  const d = new DocumentTokens(tok, SAMPLE);
  const lines = SAMPLE.split('\n');
  assert.equal(d.lineCount, lines.length);
  lines.forEach((l, i) => assert.equal(d.lineTokens(i), tok.encode(l).length, `line ${i}`));
  assert.equal(d.lineTokens(1), 0);
  assert.equal(d.total(), tok.encode(SAMPLE).length);
  assert.ok(d.totalKnown);
});

test('random edit sequences give the same counts as a full recount, and recount only touched lines', async () => {
  const tok = await tokenizer('o200k_base');
  const r = rng(7);
  const pieces = ['x', ' ', '\n', '\t', '  ', 'foo', 'é', '😀', '\r\n', '}', '"', '\n    return 1;\n'];
  let text = SAMPLE;
  const d = new DocumentTokens(tok, text);
  for (let step = 0; step < 300; step++) {
    const lines = splitLines(text);
    const sl = Math.floor(r() * lines.length);
    const sc = Math.floor(r() * (lines[sl]!.length + 1));
    const el = Math.min(lines.length - 1, sl + (r() < 0.8 ? 0 : Math.floor(r() * 3)));
    const ec = el === sl ? Math.min(lines[el]!.length, sc + Math.floor(r() * 4)) : Math.floor(r() * (lines[el]!.length + 1));
    let insert = '';
    for (let k = Math.floor(r() * 3); k > 0; k--) insert += pieces[Math.floor(r() * pieces.length)]!;
    // Positions inside a surrogate pair do not happen in VS Code; skip those.
    const bad = (l: number, c: number) => c > 0 && /[\udc00-\udfff]/.test(lines[l]![c] ?? '');
    if (bad(sl, sc) || bad(el, ec)) continue;
    const e: LineEdit = { startLine: sl, startCharacter: sc, endLine: el, endCharacter: ec, text: insert };
    const recountedBefore = d.recounted;
    d.apply([e]);
    text = applyToString(text, e).replace(/\r\n?/g, '\n');
    assert.ok(d.recounted - recountedBefore <= splitLines(insert).length, 'only the touched lines were recounted');
    if (step % 10 === 0) {
      const fresh = new DocumentTokens(tok, text);
      assert.equal(d.lineCount, fresh.lineCount, `step ${step}`);
      assert.deepEqual(d.lineTokensRange(0, d.lineCount), fresh.lineTokensRange(0, fresh.lineCount), `step ${step}`);
      assert.equal(d.total(), tok.encode(text).length, `total at step ${step}`);
    }
  }
});

test('several changes of one event apply in order; CRLF documents keep CRLF in the total', async () => {
  const tok = await tokenizer('o200k_base');
  const text = 'a = 1\r\nb = 2\r\nc = 3';
  const d = new DocumentTokens(tok, text);
  assert.equal(d.lineCount, 3);
  assert.equal(d.total(), tok.encode(text).length);
  // Multi-cursor edit as VS Code reports it: later positions first.
  d.apply([
    { startLine: 2, startCharacter: 4, endLine: 2, endCharacter: 5, text: '33' },
    { startLine: 0, startCharacter: 4, endLine: 0, endCharacter: 5, text: '11' },
  ]);
  assert.equal(d.text(), 'a = 11\r\nb = 2\r\nc = 33');
  assert.equal(d.total(), tok.encode('a = 11\r\nb = 2\r\nc = 33').length);
});

test('totalOnly keeps no per-line counts but an exact total; bad input never throws', async () => {
  const tok = await tokenizer('o200k_base');
  const big = 'x'.repeat(1 << 18);
  const d = new DocumentTokens(tok, big, true);
  assert.equal(d.lineTokens(0), undefined);
  assert.deepEqual(d.lineTokensRange(0, 10), []);
  assert.equal(d.total(), tok.encode(big).length);
  const odd = new DocumentTokens(tok, '\u0000\ud800\t\r\n\r');
  odd.apply([{ startLine: 99, startCharacter: 99, endLine: 120, endCharacter: -4, text: '\udc00' }]);
  assert.equal(odd.lineCount, splitLines(odd.text()).length);
  assert.ok(odd.total() > 0);
});
