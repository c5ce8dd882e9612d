/** UTF-16 <-> UTF-8 offsets against Node's own encoder, including the awkward cases. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCompleteUtf8, OffsetMap, utf16ToUtf8, utf8Length, utf8ToUtf16 } from '../../../src/engine/syntax/offsets';
import { fixture } from './helpers';

const SAMPLES = [
  '',
  'plain ascii',
  'naïve café 日本語 🚀🎉 x',
  'lone \ud800 high and \udc00 low surrogates',
  'crlf\r\nand\ttabs\0nul',
  fixture('sample.py'),
  '𝒳'.repeat(100) + 'a'.repeat(70) + 'é'.repeat(65),
];

test('utf16ToUtf8 equals the byte length of the encoded prefix at every offset', () => {
  const enc = new TextEncoder();
  for (const s of SAMPLES) {
    for (let i = 0; i <= s.length; i++) {
      // Between the halves of a pair, the pair counts as a whole.
      const split = i > 0 && i < s.length && /[\ud800-\udbff]/.test(s[i - 1]!) && /[\udc00-\udfff]/.test(s[i]!);
      const expected = enc.encode(s.slice(0, split ? i + 1 : i)).length;
      assert.equal(utf16ToUtf8(s, i), expected, `${JSON.stringify(s.slice(0, 20))} @${i}`);
    }
    assert.equal(utf8Length(s), enc.encode(s).length);
  }
});

test('utf8ToUtf16 inverts utf16ToUtf8 and maps mid-character bytes to the character start', () => {
  for (const s of SAMPLES) {
    for (let i = 0; i <= s.length; i++) {
      const b = utf16ToUtf8(s, i);
      const back = utf8ToUtf16(s, b);
      assert.ok(back === i || (back === i + 1 && /[\udc00-\udfff]/.test(s[i]!)), `${i} -> ${b} -> ${back}`);
    }
  }
  assert.equal(utf8ToUtf16('é', 1), 0);
  assert.equal(utf8ToUtf16('a🚀', 3), 1);
  assert.equal(utf8ToUtf16('a🚀', 5), 3);
  assert.equal(utf8ToUtf16('a', 99), 1);
  assert.equal(utf16ToUtf8('a', -5), 0);
});

test('OffsetMap agrees with the plain functions at every offset', () => {
  for (const s of SAMPLES) {
    const map = new OffsetMap(s);
    for (let i = 0; i <= s.length; i++) assert.equal(map.toUtf8(i), utf16ToUtf8(s, i), `toUtf8 @${i}`);
    for (let b = 0; b <= map.totalBytes + 1; b++) assert.equal(map.toUtf16(b), utf8ToUtf16(s, b), `toUtf16 @${b}`);
  }
});

test('decodeCompleteUtf8 holds back an unfinished trailing character', () => {
  const bytes = new TextEncoder().encode('ab€🚀');
  assert.deepEqual(decodeCompleteUtf8(bytes), { text: 'ab€🚀', bytes: bytes.length });
  assert.deepEqual(decodeCompleteUtf8(bytes.subarray(0, bytes.length - 1)), { text: 'ab€', bytes: 5 });
  assert.deepEqual(decodeCompleteUtf8(bytes.subarray(0, 4)), { text: 'ab', bytes: 2 });
  assert.deepEqual(decodeCompleteUtf8(new Uint8Array()), { text: '', bytes: 0 });
});
