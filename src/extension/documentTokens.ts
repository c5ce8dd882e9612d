/**
 * Token counts of one document under one tokenizer, kept up to date from
 * edits. Pure (no `vscode`): the extension feeds it VS Code's changes, the
 * benchmark and the unit tests feed it the same.
 *
 * With our BPE core (every tokenizer Subword ships), this is the engine's
 * DocumentTokenCounter: an edit recounts only the segments around it, each
 * line's count is the tokens of the pre-token pieces that start on it, and
 * the per-line counts add up exactly to the tokenizer's count of the whole
 * text. Any other Tokenizer (and documents with lone CR line breaks, which
 * the counter does not split on) falls back to counting each line on its own
 * plus one full encode for the total after an edit. Documents over the size
 * cap (`totalOnly`) keep no counts at all between edits: their exact total is
 * one encode, computed when asked for.
 */
import { BpeTokenizer } from '../engine/tokenizers/bpe';
import { DocumentTokenCounter } from '../engine/tokenizers/incremental';
import type { Tokenizer } from '../engine/tokenizers/types';

/** One change: its range in line/column (UTF-16) and in offsets, both in the text before it. */
export interface LineEdit {
  readonly startLine: number;
  readonly startCharacter: number;
  readonly endLine: number;
  readonly endCharacter: number;
  /** UTF-16 offset of the start (VS Code's rangeOffset). */
  readonly offset: number;
  /** Replaced UTF-16 units (VS Code's rangeLength). */
  readonly length: number;
  readonly text: string;
}

/** Lines of a text without their line breaks (CRLF, LF and lone CR all end a line, like VS Code). */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

const LONE_CR = /\r(?!\n)/;

export class DocumentTokens {
  private counter: DocumentTokenCounter | undefined;
  /** Fallback state: lines without breaks, their counts, the break used to join them. */
  private lines: string[] = [];
  private counts: number[] = [];
  private eol = '\n';
  private totalCache: number | undefined;
  /** Lines recounted by the fallback path since creation (tests). */
  recounted = 0;

  constructor(
    readonly tokenizer: Tokenizer,
    text: string,
    /** Over subword.tokens.maxFileSizeKB: per-line counts are not shown, only the total. */
    readonly totalOnly = false,
  ) {
    this.reset(text);
  }

  /** Whether the engine's incremental counter serves this document (else the fallback). */
  get incremental(): boolean {
    return this.counter !== undefined;
  }

  /** Replaces the whole text (a reload, or edits that could not be applied). */
  reset(text: string): void {
    this.totalCache = undefined;
    // Large documents show only the total: no per-edit recount at all, one
    // encode when the total is asked for (after a typing pause).
    if (!this.totalOnly && this.tokenizer instanceof BpeTokenizer && !LONE_CR.test(text)) {
      this.counter = new DocumentTokenCounter(this.tokenizer, text);
      this.lines = [];
      this.counts = [];
      return;
    }
    this.counter = undefined;
    this.eol = text.includes('\r\n') ? '\r\n' : '\n';
    this.lines = splitLines(text);
    this.counts = this.totalOnly ? [] : this.lines.map((l) => this.countLine(l));
  }

  private countLine(line: string): number {
    this.recounted++;
    return line.length ? this.tokenizer.encode(line).length : 0;
  }

  get lineCount(): number {
    return this.counter ? this.counter.lineTotal : this.lines.length;
  }

  /** Tokens attributed to line `i` (undefined when only the total is shown or out of range). */
  lineTokens(i: number): number | undefined {
    if (this.totalOnly || i < 0 || i >= this.lineCount) return undefined;
    return this.counter ? this.counter.lineCount(i) : this.counts[i];
  }

  /** Per-line counts for lines [from, to). */
  lineTokensRange(from: number, to: number): number[] {
    if (this.totalOnly) return [];
    const a = Math.max(0, from);
    const b = Math.min(this.lineCount, to);
    if (!this.counter) return this.counts.slice(a, b);
    const out = new Array<number>(Math.max(0, b - a));
    for (let i = a; i < b; i++) out[i - a] = this.counter.lineCount(i);
    return out;
  }

  /** The document's text as this object has it. */
  text(): string {
    return this.counter ? this.counter.text() : this.lines.join(this.eol);
  }

  /** Whether `total()` is free (no encode needed). */
  get totalKnown(): boolean {
    return this.counter !== undefined || this.totalCache !== undefined;
  }

  /** Exact token count of the whole text. */
  total(): number {
    if (this.counter) return this.counter.total();
    this.totalCache ??= this.tokenizer.encode(this.text()).length;
    return this.totalCache;
  }

  /**
   * Applies edits in order, each against the text left by the previous one
   * (VS Code's contentChanges sorted by descending offset are).
   */
  apply(edits: readonly LineEdit[]): void {
    if (this.counter) {
      if (edits.some((e) => LONE_CR.test(e.text))) {
        // A lone CR would split lines differently from the counter: move to the fallback.
        let text = this.counter.text();
        for (const e of edits) text = text.slice(0, e.offset) + e.text + text.slice(e.offset + e.length);
        this.counter = undefined;
        this.reset(text);
        return;
      }
      this.counter.applyEdits(edits.map((e) => ({ start: e.offset, deleted: e.length, text: e.text })));
      return;
    }
    for (const e of edits) this.applyLines(e);
    this.totalCache = undefined;
  }

  private applyLines(e: LineEdit): void {
    const last = this.lines.length - 1;
    const sl = Math.max(0, Math.min(last, e.startLine));
    const el = Math.max(sl, Math.min(last, e.endLine));
    const before = this.lines[sl]!.slice(0, Math.max(0, e.startCharacter));
    const after = this.lines[el]!.slice(Math.max(0, el === sl ? Math.max(e.startCharacter, e.endCharacter) : e.endCharacter));
    const inserted = splitLines(e.text);
    inserted[0] = before + inserted[0]!;
    inserted[inserted.length - 1] = inserted[inserted.length - 1]! + after;
    this.lines.splice(sl, el - sl + 1, ...inserted);
    if (!this.totalOnly) this.counts.splice(sl, el - sl + 1, ...inserted.map((l) => this.countLine(l)));
  }
}
