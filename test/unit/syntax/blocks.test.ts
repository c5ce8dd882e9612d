/** Block spans for the editor overlays, from real parses and from the lexical fallback. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { blockSpans, lexicalBlockSpans } from '../../../src/engine/syntax/blocks';
import { FIXTURE_LANGUAGES, fixture, makeService } from './helpers';

const service = makeService({ parseTimeoutMs: 10_000 });
after(() => service.dispose());

function lineOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, needle);
  return text.slice(0, i).split('\n').length - 1;
}

test('Python: functions and classes with names and inclusive line spans', async () => {
  const text = fixture('sample.py');
  const view = await service.parse('python', text);
  const blocks = blockSpans(view);
  const byName = new Map(blocks.map((b) => [b.name, b]));
  const parse = byName.get('parse_line')!;
  assert.equal(parse.kind, 'function');
  assert.equal(parse.startLine, lineOf(text, 'def parse_line'));
  assert.equal(parse.endLine, lineOf(text, '        return None\n\n\ndef load_inventory'));
  const cls = byName.get('StockItem')!;
  assert.equal(cls.kind, 'class');
  assert.equal(cls.depth, 0);
  const restock = byName.get('restock')!;
  assert.equal(restock.depth, 1, 'a method is nested in its class');
  assert.ok(cls.start <= restock.start && restock.end <= cls.end);
  assert.equal(text.slice(restock.start, restock.end).split('\n').length - 1, restock.endLine - restock.startLine);
  assert.ok(byName.has('report'), 'async def is a function');
  view.dispose();
});

test('every shipped language yields function/class blocks where its fixture has them', async () => {
  for (const [file, languageId] of FIXTURE_LANGUAGES) {
    const view = await service.parse(languageId, fixture(file));
    const blocks = blockSpans(view, { includeBlocks: true });
    if (languageId !== 'ini') assert.ok(blocks.length >= 2, `${file}: ${blocks.length} blocks`);
    for (const b of blocks) {
      assert.ok(b.endLine >= b.startLine + 1 && b.end > b.start);
      assert.ok(['function', 'class', 'block'].includes(b.kind));
    }
    view.dispose();
  }
  const ts = await service.parse('typescript', fixture('sample.ts'));
  const names = blockSpans(ts).map((b) => `${b.kind}:${b.name ?? ''}`);
  assert.ok(names.includes('class:LruCache') && names.includes('function:evictOldest') && names.includes('function:createCache'), names.join(' '));
  ts.dispose();
});

test('lexical fallback: brace blocks in C and indentation blocks in Python-like text', () => {
  const c = fixture('sample.c');
  const blocks = lexicalBlockSpans(c);
  const reserve = blocks.find((b) => b.startLine === lineOf(c, 'static int buffer_reserve'))!;
  assert.ok(reserve, 'the function body block starts on its header line');
  assert.equal(reserve.endLine, lineOf(c, '    return 0;\n}\n\nint buffer_append') + 1);
  const py = lexicalBlockSpans(fixture('sample.py'));
  assert.ok(py.some((b) => b.kind === 'function' && b.startLine === lineOf(fixture('sample.py'), 'def load_inventory')));
});
