/**
 * SyntaxService: lazy loading, fallbacks (no grammar, corrupt grammar),
 * incremental parsing equal to a fresh parse, and bad input that must not
 * block (time-bounded parse, size bound, NUL, lone surrogates, CRLF).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { blockSpans } from '../../../src/engine/syntax/blocks';
import { fromEditorChanges, pointAt } from '../../../src/engine/syntax/service';
import { identifierSpanAt } from '../../../src/engine/syntax/spans';
import { GRAMMARS_DIR, fixture, makeService } from './helpers';

const service = makeService({ parseTimeoutMs: 10_000, documentParseTimeoutMs: 10_000 });
after(() => service.dispose());

test('grammars load lazily, once, by VS Code language id', async () => {
  const s = makeService();
  try {
    assert.equal(s.loadedLanguage('rust'), undefined);
    assert.equal(s.hasGrammar('rust'), true);
    const [a, b] = await Promise.all([s.language('rust'), s.language('rust')]);
    assert.ok(a && a === b);
    assert.equal(s.loadedLanguage('rust'), a);
    // typescriptreact shares nothing with typescript: it needs the tsx grammar.
    assert.equal((await s.language('typescriptreact'))?.grammar, 'tsx');
    assert.equal((await s.language('javascriptreact'))?.grammar, 'javascript');
    assert.equal(s.loadedLanguage('python'), undefined, 'python was never asked for');
  } finally {
    s.dispose();
  }
});

test('a corrupt grammar falls back to lexical rules and says so once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'subword-grammars-'));
  try {
    for (const f of readdirSync(GRAMMARS_DIR)) copyFileSync(join(GRAMMARS_DIR, f), join(dir, f));
    writeFileSync(join(dir, 'tree-sitter-python.wasm'), Buffer.from('\0asm\x01\0\0\0 definitely not a grammar'));
    rmSync(join(dir, 'tree-sitter-go.wasm'));
    const s = makeService({ grammarsDir: dir, parseTimeoutMs: 10_000 });
    try {
      const text = fixture('sample.py');
      const view = await s.parse('python', text);
      assert.equal(view.tree, undefined);
      await s.parse('python', text);
      const warnings = s.logLines.filter((l) => l.startsWith('warn:') && l.includes('tree-sitter-python.wasm'));
      assert.equal(warnings.length, 1, s.logLines.join('\n'));
      assert.match(warnings[0]!, /lexical/);
      const at = text.indexOf('restock(self') + 3;
      const span = identifierSpanAt(view, at)!;
      assert.deepEqual([span.text, span.kind, span.source], ['restock', 'identifier', 'lexical']);
      // A missing file is a load failure too; other grammars in the folder still work.
      assert.equal((await s.parse('go', fixture('sample.go'))).tree, undefined);
      assert.ok(s.logLines.some((l) => l.startsWith('warn:') && l.includes('tree-sitter-go.wasm')));
      const rust = await s.parse('rust', fixture('sample.rs'));
      assert.ok(rust.tree);
      rust.dispose();
      // Block spans still come back, from indentation.
      assert.ok(blockSpans(view).some((b) => b.kind === 'function' && b.startLine === text.split('\n').findIndex((l) => l.startsWith('def parse_line'))));
    } finally {
      s.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Deterministic PRNG for the edit sequences. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const [file, languageId] of [
  ['sample.py', 'python'],
  ['sample.ts', 'typescript'],
  ['sample.rs', 'rust'],
] as const) {
  test(`${languageId}: incremental re-parse after each of 150 edits equals a fresh parse`, async () => {
    const rand = rng(languageId.length * 7919);
    await service.openDocument(file, languageId, fixture(file));
    const inserts = ['x', 'é', '🚀', '\n', '(', ')', '  ', 'foo', '"', '\r\n', '{\n}'];
    for (let i = 0; i < 150; i++) {
      const view = service.documentView(file)!;
      const text = view.text;
      const start = Math.floor(rand() * (text.length + 1));
      const del = rand() < 0.4 ? Math.min(text.length - start, Math.floor(rand() * 6)) : 0;
      const ins = rand() < 0.8 ? inserts[Math.floor(rand() * inserts.length)]! : '';
      // Never split a surrogate pair: editors do not either.
      const safe = (o: number) => (o > 0 && o < text.length && /[\udc00-\udfff]/.test(text[o]!) ? o + 1 : o);
      const s0 = safe(start);
      const e0 = safe(Math.max(s0, start + del));
      service.updateDocument(file, [{ start: s0, oldEnd: e0, text: ins }]);
      const after = service.documentView(file)!;
      assert.equal(after.text, text.slice(0, s0) + ins + text.slice(e0));
      assert.ok(after.tree, `edit ${i}: no tree`);
      const fresh = await service.parse(languageId, after.text);
      assert.equal(after.tree.rootNode.toString(), fresh.tree!.rootNode.toString(), `edit ${i} (${JSON.stringify(ins)} at ${s0})`);
      assert.equal(after.tree.rootNode.endIndex, after.text.length);
      fresh.dispose();
    }
    service.closeDocument(file);
    assert.equal(service.documentView(file), undefined);
  });
}

test('several changes in one event (descending offsets) and given positions', async () => {
  const text = 'def a():\n    return 1\n\ndef b():\n    return 2\n';
  await service.openDocument('multi', 'python', text);
  const i1 = text.indexOf('2');
  const i0 = text.indexOf('1');
  service.updateDocument('multi', [
    { start: i1, oldEnd: i1 + 1, text: 'b_value', startPosition: { row: 4, column: 11 }, oldEndPosition: { row: 4, column: 12 } },
    { start: i0, oldEnd: i0 + 1, text: 'a_value' },
  ]);
  const view = service.documentView('multi')!;
  assert.equal(view.text, 'def a():\n    return a_value\n\ndef b():\n    return b_value\n');
  const fresh = await service.parse('python', view.text);
  assert.equal(view.tree!.rootNode.toString(), fresh.tree!.rootNode.toString());
  fresh.dispose();
  service.replaceDocument('multi', 'x = 1\n');
  assert.equal(service.documentView('multi')!.tree!.rootNode.toString(), '(module (expression_statement (assignment left: (identifier) right: (integer))))');
  service.closeDocument('multi');
});

test('edits reach the tree at once; the re-parse waits for the next view (or runs at once with eagerReparse)', async () => {
  for (const eager of [false, true]) {
    const s = makeService({ documentParseTimeoutMs: 10_000, eagerReparse: eager });
    try {
      await s.openDocument('d', 'python', 'def f(a):\n    return a\n');
      const before = s.documentView('d')!.tree!;
      s.updateDocument('d', [{ start: 4, oldEnd: 4, text: 'my_' }]);
      s.updateDocument('d', [{ start: 0, oldEnd: 0, text: '\n' }]);
      const view = s.documentView('d')!;
      assert.equal(view.text, '\ndef my_f(a):\n    return a\n');
      assert.notEqual(view.tree, before, 'a new tree after the edits');
      const name = view.tree!.rootNode.descendantForIndex(6, 7)!;
      assert.deepEqual([name.type, name.text], ['identifier', 'my_f']);
    } finally {
      s.dispose();
    }
  }
});

test('fromEditorChanges: a multi-cursor event (ranges against the old text, any order) applies correctly', async () => {
  const text = 'alpha = 1\nbeta = 2\ngamma = 3\n';
  await service.openDocument('mc', 'python', text);
  // Three cursors, each typing "_x" after a name; VS Code lists them in any order.
  const names = ['alpha', 'beta', 'gamma'];
  const changes = names.map((n) => {
    const off = text.indexOf(n) + n.length;
    const p = pointAt(text, off);
    return { rangeOffset: off, rangeLength: 0, text: '_x', range: { start: { line: p.row, character: p.column }, end: { line: p.row, character: p.column } } };
  });
  service.updateDocument('mc', fromEditorChanges([changes[1]!, changes[0]!, changes[2]!]));
  const view = service.documentView('mc')!;
  assert.equal(view.text, 'alpha_x = 1\nbeta_x = 2\ngamma_x = 3\n');
  const fresh = await service.parse('python', view.text);
  assert.equal(view.tree!.rootNode.toString(), fresh.tree!.rootNode.toString());
  assert.equal(identifierSpanAt(view, view.text.indexOf('gamma_x') + 3)!.text, 'gamma_x');
  fresh.dispose();
  service.closeDocument('mc');
});

test('a 50,000-line file: the parse is bounded in time and spans fall back to lexical rules', async () => {
  const s = makeService({ documentParseTimeoutMs: 20, parseTimeoutMs: 20 });
  try {
    const unit = fixture('sample.py');
    const lines = unit.split('\n');
    const big = Array.from({ length: Math.ceil(50_000 / (lines.length - 1)) + 1 }, () => unit).join('');
    assert.ok(big.split('\n').length >= 50_000);
    await s.language('python');
    const t0 = performance.now();
    await s.openDocument('big', 'python', big);
    const openMs = performance.now() - t0;
    const view = s.documentView('big')!;
    assert.equal(view.tree, undefined, 'a 20 ms budget cannot parse 50,000 lines');
    assert.ok(openMs < 2000, `open took ${openMs} ms`);
    assert.ok(s.logLines.some((l) => l.includes('gave up')), s.logLines.join('\n'));
    const at = big.lastIndexOf('load_inventory') + 4;
    const t1 = performance.now();
    assert.equal(identifierSpanAt(view, at)!.text, 'load_inventory');
    // Keystrokes keep working (each re-parse also gives up within its budget).
    s.updateDocument('big', [{ start: at, oldEnd: at, text: 'x' }]);
    assert.equal(identifierSpanAt(s.documentView('big')!, at + 1)!.text, 'loadx_inventory');
    assert.ok(performance.now() - t1 < 2000);
    // The parser was reset: a small parse right after succeeds.
    const small = await s.parse('python', 'x = 1\n', 5000);
    assert.ok(small.tree);
    small.dispose();
  } finally {
    s.dispose();
  }
});

test('a 1 MB line and a text over the size bound do not block', async () => {
  const s = makeService({ parseTimeoutMs: 30, maxParseLength: 2_000_000 });
  try {
    const line = 'total = ' + 'alpha_value + '.repeat(80_000) + 'omega\n';
    assert.ok(line.length > 1_000_000);
    await s.language('typescript');
    const t0 = performance.now();
    const view = await s.parse('typescript', line);
    const span = identifierSpanAt(view, line.length - 3)!;
    assert.equal(span.text, 'omega');
    const mid = identifierSpanAt(view, 500_003)!;
    assert.ok(mid.text === 'alpha_value' || mid.kind === 'operator', JSON.stringify(mid));
    assert.ok(performance.now() - t0 < 3000);
    view.dispose();
    const huge = 'a'.repeat(2_000_001);
    const hv = await s.parse('typescript', huge);
    assert.equal(hv.tree, undefined);
    assert.equal(identifierSpanAt(hv, 10)!.end - identifierSpanAt(hv, 10)!.start <= 8192, true);
  } finally {
    s.dispose();
  }
});

test('files that do not parse, NUL, lone surrogates and CRLF never throw', async () => {
  const inputs = [
    ')))}}} def def class ( [ "unterminated\n\0\0 x = ',
    'x = "\ud800" + y\r\nz = \udc00w\r\n',
    '\0'.repeat(1000),
    '\r\n\r\n\t\t\r\n',
    '',
  ];
  for (const languageId of ['python', 'typescript', 'cpp', 'c', 'css']) {
    for (const text of inputs) {
      const view = await service.parse(languageId, text);
      for (let o = -1; o <= text.length + 1; o++) identifierSpanAt(view, o);
      blockSpans(view);
      view.dispose();
    }
  }
  const view = await service.parse('python', inputs[1]!);
  assert.equal(identifierSpanAt(view, inputs[1]!.indexOf('w') + 1)!.text.endsWith('w'), true);
  view.dispose();
});

test('dispose frees everything; later calls answer without a tree', async () => {
  const s = makeService({ documentParseTimeoutMs: 10_000 });
  await s.openDocument('d', 'python', 'x = 1\n');
  assert.ok(s.documentView('d')!.tree);
  s.dispose();
  assert.equal(s.documentView('d'), undefined);
  const v = await s.parse('python', 'x = 1\n');
  assert.equal(v.tree, undefined);
});
