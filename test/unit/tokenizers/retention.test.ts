/**
 * What the tokenizer's piece memo and the prompt's line-count cache keep
 * alive: a byte budget for the memo (its id arrays, not only its characters),
 * and never the request texts their keys were sliced from.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LineTokenCounter } from '../../../src/engine/fim/prompt';
import { rng } from './corpus';
import { builtin } from './references';

const collect: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

function heapMb(): number {
  collect();
  collect();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

test('piece memo: stays within its byte budget and drops its id arrays when it starts over', () => {
  const tok = builtin('cl100k_base');
  const rnd = rng(7);
  const letters = 'qxzjvkwfyg';
  // Distinct made-up words of 14-22 letters: each a memo entry holding an array of several ids.
  const word = () => Array.from({ length: 14 + Math.floor(rnd() * 9) }, () => letters[Math.floor(rnd() * letters.length)]).join('');
  let peak = 0;
  for (let round = 0; round < 25; round++) {
    tok.encode(Array.from({ length: 4000 }, word).join(' '));
    const s = tok.memoStats();
    peak = Math.max(peak, s.bytes);
    assert.ok(s.bytes <= s.budget + 64 * 1024, `round ${round}: memo holds ~${(s.bytes / 2 ** 20).toFixed(1)} MB, budget ${(s.budget / 2 ** 20).toFixed(0)} MB`);
    // Every id array still referenced belongs to a live entry.
    assert.ok(s.idArrays <= s.entries, `round ${round}: ${s.idArrays} id arrays for ${s.entries} entries`);
  }
  assert.ok(peak > tok.memoStats().budget / 2, 'the words filled the memo past half its budget');
});

test('piece memo and line counter keys do not keep the texts they were sliced from alive', () => {
  const tok = builtin('cl100k_base');
  tok.clearCache();
  const counter = new LineTokenCounter(tok);
  const before = heapMb();
  for (let i = 0; i < 40; i++) {
    // A fresh 1 MB text per request, as the editor sends a new copy of the document each time.
    const text = `let value${i}_abcdefghijklmnop = compute_${i}_abcdefghijklmnop(x);\n` + `# ${String(i).padStart(4, '0')} padding line\n`.repeat(50_000);
    tok.encode(text.slice(0, 64));
    counter.count(text.slice(0, text.indexOf('\n') + 1));
  }
  const grown = heapMb() - before;
  assert.ok(grown < 20, `40 requests of 1 MB left ${grown.toFixed(0)} MB reachable`);
});
