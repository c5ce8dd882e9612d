import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ghostText, splitAtCursor } from '../../../src/extension/text';

const wellFormed = (s: string) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

test('splitAtCursor cuts at the cursor and caps both sides', () => {
  assert.deepEqual(splitAtCursor('abcdef', 3), { prefix: 'abc', suffix: 'def' });
  assert.deepEqual(splitAtCursor('abcdef', 3, 2, 1), { prefix: 'bc', suffix: 'd' });
  assert.deepEqual(splitAtCursor('abc', -5), { prefix: '', suffix: 'abc' });
  assert.deepEqual(splitAtCursor('abc', 99), { prefix: 'abc', suffix: '' });
});

test('splitAtCursor never leaves half a surrogate pair at a cap', () => {
  const text = 'x😀y😀z';
  for (let pc = 0; pc <= 6; pc++) {
    for (let sc = 0; sc <= 6; sc++) {
      const { prefix, suffix } = splitAtCursor(text, 3, pc, sc);
      assert.equal(wellFormed(prefix), true, `prefix cap ${pc}: ${JSON.stringify(prefix)}`);
      assert.equal(wellFormed(suffix), true, `suffix cap ${sc}: ${JSON.stringify(suffix)}`);
      assert.ok(text.slice(0, 3).endsWith(prefix) && text.slice(3).startsWith(suffix));
    }
  }
});

test('ghostText drops empty and whitespace-only completions', () => {
  assert.equal(ghostText(''), undefined);
  assert.equal(ghostText('  \n\t'), undefined);
  assert.equal(ghostText('sage'), 'sage');
  assert.equal(ghostText('\n  return x;'), '\n  return x;');
});
