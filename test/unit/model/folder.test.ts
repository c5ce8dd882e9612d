/**
 * Model folder validation: missing, truncated or mismatched folders are
 * caught at load with a message that names the file and the problem.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../../src/engine/log';
import { loadModel } from '../../../src/engine/model/load';
import { ModelFolderError, parseManifest, sha256File } from '../../../src/engine/model/manifest';
import { fixture, recordingLogger, scratchCopy } from './helpers';

async function rejectsWith(dir: string, file: RegExp, problem: RegExp): Promise<void> {
  await assert.rejects(loadModel(dir, { logger: silentLogger }), (err: Error) => {
    assert.ok(err instanceof ModelFolderError, `a ModelFolderError, got ${err.name}: ${err.message}`);
    assert.match(err.file, file);
    assert.match(err.message, problem);
    return true;
  });
}

async function withManifest(name: string, edit: (m: Record<string, unknown>, dir: string) => void | Promise<void>): Promise<{ dir: string; cleanup(): void }> {
  const copy = scratchCopy(name);
  const m: Record<string, unknown> = {
    name: 'fixture',
    fim_format: 'subword-spm',
    context_length: 128,
    special_tokens: { fim_prefix: '<|fim_prefix|>', fim_suffix: '<|fim_suffix|>', fim_middle: '<|fim_middle|>', fim_end: '<|fim_end|>' },
    files: {
      'model.onnx': { sha256: await sha256File(join(copy.dir, 'model.onnx')), bytes: readFileSync(join(copy.dir, 'model.onnx')).length },
      'tokenizer.json': { sha256: await sha256File(join(copy.dir, 'tokenizer.json')) },
    },
  };
  await edit(m, copy.dir);
  writeFileSync(join(copy.dir, 'subword.json'), JSON.stringify(m));
  return copy;
}

test('a folder with a correct manifest loads; its FIM format comes from the manifest', async () => {
  const { dir, cleanup } = await withManifest('subword-nomanifest', () => {});
  try {
    const log = recordingLogger();
    const loaded = await loadModel(dir, { logger: log });
    assert.equal(loaded.format.id, 'subword-spm');
    assert.equal(loaded.name, 'fixture');
    assert.equal(loaded.model.contextLength, 128);
    assert.ok(log.lines.some(([, m]) => /from the manifest/.test(m)));
    await loaded.model.dispose();
  } finally {
    cleanup();
  }
});

test('missing folder, missing model.onnx, missing tokenizer.json', async () => {
  await rejectsWith('/nonexistent/subword-model', /nonexistent/, /does not exist/);
  const a = scratchCopy('plain');
  try {
    rmSync(join(a.dir, 'model.onnx'));
    await rejectsWith(a.dir, /model\.onnx$/, /missing/);
    copyFileSync(join(fixture('plain'), 'model.onnx'), join(a.dir, 'model.onnx'));
    rmSync(join(a.dir, 'tokenizer.json'));
    await rejectsWith(a.dir, /tokenizer\.json$/, /missing/);
  } finally {
    a.cleanup();
  }
});

test('truncated and corrupt files are named', async () => {
  const a = scratchCopy('plain');
  try {
    truncateSync(join(a.dir, 'model.onnx'), 500);
    await rejectsWith(a.dir, /model\.onnx$/, /truncated/);
    copyFileSync(join(fixture('plain'), 'model.onnx'), join(a.dir, 'model.onnx'));
    truncateSync(join(a.dir, 'model.onnx'), 20_000);
    await rejectsWith(a.dir, /model\.onnx$/, /onnxruntime could not load it/);
    copyFileSync(join(fixture('plain'), 'model.onnx'), join(a.dir, 'model.onnx'));
    truncateSync(join(a.dir, 'tokenizer.json'), 1000);
    await rejectsWith(a.dir, /tokenizer\.json$/, /cannot be loaded as a tokenizer/);
  } finally {
    a.cleanup();
  }
});

test('a wrong sha256 or size in subword.json is caught before onnxruntime runs', async () => {
  const bad = await withManifest('subword-nomanifest', (m) => {
    (m.files as Record<string, { sha256: string }>)['tokenizer.json']!.sha256 = '0'.repeat(64);
  });
  try {
    await rejectsWith(bad.dir, /tokenizer\.json$/, /sha256 mismatch/);
  } finally {
    bad.cleanup();
  }
  const short = await withManifest('subword-nomanifest', (_m, dir) => {
    const buf = readFileSync(join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'model.onnx'), buf.subarray(0, buf.length - 100));
  });
  try {
    await rejectsWith(short.dir, /model\.onnx$/, /bytes but subword\.json says/);
  } finally {
    short.cleanup();
  }
  const badJson = scratchCopy('plain');
  try {
    writeFileSync(join(badJson.dir, 'subword.json'), '{"fim_format": ');
    await rejectsWith(badJson.dir, /subword\.json$/, /not valid JSON/);
  } finally {
    badJson.cleanup();
  }
});

test('a tokenizer that does not fit the logits is refused', async () => {
  // qwen's tokenizer (305 ids) with the plain model (297 logits).
  const a = scratchCopy('plain');
  try {
    copyFileSync(join(fixture('qwen25coder'), 'tokenizer.json'), join(a.dir, 'tokenizer.json'));
    await rejectsWith(a.dir, /tokenizer\.json$/, /305 ids but the model's logits are 297 wide/);
  } finally {
    a.cleanup();
  }
  // With a manifest the sizes must match exactly (starcoder2's 303-wide logits, subword's 302 ids).
  const b = await withManifest('subword-nomanifest', (_m, dir) => {
    copyFileSync(join(fixture('starcoder2'), 'model.onnx'), join(dir, 'model.onnx'));
  });
  try {
    const m = JSON.parse(readFileSync(join(b.dir, 'subword.json'), 'utf8'));
    m.files['model.onnx'] = { sha256: await sha256File(join(b.dir, 'model.onnx')) };
    writeFileSync(join(b.dir, 'subword.json'), JSON.stringify(m));
    await rejectsWith(b.dir, /tokenizer\.json$/, /must match exactly/);
  } finally {
    b.cleanup();
  }
});

test('unknown I/O names are reported by name', async () => {
  await rejectsWith(fixture('bad-io'), /model\.onnx$/, /unknown input names token_type_ids/);
  const m = await withManifest('subword-nomanifest', (man) => {
    man.io = { inputs: ['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value', 'cache_position'] };
  });
  try {
    await rejectsWith(m.dir, /model\.onnx$/, /missing cache_position/);
  } finally {
    m.cleanup();
  }
});

test('manifests are read tolerantly (snake_case, camelCase, lists of files)', () => {
  const a = parseManifest({ fimFormat: 'subword-spm', contextLength: 1024, specialTokens: ['<|fim_end|>'], files: [{ name: 'model.onnx', sha256: 'AB' }] });
  assert.equal(a.fimFormat, 'subword-spm');
  assert.equal(a.contextLength, 1024);
  assert.equal(a.specialTokens['<|fim_end|>'], '<|fim_end|>');
  assert.equal(a.files['model.onnx']!.sha256, 'ab');
  const b = parseManifest({ fim: { format: 'starcoder' }, n_ctx: 512, architecture: { n_layer: 4 }, sha256: { 'model.onnx': 'cd' } });
  assert.equal(b.fimFormat, 'starcoder');
  assert.equal(b.contextLength, 512);
  assert.equal(b.nLayer, 4);
  assert.equal(b.files['model.onnx']!.sha256, 'cd');
  assert.throws(() => parseManifest([1, 2]), ModelFolderError);
  // tools/train/assemble.py's shape: io as name -> shape with templated per-layer names.
  const c = parseManifest({
    fim: { format: 'subword-spm', stop_tokens: ['<|fim_end|>'] },
    architecture: 'decoder-only transformer',
    num_layers: 2,
    num_kv_heads: 4,
    vocab_size: 8192,
    io: {
      inputs: { input_ids: [], attention_mask: [], position_ids: [], 'past_key_values.{i}.key': [] },
      outputs: { logits: [], 'present.{i}.key': [] },
      past_key_values_names: ['past_key_values.0.key', 'past_key_values.0.value'],
      present_names: ['present.0.key', 'present.0.value'],
    },
  });
  assert.equal(c.fimFormat, 'subword-spm');
  assert.deepEqual(c.inputNames, ['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value']);
  assert.deepEqual(c.outputNames, ['logits', 'present.0.key', 'present.0.value']);
  assert.equal(c.nLayer, 2);
  assert.equal(c.nKvHead, 4);
  assert.equal(c.vocabSize, 8192);
});
