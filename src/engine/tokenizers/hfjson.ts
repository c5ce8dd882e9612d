/**
 * Reads a Hugging Face tokenizer.json (model type BPE) into BpeData.
 * Supported: byte-level BPE (GPT-2, cl100k/o200k-style, Llama 3, Qwen 2/2.5/3,
 * DeepSeek, our own model), merges as "a b" strings or [a, b] pairs, Split /
 * ByteLevel / Digits / Sequence pre-tokenizers, NFC/NFKC normalizers, added
 * and special tokens, and SentencePiece-style BPE with byte fallback whose
 * normalizer only turns spaces into "▁" (Gemma). Anything else is refused
 * with an error that names the file and the unsupported part, never
 * approximated silently.
 */
import { TokenKind, type BpeData, type Normalizer } from './bpe';
import { byteLevelAlphabet, utf8 } from './bytes';
import { compilePreTokenizer, GPT2_PATTERN, type PreTokenizerSpec, type SplitBehavior } from './pretokenize';

/* eslint-disable @typescript-eslint/no-explicit-any -- tokenizer.json is untyped JSON, checked field by field */

export class TokenizerFileError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'TokenizerFileError';
  }
}

const BEHAVIORS: Record<string, SplitBehavior> = {
  Isolated: 'isolated',
  Removed: 'removed',
  MergedWithPrevious: 'merged_with_previous',
  MergedWithNext: 'merged_with_next',
  Contiguous: 'contiguous',
};

const METASPACE = '\u2581';

/**
 * Parses tokenizer.json text. `file` is only used in error messages; `id`
 * becomes the tokenizer's id.
 */
export function parseTokenizerJson(text: string, file: string, id: string): BpeData {
  let j: any;
  try {
    j = JSON.parse(text);
  } catch (err) {
    throw new TokenizerFileError(file, `not valid JSON (${(err as Error).message})`);
  }
  const fail = (problem: string): never => {
    throw new TokenizerFileError(file, problem);
  };
  if (!j || typeof j !== 'object') fail('not a tokenizer.json object');
  const model = j.model;
  if (!model || typeof model !== 'object') fail('has no "model" section');
  if (model.type !== undefined && model.type !== 'BPE') fail(`model type ${JSON.stringify(model.type)} is not supported (only BPE)`);
  if (!model.vocab || typeof model.vocab !== 'object' || Array.isArray(model.vocab)) fail('model.vocab is missing or not an object');
  if (!Array.isArray(model.merges)) fail('model.merges is missing or not an array');
  if (model.continuing_subword_prefix) fail('model.continuing_subword_prefix is not supported');
  if (model.end_of_word_suffix) fail('model.end_of_word_suffix is not supported');
  if (model.dropout) fail('BPE dropout is not supported (encoding would not be deterministic)');

  // ---- normalizer
  let normalizer: Normalizer = 'none';
  let metaspace = false;
  const visitNormalizer = (n: any): void => {
    if (n === null || n === undefined) return;
    switch (n.type) {
      case 'Sequence':
        for (const x of n.normalizers ?? []) visitNormalizer(x);
        return;
      case 'NFC':
      case 'NFKC':
      case 'NFD':
      case 'NFKD':
        if (normalizer !== 'none') fail('more than one Unicode normalizer');
        normalizer = n.type;
        return;
      case 'Replace':
        if (n.pattern?.String === ' ' && n.content === METASPACE) {
          metaspace = true;
          return;
        }
        return fail(`normalizer Replace ${JSON.stringify(n.pattern)} -> ${JSON.stringify(n.content)} is not supported`);
      default:
        return fail(`normalizer ${JSON.stringify(n.type)} is not supported`);
    }
  };
  visitNormalizer(j.normalizer);

  // ---- pre-tokenizer
  let byteLevel = false;
  const toSpec = (p: any): PreTokenizerSpec => {
    if (p === null || p === undefined) return { type: 'none' };
    switch (p.type) {
      case 'Sequence':
        return { type: 'sequence', items: (p.pretokenizers ?? []).map(toSpec) };
      case 'ByteLevel':
        byteLevel = true;
        if (p.add_prefix_space) fail('ByteLevel add_prefix_space=true is not supported');
        return p.use_regex === false ? { type: 'none' } : { type: 'split', pattern: GPT2_PATTERN, behavior: 'isolated' };
      case 'Split': {
        if (p.invert) fail('Split with invert=true is not supported');
        const behavior = BEHAVIORS[p.behavior];
        if (!behavior) return fail(`Split behavior ${JSON.stringify(p.behavior)} is not supported`);
        if (typeof p.pattern?.Regex === 'string') return { type: 'split', pattern: p.pattern.Regex, behavior };
        if (typeof p.pattern?.String === 'string') {
          // With the "▁" normalizer folded into token bytes, HF's split on " " never matched (spaces were already "▁").
          if (metaspace && p.pattern.String === ' ') return { type: 'none' };
          return { type: 'split', pattern: p.pattern.String, literal: true, behavior };
        }
        return fail('Split pre-tokenizer without a Regex or String pattern');
      }
      case 'Digits':
        return { type: 'split', pattern: p.individual_digits ? '\\p{N}' : '\\p{N}+', behavior: 'isolated' };
      default:
        return fail(`pre-tokenizer ${JSON.stringify(p.type)} is not supported`);
    }
  };
  const preTokenizer = toSpec(j.pre_tokenizer);
  try {
    compilePreTokenizer(preTokenizer);
  } catch (err) {
    fail((err as Error).message);
  }
  if (!byteLevel && j.decoder?.type === 'ByteLevel') byteLevel = true;
  if (byteLevel && metaspace) fail('a byte-level vocabulary with a "▁" normalizer is not supported');
  if (!byteLevel && !metaspace && !model.byte_fallback) fail('neither a byte-level nor a byte-fallback vocabulary (some text could not be encoded)');

  // ---- vocabulary
  const { charToByte } = byteLevelAlphabet();
  const entries = Object.entries(model.vocab as Record<string, unknown>);
  let maxId = -1;
  for (const [, v] of entries) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`model.vocab has a non-integer or negative id ${JSON.stringify(v)}`);
    if ((v as number) > maxId) maxId = v as number;
  }
  const added: any[] = Array.isArray(j.added_tokens) ? j.added_tokens : [];
  for (const a of added) {
    if (typeof a?.id !== 'number' || typeof a?.content !== 'string') fail('an added_tokens entry lacks id or content');
    if (a.id > maxId) maxId = a.id;
  }
  if (maxId > 16_000_000) fail(`id ${maxId} is implausibly large`);
  const V = maxId + 1;
  const pieces: Array<Uint8Array | undefined> = new Array(V);
  const kind = new Uint8Array(V).fill(TokenKind.Unused);
  const byteFallback = /^<0x([0-9A-Fa-f]{2})>$/;
  const tokenToBytes = (s: string): Uint8Array => {
    if (byteLevel) {
      const out = new Uint8Array(s.length);
      let n = 0;
      for (const ch of s) {
        const b = charToByte.get(ch);
        if (b === undefined) return utf8(s); // not a byte-level string (rare hand-added entry): take it literally
        out[n++] = b;
      }
      return out.subarray(0, n);
    }
    return utf8(metaspace ? s.split(METASPACE).join(' ') : s);
  };
  const vocab = new Map<string, number>();
  for (const [s, v] of entries) {
    const idv = v as number;
    vocab.set(s, idv);
    const m = !byteLevel && model.byte_fallback ? byteFallback.exec(s) : null;
    if (m) {
      pieces[idv] = Uint8Array.of(parseInt(m[1]!, 16));
      kind[idv] = TokenKind.ByteFallback;
    } else {
      pieces[idv] = tokenToBytes(s);
      kind[idv] = TokenKind.Ordinary;
    }
  }
  const vocabIds = new Set(vocab.values());
  for (const a of added) {
    // Gemma lists runs of "▁" as added tokens that are also vocabulary entries: Hugging Face matches
    // them only against a literal "▁" run in the text and decodes them to spaces, so they behave as
    // ordinary tokens (a literal "▁" run in the input is the one case we encode differently).
    if (metaspace && !a.special && a.content.includes(METASPACE) && vocabIds.has(a.id)) continue;
    pieces[a.id] = utf8(a.content);
    kind[a.id] = a.special ? TokenKind.Special : TokenKind.Added;
  }
  let total = 0;
  for (const p of pieces) total += p?.length ?? 0;
  const tokenBytes = new Uint8Array(total);
  const tokenOffsets = new Int32Array(V + 1);
  let pos = 0;
  for (let i = 0; i < V; i++) {
    tokenOffsets[i] = pos;
    const p = pieces[i];
    if (p) {
      tokenBytes.set(p, pos);
      pos += p.length;
    }
  }
  tokenOffsets[V] = pos;

  // ---- merges
  const M = model.merges.length;
  if (M > 16_000_000) fail(`${M} merges is implausibly many`);
  const merges = new Int32Array(M * 3);
  let k = 0;
  for (let i = 0; i < M; i++) {
    const m = model.merges[i];
    let a: string;
    let b: string;
    if (typeof m === 'string') {
      const sp = m.indexOf(' ', 1);
      if (sp < 0) fail(`merge #${i} ${JSON.stringify(m)} is not "left right"`);
      a = m.slice(0, sp);
      b = m.slice(sp + 1);
    } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
      [a, b] = m as [string, string];
    } else {
      return fail(`merge #${i} is neither "left right" nor a [left, right] pair`);
    }
    const ia = vocab.get(a);
    const ib = vocab.get(b);
    const ir = vocab.get(a + b);
    if (ia === undefined || ib === undefined) fail(`merge #${i} ${JSON.stringify([a, b])} uses a token that is not in the vocabulary`);
    if (ir === undefined) fail(`merge #${i} ${JSON.stringify([a, b])} produces ${JSON.stringify(a + b)}, which is not in the vocabulary`);
    merges[k++] = ia!;
    merges[k++] = ib!;
    merges[k++] = ir!;
  }

  if (byteLevel) {
    // Every byte needs a token, or some text could not be encoded at all.
    const have = new Set<number>();
    for (let i = 0; i < V; i++) if (kind[i] === TokenKind.Ordinary && tokenOffsets[i + 1]! - tokenOffsets[i]! === 1) have.add(tokenBytes[tokenOffsets[i]!]!);
    if (have.size < 256) fail(`byte-level vocabulary lacks tokens for ${256 - have.size} of the 256 bytes`);
  }

  const unk = typeof model.unk_token === 'string' ? vocab.get(model.unk_token) : undefined;
  return {
    id,
    vocabSize: V,
    tokenBytes,
    tokenOffsets,
    tokenKind: kind,
    merges,
    mergePriority: 'index',
    symbols: byteLevel ? 'bytes' : 'chars',
    ignoreMerges: model.ignore_merges === true,
    preTokenizer,
    normalizer,
    unkId: unk ?? -1,
  };
}
