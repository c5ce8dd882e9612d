/**
 * The workspace cache model: a proper distribution for every context (also
 * with a table so small that it evicts all the time), it learns what
 * repeats, its memory is fixed at construction whatever it is fed, and what
 * is not source (binary, minified, huge) is skipped and logged.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ByteCacheModel } from '../../../src/engine/ensemble/cacheModel';
import { skipReason, validUtf8 } from '../../../src/engine/ensemble/sourceText';
import { WorkspaceCache } from '../../../src/engine/ensemble/workspace';
import { seededRandom } from '../../../src/engine/random';

const root = join(__dirname, '..', '..', '..');
const enc = new TextEncoder();

function sourceFiles(dir: string, max = 12): Uint8Array[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .slice(0, max)
    .map((f) => readFileSync(join(dir, f)));
}

function sum(p: Float64Array): number {
  let s = 0;
  for (let b = 0; b < 256; b++) s += p[b]!;
  return s;
}

test('probabilities sum to 1 (1e-9) and stay positive for every context: seen, unseen, short, binary, after heavy eviction', () => {
  const rnd = seededRandom(7);
  for (const memoryBytes of [32 * 1024 * 1024, 300 * 1024]) {
    const m = new ByteCacheModel({ memoryBytes });
    const empty = m.predict(new Uint8Array(0));
    assert.ok(Math.abs(sum(empty) - 1) < 1e-9);
    const files = sourceFiles(join(root, 'src', 'engine', 'boundary'));
    for (const f of files) m.observe(f);
    if (memoryBytes < 1024 * 1024) assert.ok(m.evictions > 0, 'the small table must have evicted');
    const contexts: Uint8Array[] = [new Uint8Array(0), enc.encode('x'), enc.encode('\0\0\0'), enc.encode('  return this.'), new Uint8Array(64).map(() => Math.floor(rnd() * 256))];
    for (const f of files) for (let i = 0; i < 40; i++) contexts.push(f.subarray(0, Math.floor(rnd() * f.length)));
    for (const ctx of contexts) {
      const p = m.predict(ctx);
      assert.ok(Math.abs(sum(p) - 1) < 1e-9, `sum ${sum(p)}`);
      for (let b = 0; b < 256; b++) assert.ok(p[b]! > 0, 'every byte keeps some probability');
    }
  }
});

test('it learns what repeats: a line seen before is predicted far better than by a fresh model', () => {
  const text = enc.encode('const userNameLookupTable = buildLookup(records, "name");\n');
  const m = new ByteCacheModel({ memoryBytes: 1 << 20 });
  const bitsOf = (model: ByteCacheModel) => {
    let bits = 0;
    const buf = new Uint8Array(text.length * 2);
    buf.set(text, 0);
    buf.set(text, text.length);
    for (let i = text.length; i < buf.length; i++) bits -= Math.log2(model.predict(buf, i)[buf[i]!]!);
    return bits / text.length;
  };
  const fresh = bitsOf(m);
  m.observe(text);
  const learnt = bitsOf(m);
  assert.ok(fresh > 6, `fresh ${fresh}`);
  assert.ok(learnt < 0.5, `after one occurrence: ${learnt} bits/byte`);
  assert.ok(m.lastOrder >= 16, 'a long context matched');
});

test('memory is fixed at construction: many files and a 5 MB minified file do not grow it', () => {
  const budget = 2 * 1024 * 1024;
  const logs: string[] = [];
  const ws = new WorkspaceCache({ memoryBytes: budget, logger: { trace() {}, debug() {}, info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(String(m)) } });
  const before = ws.model.memoryBytes;
  assert.ok(before <= budget, `${before} <= ${budget}`);
  // A minified bundle: one 5 MB line.
  const minified = 'var a=function(b){return b+1};'.repeat(5 * 1024 * 1024 / 30);
  const t0 = performance.now();
  const r = ws.feedDocument('file:///bundle.min.js', minified);
  assert.equal(r.queued, false);
  assert.match(r.reason!, /too large|minified/);
  assert.ok(logs.some((l) => l.includes('bundle.min.js')), 'the skip is logged');
  // Many files: 800 distinct 1 KB sources, far more statistics than the table holds.
  const rnd = seededRandom(3);
  for (let i = 0; i < 800; i++) {
    const words = Array.from({ length: 40 }, () => `id${Math.floor(rnd() * 1e6)}`).join(' = ');
    ws.feedDocument(`file:///f${i}.ts`, `${words};\n`.repeat(2));
  }
  ws.drain();
  assert.equal(ws.model.memoryBytes, before, 'memory does not grow');
  assert.ok(ws.model.fill <= 1);
  assert.ok(ws.counters.bytesLearnt > 600_000);
  assert.ok(ws.model.evictions > 0, 'the table filled up and evicted');
  assert.ok(Math.abs(sum(ws.model.predict(enc.encode('id12 = id'))) - 1) < 1e-9);
  // Generous bound: the skip check is a scan, never a parse.
  assert.ok(performance.now() - t0 < 60_000);
});

test('queued text is learnt in slices; an already fed version is not fed twice', () => {
  const ws = new WorkspaceCache({ memoryBytes: 1 << 20, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
  const text = 'function f() {\n  return 1;\n}\n'.repeat(100);
  assert.equal(ws.feedDocument('a', text, 1).queued, true);
  assert.equal(ws.feedDocument('a', text, 1).queued, false);
  assert.ok(ws.pump(100), 'more is left after a 100-byte slice');
  assert.equal(ws.counters.bytesLearnt, 100);
  ws.drain();
  assert.equal(ws.pendingBytes, 0);
  assert.equal(ws.feedEdit('a', 'x', 'return 1;').queued, true);
  ws.drain();
  assert.equal(ws.recentBits().length, 'return 1;'.length, 'edits are predicted before they are learnt');
  assert.ok(ws.recentMeanBits()! < 3);
});

test('binary, minified and huge inputs are recognised; source and non-ASCII text are not', () => {
  assert.match(skipReason(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]))!, /binary/);
  assert.match(skipReason(new Uint8Array(4000).map((_, i) => (i * 7) % 32))!, /binary/);
  assert.match(skipReason(new Uint8Array([0x61, 0xff, 0xfe, 0x61]))!, /binary \(not UTF-8\)/);
  assert.match(skipReason(enc.encode('x'.repeat(2 * 1024 * 1024)))!, /too large/);
  assert.match(skipReason(enc.encode(`${'a=1;'.repeat(10000)}\n`))!, /minified/);
  assert.equal(skipReason(readFileSync(join(root, 'src', 'engine', 'boundary', 'covers.ts'))), undefined);
  assert.equal(skipReason(enc.encode('def f():\n\treturn "日本語 😀"\r\n')), undefined);
  assert.equal(validUtf8(enc.encode('😀').subarray(0, 2)), true, 'a sequence cut at the window end is fine');
});

test('bad input never throws: lone surrogates, NUL, CRLF, tabs, a 1 MB line', () => {
  const ws = new WorkspaceCache({ memoryBytes: 1 << 20, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
  for (const t of ['a\ud800b', '\0\0\0', 'x\r\ny\r\n', '\t\t\t}', 'y'.repeat(1024 * 1024)]) {
    ws.feedDocument(`k${t.length}`, t);
    ws.feedEdit('e', t.slice(0, 10), t.slice(0, 1000));
  }
  ws.drain();
  const p = ws.model.predict(enc.encode('\ud800\0\r'));
  assert.ok(Math.abs(sum(p) - 1) < 1e-9);
});
