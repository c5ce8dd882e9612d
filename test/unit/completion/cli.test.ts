/** `subword complete` through the CLI's main(), on a real onnxruntime session. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { offsetOf } from '../../../src/cli/completeCommand';
import { main } from '../../../src/cli/main';
import { fixture, ROOT } from '../model/helpers';

async function run(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (t) => (out += t), stderr: (t) => (err += t), readStdin: async () => Buffer.from(stdin), packageRoot: ROOT });
  return { code, out, err };
}

test('complete --prefix-file/--suffix-file --json prints completion, ms, tokens, boundary and load time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'subword-cli-'));
  try {
    writeFileSync(join(dir, 'p.py'), 'def add(a, b):\n    return a');
    writeFileSync(join(dir, 's.py'), '\n');
    for (const boundary of ['naive', 'heal', 'exact']) {
      const r = await run(['complete', '--prefix-file', join(dir, 'p.py'), '--suffix-file', join(dir, 's.py'), '--model', fixture('subword-nomanifest'), '--boundary', boundary, '--max-tokens', '6', '--json']);
      assert.equal(r.code, 0, r.err);
      const j = JSON.parse(r.out);
      assert.deepEqual(Object.keys(j).slice(0, 4), ['completion', 'ms', 'tokens', 'boundary']);
      assert.equal(typeof j.completion, 'string');
      assert.equal(j.boundary, boundary);
      assert.ok(j.tokens >= 1 && j.ms > 0 && j.load_ms > 0);
      assert.equal(j.fim_format, 'subword-spm');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('complete --file --line --column cuts the file at the position; stdin works with "-"', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'subword-cli-'));
  try {
    const text = 'import os\r\ndef f(x):\r\n    return os.pa\r\n';
    writeFileSync(join(dir, 'a.py'), text);
    const r = await run(['complete', '--file', join(dir, 'a.py'), '--line', '3', '--column', '17', '--model', fixture('qwen25coder'), '--max-tokens', '4', '--json']);
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).fim_format, 'qwen2.5-coder');
    const plain = await run(['complete', '--prefix-file', '-', '--model', fixture('plain'), '--max-tokens', '3', '--boundary', 'naive'], 'x = ');
    assert.equal(plain.code, 0, plain.err);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(offsetOf('ab\r\ncd\n', 2, 2), 5);
  assert.equal(offsetOf('ab\r\ncd\n', 1, 99), 2, 'clamped before the CR');
  assert.throws(() => offsetOf('ab', 3, 1), /past the end/);
});

test('bad arguments and a broken model folder give a clear message and a non-zero exit', async () => {
  const r = await run(['complete', '--prefix-file', __filename, '--boundary', 'weird', '--model', fixture('plain')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /--boundary must be naive, heal or exact/);
  const m = await run(['complete', '--prefix-file', __filename, '--model', '/nonexistent/model']);
  assert.equal(m.code, 1);
  assert.match(m.err, /\/nonexistent\/model: model folder does not exist/);
  const h = await run(['complete', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /--boundary naive\|heal\|exact/);
});
