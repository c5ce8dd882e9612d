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
import { EnsembleHost, type CacheFeed } from '../ensemble/host';

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
  /** Text for the ensemble's workspace cache (ignored without an ensemble). Fire and forget. */
  feedCache?(feed: CacheFeed): void;
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
  /** A byte-level ensemble next to the model (setting subword.completion.ensemble other than off). */
  readonly ensemble?: { readonly cacheBytes?: number; readonly secondModelDir?: string };
}

/** Everything in the calling thread. */
export class InProcessBackend implements CompletionBackend {
  private core: CompletionCore | undefined;
  private syntax: SyntaxService | undefined;
  private loading: Promise<ModelInfo> | undefined;
  private disposed = false;
  private readonly early: CacheFeed[] = [];

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
      const ens = this.options.ensemble;
      if (ens) this.core.ensemble = new EnsembleHost({ ...ens, threads: this.options.threads, skipChecksums: this.options.skipChecksums, logger: this.logger });
      for (const f of this.early.splice(0)) this.core.ensemble?.feed(f);
      return infoOf(this.core, this.options);
    })();
    return this.loading;
  }

  async complete(req: CompletionRequest, signal?: AbortSignal): Promise<CoreResult> {
    await this.load();
    if (this.disposed || !this.core) throw new CancelledError('disposed');
    return this.core.complete(req, signal);
  }

  /** Feeds the workspace cache; text sent before the model is loaded waits for it. */
  feedCache(feed: CacheFeed): void {
    if (!this.options.ensemble || this.disposed) return;
    if (this.core) this.core.ensemble?.feed(feed);
    else if (this.early.length < 256) this.early.push(feed);
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
    if (core) await Promise.all([core.loaded.model.dispose(), core.ensemble?.dispose()]);
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
