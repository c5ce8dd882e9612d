/**
 * Token overlays in the editor:
 * - lines: each line's token count, faint, after its end (a decoration);
 * - blocks: the token total of each function/class, above it (a CodeLens
 *   from tree-sitter's block spans; clicking it counts the block under every
 *   compared tokenizer);
 * - coloured tokens: token boundaries painted with alternating backgrounds
 *   (tokens that split a multi-byte character are merged for display).
 * Only the visible lines (plus a margin) are decorated, and the counts come
 * from TokenService, which recounts only the lines an edit touched.
 */
import * as vscode from 'vscode';
import { blockSpans, type BlockSpan } from '../engine/syntax/blocks';
import { docKey } from './adapters';
import type { Ctx } from './ctx';
import { blockOverlayText, lineOverlayText, tokenSegments } from './format';
import type { SyntaxTracker } from './syntax';
import type { TokenService } from './tokens';

/** Lines decorated beyond the visible ones, so scrolling a little shows counts at once. */
const MARGIN_LINES = 60;
/** Colours of the coloured-tokens mode (translucent, readable on light and dark themes). */
export const TOKEN_COLOURS = ['rgba(255, 190, 0, 0.28)', 'rgba(0, 150, 255, 0.28)', 'rgba(0, 200, 110, 0.28)', 'rgba(235, 70, 160, 0.28)'];
/** Most characters painted in one pass (a huge minified line is not painted whole). */
const MAX_COLOURED_CHARS = 50_000;

/** What is on screen for a document (the integration tests read it through the API). */
export interface OverlaySnapshot {
  readonly lines: ReadonlyArray<{ readonly line: number; readonly text: string }>;
  readonly blocks: ReadonlyArray<{ readonly line: number; readonly text: string }>;
  /** Coloured segments painted, per colour. */
  readonly colouredSegments: number;
  readonly colouredRanges: ReadonlyArray<{ readonly start: number; readonly end: number; readonly colour: number }>;
}

export class Overlays implements vscode.Disposable, vscode.CodeLensProvider {
  private readonly lineType: vscode.TextEditorDecorationType;
  private readonly colourTypes: vscode.TextEditorDecorationType[];
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly snapshots = new Map<string, OverlaySnapshot>();
  private readonly blockCounts = new Map<string, number>();
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  private pending = new Set<vscode.TextEditor>();
  private flushQueued = false;
  private lensTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly rendered = new vscode.EventEmitter<string>();
  /** Fires with a document key after its overlays were drawn. */
  readonly onDidRender = this.rendered.event;

  constructor(
    private readonly ctx: Ctx,
    private readonly tokens: TokenService,
    private readonly syntax: SyntaxTracker,
  ) {
    this.lineType = vscode.window.createTextEditorDecorationType({
      after: { color: new vscode.ThemeColor('editorInlayHint.foreground'), margin: '0 0 0 2ch', fontStyle: 'italic' },
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
    this.colourTypes = TOKEN_COLOURS.map((backgroundColor) => vscode.window.createTextEditorDecorationType({ backgroundColor, rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed }));
    this.subscriptions.push(
      this.lineType,
      ...this.colourTypes,
      this.lensesChanged,
      this.rendered,
      vscode.languages.registerCodeLensProvider([{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }], this),
      tokens.onDidChange((key) => {
        for (const e of vscode.window.visibleTextEditors) if (key === undefined || docKey(e.document) === key) this.schedule(e);
        this.scheduleLenses();
      }),
      syntax.onDidParse(() => this.scheduleLenses()),
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((e) => this.schedule(e))),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => this.schedule(e.textEditor)),
      vscode.workspace.onDidCloseTextDocument((d) => this.snapshots.delete(docKey(d))),
    );
    this.refreshAll();
  }

  /** Redraws every visible editor (settings changed). */
  refreshAll(): void {
    for (const e of vscode.window.visibleTextEditors) this.schedule(e);
    this.lensesChanged.fire();
  }

  /** Current overlays of a document. */
  snapshot(uri: vscode.Uri | string): OverlaySnapshot | undefined {
    return this.snapshots.get(typeof uri === 'string' ? uri : uri.toString());
  }

  /**
   * Draws after the current event's listeners all ran (the syntax tree and
   * the counts are then both updated), in the same task: no visible lag.
   */
  private schedule(editor: vscode.TextEditor): void {
    this.pending.add(editor);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      const editors = [...this.pending];
      this.pending.clear();
      for (const e of editors) this.render(e);
    });
  }

  private scheduleLenses(): void {
    if (this.lensTimer) return;
    // CodeLenses are re-queried by VS Code as a whole; batch them per typing pause.
    this.lensTimer = setTimeout(() => {
      this.lensTimer = undefined;
      this.lensesChanged.fire();
    }, 150);
  }

  private render(editor: vscode.TextEditor): void {
    const doc = editor.document;
    const key = docKey(doc);
    const mode = this.ctx.config.tokens.overlays;
    const counts = this.tokens.forDocument(doc);
    const showLines = (mode === 'lines' || mode === 'both') && counts !== undefined && !counts.totalOnly;
    const colour = this.ctx.config.tokens.coloredTokens && counts !== undefined && !counts.totalOnly && this.tokens.active !== undefined;
    const { from, to } = this.window(editor);
    const lines: Array<{ line: number; text: string }> = [];
    const lineDecorations: vscode.DecorationOptions[] = [];
    if (showLines) {
      const values = counts.lineTokensRange(from, to);
      for (let i = 0; i < values.length; i++) {
        const text = lineOverlayText(values[i]!);
        if (text === undefined) continue;
        const line = from + i;
        if (line >= doc.lineCount) break;
        const end = doc.lineAt(line).range.end;
        lines.push({ line, text: text.trim() });
        lineDecorations.push({ range: new vscode.Range(end, end), renderOptions: { after: { contentText: text } } });
      }
    }
    editor.setDecorations(this.lineType, lineDecorations);

    const colouredRanges: Array<{ start: number; end: number; colour: number }> = [];
    const perColour: vscode.Range[][] = this.colourTypes.map(() => []);
    if (colour && doc.lineCount > 0) {
      const start = new vscode.Position(from, 0);
      const last = Math.min(to, doc.lineCount) - 1;
      const range = new vscode.Range(start, doc.lineAt(Math.max(from, last)).range.end);
      let text = doc.getText(range);
      if (text.length > MAX_COLOURED_CHARS) text = text.slice(0, MAX_COLOURED_CHARS);
      const { offsets } = this.tokens.active!.encodeWithOffsets(text);
      const base = doc.offsetAt(start);
      const segments = tokenSegments(text, offsets);
      for (let i = 0; i < segments.length; i++) {
        const s = segments[i]!;
        const c = i % this.colourTypes.length;
        perColour[c]!.push(new vscode.Range(doc.positionAt(base + s.start), doc.positionAt(base + s.end)));
        colouredRanges.push({ start: base + s.start, end: base + s.end, colour: c });
      }
    }
    this.colourTypes.forEach((t, i) => editor.setDecorations(t, perColour[i]!));

    const previous = this.snapshots.get(key);
    this.snapshots.set(key, { lines, blocks: previous?.blocks ?? [], colouredSegments: colouredRanges.length, colouredRanges });
    this.rendered.fire(key);
  }

  /** Lines to decorate: the visible ranges plus a margin. */
  private window(editor: vscode.TextEditor): { from: number; to: number } {
    const ranges = editor.visibleRanges;
    if (!ranges.length) return { from: 0, to: Math.min(editor.document.lineCount, 2 * MARGIN_LINES) };
    const from = Math.max(0, Math.min(...ranges.map((r) => r.start.line)) - MARGIN_LINES);
    const to = Math.min(editor.document.lineCount, Math.max(...ranges.map((r) => r.end.line)) + 1 + MARGIN_LINES);
    return { from, to };
  }

  /** Token totals above functions and classes. */
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const mode = this.ctx.config.tokens.overlays;
    if (mode !== 'blocks' && mode !== 'both') return this.setBlocks(doc, []);
    const counts = this.tokens.forDocument(doc);
    const tok = this.tokens.active;
    if (!counts || counts.totalOnly || !tok) return this.setBlocks(doc, []);
    const view = this.syntax.view(doc);
    if (!view || view.text.length !== doc.getText().length) return this.setBlocks(doc, []);
    let spans: BlockSpan[];
    try {
      spans = blockSpans(view, { minLines: 2, limit: 2000 });
    } catch (err) {
      this.ctx.log.warn(`block spans: ${String(err)}`);
      return this.setBlocks(doc, []);
    }
    const lenses: vscode.CodeLens[] = [];
    const blocks: Array<{ line: number; text: string }> = [];
    const seen = new Map<string, number>();
    for (const span of spans) {
      const text = view.text.slice(span.start, span.end);
      let n = this.blockCounts.get(text);
      if (n === undefined) {
        n = tok.encode(text).length;
        this.blockCounts.set(text, n);
        if (this.blockCounts.size > 4000) this.blockCounts.delete(this.blockCounts.keys().next().value as string);
      }
      seen.set(text, n);
      const label = blockOverlayText(span.kind, span.name, n);
      const range = new vscode.Range(doc.positionAt(span.start), doc.positionAt(span.end));
      blocks.push({ line: span.startLine, text: label });
      lenses.push(new vscode.CodeLens(new vscode.Range(range.start, range.start), { title: label, command: 'subword.countTokens', arguments: [doc.uri, range], tooltip: 'Count this block under every compared tokenizer' }));
    }
    return this.setBlocks(doc, lenses, blocks);
  }

  private setBlocks(doc: vscode.TextDocument, lenses: vscode.CodeLens[], blocks: Array<{ line: number; text: string }> = []): vscode.CodeLens[] {
    const key = docKey(doc);
    const previous = this.snapshots.get(key) ?? { lines: [], blocks: [], colouredSegments: 0, colouredRanges: [] };
    this.snapshots.set(key, { ...previous, blocks });
    this.rendered.fire(key);
    return lenses;
  }

  dispose(): void {
    if (this.lensTimer) clearTimeout(this.lensTimer);
    for (const s of this.subscriptions) s.dispose();
    this.snapshots.clear();
  }
}
