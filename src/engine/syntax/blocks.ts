/**
 * Function/class/block ranges for the editor's block overlays (a token total
 * above each function or class). From the tree when there is one; otherwise
 * from brackets and indentation, which is rougher but never blocks.
 */
import type { Node } from 'web-tree-sitter';
import type { SyntaxView } from './service';

export type BlockKind = 'function' | 'class' | 'block';

/** One block: UTF-16 offsets (end exclusive) and 0-based lines (inclusive). */
export interface BlockSpan {
  readonly kind: BlockKind;
  readonly nodeType: string;
  /** Name of the function/class when the grammar has a `name` field. */
  readonly name?: string;
  readonly start: number;
  readonly end: number;
  readonly startLine: number;
  readonly endLine: number;
  /** Nesting depth among the returned blocks (0 = outermost). */
  readonly depth: number;
}

export interface BlockSpanOptions {
  /** Only blocks spanning at least this many lines (default 2). */
  readonly minLines?: number;
  /** Include plain blocks (bodies) besides functions and classes (default false). */
  readonly includeBlocks?: boolean;
  /** Stop after this many blocks (default 5000). */
  readonly limit?: number;
}

/** Function/class (and optionally body) spans of the view, in document order. */
export function blockSpans(view: SyntaxView, options: BlockSpanOptions = {}): BlockSpan[] {
  const minLines = options.minLines ?? 2;
  const limit = options.limit ?? 5000;
  if (!view.tree || !view.spec) return lexicalBlockSpans(view.text, minLines, limit);
  const spec = view.spec;
  const out: BlockSpan[] = [];
  const cursor = view.tree.walk();
  let depth = 0;
  const kindOf = (type: string): BlockKind | undefined =>
    spec.functions.includes(type) ? 'function' : spec.classes.includes(type) ? 'class' : options.includeBlocks && spec.blocks.includes(type) ? 'block' : undefined;
  // Iterative pre-order walk; `depth` counts enclosing reported blocks.
  const stack: boolean[] = [];
  for (;;) {
    const node: Node = cursor.currentNode;
    // Named nodes only: some keywords share their node's name (`class`, `module`).
    const kind = cursor.nodeIsNamed ? kindOf(cursor.nodeType) : undefined;
    let reported = false;
    if (kind) {
      const startLine = cursor.startPosition.row;
      const endLine = cursor.endPosition.row - (cursor.endPosition.column === 0 && cursor.endPosition.row > startLine ? 1 : 0);
      if (endLine - startLine + 1 >= minLines) {
        const name = node.childForFieldName('name')?.text;
        out.push({ kind, nodeType: cursor.nodeType, ...(name && name.length <= 200 ? { name } : {}), start: cursor.startIndex, end: cursor.endIndex, startLine, endLine, depth });
        reported = true;
        if (out.length >= limit) break;
      }
    }
    if (cursor.gotoFirstChild()) {
      stack.push(reported);
      if (reported) depth++;
      continue;
    }
    let moved = false;
    while (!moved) {
      if (cursor.gotoNextSibling()) {
        moved = true;
        break;
      }
      if (!cursor.gotoParent()) break;
      if (stack.pop()) depth--;
    }
    if (!moved) break;
  }
  cursor.delete();
  return out;
}

/**
 * Brace blocks ({...} spanning lines) and indentation blocks (a line ending
 * in ":" followed by deeper lines), for languages without a tree.
 */
export function lexicalBlockSpans(text: string, minLines = 2, limit = 5000): BlockSpan[] {
  const out: BlockSpan[] = [];
  const lineStarts: number[] = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineOf = (off: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= off) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const open: number[] = [];
  let quote = 0;
  for (let i = 0; i < text.length && out.length < limit; i++) {
    const c = text.charCodeAt(i);
    if (quote) {
      if (c === 0x5c) i++;
      else if (c === quote || c === 0x0a) quote = 0;
      continue;
    }
    if (c === 0x22 || c === 0x27 || c === 0x60) quote = c;
    else if (c === 0x7b) open.push(i);
    else if (c === 0x7d && open.length) {
      const s = open.pop()!;
      const sl = lineOf(s);
      const el = lineOf(i);
      if (el - sl + 1 >= minLines) {
        const headStart = lineStarts[sl]!;
        out.push({ kind: 'block', nodeType: 'braces', start: headStart, end: i + 1, startLine: sl, endLine: el, depth: open.length });
      }
    }
  }
  // Indentation blocks (Python-like): header line ending with ':'.
  const lines = text.split('\n');
  const indentOf = (l: string): number => l.length - l.trimStart().length;
  for (let i = 0; i < lines.length && out.length < limit; i++) {
    const l = lines[i]!;
    if (!/:\s*(#.*)?$/.test(l) || l.length > 10_000) continue;
    const ind = indentOf(l);
    let j = i + 1;
    let last = i;
    while (j < lines.length) {
      const lj = lines[j]!;
      if (lj.trim() === '') {
        j++;
        continue;
      }
      if (indentOf(lj) <= ind) break;
      last = j;
      j++;
    }
    if (last - i + 1 >= minLines) {
      const kind: BlockKind = /^\s*(async\s+)?def\b/.test(l) ? 'function' : /^\s*class\b/.test(l) ? 'class' : 'block';
      out.push({ kind, nodeType: 'indent', start: lineStarts[i]!, end: lineStarts[last]! + lines[last]!.length, startLine: i, endLine: last, depth: 0 });
    }
  }
  return out.sort((a, b) => a.start - b.start || b.end - a.end);
}
