/**
 * Per-block trees (chunks.ts) for long Python documents: the plan tiles the
 * text at line starts, each block's tree agrees with a whole-file parse
 * around every offset, typing keeps the block trees current through
 * SyntaxService.updateDocument, and edits a block cannot contain drop the
 * blocks without ever making the whole tree wrong.
 *
 * The text is real Python of this repository (tools/train/*.py), once as it
 * is (top-level blocks) and once indented into one long class (blocks cut
 * inside the class body, with the class line as context).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Node, Tree } from 'web-tree-sitter';
import { silentLogger } from '../../../src/engine/log';
import { ChunkedTrees } from '../../../src/engine/syntax/chunks';
import { SyntaxService, type SyntaxView } from '../../../src/engine/syntax/service';
import { identifierSpanAt } from '../../../src/engine/syntax/spans';
import { GRAMMARS_DIR, ROOT, ensureGrammars } from './helpers';
import { seededRandom } from '../../../src/engine/random';

ensureGrammars();
const TRAIN = join(ROOT, 'tools', 'train');
const FLAT = readdirSync(TRAIN)
  .filter((n) => n.endsWith('.py'))
  .sort()
  .map((n) => readFileSync(join(TRAIN, n), 'utf8').replace(/\r\n/g, '\n'))
  .join('\n');
const NESTED = 'class Everything:\n' + FLAT.split('\n').map((l) => (l ? '    ' + l : l)).join('\n');
const LINES = 40;
const KEYWORDS = new Set(
  'False None True and as assert async await break case class continue def del elif else except exec finally for from global if import in is lambda match nonlocal not or pass print raise return try type while with yield'.split(' '),
);

const service = new SyntaxService({ grammarsDir: GRAMMARS_DIR, logger: silentLogger, chunkLines: LINES, documentParseTimeoutMs: 10_000, parseTimeoutMs: 10_000 });
test.after(() => service.dispose());

function leafAt(tree: Tree, at: number): Node {
  return tree.rootNode.descendantForIndex(at, at + 1)!;
}

/** Offsets to probe: the start and the middle of every word, plus punctuation, spread over the text. */
function probes(text: string, count: number, seed: number): number[] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, () => Math.floor(rand() * text.length));
}

for (const [name, text] of [
  ['top-level blocks', FLAT],
  ['blocks inside one long class', NESTED],
] as const) {
  test(`plan (${name}): own ranges tile the text at line starts, contexts precede them, every block parses cleanly`, async () => {
    const lang = (await service.language('python'))!;
    const whole = service.parseWith(lang, text, undefined, 10_000)!;
    const chunks = ChunkedTrees.plan(whole, text, LINES)!;
    assert.ok(chunks && chunks.size >= text.split('\n').length / LINES / 2, `${chunks?.size} blocks`);
    const layout = chunks.layout();
    let at = 0;
    const lineStart = (o: number) => o === 0 || o === text.length || text[o - 1] === '\n';
    for (const { own, context } of layout) {
      assert.equal(own[0], at);
      assert.ok(own[1] > own[0] && lineStart(own[0]) && lineStart(own[1]));
      let prev = 0;
      for (const [s, e] of context) {
        assert.ok(s >= prev && e <= own[0] && lineStart(s) && lineStart(e));
        prev = e;
      }
      at = own[1];
    }
    assert.equal(at, text.length);
    if (name.includes('class')) assert.ok(layout.some((c) => c.context.length > 0), 'some blocks have the class line as context');
    assert.ok(chunks.parseDirty(text, (t, old, ranges) => service.parseWith(lang, t, old, 10_000, ranges)));
    let compared = 0;
    for (const o of probes(text, 600, 11)) {
      const block = chunks.treeAt(o)!;
      assert.equal(block.rootNode.hasError, false);
      const own = layout.find((c) => c.own[0] <= o && o < c.own[1])!.own;
      // Every node of the whole tree that lies inside the block's own range, from the leaf up, is in the block's tree.
      for (let b: Node | null = leafAt(whole, o); b && b.startIndex >= own[0] && b.endIndex <= own[1]; b = b.parent) {
        const a = block.rootNode.descendantForIndex(b.startIndex, b.endIndex);
        let match: Node | null = a;
        while (match && !(match.type === b.type && match.startIndex === b.startIndex && match.endIndex === b.endIndex)) match = match.parent;
        assert.ok(match, `offset ${o}: ${b.type} ${b.startIndex}-${b.endIndex} not in the block's tree`);
        compared++;
      }
    }
    assert.ok(compared > 1000, `${compared} nodes compared`);
    chunks.dispose();
    whole.delete();
  });
}

/** The view's identifier span with its block tree and with the whole tree must agree. */
function sameSpans(view: SyntaxView, offsets: number[], why: string): void {
  const whole: SyntaxView = { text: view.text, languageId: view.languageId, spec: view.spec, tree: view.tree };
  for (const o of offsets) assert.deepEqual(identifierSpanAt(view, o), identifierSpanAt(whole, o), `${why}, offset ${o}`);
}

test('typing through the service keeps every block tree current (identifier edits, new lines, duplicated lines)', async () => {
  await service.openDocument('typing', 'python', NESTED);
  assert.ok(service.chunkCount('typing') > 10);
  const rand = seededRandom(5);
  let text = NESTED;
  let clean = 0;
  for (let i = 0; i < 80; i++) {
    const kind = i % 4;
    let start: number;
    let oldEnd: number;
    let ins: string;
    if (kind === 3) {
      // Paste a copy of a one-line assignment above itself.
      const re = /^[ \t]*\w+(\.\w+)* = [^\n]*[^:\\,([{\n]$/gm;
      re.lastIndex = Math.floor(rand() * text.length);
      const m = re.exec(text) ?? re.exec(text);
      start = oldEnd = m!.index;
      ins = m![0] + '\n';
    } else if (kind === 2) {
      // A blank line at a line start.
      start = oldEnd = text.indexOf('\n', Math.floor(rand() * text.length)) + 1;
      ins = '\n';
    } else {
      // Rename an identifier (not a keyword, and not into one): a letter in, or its last letter out.
      const re = /(?<![\w.])[A-Za-z_]\w+/g;
      let m: RegExpExecArray | null;
      do {
        re.lastIndex = Math.floor(rand() * text.length);
        m = re.exec(text);
      } while (!m || KEYWORDS.has(m[0]) || KEYWORDS.has(m[0].slice(0, -1)) || KEYWORDS.has(m[0] + 'q'));
      start = m.index + m[0].length - 1;
      oldEnd = kind === 1 ? start + 1 : start;
      ins = kind === 0 ? 'q' : '';
    }
    service.updateDocument('typing', [{ start, oldEnd, text: ins }]);
    text = text.slice(0, start) + ins + text.slice(oldEnd);
    const view = service.documentView('typing')!;
    assert.equal(view.text, text);
    const fresh = await service.parse('python', text);
    // The whole tree (re-parsed when read) is exactly a fresh parse, blocks or not.
    const offsets = [start, Math.max(0, start - 1), ...probes(text, 8, i)];
    if (!fresh.tree!.rootNode.hasError) {
      clean++;
      const block = view.treeAt!(start);
      assert.ok(block && block !== view.tree, `edit ${i}: a block's tree answers at the edit (${JSON.stringify(ins)} at ${start})`);
      for (const o of offsets) {
        // Tokens (leaves) are the same in the block's tree and in a fresh whole-file parse.
        const b = leafAt(fresh.tree!, o);
        if (b.childCount > 0) continue;
        const a = leafAt(view.treeAt!(o)!, o);
        assert.deepEqual([a.type, a.startIndex, a.endIndex], [b.type, b.startIndex, b.endIndex], `edit ${i}, offset ${o}`);
      }
    }
    if (i % 10 === 0) {
      assert.equal(view.tree!.rootNode.toString(), fresh.tree!.rootNode.toString(), `edit ${i}: whole tree`);
      // Error recovery may place an ERROR differently in a block than in the whole file; spans agree on valid code.
      if (!fresh.tree!.rootNode.hasError) sameSpans(view, offsets, `edit ${i}`);
    }
    fresh.dispose();
  }
  assert.ok(clean >= 60, `${clean} of 80 edits left valid code to compare with`);
  assert.ok(service.chunkCount('typing') > 10, 'identifier edits, new lines and pasted lines stay inside their blocks');
  service.closeDocument('typing');
});

test('Backspace at the start of a block joins it with the block before (no re-plan), and the joined line parses as one', async () => {
  await service.openDocument('join', 'python', FLAT);
  const n = service.chunkCount('join');
  const doc = (service as unknown as { documents: Map<string, { chunks: ChunkedTrees }> }).documents.get('join')!;
  // A block whose first line follows a non-blank line: Backspace at its start joins two lines of code.
  const [, second] = doc.chunks.layout().filter((c) => c.context.length === 0 && c.own[0] > 1 && FLAT[c.own[0] - 2] !== '\n');
  const at = second!.own[0];
  service.updateDocument('join', [{ start: at - 1, oldEnd: at, text: '' }]);
  assert.equal(service.chunkCount('join'), n - 1);
  const text = FLAT.slice(0, at - 1) + FLAT.slice(at);
  const view = service.documentView('join')!;
  const fresh = await service.parse('python', text);
  const block = view.treeAt!(at - 1)!;
  assert.notEqual(block, view.tree);
  // The joined line is one line now in both trees: the same leaves from the line's start to its end.
  const ls = text.lastIndexOf('\n', at - 2) + 1;
  const le = text.indexOf('\n', at);
  for (let o = ls; o < le; o++) {
    const a = leafAt(block, o);
    const b = leafAt(fresh.tree!, o);
    if (b.childCount === 0) assert.deepEqual([a.type, a.startIndex, a.endIndex], [b.type, b.startIndex, b.endIndex], `offset ${o}`);
  }
  fresh.dispose();
  service.closeDocument('join');
});

test('edits a block cannot contain drop the blocks; the whole tree stays exact and the blocks come back on a clean read', async () => {
  await service.openDocument('structural', 'python', FLAT);
  const before = service.chunkCount('structural');
  assert.ok(before > 10);
  let text = FLAT;
  const edit = (start: number, oldEnd: number, ins: string) => {
    service.updateDocument('structural', [{ start, oldEnd, text: ins }]);
    text = text.slice(0, start) + ins + text.slice(oldEnd);
  };
  // An unterminated triple-quoted string: the real parse runs it to the end of the file.
  const mid = text.indexOf('\ndef ', text.length >> 1) + 1;
  edit(mid, mid, '"""\n');
  let view = service.documentView('structural')!;
  assert.ok(view.treeAt!(mid), 'a tree at the edit');
  let fresh = await service.parse('python', text);
  assert.equal(view.tree!.rootNode.toString(), fresh.tree!.rootNode.toString());
  fresh.dispose();
  edit(mid, mid + 4, '');
  // A deletion across a block boundary: blocks dropped, whole tree still exact.
  const layoutCut = text.indexOf('\n', mid + 2000);
  edit(layoutCut - 40, layoutCut + 3000, '');
  view = service.documentView('structural')!;
  fresh = await service.parse('python', text);
  assert.equal(view.tree!.rootNode.toString(), fresh.tree!.rootNode.toString());
  if (!fresh.tree!.rootNode.hasError) assert.ok(service.chunkCount('structural') > 0, 'reading the whole tree re-planned the blocks');
  fresh.dispose();
  // Bad input: NUL, lone surrogates, CRLF, a 1 MB line, never a throw.
  edit(0, 0, 'x = "\0\ud800"\r\n' + 'y = ' + '1 + '.repeat(250_000) + '1\n');
  view = service.documentView('structural')!;
  assert.equal(view.text, text);
  assert.equal(identifierSpanAt(view, 1)?.text, 'x');
  assert.ok(view.treeAt!(text.length - 5), 'a tree at the end of the long line');
  service.closeDocument('structural');
});
