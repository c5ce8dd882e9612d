/**
 * Text the editor shows about tokens: overlay labels, visible whitespace,
 * display segments for coloured tokens, Markdown tables. Pure (no `vscode`)
 * so it is unit-tested in plain Node.
 */
import { OffsetMap } from '../engine/syntax/offsets';

/** "1,234" with a thin, locale-independent grouping (tests and screenshots stay stable). */
export function groupDigits(n: number): string {
  const s = String(Math.round(n));
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "1 token", "1,234 tokens". */
export function tokensLabel(n: number): string {
  return `${groupDigits(n)} ${n === 1 ? 'token' : 'tokens'}`;
}

/** The faint label at the end of a line (blank lines with no tokens get none). */
export function lineOverlayText(count: number): string | undefined {
  return count > 0 ? `  ${groupDigits(count)}` : undefined;
}

/** The label above a function/class/block. */
export function blockOverlayText(kind: string, name: string | undefined, count: number): string {
  return `${tokensLabel(count)} in ${kind}${name ? ` ${name}` : ''}`;
}

const CONTROL_NAMES: Record<number, string> = { 0: '␀', 9: '→', 10: '↵', 13: '␍', 32: '·', 0x7f: '␡', 0xa0: '⍽', 0xfeff: '␣' };

/**
 * Whitespace and control characters made visible: space ·, tab →, newline ↵,
 * CR ␍, NUL ␀, other C0 controls as their Unicode control pictures, NBSP ⍽,
 * BOM ␣. Lone surrogates show as U+FFFD, which is what the tokenizer sees.
 */
export function visibleWhitespace(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const named = CONTROL_NAMES[c];
    if (named !== undefined) out += named;
    else if (c < 0x20) out += String.fromCharCode(0x2400 + c);
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += text[i]! + text[i + 1]!;
        i++;
      } else out += '\ufffd';
    } else if (c >= 0xdc00 && c <= 0xdfff) out += '\ufffd';
    else out += text[i]!;
  }
  return out;
}

/** Bytes as "0x48 0x65" (at most `max`, then an ellipsis). */
export function hexBytes(bytes: Uint8Array, max = 16): string {
  const parts: string[] = [];
  for (let i = 0; i < Math.min(bytes.length, max); i++) parts.push('0x' + bytes[i]!.toString(16).toUpperCase().padStart(2, '0'));
  if (bytes.length > max) parts.push(`… (${bytes.length} bytes)`);
  return parts.join(' ');
}

/** One run of the text painted in one colour: UTF-16 offsets, and the tokens it stands for. */
export interface TokenSegment {
  readonly start: number;
  readonly end: number;
  /** Index of the first token in the run. */
  readonly firstToken: number;
  /** How many tokens the run covers (more than one when tokens split a character). */
  readonly tokens: number;
}

/**
 * Display segments of a tokenized text. `byteStarts` are the tokens' start
 * offsets in UTF-8 bytes (encodeWithOffsets), ascending. A token boundary
 * that falls inside a multi-byte character cannot be drawn, so the tokens on
 * both sides are merged into one segment.
 */
export function tokenSegments(text: string, byteStarts: readonly number[], map = new OffsetMap(text)): TokenSegment[] {
  const out: TokenSegment[] = [];
  if (!byteStarts.length) return out;
  let segStart = 0;
  let segFirst = 0;
  for (let i = 1; i < byteStarts.length; i++) {
    const b = byteStarts[i]!;
    const u = map.toUtf16(b);
    if (map.toUtf8(u) !== b) continue; // inside a character: keep the run going
    if (u > segStart) {
      out.push({ start: segStart, end: u, firstToken: segFirst, tokens: i - segFirst });
      segStart = u;
      segFirst = i;
    }
  }
  if (text.length > segStart) out.push({ start: segStart, end: text.length, firstToken: segFirst, tokens: byteStarts.length - segFirst });
  return out;
}

/** Index of the token that contains byte `b` (the last token starting at or before it). */
export function tokenIndexAt(byteStarts: readonly number[], b: number): number {
  let lo = 0;
  let hi = byteStarts.length - 1;
  if (hi < 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (byteStarts[mid]! <= b) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Escapes text for a Markdown table cell or inline code-free prose. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (c) => '\\' + c);
}

/** Text inside inline code: backticks cannot be escaped there, so pick a fence longer than any run inside. */
export function inlineCode(text: string): string {
  let longest = 0;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || text.startsWith(' ') || text.endsWith(' ') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A Markdown table; cells are escaped by the caller where needed. */
export function markdownTable(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const line = (r: ReadonlyArray<string>) => `| ${r.map((c) => c.replace(/\|/g, '\\|').replace(/\n/g, ' ')).join(' | ')} |`;
  return [line(headers), `|${headers.map(() => ' --- ').join('|')}|`, ...rows.map(line)].join('\n');
}

/** The status bar's text, short enough for a busy bar. */
export interface StatusParts {
  readonly model: 'loading' | 'ready' | 'error' | 'disabled' | 'off';
  readonly tokenizerLabel: string;
  readonly fileTokens?: number;
  readonly fileOnlyTotal?: boolean;
  readonly selectionTokens?: number;
  readonly lastLatencyMs?: number;
  readonly loadingPercent?: number;
}

const MODEL_ICONS: Record<StatusParts['model'], string> = {
  loading: '$(loading~spin)',
  ready: '$(sparkle)',
  error: '$(error)',
  disabled: '$(circle-slash)',
  off: '$(circle-slash)',
};

export function statusText(p: StatusParts): string {
  const parts = [`${MODEL_ICONS[p.model]} ${p.tokenizerLabel}`];
  if (p.fileTokens !== undefined) {
    parts.push(p.selectionTokens !== undefined ? `${groupDigits(p.selectionTokens)}/${tokensLabel(p.fileTokens)}` : tokensLabel(p.fileTokens));
  }
  if (p.lastLatencyMs !== undefined && p.model === 'ready') parts.push(`${Math.round(p.lastLatencyMs)} ms`);
  return parts.join(' · ');
}
