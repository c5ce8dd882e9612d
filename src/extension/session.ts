/**
 * The completion model's life in the editor: created in the background after
 * activation (never blocking it), with progress in the status area, a clear
 * error when the folder is broken, and a fresh engine whenever the model
 * path or thread count changes (the old one is disposed with the session).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CompletionEngine, EngineState } from '../engine/completion/engine';
import { describeError } from '../engine/log';
import { BUNDLED_MODEL_NAME, BUNDLED_MODELS, type BundledModelName } from '../engine/models';
import type { Ctx } from './ctx';
import type { SubwordConfig } from './settings';

export type ModelStatus = EngineState | { readonly kind: 'disabled' };

/** A bundled model's folder inside the installed extension (the default one unless named). */
export function bundledModelDir(extensionPath: string, name: BundledModelName = BUNDLED_MODEL_NAME): string {
  return join(extensionPath, 'models', name);
}

/** The model folder a config asks for: the user's path, else the bundled model it names. */
export function modelDirFor(config: SubwordConfig, extensionPath: string): string {
  return config.model.path.trim() || bundledModelDir(extensionPath, config.model.bundled);
}

/**
 * The ensemble the model worker sets up for subword.completion.ensemble:
 * the workspace cache ("cache"), or a second model ("models"): the chosen
 * bundled model next to the one in subword.model.path, or, with no path,
 * the other bundled model next to the chosen one.
 */
export function ensembleOptionsFor(config: SubwordConfig, extensionPath: string): { cacheBytes: number; secondModelDir?: string } | undefined {
  const mode = config.completion.ensemble;
  if (mode === 'off') return undefined;
  const cacheBytes = config.completion.ensembleCacheMB * 1024 * 1024;
  if (mode === 'cache') return { cacheBytes };
  const other = BUNDLED_MODELS.find((m) => m !== config.model.bundled);
  const second = config.model.path.trim() ? config.model.bundled : other;
  return { cacheBytes: 1024 * 1024, secondModelDir: second ? bundledModelDir(extensionPath, second) : undefined };
}

export class ModelSession implements vscode.Disposable {
  private engineValue: CompletionEngine | undefined;
  private statusValue: ModelStatus = { kind: 'disabled' };
  private dirValue = '';
  private readonly changed = new vscode.EventEmitter<ModelStatus>();
  /** Fires on loading / ready / error / disabled. */
  readonly onDidChange = this.changed.event;
  /** Completion latency (ms, engine + provider) of the last completion shown. */
  lastLatencyMs: number | undefined;
  private generation = 0;

  constructor(private readonly ctx: Ctx) {}

  get engine(): CompletionEngine | undefined {
    return this.engineValue;
  }

  get status(): ModelStatus {
    return this.statusValue;
  }

  get modelDir(): string {
    return this.dirValue;
  }

  private setStatus(s: ModelStatus): void {
    this.statusValue = s;
    this.changed.fire(s);
  }

  /**
   * (Re)starts the model for the current config. The old engine is disposed
   * first; the new one loads in a worker thread, so this returns at once.
   */
  restart(config: SubwordConfig): void {
    const gen = ++this.generation;
    this.stopEngine();
    this.lastLatencyMs = undefined;
    this.dirValue = modelDirFor(config, this.ctx.extensionPath);
    if (!config.completion.enabled) {
      this.setStatus({ kind: 'disabled' });
      return;
    }
    this.setStatus({ kind: 'loading' });
    // Leave activation (or the settings change) first; creating the worker and
    // opening the folder happen on a later turn of the event loop.
    setTimeout(() => {
      if (gen !== this.generation) return;
      void this.startEngine(config, gen);
    }, 0);
  }

  private async startEngine(config: SubwordConfig, gen: number): Promise<void> {
    const dir = this.dirValue;
    const worker = join(this.ctx.extensionPath, 'dist', 'model-worker.js');
    let engine: CompletionEngine;
    try {
      // Imported on first use: the engine module pulls in onnxruntime-node's
      // native addon, which activation must not pay for (the model itself
      // runs in the worker).
      const { CompletionEngine } = await import('../engine/completion/engine');
      if (gen !== this.generation) return;
      engine = CompletionEngine.create({
        modelDir: dir,
        threads: config.model.threads,
        contextLength: config.model.contextWindow,
        logger: this.ctx.logger,
        workerScript: existsSync(worker) ? worker : undefined,
        grammarsDir: join(this.ctx.extensionPath, 'grammars'),
        prefetch: true,
        ensemble: ensembleOptionsFor(config, this.ctx.extensionPath),
      });
    } catch (err) {
      this.fail(dir, describeError(err));
      return;
    }
    this.engineValue = engine;
    const sub = engine.onStateChange((s) => {
      if (gen !== this.generation) return;
      if (s.kind === 'error') this.fail(dir, s.message);
      else if (s.kind !== 'disposed') this.setStatus(s);
    });
    // The engine belongs to the session: a model switch (ctx.resetSession) ends it.
    this.ctx.pushSession({
      dispose: () => {
        sub.dispose();
        if (this.engineValue === engine) this.stopEngine();
      },
    });
    const started = performance.now();
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Subword: loading model ${dir.split(/[\\/]/).pop() ?? dir}` }, () =>
      engine.whenReady().then(
        (info) => this.ctx.log.info(`Model ${info.name} ready (${info.fimFormat}, vocab ${info.vocabSize}, context ${info.contextLength}) in ${(performance.now() - started).toFixed(0)} ms`),
        () => undefined,
      ),
    );
    // The state may already have moved on before we subscribed.
    if (engine.state.kind === 'ready') this.setStatus(engine.state);
  }

  private fail(dir: string, message: string): void {
    const text = `Subword: the model in ${dir} cannot be used: ${message}`;
    this.ctx.log.error(text);
    this.setStatus({ kind: 'error', message });
    void vscode.window.showErrorMessage(text, 'Select Model', 'Show Log').then((pick) => {
      if (pick === 'Select Model') void vscode.commands.executeCommand('subword.selectModel');
      else if (pick === 'Show Log') this.ctx.log.show(true);
    });
  }

  private stopEngine(): void {
    const old = this.engineValue;
    this.engineValue = undefined;
    if (old) {
      old.dispose().catch((err: unknown) => this.ctx.log.warn(`disposing the old model: ${describeError(err)}`));
    }
  }

  dispose(): void {
    this.generation++;
    this.stopEngine();
    this.changed.dispose();
  }
}
