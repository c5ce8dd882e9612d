import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OffsetMap } from '../../../src/engine/syntax/offsets';
import {
  blockOverlayText,
  escapeMarkdown,
  groupDigits,
  hexBytes,
  inlineCode,
  lineOverlayText,
  markdownTable,
  statusText,
  tokenIndexAt,
  tokenSegments,
  tokensLabel,
  visibleWhitespace,
} from '../../../src/extension/format';
import { tokenizer } from './helpers';

test('counts and overlay labels', () => {
  assert.equal(groupDigits(0), '0');
  assert.equal(groupDigits(999), '999');
  assert.equal(groupDigits(1234567), '1,234,567');
  assert.equal(tokensLabel(1), '1 token');
  assert.equal(tokensLabel(1234), '1,234 tokens');
  assert.equal(lineOverlayText(0), undefined, 'blank lines get no label');
  assert.equal(lineOverlayText(12)?.trim(), '12');
  assert.equal(blockOverlayText('function', 'greet', 57), '57 tokens in function greet');
  assert.equal(blockOverlayText('class', undefined, 1), '1 token in class');
});

test('visibleWhitespace shows spaces, tabs, line breaks and control characters, never a lone surrogate', () => {
  assert.equal(visibleWhitespace(' a\tb\r\n'), '·a→b␍↵');
  assert.equal(visibleWhitespace('\u0000\u0001\u007f'), '␀␁␡');
  assert.equal(visibleWhitespace('\u00a0\ufeff'), '⍽␣');
  assert.equal(visibleWhitespace('😀'), '😀');
  assert.equal(visibleWhitespace('a\ud800b\udc00'), 'a\ufffdb\ufffd');
  assert.equal(visibleWhitespace('é中'), 'é中');
});

test('hexBytes and Markdown helpers', () => {
  assert.equal(hexBytes(Uint8Array.of(0x20, 0xff)), '0x20 0xFF');
  assert.match(hexBytes(new Uint8Array(20), 4), /… \(20 bytes\)$/);
  assert.equal(inlineCode('a`b'), '``a`b``');
  assert.equal(inlineCode('`x'), '`` `x ``');
  assert.equal(inlineCode('·foo'), '`·foo`');
  assert.equal(escapeMarkdown('*a|b*'), '\\*a\\|b\\*');
  const table = markdownTable(['A', 'B'], [['1', 'x|y']]);
  assert.equal(table, '| A | B |\n| --- | --- |\n| 1 | x\\|y |');
});

test('statusText shows model state, tokenizer, file and selection counts, latency only when ready', () => {
  assert.equal(statusText({ model: 'ready', tokenizerLabel: 'o200k_base', fileTokens: 1234, lastLatencyMs: 87.4 }), '$(sparkle) o200k_base · 1,234 tokens · 87 ms');
  assert.equal(statusText({ model: 'loading', tokenizerLabel: 'model', fileTokens: 10, selectionTokens: 3, lastLatencyMs: 5 }), '$(loading~spin) model · 3/10 tokens');
  assert.equal(statusText({ model: 'error', tokenizerLabel: 'model' }), '$(error) model');
});

test('tokenSegments tiles the text, one segment per token on ASCII', async () => {
  const tok = await tokenizer('o200k_base');
  const text = 'function greet(name) {\n  return "hi " + name;\n}\n';
  const { ids, offsets } = tok.encodeWithOffsets(text);
  const segs = tokenSegments(text, offsets);
  assert.equal(segs.length, ids.length);
  assert.equal(segs[0]!.start, 0);
  assert.equal(segs.at(-1)!.end, text.length);
  for (let i = 0; i < segs.length; i++) {
    assert.equal(text.slice(segs[i]!.start, segs[i]!.end), tok.decode([ids[i]!]));
    if (i) assert.equal(segs[i]!.start, segs[i - 1]!.end);
  }
});

test('tokenSegments merges tokens that split a multi-byte character (emoji, CJK under cl100k)', async () => {
  const tok = await tokenizer('cl100k_base');
  const text = 'x = "😀👍🏽 こんにちは 𝔘"; // done';
  const { ids, offsets } = tok.encodeWithOffsets(text);
  const map = new OffsetMap(text);
  const segs = tokenSegments(text, offsets, map);
  assert.ok(segs.length < ids.length, 'some tokens split characters, so there are fewer segments');
  assert.equal(segs.reduce((n, s) => n + s.tokens, 0), ids.length, 'every token is in exactly one segment');
  for (const s of segs) {
    // Every segment is whole characters and equals its tokens' bytes decoded.
    const bytes = tok.decodeBytes(ids.slice(s.firstToken, s.firstToken + s.tokens));
    assert.equal(new TextDecoder('utf-8', { fatal: true }).decode(bytes), text.slice(s.start, s.end));
  }
});

test('tokenSegments and tokenIndexAt handle empty input, lone surrogates and NUL', async () => {
  const tok = await tokenizer('o200k_base');
  assert.deepEqual(tokenSegments('', []), []);
  const text = 'a\ud800b\u0000c';
  const { offsets } = tok.encodeWithOffsets(text);
  const segs = tokenSegments(text, offsets);
  assert.equal(segs[0]!.start, 0);
  assert.equal(segs.at(-1)!.end, text.length);
  assert.equal(tokenIndexAt([], 3), -1);
  assert.equal(tokenIndexAt([0, 4, 9], 0), 0);
  assert.equal(tokenIndexAt([0, 4, 9], 8), 1);
  assert.equal(tokenIndexAt([0, 4, 9], 100), 2);
});
