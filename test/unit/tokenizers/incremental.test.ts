import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BpeTokenizer } from '../../../src/engine/tokenizers/bpe';
import { sanitize } from '../../../src/engine/tokenizers/bytes';
import { DocumentTokenCounter } from '../../../src/engine/tokenizers/incremental';
import { codeSamples, FULL, nastyStrings, rng } from './corpus';
import { builtin } from './references';

/** Per-line counts from scratch: every piece of the whole text, attributed to the line it starts on. */
function fullLineCounts(tok: BpeTokenizer, text: string): number[] {
  const counts = new Array<number>(text.split('\n').length).fill(0);
  const lineOf: number[] = [];
  let line = 0;
  for (let i = 0; i < text.length; i++) {
    lineOf.push(line);
    if (text[i] === '\n') line++;
  }
  tok.forEachPiece(sanitize(text), 0, text.length, (s, _e, n) => {
    counts[lineOf[s]!]! += n;
  });
  return counts;
}

const SNIPPETS = ['\n', '\n\n', '  ', '    ', '\t', '}', '{\n', '//', '/', ' x', 'foo', '\r\n', ' \n ', "'s", '123', '😀', '\u0301', 'é', '\ufeff', '  \n\n  ', 'return ', '\u00a0', '\u3000', '<think>', 'ﬁ', '\ud800'];

function randomEdits(tok: BpeTokenizer, base: string, seed: number, steps: number, checkLines: boolean): void {
  const r = rng(seed);
  const counter = new DocumentTokenCounter(tok, base);
  let text = base;
  for (let step = 0; step < steps; step++) {
    const start = Math.floor(r() * (text.length + 1));
    const deleted = r() < 0.5 ? 0 : Math.floor(r() * Math.min(40, text.length - start + 1));
    let ins = '';
    const n = r() < 0.3 ? 0 : 1 + Math.floor(r() * 3);
    for (let k = 0; k < n; k++) ins += SNIPPETS[Math.floor(r() * SNIPPETS.length)]!;
    counter.applyEdit(start, deleted, ins);
    text = text.slice(0, start) + ins + text.slice(start + deleted);
    assert.equal(counter.text(), text);
    const want = tok.encode(text).length;
    assert.equal(counter.total(), want, `${tok.id} step ${step}: edit at ${start} -${deleted} +${JSON.stringify(ins)}`);
    if (checkLines && step % 5 === 0) assert.deepEqual(Array.from({ length: counter.lineTotal }, (_, i) => counter.lineCount(i)), fullLineCounts(tok, text), `${tok.id} step ${step}`);
  }
}

for (const id of ['o200k_base', 'cl100k_base', 'llama3', 'qwen3', 'deepseek-v3', 'claude']) {
  test(`${id}: incremental counts after random edit sequences equal a full recount`, () => {
    const tok = builtin(id);
    const docs = codeSamples(id.length * 31, 1, 1500).slice(0, FULL ? 40 : 8);
    docs.push({ name: 'nasty', text: nastyStrings().map((s) => s.text).join('\n') });
    let seed = 1;
    for (const { text } of docs) randomEdits(tok, text, seed++, FULL ? 200 : 40, !tok.normalizes);
  });
}

test('gemma3 (no line anchors: one segment) stays exact', () => {
  const tok = builtin('gemma3');
  randomEdits(tok, codeSamples(3, 1, 800)[0]!.text, 9, 15, true);
});

test('pieces that cross lines are handled: blank-line runs, "}\\n", indentation, "/" after a newline', () => {
  const tok = builtin('o200k_base');
  const text = 'a {\n\n\n    b\n}\n/x\n  \n  \n\tc';
  const counter = new DocumentTokenCounter(tok, text);
  assert.equal(counter.total(), tok.encode(text).length);
  assert.deepEqual(Array.from({ length: counter.lineTotal }, (_, i) => counter.lineCount(i)), fullLineCounts(tok, text));
  // Typing a newline into indentation merges it into the blank-line run of the line above.
  const at = text.indexOf('    b') + 2;
  counter.applyEdit(at, 0, '\n');
  const after = text.slice(0, at) + '\n' + text.slice(at);
  assert.equal(counter.total(), tok.encode(after).length);
  assert.equal(counter.rangeCount(0, counter.lineTotal), counter.total());
});
