/**
 * Completion post-processing on real code: merging a mid-word completion
 * into the suffix, overlap removal, stop rules (as the boundary strategies'
 * stopAt callback and on finished text), indentation, and ranking by the
 * parse errors a candidate leaves (real grammars).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  applyStopRules,
  chooseStopMode,
  countSyntaxErrors,
  createStopAt,
  detectIndentation,
  errorCounterFrom,
  finalizeCompletion,
  mergeIntoSuffix,
  rankCandidates,
  reindent,
  trimOverlap,
  type CompletionContext,
  type ErrorCounter,
} from '../../../src/engine/syntax/postprocess';
import { fixture, makeService } from './helpers';

const service = makeService({ parseTimeoutMs: 10_000 });
let pyErrors: ErrorCounter;
let tsErrors: ErrorCounter;
before(async () => {
  await service.language('python');
  await service.language('typescript');
  pyErrors = errorCounterFrom((t) => service.parseLoaded('python', t));
  tsErrors = errorCounterFrom((t) => service.parseLoaded('typescript', t));
});
after(() => service.dispose());

/** Splits a fixture at the first `|` marker of `marked` (a unique excerpt of the file with the cursor). */
function at(file: string, languageId: string, marked: string, extra: Partial<CompletionContext> = {}): CompletionContext {
  const text = fixture(file);
  const plain = marked.replace('|', '');
  const idx = text.indexOf(plain);
  assert.ok(idx >= 0, `excerpt not in ${file}: ${plain}`);
  const cursor = idx + marked.indexOf('|');
  return { languageId, prefix: text.slice(0, cursor), suffix: text.slice(cursor), ...extra };
}

function insert(ctx: CompletionContext, completion: string): string {
  return ctx.prefix + completion + ctx.suffix;
}

// ---- merging into the word after the cursor ----

test('mid-word: the model repeats the rest of the word -> only the new part is inserted', () => {
  const ctx = at('sample.py', 'python', 'def total_|value(self)');
  assert.equal(mergeIntoSuffix(ctx, 'stock_value(self) -> float:'), 'stock_');
  assert.ok(insert(ctx, 'stock_').includes('def total_stock_value(self)'));
});

test('mid-word: a cut that makes an identifier the file defines is preferred', () => {
  // `tot|value`: the model goes on with `al_items`; `total_value` is defined in the file.
  const base = at('sample.py', 'python', 'rows = |sorted(');
  const ctx: CompletionContext = { ...base, prefix: base.prefix + 'x = it.tot', suffix: 'value\n' + base.suffix };
  assert.equal(mergeIntoSuffix(ctx, 'al_items()'), 'al_');
  // Without the definition elsewhere in the file the model's whole word is kept.
  const bare: CompletionContext = { languageId: 'python', prefix: 'x = it.tot', suffix: 'value\n' };
  assert.equal(mergeIntoSuffix(bare, 'al_items()'), 'al_items');
  // `na|me` + `mespace`: no non-empty cut makes a known word; the model's word stands whole
  // (inserting nothing is the model's call, by starting with punctuation, not ours).
  const ctx2 = at('sample.py', 'python', 'inventory[item.na|me] = item');
  assert.equal(mergeIntoSuffix(ctx2, 'mespace'), 'mespace');
  assert.equal(mergeIntoSuffix(ctx2, '] = item'), '');
  // `Stock|Item` + `Item`: the model spelled out the rest of the word; nothing to add.
  const ctx3 = at('sample.py', 'python', 'def parse_line(line: str) -> Optional[Stock|Item]:');
  assert.equal(mergeIntoSuffix(ctx3, 'Item'), '', 'the model repeated the rest: nothing to add');
});

test('mid-word without a known identifier: the whole first word, never a cut inside a different word', () => {
  const ctx: CompletionContext = { languageId: 'python', prefix: 'x = make_', suffix: 'thing(1)\n' };
  const out = mergeIntoSuffix(ctx, 'big_new thing(1)');
  assert.equal(out, 'big_new');
  assert.equal(finalizeCompletion(ctx, 'big_new thing(1)\ny = 2').text, 'big_new');
  // The model's word runs past the suffix's part: cut before it (`get|Name` + `UserNames`).
  assert.equal(mergeIntoSuffix({ languageId: 'typescript', prefix: 'const n = get', suffix: 'Name();' }, 'UserNames();'), 'User');
});

test('a completion the generator ended at the suffix join is inserted as it is, past the word', () => {
  // `user.get|Name()` where the true middle is `Profile().display`: the merge rules would keep `Profile`.
  const ctx: CompletionContext = { languageId: 'typescript', prefix: 'const n = user.get', suffix: 'Name();\n' };
  const joined = 'Profile().display';
  assert.equal(finalizeCompletion(ctx, joined).text, 'Profile', 'without the flag the rules cut it (else this proves nothing)');
  assert.equal(finalizeCompletion(ctx, joined, undefined, { joinsSuffix: true }).text, joined);
});

test('mid-word: a completion that starts with punctuation inserts nothing (the word was already complete)', () => {
  const ctx = at('sample.ts', 'typescript', 'this.evict|Oldest();');
  assert.equal(mergeIntoSuffix(ctx, '();\n    }'), '');
  assert.equal(finalizeCompletion(ctx, '();\n    }').text, '');
});

test('suffix starting with punctuation: no merge, overlap with the suffix is removed', () => {
  const ctx = at('sample.ts', 'typescript', 'entry.touchedAt = ++this.cl|ock;');
  // The model repeats exactly the rest of the word: nothing to insert.
  assert.equal(mergeIntoSuffix(ctx, 'ock'), '');
  const ctx2: CompletionContext = { languageId: 'typescript', prefix: 'const n = Math.max(', suffix: ');\n' };
  assert.equal(mergeIntoSuffix(ctx2, 'a, b);'), 'a, b);', 'nothing to merge: the suffix starts with punctuation');
  assert.equal(trimOverlap(ctx2, 'a, b);', tsErrors), 'a, b');
  assert.equal(finalizeCompletion(ctx2, 'a, b);', tsErrors).text, 'a, b');
});

test('suffix on the next line: the next line\'s word is not merged into', () => {
  const ctx: CompletionContext = { languageId: 'python', prefix: 'def f(items):\n    total = comp', suffix: '\n    count = 0\n' };
  assert.equal(mergeIntoSuffix(ctx, 'ute_total(items)'), 'ute_total(items)');
  assert.equal(finalizeCompletion(ctx, 'ute_total(items)\n    count = 0\n', pyErrors).text, 'ute_total(items)');
});

// ---- overlap ----

test('overlap: closing brackets that already follow are not repeated; balanced ones are kept', () => {
  const ctx: CompletionContext = { languageId: 'python', prefix: 'print(load_inventory(', suffix: ')\n' };
  assert.equal(trimOverlap(ctx, 'lines))', pyErrors), 'lines)');
  // Only the inner call is closed by the model: the suffix's `)` closes print, keep the model's `)`.
  assert.equal(trimOverlap(ctx, 'lines)', pyErrors), 'lines)');
  // Lexical fallback (no grammar) reaches the same answers by bracket balance.
  assert.equal(trimOverlap({ ...ctx, languageId: 'c' }, 'lines))'), 'lines)');
  assert.equal(trimOverlap({ ...ctx, languageId: 'c' }, 'lines)'), 'lines)');
});

test('overlap: lines that already follow the cursor are dropped', () => {
  const ctx = at('sample.ts', 'typescript', '      this.evictOldest();|\n    }\n  }\n\n  private evictOldest');
  const out = trimOverlap(ctx, '\n      this.options.onEvict?.(key);\n    }\n  }', tsErrors);
  assert.equal(out, '\n      this.options.onEvict?.(key);');
  assert.equal(finalizeCompletion({ ...ctx, mode: 'free' }, '\n      this.options.onEvict?.(key);\n    }\n  }', tsErrors).text, '\n      this.options.onEvict?.(key);');
  const py = at('sample.py', 'python', '            inventory[item.name] = item\n|    return inventory');
  // Cursor at the start of the `return` line: the kept text must end with its line break.
  assert.equal(trimOverlap(py, '    inventory.pop("")\n    return inventory', pyErrors), '    inventory.pop("")\n');
  const eol = at('sample.py', 'python', '            inventory[item.name] = item|\n    return inventory');
  assert.equal(trimOverlap(eol, '\n        seen += 1\n    return inventory\n', pyErrors), '\n        seen += 1');
});

test('overlap: a cut inside a word is never made', () => {
  const ctx: CompletionContext = { languageId: 'python', prefix: 'x = coun', suffix: 't = 0\n' };
  // Not mid-word for trimOverlap's purposes: `count` + `t = 0` is left alone.
  assert.equal(trimOverlap({ languageId: 'python', prefix: 'x = ', suffix: 't = 0\n' }, 'count'), 'count');
  assert.equal(finalizeCompletion(ctx, 'ter').text, 'ter');
});

// ---- stop rules ----

const enc = new TextEncoder();

test('stopAt: mid-word generation stops at the end of the word (bytes, multi-byte safe)', () => {
  const ctx = at('sample.py', 'python', 'def total_|value(self)');
  const stopAt = createStopAt(ctx);
  assert.equal(stopAt(enc.encode('stock')), undefined);
  assert.equal(stopAt(enc.encode('stöck_')), undefined);
  assert.equal(stopAt(enc.encode('stöck(')), 'stöck'.length + 1);
  // Invalid / partial UTF-8 never throws.
  assert.equal(stopAt(new Uint8Array([0xe2, 0x82])), undefined);
});

test('stopAt: line mode ends at the end of the line', () => {
  const ctx: CompletionContext = { languageId: 'typescript', prefix: 'const total = items.', suffix: ' // sum\nnext();\n' };
  assert.equal(chooseStopMode(ctx.prefix, ctx.suffix), 'line');
  const stopAt = createStopAt(ctx);
  assert.equal(stopAt(enc.encode('reduce((a, b) => a + b, 0);')), undefined);
  assert.equal(stopAt(enc.encode('reduce((a, b) => a + b, 0);\nconsole')), 'reduce((a, b) => a + b, 0);'.length);
  // A leading newline (the completion starts on the next line) is not the end.
  const ctx2: CompletionContext = { languageId: 'python', prefix: 'x = 1', suffix: '\n', mode: 'line' };
  assert.equal(createStopAt(ctx2)(enc.encode('\ny = 2\nz')), '\ny = 2'.length);
});

test('stopAt: block mode ends at the end of the enclosing block (Python dedent, brace close)', () => {
  const py: CompletionContext = { languageId: 'python', prefix: 'def f(x):\n    y = x + 1\n    ', suffix: '\n\nprint(f(2))\n' };
  assert.equal(chooseStopMode(py.prefix, py.suffix), 'block');
  const g = 'if y > 2:\n        y -= 1\n    return y\n\ndef g():\n    pass';
  assert.equal(createStopAt(py)(enc.encode(g)), 'if y > 2:\n        y -= 1\n    return y'.length);
  assert.equal(applyStopRules(py, g), 'if y > 2:\n        y -= 1\n    return y');
  // Cursor at the end of a block opener: the body, then stop when code returns to the opener's level.
  const opener: CompletionContext = { languageId: 'python', prefix: 'class A:\n    def m(self):', suffix: '\n' };
  assert.equal(applyStopRules(opener, '\n        return 1\n\n    def n(self):\n        return 2'), '\n        return 1');
  // Braces: the suffix already closes the function -> stop before the model's `}`.
  const ts: CompletionContext = { languageId: 'typescript', prefix: 'function f(x: number) {\n  ', suffix: '\n}\n' };
  assert.equal(applyStopRules(ts, 'const y = x * 2;\n  return y;\n}\n\nfunction g() {'), 'const y = x * 2;\n  return y;');
  // The suffix lacks the closer -> keep the model's `}` and stop after it.
  const open: CompletionContext = { languageId: 'typescript', prefix: 'function f(x: number) {\n  ', suffix: '\n\nexport {};\n' };
  assert.equal(applyStopRules(open, 'return x;\n}\n\nfunction g() {}'), 'return x;\n}');
});

test('stopAt: maxLines', () => {
  const ctx: CompletionContext = { languageId: 'python', prefix: 'def f():\n    ', suffix: '\n', mode: 'free', maxLines: 2 };
  assert.equal(applyStopRules(ctx, 'a = 1\n    b = 2\n    c = 3\n    d = 4'), 'a = 1\n    b = 2');
});

// ---- indentation ----

test('indentation: file style detection (tabs, 2 and 4 spaces)', () => {
  assert.deepEqual(
    [detectIndentation(fixture('sample.go')).useTabs, detectIndentation(fixture('sample.py')).width, detectIndentation(fixture('sample.rb')).width],
    [true, 4, 2],
  );
  assert.equal(detectIndentation(fixture('sample.ts')).width, 2);
  assert.equal(detectIndentation(fixture('sample.py')).useTabs, false);
});

test('indentation: a 4-space candidate in a tab-indented Go file becomes tabs', () => {
  const ctx = at('sample.go', 'go', 'func (s *Store) Take(sku string, count int) error {\n|');
  const ctxIndented: CompletionContext = { ...ctx, prefix: ctx.prefix + '\t' };
  const out = reindent(ctxIndented, 'if count <= 0 {\n        return nil\n    }');
  assert.equal(out, 'if count <= 0 {\n\t\treturn nil\n\t}');
});

test('indentation: a tab or 4-space candidate in a 2-space TypeScript file becomes 2 spaces per level', () => {
  const ctx = at('sample.ts', 'typescript', '  set(key: string, value: V): void {\n|');
  const c: CompletionContext = { ...ctx, prefix: ctx.prefix + '    ' };
  assert.equal(reindent(c, 'if (!key) {\n        return;\n    }'), 'if (!key) {\n      return;\n    }');
  assert.equal(reindent(c, 'if (!key) {\n\t\t\treturn;\n\t\t}'), 'if (!key) {\n      return;\n    }');
  // Already right: unchanged.
  assert.equal(reindent(c, 'if (!key) {\n      return;\n    }'), 'if (!key) {\n      return;\n    }');
});

test('indentation: a 2-space candidate in a 4-space Python file becomes 4 spaces per level', () => {
  const ctx = at('sample.py', 'python', '    def total_value(self) -> float:\n|');
  const c: CompletionContext = { ...ctx, prefix: ctx.prefix + '        ' };
  assert.equal(reindent(c, 'if self.quantity:\n          return 0.0\n        return 1.0'), 'if self.quantity:\n            return 0.0\n        return 1.0');
});

// ---- ranking by parse errors ----

test('candidates are ranked by the ERROR/MISSING nodes their insertion leaves (real grammar)', () => {
  const ctx = at('sample.py', 'python', '    return inventory\n|\n\nasync def report');
  const ranked = rankCandidates(ctx, ['\n\ndef broken(:\n    pass', '\n\ndef count_items(inv):\n    return len(inv)'], pyErrors);
  assert.equal(ranked[0]!.index, 1);
  assert.equal(ranked[0]!.errors, 0);
  assert.ok(ranked[1]!.errors! > 0);
  const fin = finalizeCompletion({ ...ctx, mode: 'free' }, ['\n\ndef broken(:\n    pass', '\n\ndef count_items(inv):\n    return len(inv)'], pyErrors);
  assert.ok(fin.text.includes('count_items'));
});

test('countSyntaxErrors counts ERROR and MISSING nodes of a real parse', async () => {
  const ok = await service.parse('typescript', fixture('sample.ts'));
  assert.equal(countSyntaxErrors(ok.tree!), 0);
  ok.dispose();
  const bad = await service.parse('typescript', 'function f( {\n  return [1, 2;\n');
  assert.ok(countSyntaxErrors(bad.tree!) >= 2);
  bad.dispose();
});

test('SyntaxService.finalize loads the grammar and ranks by real parse errors', async () => {
  const s = makeService({ parseTimeoutMs: 10_000 });
  try {
    assert.equal(s.errorCounter('rust'), undefined, 'not loaded yet');
    const ctx: CompletionContext = { languageId: 'rust', prefix: 'fn main() {\n    let v = vec![1, 2];\n    ', suffix: '\n}\n', mode: 'block' };
    const out = await s.finalize(ctx, ['println!("{:?}", v;', 'println!("{:?}", v);']);
    assert.equal(out.text, 'println!("{:?}", v);');
    assert.equal(out.ranked[0]!.errors, 0);
    assert.ok(out.ranked[1]!.errors! > 0);
    assert.ok(s.errorCounter('rust'));
  } finally {
    s.dispose();
  }
});

test('CRLF files: stop rules, overlap and reindent work on \\r\\n lines', () => {
  const ts: CompletionContext = { languageId: 'typescript', prefix: 'function f(x: number) {\r\n  ', suffix: '\r\n}\r\n' };
  assert.equal(applyStopRules(ts, 'const y = x * 2;\r\n  return y;\r\n}\r\n\r\nfunction g() {'), 'const y = x * 2;\r\n  return y;');
  const py: CompletionContext = { languageId: 'python', prefix: 'def f(x):\r\n    y = x', suffix: '\r\n    return y\r\n' };
  assert.equal(trimOverlap(py, ' + 1\r\n    return y', pyErrors), ' + 1');
  const tabs: CompletionContext = { languageId: 'go', prefix: 'func f() {\r\n\tif true {\r\n\t\tx := 1\r\n\t}\r\n\t', suffix: '\r\n}\r\n' };
  assert.equal(reindent(tabs, 'for {\r\n        break\r\n    }'), 'for {\r\n\t\tbreak\r\n\t}');
});

test('line mode: closing a bracket opened before the cursor still stops at the end of the line', () => {
  // `print(na|)`: the model writes `me)` and then runs on into the next statement.
  const ctx = { languageId: 'python', prefix: 'def f(name):\n    print(na', suffix: ')\n' };
  const stopAt = createStopAt({ ...ctx, mode: 'line' });
  const generated = new TextEncoder().encode('me)\n    print(1)\n');
  assert.equal(stopAt(generated), 'me)'.length);
});
