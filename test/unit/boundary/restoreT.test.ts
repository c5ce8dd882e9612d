/**
 * A pruned cover can be where the canonical spelling T of the next bytes
 * grows from (a light "vi" after "Pro", then "i" comes). CoverState then
 * puts T back from the previous T with one small model call (restoreT)
 * instead of enumerating every cover again. The restored T must sit on the
 * covers' common scale: against the previous T, its log-probability differs
 * by the model's own teacher-forced difference along the two token paths.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CoverState } from '../../../src/engine/boundary/index';
import { CompletionCore } from '../../../src/engine/completion/core';
import { silentLogger } from '../../../src/engine/log';
import { loadModel } from '../../../src/engine/model/load';
import type { NextTokenModel } from '../../../src/engine/model/types';

const root = join(__dirname, '..', '..', '..');
const enc = new TextEncoder();

test("a canonical spelling lost to pruning is restored with one small call, on the covers' scale", async () => {
  const loaded = await loadModel(join(root, 'models', 'subword-tiny'), { logger: silentLogger, skipChecksums: true });
  try {
    const { tokenizer: tok, model } = loaded;
    // Counts the sequences each batch asks for: an enumeration asks for many, a restore for a few.
    const batches: number[] = [];
    const spy: NextTokenModel = {
      vocabSize: model.vocabSize,
      contextLength: model.contextLength,
      nextTokenLogProbs: (ids, signal) => model.nextTokenLogProbs(ids, signal),
      nextTokenLogProbsBatch: (seqs, signal) => {
        batches.push(seqs.length);
        return model.nextTokenLogProbsBatch(seqs, signal);
      },
    };
    const head = new CompletionCore(loaded, silentLogger).prompt({ prefix: '', suffix: '\n' }).headIds;
    // Pruning hard (light: under 1e-4 of the heaviest cover) loses T often; find a loss.
    const text = 'const provider = new RegionInfoProvider(options);\nexport function parseObjectId(value) {\n  return value.toHexString();\n}\n';
    const opts = { epsilon: 1e-2, maxTail: 96, maxChecks: 16 };
    let restored = 0;
    for (let cut = 8; cut < text.length - 1 && restored < 3; cut++) {
      const st = await CoverState.create(tok, spy, head, enc.encode(text.slice(0, cut)), opts);
      await st.distribution([]);
      const canonBefore = tok.encodeBytes(enc.encode(text.slice(0, cut)));
      const previous = st.fullCovers().find((c) => c.rem.length === 0 && c.ids.join(',') === canonBefore.join(','))!;
      batches.length = 0;
      await st.advance(enc.encode(text[cut]!)[0]!);
      if (!st.restoredT) continue;
      restored++;
      assert.equal(batches.length, 1, 'one model call');
      assert.ok(batches[0]! <= 4, `a restore asks for a few rows, not an enumeration's batch: ${batches[0]}`);
      const canon = tok.encodeBytes(enc.encode(text.slice(0, cut + 1)));
      const t = st.fullCovers().find((c) => c.rem.length === 0 && c.ids.join(',') === canon.join(','));
      assert.ok(t, 'T is among the covers');
      // Against the previous T (same scale), T's log-probability differs by the model's own
      // teacher-forced difference along the two paths, from where they part.
      let shared = 0;
      while (shared < previous.ids.length && shared < t.ids.length && previous.ids[shared] === t.ids[shared]) shared++;
      let expected = 0;
      for (const [path, sign] of [[t.ids, 1], [previous.ids, -1]] as const) {
        for (let j = shared; j < path.length; j++) expected += sign * (await model.nextTokenLogProbs([...head, ...path.slice(0, j)]))[path[j]!]!;
      }
      const gap = t.logp - previous.logp - expected;
      assert.ok(Math.abs(gap) < 1e-3, `restored T off the covers' scale by ${gap} nats at ${JSON.stringify(text.slice(0, cut + 1))}`);
    }
    assert.ok(restored > 0, 'no loss of T in the text (the test would prove nothing)');
  } finally {
    await loaded.model.dispose();
  }
});
