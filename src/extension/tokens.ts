/**
 * Token counts of the documents in view, under the active tokenizer
 * (subword.tokens.tokenizer), kept current from document edits. The status
 * bar, the overlays, the hover and the commands all read from here, so a
 * tokenizer switch reaches all of them at once.
 */
import * as vscode from 'vscode';
import { describeError } from '../engine/log';
import type { Tokenizer, TokenizerInfo } from '../engine/tokenizers/types';
import { docKey, lineEdits } from './adapters';
import type { Ctx } from './ctx';
import { DocumentTokens } from './documentTokens';
import { isTokenizerFile, MODEL_TOKENIZER_ID, type TokenizerCatalog } from './tokenizerCatalog';

/** Documents Subword counts (not output channels, git views or the like). */
export function isCountable(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'file' || doc.uri.scheme === 'untitled' || doc.uri.scheme === 'vscode-remote' || doc.uri.scheme === 'vscode-userdata';
}

/**
 * A line this long (minified code, a data blob) would be re-encoded whole on
 * every keystroke in it, so such documents show only the file total.
 */
const LONG_LINE = 100_000;

function hasLongLine(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    if (end - start > limit) return true;
    if (nl < 0) return false;
    start = nl + 1;
  }
}

export class TokenService implements vscode.Disposable {
  private readonly docs = new Map<string, DocumentTokens>();
  private activeIdValue: string;
  private activeTok: Tokenizer | undefined;
  private loading: Promise<Tokenizer | undefined> | undefined;
  private generation = 0;
  private readonly changed = new vscode.EventEmitter<string | undefined>();
  /** Fires with a document key when its counts changed, or undefined when all did (tokenizer switch). */
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly ctx: Ctx,
    readonly catalog: TokenizerCatalog,
  ) {
    this.activeIdValue = ctx.config.tokens.tokenizer;
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)),
      vscode.workspace.onDidCloseTextDocument((d) => this.docs.delete(docKey(d))),
    );
  }

  /** The configured tokenizer id ("model" or a registry id). */
  get activeId(): string {
    return this.activeIdValue;
  }

  /** The active tokenizer once loaded. */
  get active(): Tokenizer | undefined {
    return this.activeTok;
  }

  get activeInfo(): TokenizerInfo | undefined {
    return this.catalog.info(this.activeIdValue);
  }

  /** A short label for the status bar. */
  get activeLabel(): string {
    const id = this.activeIdValue;
    if (isTokenizerFile(id)) return id.split(/[\\/]/).slice(-2).join('/');
    return id === MODEL_TOKENIZER_ID ? 'model' : id;
  }

  /** Loads the tokenizer of subword.tokens.tokenizer (or "model" when the id is unknown). */
  whenActive(): Promise<Tokenizer | undefined> {
    this.loading ??= this.load(this.generation);
    return this.loading;
  }

  private async load(gen: number): Promise<Tokenizer | undefined> {
    let id = this.activeIdValue;
    if (!this.catalog.has(id)) {
      const message = `Unknown tokenizer "${id}" in subword.tokens.tokenizer; counting with the model's tokenizer. Use "Subword: Switch Tokenizer" to pick one.`;
      this.ctx.log.warn(message);
      void vscode.window.showWarningMessage(`Subword: ${message}`);
      id = MODEL_TOKENIZER_ID;
    }
    try {
      const tok = await this.catalog.get(id);
      if (gen !== this.generation) return undefined;
      this.activeTok = tok;
      this.changed.fire(undefined);
      return tok;
    } catch (err) {
      const message = `Tokenizer ${id} could not be loaded: ${describeError(err)}`;
      this.ctx.log.error(message);
      void vscode.window.showErrorMessage(`Subword: ${message}`);
      return undefined;
    }
  }

  /**
   * Switches to another tokenizer (the config changed, or the model did and
   * "model" now means another tokenizer). Drops every document's counts.
   */
  reset(id = this.ctx.config.tokens.tokenizer): Promise<Tokenizer | undefined> {
    this.generation++;
    this.activeIdValue = id;
    this.activeTok = undefined;
    this.docs.clear();
    this.loading = undefined;
    this.changed.fire(undefined);
    return this.whenActive();
  }

  private maxChars(): number {
    // UTF-16 length stands in for the byte size: exact for ASCII, and this
    // only chooses between per-line counts and the total.
    return this.ctx.config.tokens.maxFileSizeKB * 1024;
  }

  /** Whether a document is over subword.tokens.maxFileSizeKB (file total only). */
  isLarge(doc: vscode.TextDocument): boolean {
    const text = doc.getText();
    return text.length > this.maxChars() || hasLongLine(text, LONG_LINE);
  }

  /** Counts of a document under the active tokenizer (created on first ask); undefined until it loads. */
  forDocument(doc: vscode.TextDocument): DocumentTokens | undefined {
    const tok = this.activeTok;
    if (!tok || !isCountable(doc)) return undefined;
    const key = docKey(doc);
    let d = this.docs.get(key);
    if (!d) {
      d = new DocumentTokens(tok, doc.getText(), this.isLarge(doc));
      this.docs.set(key, d);
    }
    return d;
  }

  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    if (!e.contentChanges.length) return;
    const key = docKey(e.document);
    const d = this.docs.get(key);
    if (!d) return;
    try {
      d.apply(lineEdits(e.contentChanges));
      if (d.lineCount !== e.document.lineCount) throw new Error(`line count ${d.lineCount} != ${e.document.lineCount}`);
    } catch (err) {
      // Never let a bookkeeping slip show wrong counts: start over from the text.
      this.ctx.log.warn(`token counts of ${key} rebuilt: ${describeError(err)}`);
      this.docs.delete(key);
    }
    this.changed.fire(key);
  }

  /**
   * Tokenizers of the comparison tables (hover, Count Tokens): the active one,
   * the completion model's own (what the model really sees), then
   * subword.tokens.compareWith; no duplicates.
   */
  comparisonIds(): string[] {
    const ids = [this.activeIdValue, MODEL_TOKENIZER_ID, ...this.ctx.config.tokens.compareWith];
    return ids.filter((id, i) => ids.indexOf(id) === i);
  }

  /** Exact count of any text under the active tokenizer (selections, blocks). */
  count(text: string): number | undefined {
    return this.activeTok ? this.activeTok.encode(text).length : undefined;
  }

  dispose(): void {
    this.generation++;
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
    this.docs.clear();
  }
}
