/**
 * Token counts of one document under one tokenizer, kept up to date from
 * edits. Pure (no `vscode`): the extension feeds it line/column changes,
 * the benchmark and the unit tests feed it the same.
 *
 * Per-line counts (what the end-of-line overlays show) are each line's text
 * encoded on its own and are recounted only for the lines an edit touched.
 * The file total is exact, not a sum of lines (BPE merges across line
 * breaks, e.g. "\n    " is often one token): it is the tokenizer's count of
 * the whole text, computed lazily and remembered until the next edit.
 */
import type { Tokenizer } from '../engine/tokenizers/types';

/** One edit in line/column (UTF-16) coordinates of the text before it. */
export interface LineEdit {
  readonly startLine: number;
  readonly startCharacter: number;
  readonly endLine: number;
  readonly endCharacter: number;
  readonly text: string;
}

/** Lines of a text without their line breaks (CRLF, LF and lone CR all end a line, like VS Code). */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

export class DocumentTokens {
  private lines: string[];
  private counts: number[];
  private eol: string;
  private totalCache: number | undefined;
  /** Lines recounted since creation (the benchmark and tests read it). */
  recounted = 0;

  constructor(
    readonly tokenizer: Tokenizer,
    text: string,
    /** Skip per-line counts (files above subword.tokens.maxFileSizeKB): only the total is kept. */
    readonly totalOnly = false,
  ) {
    this.eol = text.includes('\r\n') ? '\r\n' : '\n';
    this.lines = splitLines(text);
    this.counts = totalOnly ? [] : this.lines.map((l) => this.countLine(l));
  }

  private countLine(line: string): number {
    this.recounted++;
    return line.length ? this.tokenizer.encode(line).length : 0;
  }

  get lineCount(): number {
    return this.lines.length;
  }

  /** Tokens of line `i` encoded alone (undefined when only the total is kept or out of range). */
  lineTokens(i: number): number | undefined {
    return this.totalOnly ? undefined : this.counts[i];
  }

  /** Per-line counts for lines [from, to). */
  lineTokensRange(from: number, to: number): number[] {
    if (this.totalOnly) return [];
    return this.counts.slice(Math.max(0, from), Math.min(this.counts.length, to));
  }

  /** The document's text as this object has it (line breaks normalised to the first one seen). */
  text(): string {
    return this.lines.join(this.eol);
  }

  /** Whether the exact total is already known (no encode needed to answer `total()`). */
  get totalKnown(): boolean {
    return this.totalCache !== undefined;
  }

  /** Exact token count of the whole text (one full encode after an edit, then remembered). */
  total(): number {
    this.totalCache ??= this.tokenizer.encode(this.text()).length;
    return this.totalCache;
  }

  /** Replaces the whole text (a reload, or edits that could not be applied). */
  reset(text: string): void {
    this.eol = text.includes('\r\n') ? '\r\n' : '\n';
    this.lines = splitLines(text);
    this.counts = this.totalOnly ? [] : this.lines.map((l) => this.countLine(l));
    this.totalCache = undefined;
  }

  /**
   * Applies edits in order (each against the text left by the previous one,
   * as VS Code's contentChanges are) and recounts only the touched lines.
   */
  apply(edits: readonly LineEdit[]): void {
    for (const e of edits) this.applyOne(e);
    this.totalCache = undefined;
  }

  private applyOne(e: LineEdit): void {
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
