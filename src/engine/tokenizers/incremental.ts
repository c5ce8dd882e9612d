/**
 * Token counts of an editor document, kept up to date from edits without
 * re-tokenizing the whole file: exactly equal to a full recount, per line.
 *
 * Pre-tokens can cross lines (`\s*[\r\n]+` swallows blank lines, `}\n` is one
 * piece), so lines are grouped into segments that start at "anchor" lines:
 * line starts that are always a piece boundary whatever the rest of the text
 * is (see LineAnchorRule: for cl100k/o200k/Llama 3/Qwen/DeepSeek/our model, a
 * line whose first non-blank character is not whitespace and not '/', after
 * optional spaces/tabs). A segment is counted on its own text plus a short
 * lookahead (the next anchor line's indentation and first character), which
 * is all any pre-tokenizer match before the anchor can read. An edit
 * re-counts only the segments around it. Each piece's tokens are attributed
 * to the line where the piece starts.
 *
 * Tokenizers with a normalizer (NFC, NFKC) are counted on the normalized
 * lines; normalization never reaches across a line feed, so this is exact.
 * Unknown pre-tokenizers (and added tokens containing newlines) make the whole
 * document one segment: still exact, no longer incremental.
 */
import type { BpeTokenizer } from './bpe';
import { sanitize } from './bytes';
import { isRustWhitespace } from './pretokenize';

/** One edit in UTF-16 offsets of the document before the edit (VS Code's rangeOffset/rangeLength/text). */
export interface DocumentEdit {
  readonly start: number;
  readonly deleted: number;
  readonly text: string;
}

export class DocumentTokenCounter {
  /** Raw lines (without their '\n'), as the editor sees them: offsets refer to these. */
  private lines: string[] = [];
  /** Lines as the tokenizer sees them (sanitized, normalized). */
  private norm: string[] = [];
  private counts: number[] = [];
  private anchors: boolean[] = [];
  /** starts[i] = UTF-16 offset of line i in the raw document; rebuilt lazily. */
  private starts: number[] = [];
  private startsValid = false;
  private sum = 0;
  private readonly rule: 'indented' | 'unindented' | 'none';

  constructor(
    private readonly tokenizer: BpeTokenizer,
    text: string,
  ) {
    this.rule = tokenizer.addedTokensCrossLines() ? 'none' : tokenizer.lineAnchors;
    this.setText(text);
  }

  /** Replaces the whole document and recounts it. */
  setText(text: string): void {
    this.lines = text.split('\n');
    this.norm = this.lines.map((l) => this.prepare(l));
    this.anchors = this.norm.map((l, i) => i === 0 || this.isAnchor(l));
    this.counts = new Array<number>(this.lines.length).fill(0);
    this.sum = 0;
    this.startsValid = false;
    this.recount(0, this.lines.length);
  }

  /** The document text. */
  text(): string {
    return this.lines.join('\n');
  }

  /** Number of lines ('\n'-separated; a trailing '\n' makes a last, empty line). */
  get lineTotal(): number {
    return this.lines.length;
  }

  /** Tokens of the whole document (equals tokenizer.encode(text).length). */
  total(): number {
    return this.sum;
  }

  /** Tokens of the pre-token pieces that start on this line. */
  lineCount(line: number): number {
    return this.counts[line] ?? 0;
  }

  /** Tokens of the pieces starting on lines [startLine, endLine). */
  rangeCount(startLine: number, endLine: number): number {
    let n = 0;
    const e = Math.min(endLine, this.counts.length);
    for (let i = Math.max(0, startLine); i < e; i++) n += this.counts[i]!;
    return n;
  }

  /** Applies edits in order, each against the document as left by the previous one. */
  applyEdits(edits: readonly DocumentEdit[]): void {
    for (const e of edits) this.applyEdit(e.start, e.deleted, e.text);
  }

  /**
   * Replaces `deletedLength` UTF-16 units at `startOffset` with `insertedText`
   * and recounts the affected segments. Offsets are clamped to the document.
   */
  applyEdit(startOffset: number, deletedLength: number, insertedText: string): void {
    this.ensureStarts();
    const docLen = this.starts[this.lines.length - 1]! + this.lines[this.lines.length - 1]!.length;
    const a = Math.max(0, Math.min(startOffset, docLen));
    const b = Math.max(a, Math.min(a + Math.max(0, deletedLength), docLen));
    const [l1, c1] = this.locate(a);
    const [l2, c2] = this.locate(b);
    const merged = this.lines[l1]!.slice(0, c1) + insertedText + this.lines[l2]!.slice(c2);
    const fresh = merged.split('\n');
    const removed = l2 - l1 + 1;
    for (let i = l1; i <= l2; i++) this.sum -= this.counts[i]!;
    this.lines.splice(l1, removed, ...fresh);
    this.norm.splice(l1, removed, ...fresh.map((l) => this.prepare(l)));
    this.counts.splice(l1, removed, ...new Array<number>(fresh.length).fill(0));
    this.anchors.splice(l1, removed, ...fresh.map((_, k) => l1 + k === 0 || this.isAnchor(this.norm[l1 + k]!)));
    // Line starts after the edit shift by the same amount: patch them instead of rebuilding.
    if (removed === 1 && fresh.length === 1) {
      const delta = insertedText.length - (b - a);
      for (let i = l1 + 1; i < this.lines.length; i++) this.starts[i]! += delta;
    } else this.startsValid = false;

    // Segments to recount: from the anchor at or before l1 (and the segment before it when l1 is
    // itself an anchor, since that segment's lookahead reads l1's first characters) to the first
    // anchor after the new lines.
    let s = l1;
    while (s > 0 && !this.anchors[s]) s--;
    if (s === l1 && s > 0) {
      s--;
      while (s > 0 && !this.anchors[s]) s--;
    }
    let e = l1 + fresh.length;
    while (e < this.lines.length && !this.anchors[e]) e++;
    for (let i = s; i < e; i++) {
      if (i >= l1 && i < l1 + fresh.length) continue; // already subtracted
      this.sum -= this.counts[i]!;
    }
    this.recount(s, e);
  }

  private prepare(line: string): string {
    const t = sanitize(line);
    return this.tokenizer.normalizes ? this.tokenizer.normalize(t) : t;
  }

  private isAnchor(line: string): boolean {
    if (this.rule === 'none') return false;
    let i = 0;
    if (this.rule === 'indented') while (i < line.length && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
    if (i >= line.length) return false;
    const c = line.codePointAt(i)!;
    if (c === 0x2f) return false; // o200k's `[\r\n/]*` carries "}\n" into a following "/"
    if (c < 0x80) return c > 0x20 && c !== 0x7f ? true : !isRustWhitespace(String.fromCharCode(c));
    return !isRustWhitespace(String.fromCodePoint(c));
  }

  /** Recounts lines [from, to), where from and to are anchors (or the ends) and counts are already subtracted. */
  private recount(from: number, to: number): void {
    let seg = from;
    while (seg < to) {
      let next = seg + 1;
      while (next < to && !this.anchors[next]) next++;
      this.countSegment(seg, next);
      seg = next;
    }
  }

  private countSegment(from: number, to: number): void {
    const parts: string[] = [];
    const lineEnds: number[] = [];
    let len = 0;
    for (let i = from; i < to; i++) {
      const l = this.norm[i]!;
      parts.push(l);
      len += l.length;
      if (i + 1 < this.lines.length) {
        parts.push('\n');
        len += 1;
      }
      lineEnds.push(len);
      this.counts[i] = 0;
    }
    const limit = len;
    if (to < this.lines.length) {
      // Lookahead: the next anchor line's indentation and first character.
      const l = this.norm[to]!;
      let i = 0;
      while (i < l.length && (l.charCodeAt(i) === 32 || l.charCodeAt(i) === 9)) i++;
      const cp = l.codePointAt(i);
      parts.push(l.slice(0, i + (cp !== undefined && cp > 0xffff ? 2 : 1)));
    }
    const window = parts.join('');
    let line = 0;
    let total = 0;
    this.tokenizer.forEachPiece(
      window,
      0,
      window.length,
      (s, _e, n) => {
        if (s >= limit) return;
        while (s >= lineEnds[line]!) line++;
        this.counts[from + line]! += n;
        total += n;
      },
      true,
    );
    this.sum += total;
  }

  private ensureStarts(): void {
    if (this.startsValid) return;
    const n = this.lines.length;
    this.starts = new Array<number>(n);
    let p = 0;
    for (let i = 0; i < n; i++) {
      this.starts[i] = p;
      p += this.lines[i]!.length + 1;
    }
    this.startsValid = true;
  }

  /** (line, column) of a raw UTF-16 offset. */
  private locate(offset: number): [number, number] {
    let lo = 0;
    let hi = this.lines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return [lo, offset - this.starts[lo]!];
  }
}
