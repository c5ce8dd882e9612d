/**
 * topK and RankedTokens against a full sort: the skip below the k-th value
 * (include is asked only for ids that could enter) must not change the
 * order, ties (lower id first), -Infinity, NaN or excluded ids.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RankedTokens, topK } from '../../../src/engine/boundary/util';

function reference(row: Float32Array, include: (id: number) => boolean): number[] {
  const ids: number[] = [];
  for (let t = 0; t < row.length; t++) if (include(t) && row[t]! > -Infinity) ids.push(t);
  return ids.sort((a, b) => row[b]! - row[a]! || a - b);
}

test('topK equals the head of a full sort (ties, -Infinity, NaN, excluded ids); include is asked rarely', () => {
  let seed = 5;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let trial = 0; trial < 200; trial++) {
    const width = 1 + Math.floor(rnd() * 3000);
    // Coarse values make many ties.
    const row = Float32Array.from({ length: width }, () => {
      const r = rnd();
      return r < 0.05 ? -Infinity : r < 0.07 ? NaN : Math.round(rnd() * 40) / 4 - 10;
    });
    const banned = new Set(Array.from({ length: Math.floor(width / 10) }, () => Math.floor(rnd() * width)));
    let asked = 0;
    const include = (id: number) => (asked++, !banned.has(id));
    const k = 1 + Math.floor(rnd() * 64);
    const ref = reference(row, (id) => !banned.has(id));
    assert.deepEqual(topK(row, width, k, include), ref.slice(0, k), `trial ${trial}, width ${width}, k ${k}`);
    const ranked = new RankedTokens(row, width, (id) => !banned.has(id), k);
    for (let i = 0; i < Math.min(ref.length + 2, 3 * k); i++) assert.equal(ranked.at(i), i < ref.length ? ref[i] : -1, `trial ${trial}: rank ${i}`);
    if (width >= 2000 && k <= 8) assert.ok(asked < width / 2, `include asked ${asked} times for ${width} ids`);
  }
});
