import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get_encoding, type Tiktoken } from 'tiktoken';
import { codeSamples, fuzzStrings, nastyStrings, surrogateStrings } from './corpus';
import { builtin, diffMessage } from './references';

const SPECIALS = ['<|endoftext|>', '<|endofprompt|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>'];

for (const name of ['o200k_base', 'cl100k_base'] as const) {
  test(`${name}: same ids as tiktoken (wasm, Rust) on real code, nasty text, fuzz and long lines`, () => {
    const ours = builtin(name);
    const enc: Tiktoken = get_encoding(name);
    try {
      const ref = (s: string) => Array.from(enc.encode_ordinary(s));
      const samples = [
        ...codeSamples(23, 2, 4000),
        ...nastyStrings(),
        ...fuzzStrings(17, 2000).map((text, i) => ({ name: `fuzz ${i}`, text })),
        { name: 'long line', text: 'ab'.repeat(5000) + ' '.repeat(20_000) + '='.repeat(10_000) + 'x'.repeat(20_000) + '😀'.repeat(5000) + '\ufeff '.repeat(2000) },
        { name: 'long indentation', text: ('\n' + ' '.repeat(4000) + 'x').repeat(20) },
      ];
      for (const { name: label, text } of samples) {
        if (SPECIALS.some((s) => text.includes(s))) continue;
        const a = ours.encode(text);
        const b = ref(text);
        assert.deepEqual(a, b, diffMessage(label, text, a, b));
        const { ids, offsets } = ours.encodeWithOffsets(text);
        assert.deepEqual(ids, a);
        // offsets are where each token's bytes start
        let pos = 0;
        for (let i = 0; i < ids.length; i++) {
          assert.equal(offsets[i], pos);
          pos += ours.tokenLength(ids[i]!);
        }
      }
      for (const { name: label, text, wellFormed } of surrogateStrings()) assert.deepEqual(ours.encode(text), ref(wellFormed), label);
      // Specials: ids agree with tiktoken's, and their text in input stays ordinary text.
      for (const s of SPECIALS) {
        const id = ours.specialTokenId(s);
        if (id === undefined) continue;
        assert.deepEqual([id], Array.from(enc.encode(s, 'all')), s);
        assert.ok(ours.isSpecial(id));
        assert.deepEqual(ours.encode(s), ref(s));
      }
      assert.equal(ours.vocabSize, name === 'o200k_base' ? 200019 : 100277);
    } finally {
      enc.free();
    }
  });
}

test('U+FEFF after spaces splits the Rust way (js-tiktoken and gpt-tokenizer differ here)', () => {
  const ours = builtin('o200k_base');
  const enc = get_encoding('o200k_base');
  try {
    for (const s of ['a     \ufeff b', '\ufeff', '  \ufeff\ufeff  ', 'x \ufeff\n \ufeff']) assert.deepEqual(ours.encode(s), Array.from(enc.encode_ordinary(s)), JSON.stringify(s));
  } finally {
    enc.free();
  }
});
