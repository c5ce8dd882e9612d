import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BpeTokenizer, TokenKind, type BpeData } from '../../../src/engine/tokenizers/bpe';
import { Utf8StreamDecoder } from '../../../src/engine/tokenizers/bytes';
import { CL100K_PATTERN } from '../../../src/engine/tokenizers/pretokenize';
import { BUILTIN_TOKENIZERS } from '../../../src/engine/tokenizers/registry';
import { codeSamples, FULL, fuzzStrings, nastyStrings, rng } from './corpus';
import { builtin } from './references';

const enc = new TextEncoder();
const NORMALIZER: Record<string, 'NFC' | 'NFKC' | undefined> = { qwen3: 'NFC', claude: 'NFKC' };

for (const { id } of BUILTIN_TOKENIZERS) {
  test(`${id}: decode(encode(x)) == x on 10,000 fuzzed strings; encodeBytes agrees; random bytes never throw`, () => {
    const tok = builtin(id);
    const form = NORMALIZER[id];
    const strings = [...fuzzStrings(1000 + id.length, 10_000), ...nastyStrings().map((s) => s.text)];
    for (const x of strings) {
      const ids = tok.encode(x);
      const want = form ? x.normalize(form) : x;
      assert.equal(tok.decode(ids), want, JSON.stringify(x));
      assert.deepEqual(tok.encodeBytes(enc.encode(x)), ids, JSON.stringify(x));
    }
    // Arbitrary bytes (invalid and partial UTF-8): bytes come back exactly for non-normalizing tokenizers.
    const r = rng(7);
    for (let i = 0; i < 500; i++) {
      const b = new Uint8Array(Math.floor(r() * 24)).map(() => (r() < 0.5 ? Math.floor(r() * 256) : 'ab \n'.charCodeAt(Math.floor(r() * 4))));
      const ids = tok.encodeBytes(b);
      if (!form) assert.deepEqual(tok.decodeBytes(ids), b);
    }
  });
}

test('encodeBytes on partial UTF-8 is the escaped text rule: a partial character groups like a symbol', () => {
  const tok = builtin('o200k_base');
  const euro = enc.encode('x = 5€');
  const partial = euro.subarray(0, euro.length - 1);
  const ids = tok.encodeBytes(partial);
  assert.deepEqual(tok.decodeBytes(ids), partial);
  // Everything before the last pre-token is encoded as for the complete text.
  const full = tok.encode('x = 5€');
  assert.deepEqual(ids.slice(0, 3), full.slice(0, 3));
});

test('the streaming decoder holds a partial character back until it completes', () => {
  const tok = builtin('cl100k_base');
  const text = '中文 😀 emoji 👨‍👩‍👧 é';
  const ids = tok.encode(text);
  const dec = new Utf8StreamDecoder();
  let out = '';
  let held = 0;
  for (const id of ids) {
    const piece = dec.push(tok.tokenBytes(id));
    if (piece === '' && tok.tokenLength(id) > 0) held++;
    out += piece;
  }
  out += dec.flush();
  assert.equal(out, text);
  assert.ok(held > 0, 'expected some token to end inside a character');
});

/** Every ordinary/added token's bytes, for brute-force answers. */
function vocabTable(tok: BpeTokenizer): Array<[number, Uint8Array]> {
  const out: Array<[number, Uint8Array]> = [];
  for (let id = 0; id < tok.vocabSize; id++) {
    const k = tok.tokenKind(id);
    if (k === TokenKind.Special || k === TokenKind.Unused || tok.tokenLength(id) === 0) continue;
    out.push([id, tok.tokenBytes(id)]);
  }
  return out;
}

for (const id of ['o200k_base', 'llama3', 'gemma3']) {
  test(`${id}: trie queries equal brute force over the vocabulary`, () => {
    const tok = builtin(id);
    const r = rng(99);
    const queries: Uint8Array[] = [new Uint8Array(0), enc.encode(' '), enc.encode('get'), enc.encode(' getUs'), enc.encode('中'), enc.encode('中').subarray(0, 2)];
    for (let i = 0; i < (FULL ? 200 : 15); i++) {
      let idq = Math.floor(r() * tok.vocabSize);
      while (tok.tokenKind(idq) !== TokenKind.Ordinary) idq = Math.floor(r() * tok.vocabSize);
      const b = tok.tokenBytes(idq);
      const cut = b.subarray(0, Math.floor(r() * (b.length + 1)));
      queries.push(r() < 0.2 ? Uint8Array.from([...cut, Math.floor(r() * 256)]) : cut);
    }
    const vocab = vocabTable(tok);
    for (const q of queries) {
      const got = [...tok.tokensStartingWith(q)].sort((a, b) => a - b);
      const startBrute = vocab.filter(([, b]) => b.length >= q.length && q.every((x, i) => b[i] === x)).map(([t]) => t);
      assert.deepEqual(got, startBrute, `tokensStartingWith(${JSON.stringify([...q])})`);
      const longer = Uint8Array.from([...q, ...enc.encode('tion = 1;')]);
      const prefixes = tok.tokensPrefixOf(longer);
      const brute = vocab.filter(([, b]) => b.length <= longer.length && b.every((x, i) => longer[i] === x)).map(([t]) => t);
      assert.deepEqual([...prefixes].sort((a, b) => a - b), brute, `tokensPrefixOf(${JSON.stringify([...longer])})`);
      // shortest first
      for (let i = 1; i < prefixes.length; i++) assert.ok(tok.tokenLength(prefixes[i]!) >= tok.tokenLength(prefixes[i - 1]!));
    }
  });
}

/** A toy byte-level BPE over {a, b, space} with the cl100k pre-tokenizer. */
function toyTokenizer(): BpeTokenizer {
  const tokens: string[] = [];
  for (let b = 0; b < 256; b++) tokens.push(String.fromCharCode(b));
  const mergeList: Array<[string, string]> = [['a', 'b'], ['b', 'a'], [' ', 'a'], ['a', 'a'], ['ab', 'a'], [' a', 'b'], ['ba', 'b'], [' ', ' '], ['aa', 'b'], [' ab', 'a'], ['b', 'b']];
  const ids = new Map(tokens.map((t, i) => [t, i]));
  const merges: number[] = [];
  for (const [x, y] of mergeList) {
    if (!ids.has(x + y)) {
      ids.set(x + y, tokens.length);
      tokens.push(x + y);
    }
    merges.push(ids.get(x)!, ids.get(y)!, ids.get(x + y)!);
  }
  const bytes = tokens.map((t) => Uint8Array.from([...t].map((c) => c.charCodeAt(0))));
  const offs = new Int32Array(tokens.length + 1);
  bytes.forEach((b, i) => (offs[i + 1] = offs[i]! + b.length));
  const all = new Uint8Array(offs[tokens.length]!);
  bytes.forEach((b, i) => all.set(b, offs[i]!));
  const data: BpeData = {
    id: 'toy',
    vocabSize: tokens.length,
    tokenBytes: all,
    tokenOffsets: offs,
    tokenKind: new Uint8Array(tokens.length),
    merges: Int32Array.from(merges),
    mergePriority: 'index',
    symbols: 'bytes',
    ignoreMerges: false,
    preTokenizer: { type: 'split', pattern: CL100K_PATTERN, behavior: 'isolated' },
    normalizer: 'none',
    unkId: -1,
  };
  return new BpeTokenizer(data);
}

test('isCanonical equals brute force: the set of encodings of every string up to 6 symbols (toy BPE)', () => {
  const tok = toyTokenizer();
  const alphabet = ['a', 'b', ' '];
  const canonical = new Set<string>();
  const strings: string[] = [''];
  for (let len = 1; len <= 6; len++) for (const s of strings.filter((x) => x.length === len - 1)) for (const c of alphabet) strings.push(s + c);
  for (const s of strings) canonical.add(JSON.stringify(tok.encode(s)));
  const toyIds = [...Array(tok.vocabSize).keys()].filter((id) => [...tok.tokenBytes(id)].every((b) => b === 97 || b === 98 || b === 32));
  let seen = 0;
  let yes = 0;
  const walk = (seq: number[], len: number) => {
    if (seq.length > 0) {
      seen++;
      const want = canonical.has(JSON.stringify(seq));
      if (want) yes++;
      assert.equal(tok.isCanonical(seq), want, JSON.stringify(seq.map((i) => tok.decode([i]))));
    }
    if (seq.length === 4) return;
    for (const id of toyIds) {
      const l = len + tok.tokenLength(id);
      if (l <= 6) walk([...seq, id], l);
    }
  };
  walk([], 0);
  assert.ok(seen > 1000 && yes > 50 && yes < seen, `${seen} sequences, ${yes} canonical`);
  // Canonical sequences are NOT closed under prefixes once the pre-tokenizer looks ahead:
  // "  b" is [" ", " ", "b"] (\s+(?!\S) leaves one space for " b"), but "  " alone is ["  "].
  const sp = tok.encode(' ')[0]!;
  const seq = [sp, sp, tok.encode('b')[0]!];
  assert.ok(tok.isCanonical(seq));
  assert.equal(tok.isCanonical(seq.slice(0, 2)), false);
});

test('isCanonical on real vocabularies: encodings are canonical, split tokens and specials are not', () => {
  for (const id of ['o200k_base', 'llama3']) {
    const tok = builtin(id);
    for (const { text } of codeSamples(5, 1, 500).slice(0, 20)) assert.ok(tok.isCanonical(tok.encode(text)));
    const user = tok.encode('getUser');
    const split = [...tok.encode('getUs'), ...tok.encode('er')];
    assert.notDeepEqual(split, user);
    assert.equal(tok.isCanonical(split), false);
    const eot = tok.specialTokenId(id === 'llama3' ? '<|end_of_text|>' : '<|endoftext|>')!;
    assert.equal(tok.isCanonical([...user, eot]), false);
  }
});

test('stableBoundary: the encoding before it never changes, whatever is appended (random texts and cuts)', () => {
  const r = rng(2024);
  const tails = ['s', "'s", "'ll", 't', ' ', '  ', '\n', '\r\n', 'x', '1', '23', '€', '\u0301', '/', ' =', '\t', 'ing', 'THE', '中', '😀', '\ufeff', '>', 'k>', 'think>'];
  const bases = [...fuzzStrings(77, FULL ? 600 : 150), ...codeSamples(8, 1, 300).map((s) => s.text).slice(0, 40), "don'", "x = caf\u00e9", '   ', 'abc   ', '1234', '<thin'];
  for (const id of ['o200k_base', 'cl100k_base', 'llama3', 'qwen3', 'deepseek-v3', 'claude', 'gemma3']) {
    const tok = builtin(id);
    let nontrivial = 0;
    for (const base of bases) {
      const bytes = enc.encode(base);
      // also cut mid-character
      const cut = r() < 0.3 ? bytes.subarray(0, Math.floor(r() * (bytes.length + 1))) : bytes;
      const b = tok.stableBoundary(cut);
      assert.ok(b >= 0 && b <= cut.length);
      if (b > 0) nontrivial++;
      const head = tok.encodeBytes(cut.subarray(0, b));
      for (let k = 0; k < 4; k++) {
        const tail = enc.encode(tails[Math.floor(r() * tails.length)]! + (r() < 0.5 ? tails[Math.floor(r() * tails.length)]! : ''));
        const whole = tok.encodeBytes(Uint8Array.from([...cut, ...tail]));
        assert.deepEqual(whole.slice(0, head.length), head, `${id}: ${JSON.stringify(new TextDecoder().decode(cut))} + ${JSON.stringify(new TextDecoder().decode(tail))} (boundary ${b})`);
      }
    }
    if (id !== 'gemma3') assert.ok(nontrivial > bases.length / 3, `${id}: boundary is almost always 0 (${nontrivial})`);
  }
});
