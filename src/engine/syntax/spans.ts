/**
 * The identifier (or number, string, operator) span at the cursor, from the
 * tree where there is one and from the lexical scanner otherwise. The
 * boundary strategies re-cover the partial word from the span's start; the
 * hover and the overlays show its token count.
 */
import type { Node, Tree } from 'web-tree-sitter';
import { cursorCharacter, lexicalSpanAt, lineBounds, wordSpanAround, wordTester, type SpanKind, type TokenSpan } from './lexical';
import type { SyntaxView } from './service';
import { utf16ToUtf8 } from './offsets';

export type { TokenSpan, SpanKind } from './lexical';

/** Named word tokens that behave as keywords (literals, self-references, builtin types). */
const KEYWORD_LIKE = /^(true|false|null|nil|None|True|False|undefined|this|self|super|void|number|string|boolean|any|unknown|never|object|symbol|bigint|int|float|double|char|bool|long|short|byte|auto|var|let|const)$/;

/** Smallest node covering the single character at `at`. */
function leafAt(tree: Tree, at: number): Node | undefined {
  const root = tree.rootNode;
  let node = root.descendantForIndex(at, at + 1);
  // descendantForIndex may return a zero-width MISSING node or one that ends at `at`.
  while (node && (node.endIndex <= at || node.startIndex > at) && node.parent) node = node.parent;
  return node ?? undefined;
}

function ancestorOfType(node: Node, types: readonly string[], maxDepth = 6): Node | undefined {
  let cur: Node | null = node;
  for (let d = 0; cur && d <= maxDepth; d++, cur = cur.parent) {
    if (cur.isNamed && types.includes(cur.type)) return cur;
  }
  return undefined;
}

function insideError(node: Node): boolean {
  for (let cur: Node | null = node; cur; cur = cur.parent) if (cur.isError) return true;
  return false;
}

/**
 * The span under or before UTF-16 `offset`: the word left of the cursor
 * (`getUs|`), the whole word around a mid-word cursor (`get|Name`), the word
 * right of it (`(|foo`), or else the operator touching it. Undefined between
 * whitespace. Words inside strings and comments come back as kind
 * string/comment with the literal as `container`.
 */
export function identifierSpanAt(view: SyntaxView, offset: number): TokenSpan | undefined {
  const text = view.text;
  offset = Math.max(0, Math.min(text.length, offset));
  const spec = view.spec;
  if (!spec) return lexicalSpanAt(text, offset, view.languageId);
  const isWord = wordTester(view.languageId);
  const hit = cursorCharacter(text, offset, isWord);
  // The tree around the cursor (a block's tree in a long document, see SyntaxView.treeAt).
  const at = hit?.at ?? offset;
  const tree = view.treeAt ? view.treeAt(at) : view.tree;
  if (!tree) return lexicalSpanAt(text, offset, view.languageId);
  if (!hit) return undefined;
  const leaf = leafAt(tree, hit.at);
  if (!leaf || insideError(leaf) || leaf.type === tree.rootNode.type) return lexicalSpanAt(text, offset, view.languageId);

  const mk = (start: number, end: number, kind: SpanKind, nodeType: string, container?: Node): TokenSpan => ({
    start,
    end,
    kind,
    text: text.slice(start, end),
    source: 'tree',
    nodeType,
    ...(container ? { container: { start: container.startIndex, end: container.endIndex } } : {}),
  });

  // Strings and comments: the word inside, with the literal as container.
  const literal = ancestorOfType(leaf, spec.strings) ?? ancestorOfType(leaf, spec.comments);
  if (literal && !(leaf.isNamed && spec.identifiers.includes(leaf.type))) {
    const kind: SpanKind = spec.strings.includes(literal.type) ? 'string' : 'comment';
    const line = lineBounds(text, hit.at);
    const lo = Math.max(literal.startIndex, line.start, hit.at - 4096);
    const hi = Math.min(literal.endIndex, line.end, hit.at + 4096);
    const run = wordSpanAround(text, hit.at, lo, hi, isWord);
    return mk(run.start, run.end, kind, literal.type, literal);
  }
  if (leaf.isNamed && spec.identifiers.includes(leaf.type)) return mk(leaf.startIndex, leaf.endIndex, 'identifier', leaf.type);
  if (leaf.isNamed && spec.numbers.includes(leaf.type)) return mk(leaf.startIndex, leaf.endIndex, 'number', leaf.type);
  if (leaf.childCount === 0) {
    const line = lineBounds(text, hit.at);
    const lo = Math.max(leaf.startIndex, line.start, hit.at - 4096);
    const hi = Math.min(leaf.endIndex, line.end, hit.at + 4096);
    const run = wordSpanAround(text, hit.at, lo, hi, isWord);
    const whole = run.start === leaf.startIndex && run.end === leaf.endIndex;
    if (hit.word && whole) {
      // A word token the grammar does not call an identifier: `def`, `true`, `this`, `number`.
      const word = text.slice(run.start, run.end);
      const kind: SpanKind = /^\p{N}/u.test(word) ? 'number' : !leaf.isNamed || KEYWORD_LIKE.test(word) ? 'keyword' : 'identifier';
      return mk(run.start, run.end, kind, leaf.type);
    }
    if (hit.word) {
      // A word inside a text-like leaf (JSX text, heredoc lines): the word, with the leaf as container.
      return mk(run.start, run.end, 'string', leaf.type, leaf);
    }
    // Punctuation: the grammar's token (`==`, `(`), or the run around the cursor inside a long one.
    if (leaf.endIndex - leaf.startIndex <= 16) return mk(leaf.startIndex, leaf.endIndex, 'operator', leaf.type);
    return mk(run.start, run.end, 'operator', leaf.type, leaf);
  }
  // A named node with children around a word char (e.g. template text): fall back to the characters.
  return lexicalSpanAt(text, offset, view.languageId);
}

/** A span's UTF-8 byte range in the view's text (for tokenizers and the boundary strategies). */
export function spanBytes(text: string, span: { start: number; end: number }): { start: number; end: number } {
  const start = utf16ToUtf8(text, span.start);
  return { start, end: start + utf16ToUtf8(text.slice(span.start, span.end), span.end - span.start) };
}
