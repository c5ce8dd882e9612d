/**
 * From document text around the cursor to the model's prompt: context
 * windows measured in tokens and cut at line boundaries, the suffix given a
 * fair share, then the format's template filled in.
 */
import { detachString } from '../tokenizers/bpe';
import type { Tokenizer } from '../tokenizers/types';
import { findSpecial, stopIds as formatStopIds, type FimFormat } from './formats';

export interface PromptInput {
  /** Text before the cursor (the whole document part, any size). */
  readonly prefix: string;
  /** Text after the cursor. */
  readonly suffix: string;
  /** Workspace-relative path, for formats with a file header. */
  readonly path?: string;
}

export interface PromptBudget {
  /** The model's context length in tokens. */
  readonly contextLength: number;
  /** Tokens reserved for the generated middle. */
  readonly maxTokens: number;
  /** Share of the window the suffix may claim when both sides are long (default 0.25). */
  readonly suffixShare?: number;
  /** Upper bound on prompt tokens below the context length (latency cap), if any. */
  readonly maxPromptTokens?: number;
}

export interface BuiltPrompt {
  readonly format: FimFormat;
  /** Special tokens, suffix (and, for PSM formats, the prefix) before the stream. */
  readonly headIds: number[];
  /** Bytes the model continues jointly with the middle (the prefix in joint formats; empty for PSM). */
  readonly streamBytes: Uint8Array;
  /** Canonical encoding of streamBytes (naive prompting uses it as is). */
  readonly streamIds: number[];
  readonly stopIds: number[];
  /** The windowed prefix and suffix actually used. */
  readonly prefixText: string;
  readonly suffixText: string;
  /** Where the prefix window starts; pass it back with the next request. */
  readonly prefixAnchor: PrefixAnchor;
  /** Identity of the prompt (for the completion cache). */
  readonly key: string;
}

const encoder = new TextEncoder();

/**
 * Token counts of single lines, remembered between requests: successive
 * keystrokes share almost every line, so windowing costs one encode of the
 * edited line, not of the whole window.
 */
export class LineTokenCounter {
  private readonly map = new Map<string, number>();
  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly capacity = 4096,
  ) {}

  count(line: string): number {
    const hit = this.map.get(line);
    if (hit !== undefined) {
      this.map.delete(line);
      this.map.set(detachString(line), hit);
      return hit;
    }
    const n = this.tokenizer.encode(line).length;
    // Detached: a line sliced from the request's text would keep that whole text alive.
    this.map.set(detachString(line), n);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as string);
    return n;
  }
}

/** A UTF-16 index that does not split a surrogate pair. */
function safeCut(text: string, index: number): number {
  if (index <= 0 || index >= text.length) return Math.max(0, Math.min(text.length, index));
  const c = text.charCodeAt(index);
  return c >= 0xdc00 && c <= 0xdfff && (text.charCodeAt(index - 1) & 0xfc00) === 0xd800 ? index + 1 : index;
}

/** Upper bound on characters per token used to clip huge lines before encoding them. */
const CLIP_CHARS_PER_TOKEN = 8;

/** Where the previous request's prefix window started, to keep it stable. */
export interface PrefixAnchor {
  /** Offset into the prefix where the window started. */
  readonly start: number;
  /** The first characters of the window there (to see that the text is unchanged). */
  readonly head: string;
}

/** How full a freshly cut prefix window is, so it can grow before it must move. */
const FRESH_FILL = 0.8;

/** Sum of line token counts of prefix.slice(start), or Infinity once above budget. */
function tokensFrom(prefix: string, start: number, budget: number, counter: LineTokenCounter): number {
  let used = 0;
  let pos = start;
  while (pos < prefix.length) {
    let next = prefix.indexOf('\n', pos);
    next = next < 0 ? prefix.length : next + 1;
    if (next - pos > (budget - used) * CLIP_CHARS_PER_TOKEN) return Infinity;
    used += counter.count(prefix.slice(pos, next));
    if (used > budget) return Infinity;
    pos = next;
  }
  return used;
}

/**
 * Offset where the window over `prefix` starts so that the rest fits in
 * `budget` tokens: the cursor's own line always (clipped from the left if it
 * alone is too long), then whole earlier lines while they fit. With an
 * anchor from the previous request the window keeps its start while the
 * text there is unchanged and everything still fits: the start of the
 * prompt then stays the same and the model's KV cache stays valid. A fresh
 * cut fills the budget only to 80%, leaving room to type before it moves.
 */
export function windowPrefixStart(prefix: string, budget: number, counter: LineTokenCounter, anchor?: PrefixAnchor): number {
  if (budget <= 0 || !prefix) return prefix.length;
  if (anchor && anchor.start <= prefix.length && prefix.startsWith(anchor.head, anchor.start) && (anchor.start === 0 || prefix[anchor.start - 1] === '\n')) {
    if (tokensFrom(prefix, anchor.start, budget, counter) <= budget) return anchor.start;
  }
  if (tokensFrom(prefix, 0, budget, counter) <= budget) return 0;
  const target = Math.max(1, Math.floor(budget * FRESH_FILL));
  let start = prefix.lastIndexOf('\n') + 1;
  let lineText = prefix.slice(start);
  if (lineText.length > budget * CLIP_CHARS_PER_TOKEN) {
    start = safeCut(prefix, prefix.length - budget * CLIP_CHARS_PER_TOKEN);
    lineText = prefix.slice(start);
  }
  let used = counter.count(lineText);
  while (used > budget && lineText.length > 0) {
    // Drop a proportional share of characters from the left until it fits.
    const drop = Math.max(1, Math.ceil(lineText.length * (1 - budget / used)));
    start = safeCut(prefix, start + drop);
    lineText = prefix.slice(start);
    used = counter.count(lineText);
  }
  if (start > 0 && prefix[start - 1] !== '\n') return start;
  while (start > 0) {
    const prevStart = prefix.lastIndexOf('\n', start - 2) + 1;
    const line = prefix.slice(prevStart, start);
    if (line.length > (target - used) * CLIP_CHARS_PER_TOKEN) break;
    const n = counter.count(line);
    if (used + n > target) break;
    used += n;
    start = prevStart;
  }
  return start;
}

/** The windowed prefix text (see windowPrefixStart). */
export function windowPrefix(prefix: string, budget: number, counter: LineTokenCounter, anchor?: PrefixAnchor): string {
  return prefix.slice(windowPrefixStart(prefix, budget, counter, anchor));
}

/**
 * The start of `suffix` that fits in `budget` tokens: the rest of the
 * cursor's line (clipped on the right if too long), then whole lines.
 */
export function windowSuffix(suffix: string, budget: number, counter: LineTokenCounter): string {
  if (budget <= 0 || !suffix) return '';
  let end = suffix.indexOf('\n');
  end = end < 0 ? suffix.length : end + 1;
  if (end > budget * CLIP_CHARS_PER_TOKEN) end = safeCut(suffix, budget * CLIP_CHARS_PER_TOKEN);
  let used = counter.count(suffix.slice(0, end));
  while (used > budget && end > 0) {
    end = safeCut(suffix, Math.floor(end * (budget / used)) - 1);
    used = end > 0 ? counter.count(suffix.slice(0, end)) : 0;
  }
  if (end < suffix.length && suffix[end - 1] !== '\n') return suffix.slice(0, end);
  while (end < suffix.length) {
    let next = suffix.indexOf('\n', end);
    next = next < 0 ? suffix.length : next + 1;
    if (next - end > (budget - used) * CLIP_CHARS_PER_TOKEN) break;
    const n = counter.count(suffix.slice(end, next));
    if (used + n > budget) break;
    used += n;
    end = next;
  }
  return suffix.slice(0, end);
}

/** Ids of the template's special tokens; throws if the tokenizer lacks one. */
function specialId(tokenizer: Tokenizer, spellings: readonly string[]): number {
  const id = findSpecial(tokenizer, spellings);
  if (id === undefined) throw new Error(`tokenizer has no ${spellings[0]} token required by the FIM format`);
  return id;
}

/**
 * Builds the prompt. The window budget is the context minus the middle's
 * tokens and the template's own tokens; the suffix gets `suffixShare` of it
 * when both sides are long, and whatever one side leaves unused goes to the
 * other.
 */
export function buildPrompt(
  format: FimFormat,
  tokenizer: Tokenizer,
  input: PromptInput,
  budget: PromptBudget,
  counter: LineTokenCounter,
  anchor?: PrefixAnchor,
): BuiltPrompt {
  const fixed: number[] = [];
  const bos = format.bos ? findSpecial(tokenizer, format.bos) : undefined;
  if (bos !== undefined) fixed.push(bos);
  let headerIds: number[] = [];
  if (format.header && input.path) {
    const t = format.header.token ? findSpecial(tokenizer, format.header.token) : undefined;
    headerIds = [...(t !== undefined ? [t] : []), ...tokenizer.encode(format.header.template.replace('{path}', input.path))];
  }
  const templateTokens = fixed.length + headerIds.length + format.head.filter((p) => p.kind === 'token').length;
  const cap = Math.min(budget.contextLength, budget.maxPromptTokens ?? Infinity);
  // A little slack: per-line counts can differ from the joint encoding at line joins.
  const total = Math.max(0, Math.floor((cap - budget.maxTokens - templateTokens) * 0.97) - 2);
  const usesSuffix = format.head.some((p) => p.kind === 'suffix');
  const share = usesSuffix ? (budget.suffixShare ?? 0.25) : 0;
  let suffixText = '';
  let prefixStart: number;
  if (usesSuffix) {
    // The suffix gets its fair share; when the prefix is short the suffix may
    // take what it leaves, in steps of 128 tokens so that typing does not
    // move the suffix window (the suffix comes first in SPM prompts, and a
    // changed head would throw the KV cache away).
    const prefixNeed = tokensFrom(input.prefix, 0, total, counter);
    let suffixBudget = Math.floor(total * share);
    if (Number.isFinite(prefixNeed)) suffixBudget = Math.max(suffixBudget, Math.floor((total - prefixNeed - 128) / 128) * 128);
    suffixText = windowSuffix(input.suffix, suffixBudget, counter);
    const suffixUsed = suffixText ? tokenizer.encode(suffixText).length : 0;
    prefixStart = windowPrefixStart(input.prefix, total - suffixUsed, counter, anchor);
  } else {
    prefixStart = windowPrefixStart(input.prefix, total, counter, anchor);
  }
  const prefixText = input.prefix.slice(prefixStart);

  const prefixIds = tokenizer.encode(prefixText);
  const suffixIds = suffixText ? tokenizer.encode(suffixText) : [];
  const headIds: number[] = [...fixed];
  for (const piece of format.head) {
    if (piece.kind === 'token') headIds.push(specialId(tokenizer, piece.text));
    else if (piece.kind === 'suffix') headIds.push(...suffixIds);
    else if (piece.kind === 'prefix') headIds.push(...prefixIds);
    else headIds.push(...headerIds);
  }
  if (format.head.length === 0) headIds.push(...headerIds);
  const streamBytes = format.joint ? encoder.encode(prefixText) : new Uint8Array(0);
  const streamIds = format.joint ? prefixIds : [];
  return {
    format,
    headIds,
    streamBytes,
    streamIds,
    stopIds: formatStopIds(format, tokenizer),
    prefixText,
    suffixText,
    prefixAnchor: { start: prefixStart, head: prefixText.slice(0, 64) },
    key: `${format.id}\u0000${input.path ?? ''}\u0000${prefixText}\u0000${suffixText}`,
  };
}
