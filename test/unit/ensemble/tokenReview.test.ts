/**
 * The per-token review hook of the boundary strategies' token loop
 * (tokenLevel.ts), which the ensemble's token phase runs through: a review
 * that accepts everything changes nothing; one that refuses stops the loop
 * before that token, says so (`halted`), and has seen the row the token was
 * chosen from.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runTokenLevel } from '../../../src/engine/boundary/tokenLevel';
import type { LogProbRow } from '../../../src/engine/boundary/util';
import { CompletionCore } from '../../../src/engine/completion/core';
import { silentLogger } from '../../../src/engine/log';
import { useTinyModel } from './tinyModel';

const tinyModel = useTinyModel();

test('review: accepting all is the plain loop; refusing the third token halts before it, with the row it was chosen from', async () => {
  const tiny = tinyModel();
  const p = new CompletionCore(tiny, silentLogger).prompt({ prefix: 'def add(a, b):\n    return a', suffix: '\n', maxTokens: 8 });
  const req = { model: tiny.model, tokenizer: tiny.tokenizer, headIds: p.headIds, streamBytes: p.streamBytes, stopIds: p.stopIds, maxTokens: 8, temperature: 0 };
  const start = () => ({ ids: [...p.headIds, ...tiny.tokenizer.encode(new TextDecoder().decode(p.streamBytes))], generated: new Uint8Array(0), steps: 0, modelCalls: 0 });
  const plain = await runTokenLevel(req, start());
  const seen: number[] = [];
  const all = await runTokenLevel(req, { ...start(), review: (t) => (seen.push(t), true) });
  assert.deepEqual(all.bytes, plain.bytes);
  assert.equal(all.halted, undefined);
  assert.ok(seen.length >= 3, `the loop made ${seen.length} tokens; the test needs 3`);
  let asked = 0;
  let rowTop = -1;
  const refused = await runTokenLevel(req, {
    ...start(),
    review: (t, row: LogProbRow) => {
      if (++asked < 3) return true;
      let best = 0;
      for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
      rowTop = best;
      assert.equal(t, seen[2]);
      return false;
    },
  });
  assert.equal(refused.halted, true);
  assert.equal(refused.steps, 2, 'the refused token is not taken');
  const two = seen.slice(0, 2).map((t) => tiny.tokenizer.tokenBytes(t));
  assert.deepEqual([...refused.bytes], [...two[0]!, ...two[1]!]);
  assert.ok(rowTop >= 0, 'the review saw the row');
});
