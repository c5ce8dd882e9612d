/**
 * Ghost-text completions from the local model. The item is always an
 * insertion at the cursor (an empty range), so what the user typed stays and
 * VS Code renders it mid-word; whitespace-only text is never offered. The
 * wait before asking follows the typing rhythm (debounce.ts), every request
 * is cancelled by VS Code's token and superseded by the next one (the
 * engine cancels its older request), and typing through a shown completion
 * skips the wait because the engine answers it from its cache.
 */
import * as vscode from 'vscode';
import { CancelledError } from '../engine/model/types';
import { describeError } from '../engine/log';
import { completionRequest, docKey, linePrefix } from './adapters';
import type { Ctx } from './ctx';
import { TypingRhythm, typedThroughLength, type ShownCompletion } from './debounce';
import type { ModelSession } from './session';
import { completionEnabledFor } from './settings';
import { ghostText } from './text';

export interface InlineStats {
  requests: number;
  shown: number;
  cancelled: number;
  empty: number;
  errors: number;
  /** Served without waiting (typed through a shown completion). */
  typedThrough: number;
  /** The provider's own work in the last request (building the request, the item), ms. */
  lastOverheadMs?: number;
  /** engine.complete() as the provider waited for it (includes the hop to the model worker), ms. */
  lastEngineWallMs?: number;
  /** The engine's own time for the last request, as it reports it, ms. */
  lastEngineMs?: number;
  lastDelayMs?: number;
}

/** Resolves true after `ms`, or false as soon as `token` is cancelled. */
function wait(ms: number, token: vscode.CancellationToken): Promise<boolean> {
  if (token.isCancellationRequested) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sub.dispose();
      resolve(true);
    }, ms);
    const sub = token.onCancellationRequested(() => {
      clearTimeout(timer);
      sub.dispose();
      resolve(false);
    });
  });
}

export class InlineProvider implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  private readonly rhythm = new TypingRhythm();
  private shown: ShownCompletion | undefined;
  readonly stats: InlineStats = { requests: 0, shown: 0, cancelled: 0, empty: 0, errors: 0, typedThrough: 0 };
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly latency = new vscode.EventEmitter<number>();
  /** Fires with the end-to-end latency of each completion shown. */
  readonly onDidShow = this.latency.event;

  constructor(
    private readonly ctx: Ctx,
    private readonly session: ModelSession,
  ) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length && e.document === vscode.window.activeTextEditor?.document) this.rhythm.keystroke(performance.now());
      }),
      this.latency,
    );
  }

  async provideInlineCompletionItems(
    doc: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const config = this.ctx.config;
    if (!completionEnabledFor(config, doc.languageId)) return undefined;
    // The suggest widget is open: an inline item would have to extend its choice; stay out of its way.
    if (context.selectedCompletionInfo) return undefined;
    const engine = this.session.engine;
    // No engine (completions off) or a broken model: the error was shown once; stay quiet here.
    if (!engine || this.session.status.kind === 'error') return undefined;
    const t0 = performance.now();
    this.stats.requests++;
    const key = docKey(doc);
    const before = linePrefix(doc, position);
    const through = typedThroughLength(this.shown, key, position.line, before);
    const delay = context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke || through > 0 ? 0 : this.rhythm.delayMs(config.completion.debounceMs);
    this.stats.lastDelayMs = delay;
    if (through > 0) this.stats.typedThrough++;
    if (!(await wait(delay, token))) {
      this.stats.cancelled++;
      return undefined;
    }
    const tReq = performance.now();
    const ac = new AbortController();
    const sub = token.onCancellationRequested(() => ac.abort(new CancelledError('cancelled by VS Code')));
    try {
      const req = completionRequest(doc, position, {
        boundary: config.completion.boundary,
        maxTokens: config.completion.maxTokens,
        maxLines: config.completion.maxLines,
        temperature: config.completion.temperature,
        topP: config.completion.topP,
        ensemble: config.completion.ensemble,
        joinWait: config.completion.joinWait,
      });
      const tAdapted = performance.now();
      const result = await engine.complete({ ...req, signal: ac.signal });
      const tDone = performance.now();
      if (token.isCancellationRequested) {
        this.stats.cancelled++;
        return undefined;
      }
      this.stats.lastEngineMs = result.ms;
      this.stats.lastEngineWallMs = tDone - tAdapted;
      const text = ghostText(result.text);
      if (!text) {
        this.stats.empty++;
        return undefined;
      }
      this.stats.shown++;
      this.shown = { documentKey: key, line: position.line, linePrefix: before, text };
      const item = new vscode.InlineCompletionItem(text, new vscode.Range(position, position));
      this.stats.lastOverheadMs = tAdapted - tReq + (performance.now() - tDone);
      const latency = tDone - t0;
      this.session.lastLatencyMs = result.cached ? this.session.lastLatencyMs : latency - delay;
      this.latency.fire(latency);
      this.ctx.log.trace(`completion ${result.cached ? '(cached) ' : ''}${JSON.stringify(text.slice(0, 40))} in ${latency.toFixed(0)} ms (wait ${delay} ms, engine ${result.ms.toFixed(0)} ms, ${result.boundary}${result.driver ? `, driven by ${result.driver}` : ''})`);
      return [item];
    } catch (err) {
      if (err instanceof CancelledError || ac.signal.aborted) {
        this.stats.cancelled++;
        return undefined;
      }
      this.stats.errors++;
      this.ctx.log.warn(`completion failed: ${describeError(err)}`);
      return undefined;
    } finally {
      sub.dispose();
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
