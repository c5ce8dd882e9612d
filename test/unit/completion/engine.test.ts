/**
 * The completion engine end to end on real onnxruntime sessions: in-process
 * and in a worker thread (same code path), cache and typed-through without
 * model calls, supersede/cancel, load errors without retry storms, odd
 * inputs, and a short reliability run.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CompletionEngine, ModelUnavailableError, type CompletionEngineOptions } from '../../../src/engine/completion/engine';
import { silentLogger } from '../../../src/engine/log';
import { CancelledError } from '../../../src/engine/model/types';
import { fixture, recordingLogger, ROOT, scratchCopy, WORKER_BOOT, WORKER_ENTRY } from '../model/helpers';

const MODEL = fixture('subword-nomanifest');
const REQ = { prefix: 'def add(a, b):\n    return a', suffix: '\n\nprint(add(1, 2))\n', languageId: 'python', maxTokens: 12 };

function inProcess(extra: Partial<CompletionEngineOptions> = {}): CompletionEngine {
  return CompletionEngine.create({ modelDir: MODEL, logger: silentLogger, ...extra });
}

function inWorker(extra: Partial<CompletionEngineOptions> = {}): CompletionEngine {
  return CompletionEngine.create({ modelDir: MODEL, logger: silentLogger, workerScript: WORKER_BOOT, workerBootstrapData: { entry: WORKER_ENTRY }, ...extra });
}

test('state goes loading -> ready, and a completion reports text, ms, tokens and boundary', async () => {
  const engine = inProcess();
  const states: string[] = [engine.state.kind];
  engine.onStateChange((s) => states.push(s.kind));
  const info = await engine.whenReady();
  assert.deepEqual(states, ['loading', 'ready']);
  assert.equal(info.fimFormat, 'subword-spm');
  assert.ok(info.loadMs > 0);
  for (const boundary of ['naive', 'heal', 'exact'] as const) {
    const r = await engine.complete({ ...REQ, boundary });
    assert.equal(typeof r.text, 'string');
    assert.equal(r.boundary, boundary);
    assert.equal(r.cached, false);
    assert.ok(r.tokens >= 1 && r.tokens <= 12 * 4, `tokens ${r.tokens}`);
    assert.ok(r.ms > 0);
  }
  await engine.dispose();
  assert.equal(engine.state.kind, 'disposed');
});

test('the worker thread gives the same completions as in-process, and dispose ends it', async () => {
  const a = inProcess();
  const b = inWorker();
  try {
    for (const boundary of ['naive', 'exact'] as const) {
      const ra = await a.complete({ ...REQ, boundary });
      const rb = await b.complete({ ...REQ, boundary });
      assert.equal(rb.text, ra.text, boundary);
      assert.equal(rb.tokens, ra.tokens);
    }
    const stats = await b.stats();
    assert.ok(stats.runs > 0 && stats.tokensComputed > 0);
  } finally {
    await a.dispose();
    await b.dispose();
  }
});

test('the bundled dist/model-worker.js runs the same engine', { skip: !existsSync(join(ROOT, 'dist', 'model-worker.js')) && 'run the build first' }, async () => {
  const engine = CompletionEngine.create({ modelDir: MODEL, logger: silentLogger, workerScript: join(ROOT, 'dist', 'model-worker.js') });
  const ref = inProcess();
  try {
    assert.equal((await engine.complete({ ...REQ, boundary: 'naive' })).text, (await ref.complete({ ...REQ, boundary: 'naive' })).text);
  } finally {
    await engine.dispose();
    await ref.dispose();
  }
});

test('a repeated request is served from the cache, and typing the ghost text serves the rest without a model call', async () => {
  for (const make of [inProcess, inWorker]) {
    const engine = make();
    try {
      // A request whose completion is long enough to type into.
      const first = await engine.complete({ ...REQ, boundary: 'naive', maxLines: 4 });
      const runs0 = (await engine.stats()).runs;
      const again = await engine.complete({ ...REQ, boundary: 'naive', maxLines: 4 });
      assert.equal(again.cached, true);
      assert.equal(again.text, first.text);
      assert.equal(again.tokens, 0);
      if (first.text.length >= 2) {
        const typed = first.text.slice(0, 1);
        const t0 = performance.now();
        const rest = await engine.complete({ ...REQ, prefix: REQ.prefix + typed, boundary: 'naive', maxLines: 4 });
        const ms = performance.now() - t0;
        assert.equal(rest.cached, true);
        assert.equal(rest.text, first.text.slice(1));
        assert.ok(ms < 20, `typed-through took ${ms.toFixed(2)} ms`);
        assert.equal(engine.counters.typedThrough, 1);
      }
      assert.equal((await engine.stats()).runs, runs0, 'no model run for cached answers');
      // A different suffix is a different request.
      const other = await engine.complete({ ...REQ, suffix: '\n# other\n', boundary: 'naive', maxLines: 4 });
      assert.equal(other.cached, false);
    } finally {
      await engine.dispose();
    }
  }
});

test('prefetch: the completion after accepting the ghost text is ready before it is asked for', async () => {
  const engine = inProcess({ prefetch: true });
  try {
    const req = { ...REQ, boundary: 'naive' as const, maxLines: 4 };
    const first = await engine.complete(req);
    assert.ok(first.text.length > 0, 'the fixture model produces some text here');
    assert.equal(engine.counters.prefetches, 1);
    await engine.whenIdle();
    const runs = (await engine.stats()).runs;
    const next = await engine.complete({ ...req, prefix: req.prefix + first.text });
    assert.equal(next.cached, true);
    assert.equal((await engine.stats()).runs, runs, 'no model call for the accepted continuation');
  } finally {
    await engine.dispose();
  }
});

test('a newer request supersedes an older one (CancelledError), in-process and in the worker', async () => {
  for (const make of [inProcess, inWorker]) {
    const engine = make();
    try {
      await engine.whenReady();
      const long = { ...REQ, maxTokens: 60, maxLines: 50, boundary: 'naive' as const };
      const older = engine.complete({ ...long, prefix: `${REQ.prefix} +` });
      const newer = engine.complete({ ...long, prefix: `${REQ.prefix} -` });
      await assert.rejects(older, CancelledError);
      const r = await newer;
      assert.equal(r.cached, false);
      // A caller's own AbortSignal cancels too.
      const ac = new AbortController();
      const p = engine.complete({ ...long, prefix: `${REQ.prefix} *`, signal: ac.signal });
      ac.abort();
      await assert.rejects(p, CancelledError);
      assert.ok(engine.counters.cancelled >= 2);
    } finally {
      await engine.dispose();
    }
  }
});

test('a corrupt model gives one clear error, then fails fast without retrying; other work goes on', async () => {
  const { dir, cleanup } = scratchCopy('qwen25coder');
  try {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'model.onnx'), Buffer.alloc(4096, 7));
    for (const make of [inProcess, inWorker]) {
      const log = recordingLogger();
      const engine = make({ modelDir: dir, logger: log });
      await assert.rejects(engine.whenReady(), (err: Error) => err instanceof ModelUnavailableError && /model\.onnx/.test(err.message) && /onnxruntime could not load/.test(err.message));
      assert.equal(engine.state.kind, 'error');
      const t0 = performance.now();
      for (let i = 0; i < 50; i++) await assert.rejects(engine.complete(REQ), ModelUnavailableError);
      assert.ok(performance.now() - t0 < 500, 'failing fast');
      assert.equal(log.lines.filter(([level]) => level === 'error').length, 1, 'exactly one error logged');
      await engine.dispose();
    }
  } finally {
    cleanup();
  }
});

test('a worker that dies puts the engine in the error state once; requests then fail fast', async () => {
  const log = recordingLogger();
  const engine = inWorker({ logger: log });
  const states: string[] = [];
  engine.onStateChange((s) => states.push(s.kind));
  await engine.complete({ ...REQ, boundary: 'naive' });
  await (engine as unknown as { backend: { kill(): Promise<void> } }).backend.kill();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(states, ['ready', 'error']);
  await assert.rejects(engine.complete({ ...REQ, prefix: 'other' }), ModelUnavailableError);
  assert.equal(log.lines.filter(([l]) => l === 'error').length, 1);
  await engine.dispose();
});

test('odd inputs never throw or stall: 1 MB line, 50,000 lines, CRLF, tabs, lone surrogates, NUL, empty', async () => {
  const engine = inProcess();
  try {
    const lines = Array.from({ length: 50_000 }, (_, i) => `x${i} = ${i}\n`).join('');
    const cases: Array<[string, string]> = [
      ['y = "' + 'ab'.repeat(512 * 1024), '"\n'],
      [lines, lines],
      ['a = 1\r\nb = 2\r\nc', ' = 3\r\n'],
      ['if x:\n\t\tre', '\n\telse:\n'],
      ['s = "\ud800', '\udc00"\n'],
      ['a\u0000b', '\u0000'],
      ['', ''],
    ];
    for (const boundary of ['naive', 'heal', 'exact'] as const) {
      for (const [prefix, suffix] of cases) {
        const t0 = performance.now();
        const r = await engine.complete({ prefix, suffix, boundary, maxTokens: 8, languageId: 'python' });
        assert.equal(typeof r.text, 'string');
        assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(r.text), 'no lone surrogate in the output');
        assert.ok(performance.now() - t0 < 5000, `${boundary} on a ${prefix.length}-char prefix`);
      }
    }
  } finally {
    await engine.dispose();
  }
});

test('reliability: 200 requests 20 ms apart with cancellations leave no worker, session or memory behind', async () => {
  const rssBefore = process.memoryUsage().rss;
  const engine = inWorker();
  await engine.whenReady();
  let done = 0;
  let cancelled = 0;
  const all: Array<Promise<unknown>> = [];
  for (let i = 0; i < 200; i++) {
    const ac = new AbortController();
    const p = engine.complete({ ...REQ, prefix: `${REQ.prefix}${'abcdefgh'[i % 8]!.repeat(1 + (i % 5))}`, boundary: i % 3 === 0 ? 'exact' : 'naive', maxTokens: 16, signal: ac.signal }).then(
      () => done++,
      (e: unknown) => {
        if (!(e instanceof CancelledError)) throw e;
        cancelled++;
      },
    );
    all.push(p);
    if (i % 7 === 3) setTimeout(() => ac.abort(), 5);
    await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.all(all);
  assert.equal(done + cancelled, 200);
  assert.ok(cancelled > 0 && done > 0, `done ${done}, cancelled ${cancelled}`);
  const backend = (engine as unknown as { backend: { running: boolean } }).backend;
  assert.equal(backend.running, true);
  await engine.dispose();
  assert.equal(backend.running, false, 'the worker ended');
  const grown = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  assert.ok(grown < 150, `RSS grew by ${grown.toFixed(0)} MB`);
});

test('the completion cache does not keep whole documents alive through its keys', async () => {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heapMb = () => (gc(), gc(), process.memoryUsage().heapUsed / 2 ** 20);
  const engine = inProcess();
  await engine.whenReady();
  const docMb = 2;
  const before = heapMb();
  for (let i = 0; i < 30; i++) {
    // A new 2 MB copy of the document per request, as the editor sends it, the cursor near its start.
    const body = `x_${i} = ${i}\n`.padEnd(64, '#') + '\n';
    const suffix = ')\n' + body.repeat((docMb * 2 ** 20) / body.length);
    await engine.complete({ ...REQ, prefix: `${body.repeat(20)}value_${i} = compute(`, suffix, boundary: 'naive', maxTokens: 1 });
  }
  const grown = heapMb() - before;
  await engine.dispose();
  // The typed-through memory keeps the last 8 requests' texts by design; the cache's 30 keys must not add 30 more.
  assert.ok(grown < 12 * docMb, `30 requests of ${docMb} MB left ${grown.toFixed(0)} MB reachable`);
});
