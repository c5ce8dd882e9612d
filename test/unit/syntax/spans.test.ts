/**
 * Identifier spans at every character of real files in every shipped
 * language, checked against an independent character-class oracle, and the
 * lexical fallback checked against the tree.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Node } from 'web-tree-sitter';
import { lexicalSpanAt } from '../../../src/engine/syntax/lexical';
import type { ParsedText } from '../../../src/engine/syntax/service';
import { identifierSpanAt, spanBytes } from '../../../src/engine/syntax/spans';
import { FIXTURE_LANGUAGES, fixture, makeService } from './helpers';

const service = makeService({ parseTimeoutMs: 10_000 });
const parsed = new Map<string, ParsedText>();

before(async () => {
  for (const [file, languageId] of FIXTURE_LANGUAGES) parsed.set(file, await service.parse(languageId, fixture(file)));
});
after(() => {
  for (const p of parsed.values()) p.dispose();
  service.dispose();
});

const ASCII_WORD = /[A-Za-z0-9_]/;
const ASCII_IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Independent oracle: the ASCII word left of the cursor, else right of it. */
function oracleWord(text: string, offset: number): { start: number; end: number } | undefined {
  let at: number;
  if (offset > 0 && ASCII_WORD.test(text[offset - 1]!)) at = offset - 1;
  else if (offset < text.length && ASCII_WORD.test(text[offset]!)) at = offset;
  else return undefined;
  let s = at;
  while (s > 0 && ASCII_WORD.test(text[s - 1]!)) s--;
  let e = at + 1;
  while (e < text.length && ASCII_WORD.test(text[e]!)) e++;
  return { start: s, end: e };
}

/** Leaves of the tree whose type is one of the grammar's identifier types. */
function identifierLeaves(root: Node, types: readonly string[]): Node[] {
  const out: Node[] = [];
  const stack: Node[] = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (types.includes(n.type)) out.push(n);
    else stack.push(...n.children);
  }
  return out;
}

for (const [file, languageId] of FIXTURE_LANGUAGES) {
  test(`${languageId}: the fixture parses cleanly with the shipped grammar`, () => {
    const view = parsed.get(file)!;
    assert.ok(view.tree, 'expected a tree');
    assert.equal(view.tree.rootNode.hasError, false, `${file} has parse errors`);
  });

  test(`${languageId}: identifier spans at every character agree with the oracle and the lexical scanner`, () => {
    const view = parsed.get(file)!;
    const text = view.text;
    const spec = view.spec!;
    const leaves = identifierLeaves(view.tree!.rootNode, spec.identifiers).filter((n) => ASCII_IDENT.test(n.text));
    assert.ok(leaves.length >= 5, `only ${leaves.length} ASCII identifier nodes in ${file}`);
    let checked = 0;
    let lexicalAgreed = 0;
    for (const leaf of leaves) {
      // Every cursor position inside or right after the identifier, including `getUs|` and `get|Name`.
      for (let offset = leaf.startIndex + 1; offset <= leaf.endIndex; offset++) {
        const span = identifierSpanAt(view, offset);
        assert.ok(span, `${file}@${offset}: no span`);
        assert.equal(span.source, 'tree');
        assert.equal(span.kind, 'identifier', `${file}@${offset} (${leaf.text}): kind ${span.kind}`);
        const oracle = oracleWord(text, offset)!;
        assert.deepEqual({ start: span.start, end: span.end }, oracle, `${file}@${offset}: tree ${span.text} vs oracle ${text.slice(oracle.start, oracle.end)}`);
        assert.equal(span.text, leaf.text);
        // The lexical scanner must find the same word for identifiers outside strings/comments.
        const lex = lexicalSpanAt(text, offset, languageId);
        if (lex && lex.start === span.start && lex.end === span.end) lexicalAgreed++;
        checked++;
      }
    }
    assert.ok(checked > 30, `${file}: only ${checked} positions checked`);
    assert.ok(lexicalAgreed / checked > 0.97, `${file}: lexical agreed at ${lexicalAgreed}/${checked}`);
  });

  test(`${languageId}: a span exists at every non-blank position and contains the cursor's character`, () => {
    const view = parsed.get(file)!;
    const text = view.text;
    for (let offset = 0; offset <= text.length; offset++) {
      const span = identifierSpanAt(view, offset);
      const left = text[offset - 1] ?? ' ';
      const right = text[offset] ?? ' ';
      if (!span) {
        assert.ok(/\s/.test(left) && /\s/.test(right), `${file}@${offset}: no span between ${JSON.stringify(left + right)}`);
        continue;
      }
      assert.ok(span.start <= offset && offset <= span.end, `${file}@${offset}: span ${span.start}-${span.end} misses the cursor`);
      assert.ok(span.end > span.start);
      assert.equal(span.text, text.slice(span.start, span.end));
      if (span.container) assert.ok(span.container.start <= span.start && span.end <= span.container.end);
    }
  });
}

test('mid-word and left-word cursors give the whole identifier (Python)', () => {
  const view = parsed.get('sample.py')!;
  const at = view.text.indexOf('total_value(self)');
  for (const cut of [1, 5, 6, 11]) {
    const span = identifierSpanAt(view, at + cut)!;
    assert.equal(span.text, 'total_value');
    assert.equal(span.nodeType, 'identifier');
  }
  // `(|self`: nothing word-like on the left, so the word on the right.
  assert.equal(identifierSpanAt(view, at + 'total_value('.length)!.text, 'self');
});

test('strings, comments, numbers and operators get their own kinds', () => {
  const view = parsed.get('sample.py')!;
  const t = view.text;
  const inString = identifierSpanAt(view, t.indexOf('ünïcode"') + 3)!;
  assert.equal(inString.kind, 'string');
  assert.equal(inString.text, 'ünïcode');
  assert.ok(inString.container && t.slice(inString.container.start, inString.container.end) === '"naïve ünïcode"');
  const inComment = identifierSpanAt(view, t.indexOf('emoji in') + 2)!;
  assert.equal(inComment.kind, 'comment');
  assert.equal(inComment.text, 'emoji');
  const num = identifierSpanAt(view, t.indexOf('250') + 2)!;
  assert.deepEqual([num.kind, num.text], ['number', '250']);
  const op = identifierSpanAt(view, t.indexOf('>=') + 1)!;
  assert.deepEqual([op.kind, op.text], ['operator', '>=']);
  const kw = identifierSpanAt(view, t.indexOf('return None') + 3)!;
  assert.deepEqual([kw.kind, kw.text], ['keyword', 'return']);
  const uni = identifierSpanAt(view, t.indexOf('_café') + 3)!;
  assert.deepEqual([uni.kind, uni.text, uni.source], ['identifier', '_café', 'tree']);
});

test('spanBytes converts a span with non-ASCII text to UTF-8 byte offsets', () => {
  const view = parsed.get('sample.py')!;
  const span = identifierSpanAt(view, view.text.indexOf('_café') + 2)!;
  const bytes = spanBytes(view.text, span);
  const all = Buffer.from(view.text, 'utf8');
  assert.equal(all.subarray(bytes.start, bytes.end).toString('utf8'), '_café');
});

test('C (no grammar) uses the lexical scanner for every position', async () => {
  const text = fixture('sample.c');
  const view = await service.parse('c', text);
  assert.equal(view.tree, undefined);
  assert.ok(service.logLines.some((l) => l.startsWith('info:') && l.includes('"c"') && l.includes('lexical')));
  let words = 0;
  for (let offset = 0; offset <= text.length; offset++) {
    const span = identifierSpanAt(view, offset);
    const oracle = oracleWord(text, offset);
    if (oracle && span && span.kind !== 'string' && span.kind !== 'comment') {
      assert.deepEqual({ start: span.start, end: span.end }, oracle, `sample.c@${offset}`);
      assert.equal(span.source, 'lexical');
      words++;
    }
  }
  assert.ok(words > 500);
  const inComment = identifierSpanAt(view, text.indexOf('growable') + 3)!;
  assert.equal(inComment.kind, 'comment');
  const inString = identifierSpanAt(view, text.indexOf('"stdio.h"') + 0);
  assert.ok(inString);
});

test('words in text-like leaves (JSX text) are words, not the whole leaf; word tokens are keywords', () => {
  const view = parsed.get('sample.tsx')!;
  const t = view.text;
  const jsx = identifierSpanAt(view, t.indexOf('Remaining:') + 4)!;
  assert.deepEqual([jsx.text, jsx.kind, jsx.source], ['Remaining', 'string', 'tree']);
  assert.ok(jsx.container && t.slice(jsx.container.start, jsx.container.end).startsWith('Remaining:'));
  const ts = parsed.get('sample.ts')!;
  const num = identifierSpanAt(ts, ts.text.indexOf('size(): number') + 10)!;
  assert.deepEqual([num.text, num.kind], ['number', 'keyword']);
  const thisKw = identifierSpanAt(ts, ts.text.indexOf('this.entries.size;') + 2)!;
  assert.deepEqual([thisKw.text, thisKw.kind], ['this', 'keyword']);
});
