/**
 * Builds BpeData from a tiktoken rank file ("<base64 bytes> <rank>" per line),
 * as shipped by npm packages for the OpenAI encodings. tiktoken merges any two
 * adjacent parts whose concatenation has a rank, lowest rank first; we turn
 * that into explicit merge triples (every split of a token into two tokens),
 * with priority = the result's rank, so one merge loop serves both formats.
 */
import { TokenKind, type BpeData } from './bpe';
import { utf8 } from './bytes';
import { CL100K_PATTERN, O200K_PATTERN } from './pretokenize';

export interface TiktokenSpec {
  readonly pattern: string;
  readonly specials: Readonly<Record<string, number>>;
}

/** The two OpenAI encodings Subword ships. */
export const TIKTOKEN_SPECS: Readonly<Record<'o200k_base' | 'cl100k_base', TiktokenSpec>> = {
  o200k_base: { pattern: O200K_PATTERN, specials: { '<|endoftext|>': 199999, '<|endofprompt|>': 200018 } },
  cl100k_base: {
    pattern: CL100K_PATTERN,
    specials: { '<|endoftext|>': 100257, '<|fim_prefix|>': 100258, '<|fim_middle|>': 100259, '<|fim_suffix|>': 100260, '<|endofprompt|>': 100276 },
  },
};

export function parseTiktokenRanks(text: string, id: string, spec: TiktokenSpec, file = id): BpeData {
  const toks: Uint8Array[] = [];
  const byKey = new Map<string, number>();
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (!line) continue;
    const sp = line.indexOf(' ');
    const rank = Number(line.slice(sp + 1));
    if (sp < 0 || !Number.isInteger(rank) || rank < 0) throw new Error(`${file}:${lineNo}: expected "<base64> <rank>"`);
    const b = Buffer.from(line.slice(0, sp), 'base64');
    toks[rank] = new Uint8Array(b);
    byKey.set(b.toString('latin1'), rank);
  }
  let V = toks.length;
  for (const r of Object.values(spec.specials)) V = Math.max(V, r + 1);
  const kind = new Uint8Array(V).fill(TokenKind.Unused);
  const tokenOffsets = new Int32Array(V + 1);
  const parts: Uint8Array[] = new Array(V);
  for (let r = 0; r < toks.length; r++) {
    if (toks[r]) {
      parts[r] = toks[r]!;
      kind[r] = TokenKind.Ordinary;
    }
  }
  for (const [s, r] of Object.entries(spec.specials)) {
    parts[r] = utf8(s);
    kind[r] = TokenKind.Special;
  }
  let total = 0;
  for (let i = 0; i < V; i++) {
    tokenOffsets[i] = total;
    total += parts[i]?.length ?? 0;
  }
  tokenOffsets[V] = total;
  const tokenBytes = new Uint8Array(total);
  for (let i = 0; i < V; i++) if (parts[i]) tokenBytes.set(parts[i]!, tokenOffsets[i]!);

  const merges: number[] = [];
  for (let r = 0; r < toks.length; r++) {
    const t = toks[r];
    if (!t || t.length < 2) continue;
    const key = Buffer.from(t).toString('latin1');
    for (let k = 1; k < key.length; k++) {
      const a = byKey.get(key.slice(0, k));
      const b = byKey.get(key.slice(k));
      if (a !== undefined && b !== undefined) merges.push(a, b, r);
    }
  }
  return {
    id,
    vocabSize: V,
    tokenBytes,
    tokenOffsets,
    tokenKind: kind,
    merges: Int32Array.from(merges),
    mergePriority: 'result',
    symbols: 'bytes',
    ignoreMerges: true,
    preTokenizer: { type: 'split', pattern: spec.pattern, behavior: 'isolated' },
    normalizer: 'none',
    unkId: -1,
  };
}
