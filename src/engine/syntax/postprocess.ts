/**
 * Completion post-processing: what the completion engine does with a
 * candidate between "the model produced these bytes" and "insert this text".
 *
 *  - stop rules (createStopAt / applyStopRules): end of the word when the
 *    cursor is mid-word, end of the line or of the enclosing block when the
 *    context asks for it, max lines;
 *  - reindent: the candidate's indentation in the file's style;
 *  - mergeIntoSuffix: mid-word cursor (`get|Name`), keep only what makes the
 *    merged word right, preferring a word the file already uses;
 *  - trimOverlap: drop closing brackets / lines the suffix already has,
 *    choosing the cut that leaves the fewest parse errors;
 *  - rankCandidates: several candidates, fewest ERROR/MISSING nodes first.
 *
 * All functions take the text before and after the cursor; offsets are
 * UTF-16 except createStopAt, which counts generated UTF-8 bytes.
 */
import type { Tree } from 'web-tree-sitter';
import { lexicalWords, wordTester } from './lexical';
import type { ParsedText } from './service';

/** How far a completion may run: one line, the enclosing block, or only maxLines. */
export type StopMode = 'line' | 'block' | 'free';

/** What the post-processing knows about the cursor. */
export interface CompletionContext {
  readonly languageId: string;
  /** Text before the cursor (may be a window ending at the cursor). */
  readonly prefix: string;
  /** Text after the cursor (may be a window starting at the cursor). */
  readonly suffix: string;
  /** Default: chooseStopMode(prefix, suffix). */
  readonly mode?: StopMode;
  /** Most lines of a completion (default unlimited). */
  readonly maxLines?: number;
  /** Identifiers the file defines/uses; default: every word of prefix and suffix. */
  readonly knownIdentifiers?: ReadonlySet<string>;
}

/** Parses a whole text for error counting; returns undefined when there is no grammar or time. */
export type ErrorCounter = (text: string) => number | undefined;

/** The word part left of the cursor and right of it (same line only). */
export function wordAround(ctx: Pick<CompletionContext, 'languageId' | 'prefix' | 'suffix'>): { left: string; right: string } {
  const isWord = wordTester(ctx.languageId);
  let s = ctx.prefix.length;
  while (s > 0 && isWord(ctx.prefix.charCodeAt(s - 1)) && ctx.prefix.length - s < 512) s--;
  let e = 0;
  while (e < ctx.suffix.length && isWord(ctx.suffix.charCodeAt(e)) && e < 512) e++;
  return { left: ctx.prefix.slice(s), right: ctx.suffix.slice(0, e) };
}

/** Every distinct word in the text (cheap "defined elsewhere in the file" set). */
export function collectIdentifiers(text: string, languageId: string, limitChars = 2_000_000): Set<string> {
  const out = new Set<string>();
  for (const w of lexicalWords(text.length > limitChars ? text.slice(0, limitChars) : text, languageId)) if (w.end - w.start <= 256) out.add(w.text);
  return out;
}

/**
 * The identifiers of the file apart from the partial word at the cursor
 * (which would otherwise "confirm" itself).
 */
function knownIdentifiers(ctx: CompletionContext): ReadonlySet<string> {
  if (ctx.knownIdentifiers) return ctx.knownIdentifiers;
  const { left, right } = wordAround(ctx);
  const p = ctx.prefix.slice(0, ctx.prefix.length - left.length);
  const s = ctx.suffix.slice(right.length);
  const set = collectIdentifiers(p, ctx.languageId);
  for (const w of collectIdentifiers(s, ctx.languageId)) set.add(w);
  return set;
}

/**
 * Cursor inside a word (`get|Name`): the part of `candidate` to insert so
 * that left + inserted + right is the intended word, and nothing after it.
 * In order of preference:
 *  1. the candidate's first word ends with the suffix's part (`UserName`):
 *     drop the repeated part (`User`): the model spelled the word out;
 *  2. a non-empty cut of the first word that makes a word the file already
 *     uses (the longest such cut);
 *  3. the suffix's part occurs inside the first word (`UserNames`): cut
 *     before it;
 *  4. the whole first word (never a cut inside a different word).
 * A candidate that starts with a non-word character inserts nothing (the
 * word was already complete). Without a word right of the cursor the
 * candidate is returned as it is.
 */
export function mergeIntoSuffix(ctx: CompletionContext, candidate: string): string {
  const { left, right } = wordAround(ctx);
  if (!right) return candidate;
  const isWord = wordTester(ctx.languageId);
  let w = 0;
  while (w < candidate.length && isWord(candidate.charCodeAt(w))) w++;
  const word = candidate.slice(0, w);
  if (!left) {
    // At a word's start (`(|foo`): a separate word may be inserted before it; only trim a repeat.
    if (word.endsWith(right) && word.length > right.length) return word.slice(0, word.length - right.length);
    return candidate;
  }
  if (w === 0) return '';
  if (word.endsWith(right)) return word.slice(0, word.length - right.length);
  const known = knownIdentifiers(ctx);
  // k >= 1: the merged word must use some of the model's word; "insert nothing"
  // is the model's own call (a candidate starting with punctuation), not ours.
  for (let k = w; k >= 1; k--) {
    if (known.has(left + word.slice(0, k) + right)) return word.slice(0, k);
  }
  // The model's word may run past the suffix's part (`UserNames` for `get|Name`):
  // the longest cut whose rest starts with the suffix's part ends the word there.
  for (let k = w - 1; k > 0; k--) {
    if (word.startsWith(right, k) && isWord(word.charCodeAt(k - 1))) return word.slice(0, k);
  }
  return word;
}

/** Indentation style of a text: unit string ("\t" or N spaces). */
export interface IndentStyle {
  readonly useTabs: boolean;
  /** Spaces per level (for tabs: 1 tab per level; width is then informational). */
  readonly width: number;
  /** How many indented lines the guess rests on (0 = no evidence). */
  readonly evidence: number;
}

/**
 * Guesses tabs vs spaces and the indent width from the lines of `text`
 * (the most common positive step between consecutive indented lines).
 */
export function detectIndentation(text: string, maxLines = 5000): IndentStyle {
  let tabs = 0;
  let spaces = 0;
  const steps = new Map<number, number>();
  let prev = 0;
  let lines = 0;
  let pos = 0;
  while (pos <= text.length && lines < maxLines) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    lines++;
    let i = pos;
    while (i < end && (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x09)) i++;
    if (i < end && text.charCodeAt(i) !== 0x0d) {
      const ws = text.slice(pos, i);
      if (ws.startsWith('\t')) tabs++;
      else if (ws.length > 0) {
        spaces++;
        const step = ws.length - prev;
        if (step > 0 && step <= 8) steps.set(step, (steps.get(step) ?? 0) + 1);
      }
      prev = ws.startsWith('\t') ? prev : ws.length;
    }
    pos = end + 1;
  }
  let width = 4;
  let best = 0;
  for (const [step, count] of steps) {
    if (count > best || (count === best && step < width)) {
      best = count;
      width = step;
    }
  }
  return { useTabs: tabs > spaces, width, evidence: tabs + spaces };
}

function leadingWhitespace(line: string): string {
  let i = 0;
  while (i < line.length && (line.charCodeAt(i) === 0x20 || line.charCodeAt(i) === 0x09)) i++;
  return line.slice(0, i);
}

/**
 * Rewrites the indentation of the candidate's lines after the first to the
 * file's style: tabs <-> spaces, and the indent width (levels counted from
 * the cursor line's indentation). The first line continues the cursor's line
 * and is left alone. Conservative: without evidence about the file, or when
 * the candidate's own unit is unclear (alignment, odd widths), returns the
 * candidate unchanged.
 */
export function reindent(ctx: CompletionContext, candidate: string): string {
  if (!candidate.includes('\n')) return candidate;
  const style = detectIndentation(ctx.prefix.slice(-200_000) + ctx.suffix.slice(0, 200_000));
  if (style.evidence < 2) return candidate;
  const lines = candidate.split('\n');
  const body = lines.slice(1).filter((l) => l.trim() !== '');
  const spaceWidths = body.map(leadingWhitespace).filter((ws) => ws.length > 0 && !ws.includes('\t')).map((ws) => ws.length);
  const mapBody = (f: (ws: string) => string | undefined): string | undefined => {
    const out = [lines[0]!];
    for (const line of lines.slice(1)) {
      if (line.trim() === '') {
        out.push(line);
        continue;
      }
      const ws = leadingWhitespace(line);
      const next = f(ws);
      if (next === undefined) return undefined;
      out.push(next + line.slice(ws.length));
    }
    return out.join('\n');
  };
  if (style.useTabs) {
    if (spaceWidths.length === 0) return candidate;
    const unit = spaceWidths.reduce(gcd);
    if (![2, 3, 4, 8].includes(unit)) return candidate;
    return mapBody((ws) => (ws.includes('\t') ? ws : '\t'.repeat(ws.length / unit))) ?? candidate;
  }
  const unit = ' '.repeat(style.width);
  const cursorLine = ctx.prefix.slice(ctx.prefix.lastIndexOf('\n') + 1);
  const baseWidth = leadingWhitespace(cursorLine).replace(/\t/g, unit).length;
  const sorted = [...new Set([baseWidth, ...spaceWidths])].sort((a, b) => a - b);
  let candUnit = 0;
  for (let i = 1; i < sorted.length; i++) {
    const d = sorted[i]! - sorted[i - 1]!;
    if (candUnit === 0 || d < candUnit) candUnit = d;
  }
  const rescale = candUnit !== 0 && candUnit !== style.width && [2, 3, 4, 8].includes(candUnit);
  const result = mapBody((ws) => {
    if (ws.includes('\t')) return ws.replace(/\t/g, unit);
    if (!rescale) return ws;
    const extra = ws.length - baseWidth;
    if (extra >= 0 && extra % candUnit === 0) return ' '.repeat(baseWidth + (extra / candUnit) * style.width);
    if (ws.length % candUnit === 0) return ' '.repeat((ws.length / candUnit) * style.width);
    return undefined;
  });
  return result ?? candidate;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Counts ERROR and MISSING nodes of a tree (0 for an error-free tree, fast). */
export function countSyntaxErrors(tree: Tree, limit = 10_000): number {
  if (!tree.rootNode.hasError) return 0;
  let count = 0;
  const cursor = tree.walk();
  for (;;) {
    const node = cursor.currentNode;
    if (node.isError || node.isMissing) count++;
    if (count >= limit) break;
    // Only descend into subtrees that contain an error.
    if (node.hasError && cursor.gotoFirstChild()) continue;
    let moved = false;
    while (!moved) {
      if (cursor.gotoNextSibling()) moved = true;
      else if (!cursor.gotoParent()) break;
    }
    if (!moved) break;
  }
  cursor.delete();
  return count;
}

/** An ErrorCounter built on a one-off parse function (e.g. SyntaxService.parseLoaded). */
export function errorCounterFrom(parse: (text: string) => ParsedText): ErrorCounter {
  return (text) => {
    const parsed = parse(text);
    try {
      return parsed.tree ? countSyntaxErrors(parsed.tree) : undefined;
    } finally {
      parsed.dispose();
    }
  };
}

const WINDOW_LINES = 80;

/** The last/first `n` lines of a text (the window error counting parses). */
function tailLines(text: string, n: number): string {
  let i = text.length;
  for (let k = 0; k < n && i > 0; k++) i = text.lastIndexOf('\n', i - 1);
  return i <= 0 ? text : text.slice(i + 1);
}
function headLines(text: string, n: number): string {
  let i = -1;
  for (let k = 0; k < n; k++) {
    i = text.indexOf('\n', i + 1);
    if (i < 0) return text;
  }
  return text.slice(0, i);
}

/** Bracket depth change of a text (ignores quotes: a lexical fallback only). */
function bracketDelta(text: string): number {
  let d = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x28 || c === 0x5b || c === 0x7b) d++;
    else if (c === 0x29 || c === 0x5d || c === 0x7d) d--;
  }
  return d;
}

/**
 * Removes what the suffix already has from the end of the candidate:
 *  - whole lines: the candidate's last lines equal (ignoring indentation) the
 *    suffix's next non-empty lines (a closing `}` or `return x` that follows);
 *  - characters: the candidate ends with the suffix's beginning (`)`, `);`,
 *    `"]`), cut only where the cut does not split a word.
 * Among the possible cuts (none included) it keeps the one whose result
 * parses with the fewest errors (`countErrors`), or, without a grammar, the
 * one that leaves the cursor line's brackets balanced; ties trim more.
 */
export function trimOverlap(ctx: CompletionContext, candidate: string, countErrors?: ErrorCounter): string {
  if (!candidate) return candidate;
  const isWord = wordTester(ctx.languageId);
  const options = new Set<string>([candidate]);

  // Line-level overlap (cursor at the end of its line, multi-line candidate).
  const firstBreak = ctx.suffix.indexOf('\n');
  const restOfLine = firstBreak < 0 ? ctx.suffix : ctx.suffix.slice(0, firstBreak);
  if (restOfLine.trim() === '' && candidate.includes('\n') && firstBreak >= 0) {
    const next = headLines(ctx.suffix.slice(firstBreak + 1), 50)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    const lines = candidate.replace(/\s+$/, '').split('\n');
    for (let m = Math.min(lines.length - 1, next.length); m >= 1; m--) {
      const tail = lines.slice(lines.length - m).map((l) => l.trim()).filter((l) => l !== '');
      if (tail.length === 0) continue;
      if (tail.every((l, i) => l === next[i])) {
        options.add(lines.slice(0, lines.length - m).join('\n').replace(/\s+$/, ''));
        break;
      }
    }
  }

  // Character-level overlap with the start of the suffix.
  for (const base of [...options]) {
    const max = Math.min(base.length, ctx.suffix.length, 400);
    for (let m = max; m >= 1; m--) {
      const cut = base.length - m;
      if (!base.endsWith(ctx.suffix.slice(0, m))) continue;
      if (cut > 0 && isWord(base.charCodeAt(cut - 1)) && isWord(base.charCodeAt(cut))) continue;
      const overlap = base.slice(cut);
      if (overlap.trim() === '') continue;
      options.add(base.slice(0, cut).replace(/[ \t]+$/, (ws) => (/^[ \t]/.test(ctx.suffix) ? '' : ws)));
    }
  }
  if (options.size === 1) return candidate;

  const list = [...options];
  const before = tailLines(ctx.prefix, WINDOW_LINES);
  const after = headLines(ctx.suffix, WINDOW_LINES);
  const scored = list.map((text, i) => {
    const errors = countErrors?.(before + text + after);
    const lineStart = before.slice(before.lastIndexOf('\n') + 1);
    const lexical = Math.abs(bracketDelta(lineStart + text + restOfLine));
    return { text, i, errors: errors ?? lexical };
  });
  // Fewest errors; ties: the shorter text (trim more), i.e. more overlap removed.
  scored.sort((a, b) => a.errors - b.errors || a.text.length - b.text.length || a.i - b.i);
  return scored[0]!.text;
}

/**
 * Picks the stop mode from the cursor position: mid-line (text after the
 * cursor on its line) -> 'line'; an empty line or a line that opens a block
 * (`:`, `{`, `=>`, `(`, `[` at its end) -> 'block'; otherwise 'line'.
 */
export function chooseStopMode(prefix: string, suffix: string): StopMode {
  const nl = suffix.indexOf('\n');
  const rest = nl < 0 ? suffix : suffix.slice(0, nl);
  if (/[^\s)\]}"'`;,]/.test(rest)) return 'line';
  const line = prefix.slice(prefix.lastIndexOf('\n') + 1);
  if (line.trim() === '' || /(:|\{|=>|\(|\[|\bdo|\bthen)\s*$/.test(line)) return 'block';
  return 'line';
}

/**
 * Where generation should stop, on the generated text seen byte-wise
 * (latin1 view: one char per byte, bytes >= 0x80 count as word characters,
 * so invalid or partial UTF-8 needs no special care). Returns the number of
 * units (= bytes) to keep, or undefined to go on.
 */
function stopInText(ctx: CompletionContext, g: string, final: boolean): number | undefined {
  const mode = ctx.mode ?? chooseStopMode(ctx.prefix, ctx.suffix);
  const isWord = wordTester(ctx.languageId);
  const wordByte = (c: number) => c >= 0x80 || isWord(c);
  const { left, right } = wordAround(ctx);

  // Mid-word cursor: the completion is the rest of a word; stop at its end.
  if (left && right) {
    for (let i = 0; i < g.length; i++) if (!wordByte(g.charCodeAt(i))) return i;
    return undefined;
  }

  const cursorLine = ctx.prefix.slice(ctx.prefix.lastIndexOf('\n') + 1);
  const baseIndent = indentWidth(leadingWhitespace(cursorLine));
  const suffixFirst = firstNonEmptyLine(ctx.suffix);
  let depth = 0;
  let lineStart = 0;
  let lineNo = 0;
  let sawContent = false;
  let deeper = false;
  const opensBlock = /(:|\{|=>|\bdo|\bthen)\s*$/.test(cursorLine);
  for (let i = 0; i <= g.length; i++) {
    const atEnd = i === g.length;
    const c = atEnd ? 0x0a : g.charCodeAt(i);
    if (c === 0x0a) {
      if (atEnd && !final) return undefined; // an unfinished line: decide when it completes
      const line = g.slice(lineStart, i).replace(/\r$/, '');
      const hasContent = line.trim() !== '';
      if (lineNo > 0 && hasContent) {
        const ind = indentWidth(leadingWhitespace(line));
        // Block mode: a dedent past the cursor's block, or back to its level after a body.
        if (mode === 'block' && (ind < baseIndent || (opensBlock && deeper && ind <= baseIndent && !/^\s*[)\]}]/.test(line)))) {
          return trimCut(g, lineStart);
        }
        if (ind > baseIndent) deeper = true;
      }
      if (mode === 'line' && (sawContent || hasContent) && lineNo >= 0 && hasContent) return i;
      if (hasContent) sawContent = true;
      lineNo++;
      if (ctx.maxLines !== undefined && lineNo >= ctx.maxLines && !atEnd) return i;
      lineStart = i + 1;
      continue;
    }
    if (c === 0x28 || c === 0x5b || c === 0x7b) depth++;
    else if (c === 0x29 || c === 0x5d || c === 0x7d) {
      depth--;
      if (depth < 0 && mode !== 'free') {
        // Closing a bracket opened before the cursor: the enclosing statement/block ends here.
        const lineSoFar = g.slice(lineStart, i);
        const closerOnly = lineSoFar.trim() === '';
        const suffixCloses = suffixFirst.trimStart().startsWith(String.fromCharCode(c));
        if (mode === 'block' && closerOnly && !suffixCloses) {
          // The suffix lacks the closer: keep this closing line, stop after it.
          const eol = g.indexOf('\n', i);
          if (eol < 0 && !final) return undefined;
          return eol < 0 ? g.length : eol;
        }
        if (mode === 'line' && !closerOnly) {
          // `foo(x|)`: the model may close the call itself (trimOverlap removes the
          // suffix's copy); keep scanning so the end-of-line stop still applies.
          depth = 0;
          continue;
        }
        return closerOnly ? trimCut(g, lineStart) : i;
      }
    }
  }
  return undefined;
}

/** Cut before the line break that precedes `lineStart` (drop trailing blank lines too). */
function trimCut(g: string, lineStart: number): number {
  let cut = lineStart;
  while (cut > 0 && /[\s]/.test(g[cut - 1]!)) cut--;
  return cut;
}

function indentWidth(ws: string): number {
  let w = 0;
  for (const ch of ws) w += ch === '\t' ? 4 : 1;
  return w;
}

function firstNonEmptyLine(text: string): string {
  for (const line of headLines(text, 20).split('\n')) if (line.trim() !== '') return line;
  return '';
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

/**
 * A `stopAt` callback for the boundary strategies (BoundaryRequest.stopAt):
 * given all generated bytes so far, the byte length to keep when the stop
 * rules say the completion is over (end of the word when the cursor is
 * mid-word, end of the line in 'line' mode, end of the enclosing block in
 * 'block' mode, maxLines), else undefined.
 */
export function createStopAt(ctx: CompletionContext): (generated: Uint8Array) => number | undefined {
  return (generated) => stopInText(ctx, latin1(generated), false);
}

/** The same stop rules applied to a finished candidate text (e.g. one that stopped on a stop token). */
export function applyStopRules(ctx: CompletionContext, candidate: string): string {
  const bytes = new TextEncoder().encode(candidate);
  const keep = stopInText(ctx, latin1(bytes), true);
  if (keep === undefined || keep >= bytes.length) return candidate;
  return new TextDecoder().decode(bytes.subarray(0, keep));
}

/** A candidate with the parse errors its insertion leaves (undefined: no grammar/time). */
export interface RankedCandidate {
  readonly text: string;
  readonly errors: number | undefined;
  /** Position in the input list. */
  readonly index: number;
}

/** Orders candidates by the ERROR/MISSING nodes left after inserting each (stable; unknown counts last). */
export function rankCandidates(ctx: CompletionContext, candidates: readonly string[], countErrors?: ErrorCounter): RankedCandidate[] {
  const before = tailLines(ctx.prefix, WINDOW_LINES);
  const after = headLines(ctx.suffix, WINDOW_LINES);
  const ranked = candidates.map((text, index) => ({ text, index, errors: countErrors?.(before + text + after) }));
  return ranked.sort((a, b) => (a.errors ?? Infinity) - (b.errors ?? Infinity) || a.index - b.index);
}

/**
 * The whole post-processing for one or more candidates: stop rules, then
 * reindent, then (mid-word) merge into the suffix or trim the overlap, then
 * rank. Returns the text to insert and the ranking.
 */
export function finalizeCompletion(
  ctx: CompletionContext,
  candidates: string | readonly string[],
  countErrors?: ErrorCounter,
  options: { readonly joinsSuffix?: boolean } = {},
): { text: string; ranked: RankedCandidate[] } {
  const list = typeof candidates === 'string' ? [candidates] : candidates;
  const { left, right } = wordAround(ctx);
  const processed = list.map((c) => {
    // The generator found where its text joins the suffix: the rules below guess
    // that join (first word, first line) and would cut a middle that runs past it.
    if (options.joinsSuffix) return c;
    let t = applyStopRules(ctx, c);
    if (left && right) return mergeIntoSuffix(ctx, t);
    t = reindent(ctx, t);
    t = mergeIntoSuffix(ctx, t);
    return trimOverlap(ctx, t, countErrors);
  });
  const ranked = processed.length > 1 ? rankCandidates(ctx, processed, countErrors) : processed.map((text, index) => ({ text, index, errors: undefined }));
  return { text: ranked[0]?.text ?? '', ranked };
}
