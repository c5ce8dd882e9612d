/** Pure text helpers of the editor layer (no `vscode`; unit-tested in plain Node). */

/**
 * Context sent with a completion. The engine windows the prompt to the
 * model's context itself; these caps only keep a huge file from being copied
 * whole on every keystroke (its cache keys look at 16 K / 8 K characters).
 */
export const PREFIX_CHARS = 32_768;
export const SUFFIX_CHARS = 16_384;

/** A UTF-16 index moved off the middle of a surrogate pair (towards `dir`). */
function safeIndex(text: string, i: number, dir: 1 | -1): number {
  if (i <= 0 || i >= text.length) return i;
  const c = text.charCodeAt(i);
  const p = text.charCodeAt(i - 1);
  return c >= 0xdc00 && c <= 0xdfff && p >= 0xd800 && p <= 0xdbff ? i + dir : i;
}

/** Prefix and suffix around `offset` of `text`, capped (pure; unit-tested). */
export function splitAtCursor(text: string, offset: number, prefixChars = PREFIX_CHARS, suffixChars = SUFFIX_CHARS): { prefix: string; suffix: string } {
  const at = Math.max(0, Math.min(text.length, offset));
  const from = safeIndex(text, Math.max(0, at - prefixChars), 1);
  const to = safeIndex(text, Math.min(text.length, at + suffixChars), -1);
  return { prefix: text.slice(from, at), suffix: text.slice(at, to) };
}


/**
 * Ghost text worth showing: undefined for an empty or whitespace-only
 * completion (VS Code would show nothing useful, and accepting it would only
 * add blanks).
 */
export function ghostText(text: string): string | undefined {
  return text.trim() ? text : undefined;
}
