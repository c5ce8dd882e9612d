/**
 * Per-identifier token counts ("the tokens of one identifier belong
 * together"): how many tokens the identifier under the cursor takes under a
 * tokenizer and which pieces, and the identifiers of a file that fragment
 * the most. Works from the tree's identifier nodes when there is a tree and
 * from the lexical scanner otherwise.
 */
import type { Node } from 'web-tree-sitter';
import type { Tokenizer } from '../tokenizers/types';
import { lexicalWords, type TokenSpan } from './lexical';
import { utf16ToUtf8 } from './offsets';
import type { SyntaxView } from './service';
import { identifierSpanAt } from './spans';

/** How one identifier splits into tokens. */
export interface IdentifierTokens {
  readonly text: string;
  /** Tokens of the identifier encoded on its own. */
  readonly count: number;
  /** The pieces' text (a piece ending inside a UTF-8 character shows U+FFFD). */
  readonly pieces: readonly string[];
  readonly ids: readonly number[];
  /**
   * Tokens overlapping the identifier when its line is encoded as a whole
   * (what the model really sees: a leading space often joins the first piece).
   */
  readonly inContext?: { readonly count: number; readonly pieces: readonly string[] };
}

const decoder = new TextDecoder();

function piecesOf(tokenizer: Tokenizer, ids: readonly number[]): string[] {
  return ids.map((id) => decoder.decode(tokenizer.tokenBytes(id)));
}

/** Token count and pieces of `text` encoded on its own. */
export function tokenizeIdentifier(tokenizer: Tokenizer, text: string): IdentifierTokens {
  const ids = tokenizer.encode(text);
  return { text, count: ids.length, pieces: piecesOf(tokenizer, ids), ids };
}

/**
 * The identifier span at `offset` (see identifierSpanAt) with its tokens
 * alone and in the context of its line (at most 512 characters around it).
 * Undefined when the cursor is not on a word.
 */
export function identifierTokensAt(view: SyntaxView, offset: number, tokenizer: Tokenizer): (IdentifierTokens & { readonly span: TokenSpan }) | undefined {
  const span = identifierSpanAt(view, offset);
  if (!span || span.kind === 'operator' || span.end - span.start > 1024) return undefined;
  const own = tokenizeIdentifier(tokenizer, span.text);
  const text = view.text;
  const lineStart = text.lastIndexOf('\n', span.start - 1) + 1;
  let lineEnd = text.indexOf('\n', span.end);
  if (lineEnd < 0) lineEnd = text.length;
  const from = Math.max(lineStart, span.start - 256);
  const to = Math.min(lineEnd, span.end + 256);
  const window = text.slice(from, to);
  const { ids, offsets } = tokenizer.encodeWithOffsets(window);
  const startByte = utf16ToUtf8(window, span.start - from);
  const endByte = utf16ToUtf8(window, span.end - from);
  const inside: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const s = offsets[i]!;
    const e = i + 1 < ids.length ? offsets[i + 1]! : s + tokenizer.tokenBytes(ids[i]!).length;
    if (e > startByte && s < endByte) inside.push(ids[i]!);
  }
  return { ...own, span, inContext: { count: inside.length, pieces: piecesOf(tokenizer, inside) } };
}

/** One identifier of a file with how badly it fragments. */
export interface FragmentedIdentifier extends IdentifierTokens {
  readonly occurrences: number;
  /** Tokens per character of the identifier (higher = more fragmented). */
  readonly tokensPerChar: number;
}

function* treeIdentifiers(view: SyntaxView): Generator<string> {
  const types = view.spec!.identifiers;
  const cursor = view.tree!.walk();
  try {
    for (;;) {
      if (cursor.currentNode.childCount === 0 || types.includes(cursor.nodeType)) {
        if (cursor.nodeIsNamed && types.includes(cursor.nodeType) && cursor.endIndex - cursor.startIndex <= 256) {
          const node: Node = cursor.currentNode;
          yield node.text;
        }
      } else if (cursor.gotoFirstChild()) continue;
      let moved = false;
      while (!moved) {
        if (cursor.gotoNextSibling()) moved = true;
        else if (!cursor.gotoParent()) break;
      }
      if (!moved) return;
    }
  } finally {
    cursor.delete();
  }
}

/**
 * The identifiers of a file that take the most tokens (ties: more tokens per
 * character, then more occurrences, then name). Identifiers come from the
 * tree (names, not keywords or words in strings) or, without a tree, from
 * the lexical scanner (words that are not numbers).
 */
export function mostFragmentedIdentifiers(view: SyntaxView, tokenizer: Tokenizer, options: { limit?: number; minTokens?: number; maxIdentifiers?: number } = {}): FragmentedIdentifier[] {
  const limit = options.limit ?? 20;
  const minTokens = options.minTokens ?? 2;
  const maxIdentifiers = options.maxIdentifiers ?? 50_000;
  const counts = new Map<string, number>();
  const source: Iterable<string> =
    view.tree && view.spec
      ? treeIdentifiers(view)
      : (function* () {
          for (const w of lexicalWords(view.text, view.languageId)) if (!/^\p{N}/u.test(w.text) && w.text.length <= 256) yield w.text;
        })();
  for (const name of source) {
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (counts.size >= maxIdentifiers) break;
  }
  const out: FragmentedIdentifier[] = [];
  for (const [name, occurrences] of counts) {
    const t = tokenizeIdentifier(tokenizer, name);
    if (t.count < minTokens) continue;
    out.push({ ...t, occurrences, tokensPerChar: t.count / name.length });
  }
  out.sort((a, b) => b.count - a.count || b.tokensPerChar - a.tokensPerChar || b.occurrences - a.occurrences || (a.text < b.text ? -1 : 1));
  return out.slice(0, limit);
}
