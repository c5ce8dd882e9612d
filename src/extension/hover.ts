/**
 * The token hover: the token(s) under the mouse (text with whitespace made
 * visible, id, bytes), the identifier's token count and pieces, and a small
 * table of the identifier's and the line's count under the compared
 * tokenizers (the model's own and subword.tokens.compareWith).
 */
import * as vscode from 'vscode';
import { identifierTokensAt } from '../engine/syntax/identifierTokens';
import type { SyntaxView } from '../engine/syntax/service';
import type { Tokenizer } from '../engine/tokenizers/types';
import type { Ctx } from './ctx';
import { groupDigits, hexBytes, inlineCode, markdownTable, tokenSegments, visibleWhitespace } from './format';
import type { SyntaxTracker } from './syntax';
import type { TokenService } from './tokens';

/** Longest stretch of a line tokenized for the hover (a 1 MB line is not encoded whole). */
const LINE_WINDOW = 2048;
/** Longest line whose count the hover computes under the other tokenizers. */
const MAX_COUNTED_LINE = 20_000;

const decoder = new TextDecoder();

/** What the hover found (the integration tests read it through the API). */
export interface TokenHoverInfo {
  readonly tokenizer: string;
  readonly tokens: ReadonlyArray<{ readonly id: number; readonly text: string; readonly bytes: number[] }>;
  readonly identifier?: { readonly text: string; readonly count: number; readonly pieces: readonly string[] };
  /** Tokens of the line encoded on its own (undefined for a huge line without kept counts). */
  readonly lineTokens?: number;
  readonly compare: ReadonlyArray<{ readonly id: string; readonly identifier?: number; readonly line?: number }>;
}

export class TokenHover implements vscode.HoverProvider, vscode.Disposable {
  private readonly registration: vscode.Disposable;
  /** The last hover computed (tests). */
  last: TokenHoverInfo | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly tokens: TokenService,
    private readonly syntax: SyntaxTracker,
  ) {
    this.registration = vscode.languages.registerHoverProvider([{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }], this);
  }

  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const tok = this.tokens.active;
    if (!tok) {
      void this.tokens.whenActive();
      return undefined;
    }
    const line = doc.lineAt(position.line);
    if (position.character >= line.text.length) return undefined;
    // Tokenize the line (or a window of a very long one, starting at its beginning
    // or at a space so the window starts on a likely token boundary).
    let from = 0;
    let text = line.text;
    if (text.length > LINE_WINDOW) {
      from = Math.max(0, position.character - LINE_WINDOW / 2);
      const space = text.lastIndexOf(' ', from);
      from = space > 0 ? space : from;
      text = text.slice(from, from + LINE_WINDOW);
    }
    const { ids, offsets } = tok.encodeWithOffsets(text);
    if (!ids.length) return undefined;
    const at = position.character - from;
    const segments = tokenSegments(text, offsets);
    const seg = segments.find((s) => s.start <= at && at < s.end);
    if (!seg) return undefined;
    const shown = [];
    for (let i = seg.firstToken; i < seg.firstToken + seg.tokens; i++) {
      const bytes = tok.tokenBytes(ids[i]!);
      shown.push({ id: ids[i]!, text: decoder.decode(bytes), bytes: [...bytes] });
    }
    const md = new vscode.MarkdownString();
    md.supportThemeIcons = true;
    const tokName = this.tokens.activeInfo?.displayName ?? this.tokens.activeId;
    for (const t of shown) {
      md.appendMarkdown(`**Token** ${inlineCode(visibleWhitespace(t.text))} — id ${t.id}, ${t.bytes.length} byte${t.bytes.length === 1 ? '' : 's'}: ${hexBytes(Uint8Array.from(t.bytes))}  \n`);
    }
    if (seg.tokens > 1) md.appendMarkdown(`_${seg.tokens} tokens split one character here; shown together._  \n`);
    // The line encoded on its own (the same measure for every row); a huge
    // line is not encoded again (a hover must stay instant): the active
    // tokenizer's row then shows the document's kept count, if any.
    const lineCount = (other: Tokenizer, own: boolean): number | undefined => {
      if (line.text.length <= MAX_COUNTED_LINE) return other.encode(line.text).length;
      return own ? this.tokens.forDocument(doc)?.lineTokens(position.line) : undefined;
    };
    const ownLine = lineCount(tok, true);
    md.appendMarkdown(`_${tokName}${ownLine !== undefined ? `; this line: ${groupDigits(ownLine)} tokens` : ''}_\n\n`);

    // The identifier under the mouse: its pieces under the active tokenizer.
    const view = this.viewFor(doc, line.text);
    const offset = view.text.length === line.text.length ? position.character : doc.offsetAt(position);
    let identifier: TokenHoverInfo['identifier'];
    const ident = safe(() => identifierTokensAt(view, offset, tok));
    if (ident && ident.text.trim()) {
      identifier = { text: ident.text, count: ident.count, pieces: ident.pieces };
      md.appendMarkdown(`**${inlineCode(ident.text)}**: ${ident.count} token${ident.count === 1 ? '' : 's'} — ${ident.pieces.map((p) => inlineCode(visibleWhitespace(p))).join(' ')}`);
      if (ident.inContext && ident.inContext.count !== ident.count) md.appendMarkdown(` (in its line: ${ident.inContext.count})`);
      md.appendMarkdown('\n\n');
    }

    // The same identifier and line under the other tokenizers.
    const compare: Array<{ id: string; identifier?: number; line?: number }> = [];
    const rows: string[][] = [];
    const pendingLoads: string[] = [];
    for (const id of this.tokens.comparisonIds()) {
      if (compare.some((c) => c.id === id)) continue;
      const other: Tokenizer | undefined = id === this.tokens.activeId ? tok : this.tokens.catalog.loaded(id);
      if (!other) {
        if (this.tokens.catalog.has(id)) {
          pendingLoads.push(id);
          void this.tokens.catalog.get(id).catch(() => undefined);
        }
        continue;
      }
      const row = { id, identifier: identifier ? other.encode(identifier.text).length : undefined, line: id === this.tokens.activeId ? ownLine : lineCount(other, false) };
      compare.push(row);
      rows.push([id === this.tokens.activeId ? `**${id}**` : id, row.identifier !== undefined ? String(row.identifier) : '', row.line !== undefined ? groupDigits(row.line) : '—']);
    }
    if (rows.length > 1) md.appendMarkdown(markdownTable(['Tokenizer', identifier ? 'identifier' : '', 'line'], rows) + '\n');
    if (pendingLoads.length) md.appendMarkdown(`\n_Loading ${pendingLoads.join(', ')} for the comparison…_`);

    this.last = { tokenizer: this.tokens.activeId, tokens: shown, identifier, lineTokens: ownLine, compare };
    const range = new vscode.Range(position.line, from + seg.start, position.line, from + seg.end);
    return new vscode.Hover(md, range);
  }

  private viewFor(doc: vscode.TextDocument, lineText: string): SyntaxView {
    const tracked = this.syntax.view(doc);
    if (tracked && tracked.text.length === doc.getText().length) return tracked;
    // Not tracked (a file over the size cap): the lexical rules on the line alone.
    return { text: lineText, languageId: doc.languageId };
  }

  dispose(): void {
    this.registration.dispose();
  }
}

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
