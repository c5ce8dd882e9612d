/**
 * Where completions are computed: next to the model, either in this thread
 * (CLI, tests, benchmarks) or in a worker thread (the editor, so typing never
 * waits on the model). Both run the same CompletionCore.
 */
import type { Logger } from '../log';
import { loadModel, type LoadOptions } from '../model/load';
import type { RunnerStats } from '../model/ortModel';
import { CancelledError } from '../model/types';
import { SyntaxService } from '../syntax/service';
import { CompletionCore, type CompletionRequest, type CoreResult } from './core';

export interface ModelInfo {
  readonly name: string;
  readonly dir: string;
  readonly fimFormat: string;
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly threads: number;
  /** Time to load the folder (checks, tokenizer, session), ms. */
  readonly loadMs: number;
}

export interface CompletionBackend {
  load(): Promise<ModelInfo>;
  complete(req: CompletionRequest, signal?: AbortSignal): Promise<CoreResult>;
  stats(): Promise<RunnerStats>;
  /** Drops the model's KV cache (cold-start measurements). */
  resetCache(): Promise<void>;
  dispose(): Promise<void>;
}

export interface BackendOptions {
  readonly modelDir: string;
  readonly threads?: number;
  readonly skipChecksums?: boolean;
  readonly contextLength?: number;
  /**
   * Folder of the tree-sitter grammars (the package's grammars/): given, the
   * post-processing ranks candidates and overlap cuts by parse errors.
   */
  readonly grammarsDir?: string;
}

/** Everything in the calling thread. */
export class InProcessBackend implements CompletionBackend {
  private core: CompletionCore | undefined;
  private syntax: SyntaxService | undefined;
  private loading: Promise<ModelInfo> | undefined;
  private disposed = false;

  constructor(
    private readonly options: BackendOptions,
    private readonly logger: Logger,
  ) {}

  /** The loaded core (after load()); tests and the benchmark reach the model through it. */
  get loadedCore(): CompletionCore | undefined {
    return this.core;
  }

  load(): Promise<ModelInfo> {
    this.loading ??= (async () => {
      const opts: LoadOptions = { threads: this.options.threads ?? 1, logger: this.logger, skipChecksums: this.options.skipChecksums, contextLength: this.options.contextLength };
      const loaded = await loadModel(this.options.modelDir, opts);
      if (this.disposed) {
        await loaded.model.dispose();
        throw new CancelledError('disposed while loading');
      }
      const grammarsDir = this.options.grammarsDir;
      this.syntax = grammarsDir ? new SyntaxService({ grammarsDir, logger: this.logger }) : undefined;
      this.core = new CompletionCore(loaded, this.logger, undefined, this.syntax);
      return infoOf(this.core, this.options);
    })();
    return this.loading;
  }

  async complete(req: CompletionRequest, signal?: AbortSignal): Promise<CoreResult> {
    await this.load();
    if (this.disposed || !this.core) throw new CancelledError('disposed');
    return this.core.complete(req, signal);
  }

  async stats(): Promise<RunnerStats> {
    await this.load();
    return { ...this.core!.loaded.model.stats };
  }

  async resetCache(): Promise<void> {
    await this.load();
    this.core!.loaded.model.resetCache();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const core = this.core;
    this.core = undefined;
    this.syntax?.dispose();
    if (core) await core.loaded.model.dispose();
  }
}

export function infoOf(core: CompletionCore, options: BackendOptions): ModelInfo {
  const l = core.loaded;
  return {
    name: l.name,
    dir: options.modelDir,
    fimFormat: l.format.id,
    vocabSize: l.tokenizer.vocabSize,
    contextLength: l.model.contextLength,
    threads: options.threads ?? 1,
    loadMs: l.loadMs,
  };
}
