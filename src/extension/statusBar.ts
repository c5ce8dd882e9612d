/**
 * The status-bar item: model state, the active tokenizer, the file's token
 * count (and the selection's), and the last completion latency. Clicking it
 * opens the Subword menu.
 */
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { groupDigits, statusText, type StatusParts } from './format';
import type { ModelSession } from './session';
import { isCountable, type TokenService } from './tokens';
import { docKey } from './adapters';

/** What the status bar shows (the integration tests read it through the API). */
export interface StatusSnapshot {
  readonly text: string;
  readonly tooltip: string;
  readonly tokenizer: string;
  readonly fileTokens?: number;
  readonly selectionTokens?: number;
  readonly model: StatusParts['model'];
  /** Document the counts belong to. */
  readonly document?: string;
}

/** Wait after the last edit before recounting the whole file (the exact total is one full encode). */
const TOTAL_DELAY_MS = 120;

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private snapshotValue: StatusSnapshot;
  private readonly changed = new vscode.EventEmitter<StatusSnapshot>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly ctx: Ctx,
    private readonly tokens: TokenService,
    private readonly session: ModelSession,
  ) {
    this.item = vscode.window.createStatusBarItem('subword.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Subword';
    this.item.command = 'subword.showMenu';
    this.snapshotValue = { text: '', tooltip: '', tokenizer: tokens.activeId, model: 'loading' };
    this.subscriptions.push(
      this.item,
      tokens.onDidChange((key) => {
        const doc = vscode.window.activeTextEditor?.document;
        if (key === undefined || (doc && docKey(doc) === key)) this.schedule();
      }),
      session.onDidChange(() => this.render()),
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === vscode.window.activeTextEditor) this.schedule();
      }),
    );
    this.render();
    this.item.show();
  }

  get snapshot(): StatusSnapshot {
    return this.snapshotValue;
  }

  /** Recounts after a short pause (typing fast does not recount on every key). */
  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.render();
    }, TOTAL_DELAY_MS);
  }

  /** Recomputes and shows everything now. */
  render(): void {
    const editor = vscode.window.activeTextEditor;
    const status = this.session.status;
    const model: StatusParts['model'] = status.kind === 'disposed' ? 'disabled' : status.kind;
    let fileTokens: number | undefined;
    let selectionTokens: number | undefined;
    let large = false;
    if (editor && isCountable(editor.document)) {
      const d = this.tokens.forDocument(editor.document);
      if (d) {
        fileTokens = d.total();
        large = d.totalOnly;
        const selected = editor.selections.filter((s) => !s.isEmpty);
        if (selected.length) selectionTokens = selected.reduce((n, s) => n + (this.tokens.count(editor.document.getText(s)) ?? 0), 0);
      } else {
        void this.tokens.whenActive();
      }
    }
    const parts: StatusParts = { model, tokenizerLabel: this.tokens.activeLabel, fileTokens, selectionTokens, lastLatencyMs: this.session.lastLatencyMs, fileOnlyTotal: large };
    const text = statusText(parts);
    const info = this.tokens.activeInfo;
    const lines = [
      `Subword — model: ${describeModel(status)}${this.session.modelDir ? ` (${this.session.modelDir})` : ''}`,
      `Tokenizer: ${info?.displayName ?? this.tokens.activeId}${info && !info.exact ? ' (approximate)' : ''}`,
    ];
    if (fileTokens !== undefined) lines.push(`File: ${groupDigits(fileTokens)} tokens${large ? ' (over subword.tokens.maxFileSizeKB: total only)' : ''}`);
    if (selectionTokens !== undefined) lines.push(`Selection: ${groupDigits(selectionTokens)} tokens`);
    if (this.session.lastLatencyMs !== undefined) lines.push(`Last completion: ${Math.round(this.session.lastLatencyMs)} ms`);
    lines.push('Click for Subword commands');
    const tooltip = lines.join('\n');
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = model === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.accessibilityInformation = { label: tooltip.replace(/\n/g, '. ') };
    this.snapshotValue = { text, tooltip, tokenizer: this.tokens.activeId, fileTokens, selectionTokens, model, document: editor ? docKey(editor.document) : undefined };
    this.changed.fire(this.snapshotValue);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}

function describeModel(status: ModelSession['status']): string {
  switch (status.kind) {
    case 'loading':
      return 'loading…';
    case 'ready':
      return `ready (${status.info.name})`;
    case 'error':
      return `error: ${status.message}`;
    case 'disabled':
      return 'completions off';
    case 'disposed':
      return 'stopped';
  }
}
