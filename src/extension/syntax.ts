/**
 * Keeps the engine's SyntaxService in step with the documents in view:
 * opened on first use, updated incrementally from every edit, closed with
 * the document. The overlays (block totals) and the hover (identifier
 * pieces) read its views.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { SyntaxService, type SyntaxView } from '../engine/syntax/service';
import { describeError } from '../engine/log';
import { docKey, syntaxChanges } from './adapters';
import type { Ctx } from './ctx';

export class SyntaxTracker implements vscode.Disposable {
  readonly service: SyntaxService;
  private readonly open = new Set<string>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly parsed = new vscode.EventEmitter<string>();
  /** Fires with a document key once its first parse finished (the grammar loaded). */
  readonly onDidParse = this.parsed.event;

  constructor(
    private readonly ctx: Ctx,
    private readonly maxChars: () => number,
  ) {
    this.service = new SyntaxService({ grammarsDir: join(ctx.extensionPath, 'grammars'), logger: ctx.logger });
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        const key = docKey(e.document);
        if (!this.open.has(key) || !e.contentChanges.length) return;
        try {
          this.service.updateDocument(key, syntaxChanges(e.contentChanges));
        } catch (err) {
          this.ctx.log.warn(`syntax: update of ${key} failed (${describeError(err)}); reparsing`);
          this.service.replaceDocument(key, e.document.getText());
        }
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        const key = docKey(d);
        if (this.open.delete(key)) this.service.closeDocument(key);
      }),
      this.parsed,
    );
  }

  /**
   * The document's current view (with a tree once its grammar loaded).
   * The first call starts tracking it; files over the size cap are not parsed.
   */
  view(doc: vscode.TextDocument): SyntaxView | undefined {
    const key = docKey(doc);
    if (!this.open.has(key)) {
      if (doc.getText().length > this.maxChars()) return undefined;
      this.open.add(key);
      this.service.openDocument(key, doc.languageId, doc.getText()).then(
        () => this.parsed.fire(key),
        (err: unknown) => this.ctx.log.warn(`syntax: ${describeError(err)}`),
      );
    }
    const v = this.service.documentView(key);
    // A language change (e.g. plaintext -> python) needs a fresh document.
    if (v && v.languageId !== doc.languageId) {
      this.open.delete(key);
      this.service.closeDocument(key);
      return this.view(doc);
    }
    return v;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.service.dispose();
    this.open.clear();
  }
}
