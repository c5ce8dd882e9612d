/**
 * Per-block trees: a long document cut into runs of whole statements, each
 * parsed on its own with tree-sitter's included ranges, so a keystroke
 * re-parses one block of ~100 lines instead of the whole file.
 *
 * Why: tree-sitter-python re-parses in time proportional to the number of
 * statements of the file, not to the edit. Every repetition node of a
 * statement list (module_repeat1, also used for blocks) is built in a
 * parse state with more than one action and is therefore "fragile", so an
 * incremental parse cannot reuse it and walks down to every statement; a
 * statement whose first token was lexed in a different lex mode (the usual
 * case after `_newline`, whose external-token set differs) is re-lexed too.
 * Measured on a 5,000-line file: ~1.5-4 ms per one-character edit whatever
 * its position, 11-20x cheaper than a full parse, against ~0.5 ms (30x) for
 * TypeScript. A block's tree re-parses in about the time of a block.
 *
 * A chunk answers for its own range (the chunks' own ranges tile the text,
 * each starting at a line start). A run inside a long class or function is
 * parsed after the header lines of its enclosing definitions (their
 * "context" ranges), so indentation and nesting come out as in the file:
 * its tree holds the class and def nodes around the run, with the run's
 * statements as their body. The leaves and the nodes around an offset agree
 * with a whole-file parse; ancestors beyond the chunk do not (a chunk's
 * class node ends with the chunk), so whole-file walks use the whole tree.
 * A change that an edited chunk cannot contain (an unclosed string or
 * bracket that would run into the next chunk) stays inside it here; the
 * whole tree, re-parsed when read, has the file's real structure.
 */
import { Edit, type Node, type Range, type Tree } from 'web-tree-sitter';

/** A range of the document that starts at a line start (row known). */
interface Span {
  start: number;
  end: number;
  /** Row of `start`. */
  row: number;
}

interface Chunk {
  /** Header lines of the enclosing definitions, parsed before `own`. */
  readonly context: Span[];
  /** The part of the document this chunk answers for. */
  readonly own: Span;
  tree: Tree | undefined;
  dirty: boolean;
}

/** Parses `text` within `ranges` reusing `oldTree`; undefined on timeout or failure. */
export type RangeParser = (text: string, oldTree: Tree | undefined, ranges: Range[]) => Tree | undefined;

/** One change in the form chunks need (UTF-16 offsets of the text before it). */
export interface ChunkChange {
  readonly start: number;
  readonly oldEnd: number;
  readonly text: string;
  /** The tree edit the document's whole tree received. */
  readonly edit: Edit;
}

/** Node types whose body (the last child, field `body`) a chunk boundary may cut. */
const DEFINITIONS = new Set(['function_definition', 'class_definition']);

function bodyOf(node: Node): Node | undefined {
  if (node.type === 'decorated_definition') {
    const def = node.childForFieldName('definition');
    return def ? bodyOf(def) : undefined;
  }
  if (!DEFINITIONS.has(node.type)) return undefined;
  const body = node.childForFieldName('body');
  return body && body.endIndex === node.endIndex ? body : undefined;
}

function lineStartOf(text: string, offset: number): number {
  return offset <= 0 ? 0 : text.lastIndexOf('\n', offset - 1) + 1;
}

function isLineStart(text: string, offset: number): boolean {
  return offset === 0 || offset === text.length || text.charCodeAt(offset - 1) === 0x0a;
}

function countNewlines(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', start); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Cuts the statements of `container` (module or block), from `from` to `to`,
 * into runs of at most `maxLines` lines; a definition longer than that is
 * cut inside its body, with its header as context.
 */
function plan(text: string, container: Node, from: number, fromRow: number, to: number, context: Span[], maxLines: number, out: Chunk[]): void {
  let runStart = from;
  let runRow = fromRow;
  let runLines = 0;
  let prevEnd = from;
  const kids = container.namedChildren;
  for (let i = 0; i < kids.length; i++) {
    const kid = kids[i]!;
    const ls = lineStartOf(text, kid.startIndex);
    // Only a statement that begins its line (after everything before it) can start a chunk.
    const atLineStart = ls >= prevEnd && ls >= from;
    prevEnd = Math.max(prevEnd, kid.endIndex);
    if (!atLineStart) continue;
    const row = kid.startPosition.row;
    const lines = kid.endPosition.row - row + 1;
    const body = lines > maxLines ? bodyOf(kid) : undefined;
    const bodyStart = body ? lineStartOf(text, body.startIndex) : -1;
    if (body && bodyStart > ls) {
      if (ls > runStart) out.push({ context, own: { start: runStart, end: ls, row: runRow }, tree: undefined, dirty: true });
      // The definition's region runs to the next statement that begins a line after it.
      let next = i + 1;
      while (next < kids.length && lineStartOf(text, kids[next]!.startIndex) < kid.endIndex) next++;
      const regionEnd = next < kids.length ? lineStartOf(text, kids[next]!.startIndex) : to;
      const header: Span = { start: ls, end: bodyStart, row };
      const sub: Chunk[] = [];
      plan(text, body, bodyStart, body.startPosition.row, regionEnd, [...context, header], maxLines, sub);
      const first = sub[0];
      if (first && first.own.start === bodyStart && first.context.at(-1) === header) {
        // The header belongs to the body's first chunk (contiguous with it).
        sub[0] = { context: first.context.slice(0, -1), own: { start: ls, end: first.own.end, row }, tree: undefined, dirty: true };
      } else {
        out.push({ context, own: { start: ls, end: bodyStart, row }, tree: undefined, dirty: true });
      }
      out.push(...sub);
      runStart = regionEnd;
      runRow = next < kids.length ? kids[next]!.startPosition.row : row + lines;
      runLines = 0;
      prevEnd = regionEnd;
      i = next - 1;
      continue;
    }
    if (runLines + lines > maxLines && ls > runStart) {
      out.push({ context, own: { start: runStart, end: ls, row: runRow }, tree: undefined, dirty: true });
      runStart = ls;
      runRow = row;
      runLines = 0;
    }
    runLines += lines;
  }
  if (to > runStart) out.push({ context, own: { start: runStart, end: to, row: runRow }, tree: undefined, dirty: true });
}

/** Where a span stands against a change [s, e) of the old text. */
function spanVersusChange(span: Span, s: number, e: number, lastAtEnd: boolean): 'before' | 'after' | 'inside' | 'across' {
  if (s === e && s === span.start) return 'inside';
  if (s < span.start) return e <= span.start ? 'after' : 'across';
  if (s > span.end || (s === span.end && !lastAtEnd)) return 'before';
  return e <= span.end ? 'inside' : 'across';
}

function sameContext(a: Chunk, b: Chunk): boolean {
  return a.context.length === b.context.length && a.context.every((span, i) => span === b.context[i]);
}

function toRange(text: string, span: Span): Range {
  const endRow = span.row + countNewlines(text, span.start, span.end);
  return {
    startIndex: span.start,
    endIndex: span.end,
    startPosition: { row: span.row, column: 0 },
    endPosition: { row: endRow, column: span.end - lineStartOf(text, span.end) },
  };
}

/** The per-block trees of one document. */
export class ChunkedTrees {
  private constructor(private readonly chunks: Chunk[]) {}

  /**
   * Plans the chunks of `text` from its whole-file tree (runs of at most
   * `maxLines` lines). Undefined when the tree has errors (chunk boundaries
   * would be guesses) or the text makes a single chunk. Call parseDirty next.
   */
  static plan(tree: Tree, text: string, maxLines: number): ChunkedTrees | undefined {
    if (tree.rootNode.hasError) return undefined;
    const chunks: Chunk[] = [];
    plan(text, tree.rootNode, 0, 0, text.length, [], Math.max(1, maxLines), chunks);
    return chunks.length > 1 ? new ChunkedTrees(chunks) : undefined;
  }

  get size(): number {
    return this.chunks.length;
  }

  /** The chunks' own ranges and context ranges (tests, the benchmark). */
  layout(): Array<{ own: [number, number]; context: Array<[number, number]> }> {
    return this.chunks.map((c) => ({ own: [c.own.start, c.own.end], context: c.context.map((s): [number, number] => [s.start, s.end]) }));
  }

  /**
   * Applies one change to the chunk ranges and trees; `newText` is the text
   * after it. False when the change cannot stay inside one chunk (it crosses
   * a boundary or leaves one off a line start): the caller drops the chunks.
   */
  applyChange(change: ChunkChange, oldText: string, newText: string): boolean {
    const { start: s, oldEnd: e } = change;
    const delta = change.text.length - (e - s);
    const rows = countNewlines(change.text, 0, change.text.length) - countNewlines(oldText, s, e);
    const atEnd = s === oldText.length;
    // Where each span stands, on the old positions (a header is one Span shared by the chunks of its body).
    const where = new Map<Span, 'before' | 'after' | 'inside' | 'across'>();
    let owner = -1;
    for (let k = 0; k < this.chunks.length; k++) {
      const c = this.chunks[k]!;
      for (const span of [...c.context, c.own]) {
        if (where.has(span)) continue;
        const w = spanVersusChange(span, s, e, atEnd && k === this.chunks.length - 1 && span === c.own);
        if (w === 'across') return false;
        where.set(span, w);
        if (w === 'inside' && span === c.own) {
          if (owner >= 0) return false;
          owner = k;
        }
      }
    }
    if (owner < 0) return false;
    for (const c of this.chunks) {
      const spans = [...c.context, c.own];
      if (spans.some((span) => where.get(span) === 'inside')) {
        c.dirty = true;
        c.tree?.edit(change.edit);
        continue;
      }
      // The change lies before this chunk's text or in a gap between its ranges. The same
      // shift, stated as a change just before the first range after it, moves the same nodes
      // and costs tree.edit almost nothing; the change itself can make a tree whose ranges
      // straddle it walk every node whose lexer lookahead crossed the gap (measured: ms).
      const next = spans.find((span) => where.get(span) === 'after');
      if (!c.tree || !next) continue;
      const at = next.start;
      const from = at - (e - s);
      const fromRow = next.row - countNewlines(oldText, from, at);
      c.tree.edit(
        new Edit({
          startIndex: from,
          oldEndIndex: at,
          newEndIndex: at + delta,
          startPosition: { row: fromRow, column: from - lineStartOf(oldText, from) },
          oldEndPosition: { row: next.row, column: 0 },
          newEndPosition: { row: next.row + rows, column: 0 },
        }),
      );
    }
    const grown: Span[] = [];
    for (const [span, w] of where) {
      if (w === 'after') {
        span.start += delta;
        span.end += delta;
        span.row += rows;
      } else if (w === 'inside') {
        span.end += delta;
        grown.push(span);
      }
    }
    // Joining the chunk's last line with the next chunk's first (Backspace at a block's
    // start) leaves their boundary inside a line: one chunk of the two, when they share context.
    const own = this.chunks[owner]!;
    const next = this.chunks[owner + 1];
    if (next && !isLineStart(newText, own.own.end) && sameContext(own, next)) {
      own.own.end = next.own.end;
      next.tree?.delete();
      this.chunks.splice(owner + 1, 1);
    }
    for (const span of grown) {
      if (span.end <= span.start || !isLineStart(newText, span.start) || !isLineStart(newText, span.end)) return false;
    }
    return true;
  }

  /** Parses the chunks an edit touched (all of them after plan). False when one failed. */
  parseDirty(text: string, parse: RangeParser): boolean {
    for (const c of this.chunks) {
      if (!c.dirty) continue;
      const tree = parse(text, c.tree, [...c.context, c.own].map((s) => toRange(text, s)));
      c.tree?.delete();
      c.tree = tree;
      if (!tree) return false;
      c.dirty = false;
    }
    return true;
  }

  /** The tree of the chunk that answers for `offset` (the text's end belongs to the last chunk). */
  treeAt(offset: number): Tree | undefined {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.chunks[mid]!.own.start <= offset) lo = mid;
      else hi = mid - 1;
    }
    const c = this.chunks[lo];
    return c && !c.dirty ? c.tree : undefined;
  }

  dispose(): void {
    for (const c of this.chunks) {
      c.tree?.delete();
      c.tree = undefined;
      c.dirty = true;
    }
  }
}
