/**
 * Feeds the ensemble's workspace cache (subword.completion.ensemble "cache")
 * from the editor: every open document, the files next to the active one,
 * and the user's edits as they happen. Thin glue: the engine decides what
 * looks like source, bounds the memory and learns in slices off this thread.
 */
import * as vscode from 'vscode';
import type { CompletionEngine } from '../engine/completion/engine';
import { describeError } from '../engine/log';
import type { Ctx } from './ctx';
import type { ModelSession } from './session';

/** Files read next to the active document, and the largest one read. */
const NEARBY_FILES = 12;
const NEARBY_MAX_BYTES = 256 * 1024;
const SCHEMES = new Set(['file', 'untitled', 'vscode-remote', 'vscode-vfs']);
/** Edits larger than this are sent as the whole document instead. */
const EDIT_MAX_CHARS = 16384;

export class EnsembleFeeder implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  private fedEngine: CompletionEngine | undefined;
  private readonly nearbyDone = new Set<string>();

  constructor(
    private readonly ctx: Ctx,
    private readonly session: ModelSession,
  ) {
    this.subscriptions.push(
      session.onDidChange((s) => {
        if (s.kind === 'ready') this.feedAll();
      }),
      vscode.workspace.onDidOpenTextDocument((doc) => this.feedDocument(doc)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.engine()?.feedCache({ kind: 'forget', key: doc.uri.toString() })),
      vscode.workspace.onDidChangeTextDocument((e) => this.feedEdits(e)),
      vscode.window.onDidChangeActiveTextEditor((ed) => {
        if (ed) void this.feedNearby(ed.document);
      }),
    );
  }

  /** The engine when the cache ensemble is on, else undefined. */
  private engine(): CompletionEngine | undefined {
    if (this.ctx.config.completion.ensemble !== 'cache') return undefined;
    const engine = this.session.engine;
    return engine && this.session.status.kind === 'ready' ? engine : undefined;
  }

  private feedAll(): void {
    const engine = this.engine();
    if (!engine || engine === this.fedEngine) return;
    // A new engine starts with an empty cache.
    this.fedEngine = engine;
    this.nearbyDone.clear();
    for (const doc of vscode.workspace.textDocuments) this.feedDocument(doc);
    const active = vscode.window.activeTextEditor?.document;
    if (active) void this.feedNearby(active);
    this.ctx.log.info('ensemble: feeding the workspace cache from the open documents and the files next to the active one');
  }

  private feedDocument(doc: vscode.TextDocument): void {
    if (!SCHEMES.has(doc.uri.scheme)) return;
    this.engine()?.feedCache({ kind: 'document', key: doc.uri.toString(), text: doc.getText(), version: doc.version });
  }

  private feedEdits(e: vscode.TextDocumentChangeEvent): void {
    const engine = this.engine();
    if (!engine || !SCHEMES.has(e.document.uri.scheme)) return;
    const key = e.document.uri.toString();
    for (const c of e.contentChanges) {
      if (!c.text) continue;
      if (c.text.length > EDIT_MAX_CHARS) {
        this.feedDocument(e.document);
        return;
      }
      // The inserted text now starts at rangeOffset; the 64 characters before it are its context.
      const start = e.document.positionAt(c.rangeOffset);
      const from = e.document.positionAt(Math.max(0, c.rangeOffset - 64));
      engine.feedCache({ kind: 'edit', key, before: e.document.getText(new vscode.Range(from, start)), inserted: c.text, version: e.document.version });
    }
  }

  /** A few files from the active document's folder (never a workspace walk: 100,000 files must not matter). */
  private async feedNearby(doc: vscode.TextDocument): Promise<void> {
    const engine = this.engine();
    if (!engine || doc.uri.scheme !== 'file') return;
    const dir = vscode.Uri.joinPath(doc.uri, '..');
    if (this.nearbyDone.has(dir.toString())) return;
    this.nearbyDone.add(dir.toString());
    try {
      const entries = await vscode.workspace.fs.readDirectory(dir);
      const ext = doc.uri.path.slice(doc.uri.path.lastIndexOf('.'));
      // Same extension first: the likeliest to share identifiers.
      const files = entries
        .filter(([name, type]) => type === vscode.FileType.File && !name.startsWith('.'))
        .map(([name]) => name)
        .sort((a, b) => Number(b.endsWith(ext)) - Number(a.endsWith(ext)) || (a < b ? -1 : 1))
        .slice(0, NEARBY_FILES);
      for (const name of files) {
        const uri = vscode.Uri.joinPath(dir, name);
        if (uri.toString() === doc.uri.toString()) continue;
        const stat = await vscode.workspace.fs.stat(uri);
        if (stat.size > NEARBY_MAX_BYTES) continue;
        const bytes = await vscode.workspace.fs.readFile(uri);
        if (this.engine() !== engine) return;
        // Invalid UTF-8 becomes U+FFFD here; NUL and control bytes survive for the engine's binary check.
        engine.feedCache({ kind: 'document', key: uri.toString(), text: new TextDecoder('utf-8', { fatal: false }).decode(bytes), version: stat.mtime });
      }
    } catch (err) {
      this.ctx.log.debug(`ensemble: reading the files next to ${doc.uri.toString()}: ${describeError(err)}`);
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
