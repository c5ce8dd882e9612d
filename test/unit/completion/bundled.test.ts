/**
 * The engine on the bundled model (models/subword-tiny; SUBWORD_TEST_MODEL
 * points elsewhere): the manifest's checks pass, FIM comes from the
 * manifest, typing reuses the KV cache, batches equal single calls.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { InProcessBackend } from '../../../src/engine/completion/backend';
import { silentLogger } from '../../../src/engine/log';
import { BUNDLED, maxAbsDiff, recordingLogger } from '../model/helpers';

const DIR = process.env.SUBWORD_TEST_MODEL ?? BUNDLED;
const skip = !existsSync(DIR) && `no model at ${DIR}`;

const FILE = `import os
import sys


def read_lines(path):
    """Return the lines of a text file without their line breaks."""
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\\n") for line in handle]


def main(argv):
    for name in argv[1:]:
        lines = read_lines(name)
        print(name, len(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
`;

test('the bundled model loads with its manifest checks and completes in every boundary mode', { skip }, async () => {
  const log = recordingLogger();
  const backend = new InProcessBackend({ modelDir: DIR }, log);
  try {
    const info = await backend.load();
    assert.ok(info.contextLength >= 256);
    if (existsSync(`${DIR}/subword.json`)) {
      assert.equal(info.fimFormat, 'subword-spm');
      assert.ok(log.lines.some(([, m]) => /FIM format subword-spm \(from the manifest\)/.test(m)));
    }
    const at = FILE.indexOf('lines = read_l') + 'lines = read_l'.length;
    for (const boundary of ['naive', 'heal', 'exact'] as const) {
      const r = await backend.complete({ prefix: FILE.slice(0, at), suffix: FILE.slice(at), languageId: 'python', boundary, maxTokens: 16, maxLines: 1 });
      assert.equal(r.boundary, boundary);
      assert.ok(!r.text.includes('\n'), 'single line');
    }
  } finally {
    await backend.dispose();
  }
});

test('typing one character reuses the KV cache: only the new tail is prefilled', { skip }, async () => {
  const backend = new InProcessBackend({ modelDir: DIR, skipChecksums: true }, silentLogger);
  try {
    await backend.load();
    const at = FILE.indexOf('print(name') + 'print(na'.length;
    const req = { suffix: FILE.slice(at), languageId: 'python', boundary: 'naive' as const, maxTokens: 4, maxLines: 1 };
    await backend.complete({ ...req, prefix: FILE.slice(0, at - 1) });
    const s0 = await backend.stats();
    const r = await backend.complete({ ...req, prefix: FILE.slice(0, at) });
    const s1 = await backend.stats();
    const computed = s1.tokensComputed - s0.tokensComputed;
    assert.ok(computed <= r.tokens + 8, `computed ${computed} tokens for one typed character (${r.tokens} generated)`);
    assert.ok(s1.tokensReused - s0.tokensReused > 100, 'most of the prompt came from the cache');
  } finally {
    await backend.dispose();
  }
});

test('on the real model, a batch of covers equals one call per sequence', { skip }, async () => {
  const backend = new InProcessBackend({ modelDir: DIR, skipChecksums: true }, silentLogger);
  try {
    await backend.load();
    const { model, tokenizer } = backend.loadedCore!.loaded;
    const ids = tokenizer.encode(FILE).slice(0, 60);
    const seqs = [ids, [...ids.slice(0, 58), 100], [...ids.slice(0, 59), 200, 300]];
    const singles: Float32Array[] = [];
    for (const s of seqs) {
      // The same call pattern (shared prefix cached, then the sequence):
      // with dynamically quantized int8 weights, a cached prefix and a full
      // recompute differ by up to ~0.5 in logits, since each call computes
      // its own activation scales.
      model.resetCache();
      await model.nextTokenLogProbs(ids.slice(0, 58));
      singles.push(await model.nextTokenLogProbs(s));
    }
    model.resetCache();
    const batch = await model.nextTokenLogProbsBatch(seqs);
    // Dynamically quantized models are detected at load and run covers one by
    // one on the cached prefix, so this holds for them too.
    for (let i = 0; i < seqs.length; i++) assert.ok(maxAbsDiff(batch[i]!, singles[i]!) < 1e-3, `row ${i}: ${maxAbsDiff(batch[i]!, singles[i]!)} (batch consistent: ${model.batchConsistent})`);
  } finally {
    await backend.dispose();
  }
});
