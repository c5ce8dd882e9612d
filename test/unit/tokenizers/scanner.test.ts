import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CL100K_PATTERN, compilePreTokenizer, GPT2_PATTERN, O200K_PATTERN, scannerOf, type PreTokenizer } from '../../../src/engine/tokenizers/pretokenize';
import { codeSamples, fuzzStrings, nastyStrings, rng } from './corpus';

function pieces(pre: PreTokenizer, text: string): number[] {
  const ends: number[] = [];
  pre.split(text, 0, text.length, (_s, e) => ends.push(e));
  return ends;
}

/** Characters from every class the patterns distinguish: Lu Ll Lt Lm Lo M N, whitespace of all kinds, astral. */
const CLASS_ZOO = ['A', 'z', 'ǅ', 'ʰ', 'ー', '々', 'א', '中', '\u0301', '\u0903', '\u20dd', '٣', 'Ⅷ', '½', '𝟘', '𝔘', '😀', '\u200d', ' ', '\t', '\n', '\r', '\u00a0', '\u0085', '\ufeff', '\u2028', '\u3000', '\u180e', '\u200b', "'", 's', 'S', 'ſ', 'K', 'l', 'L', '/', '.', '\u0000', '\udc80', '\ud800', '7'];

function zooStrings(seed: number, n: number): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = '';
    const len = Math.floor(r() * 16);
    for (let k = 0; k < len; k++) {
      if (r() < 0.1) {
        // a random code point anywhere (surrogates included as lone units)
        s += String.fromCodePoint(Math.floor(r() * 0x30000));
      } else s += CLASS_ZOO[Math.floor(r() * CLASS_ZOO.length)]!;
    }
    out.push(s);
  }
  return out;
}

const FAMILIES: Array<[string, string]> = [
  ['gpt2', GPT2_PATTERN],
  ['cl100k', CL100K_PATTERN],
  ['qwen', CL100K_PATTERN.replace('\\p{N}{1,3}', '\\p{N}')],
  ['o200k', O200K_PATTERN],
];

for (const [name, pattern] of FAMILIES) {
  test(`scanner splits like the Rust-semantics regex: ${name}`, () => {
    const spec = { type: 'split', pattern, behavior: 'isolated' } as const;
    const fast = compilePreTokenizer(spec, true);
    const slow = compilePreTokenizer(spec, false);
    assert.ok(scannerOf(fast), 'the family should have a scanner');
    assert.equal(scannerOf(slow), undefined);
    const texts = [
      ...codeSamples(61, 1, 3000).map((s) => s.text),
      ...nastyStrings().map((s) => s.text),
      ...fuzzStrings(62, 3000),
      ...zooStrings(63, 20_000),
      ' '.repeat(5000) + 'x' + '\n'.repeat(3) + ' \t'.repeat(100),
    ];
    for (const t of texts) assert.deepEqual(pieces(fast, t), pieces(slow, t), JSON.stringify(t));
  });
}
