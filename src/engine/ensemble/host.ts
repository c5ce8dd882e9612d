/**
 * The ensemble next to the model (in the model worker, or in-process): the
 * workspace cache the editor feeds, an optional second model, and the
 * strategy that mixes them, handed to the completion core per request.
 * Folders come from the caller; nothing here works out paths.
 */
import type { BoundaryRequest, BoundaryStrategy } from '../boundary/types';
import { buildPrompt, LineTokenCounter } from '../fim/prompt';
import { describeError, type Logger } from '../log';
import { loadModel, type LoadedModel } from '../model/load';
import type { NeuralPrompt } from './components';
import { suffixProbeBytes } from './endGate';
import { byteBits, OnlineWeights, type ComponentPrediction } from './mixture';
import { DEFAULT_ENSEMBLE_OPTIONS, EnsembleStrategy, MODELS_ENSEMBLE_OPTIONS, type EnsembleRequest } from './strategy';
import { WorkspaceCache } from './workspace';

/** Setting subword.completion.ensemble. */
export type EnsembleMode = 'off' | 'cache' | 'models';

export interface EnsembleHostOptions {
  /** Memory of the workspace cache, bytes. */
  readonly cacheBytes?: number;
  /** Folder of the second model for the `models` mode (loaded on first use). */
  readonly secondModelDir?: string;
  readonly threads?: number;
  readonly skipChecksums?: boolean;
  readonly logger: Logger;
  /**
   * γ of the cache's confidence weighting instead of the learned gate
   * (DEFAULT_CACHE_GATE, the default when this is absent); 0: the online weights alone.
   */
  readonly cacheConfidence?: number;
}

/** What the editor sends to the cache. */
export type CacheFeed =
  | { readonly kind: 'document'; readonly key: string; readonly text: string; readonly version?: number }
  | { readonly kind: 'edit'; readonly key: string; readonly before: string; readonly inserted: string; readonly version?: number }
  | { readonly kind: 'forget'; readonly key: string };

/** Bytes learnt per slice between other work. */
const SLICE_BYTES = 16384;
/** Keystrokes scored before their weights replace the warm-up's. */
const MIN_TYPED = 4;
const encoder = new TextEncoder();

export class EnsembleHost {
  readonly cache: WorkspaceCache;
  private readonly strategy: EnsembleStrategy;
  private readonly modelsStrategy = new EnsembleStrategy(MODELS_ENSEMBLE_OPTIONS);
  private second: Promise<LoadedModel | undefined> | undefined;
  private secondCounter: LineTokenCounter | undefined;
  private pumping = false;
  private warned = new Set<string>();
  private disposed = false;
  /**
   * Weights (model, cache) learnt from keystrokes: each request keeps both
   * components' predictions for the byte after the cursor, and when the next
   * request shows what the user typed there, both are scored on it. Honest
   * per-byte losses of the real model at no model cost.
   */
  private readonly typed = new OnlineWeights([1 - DEFAULT_ENSEMBLE_OPTIONS.cachePrior, DEFAULT_ENSEMBLE_OPTIONS.cachePrior], { ...DEFAULT_ENSEMBLE_OPTIONS.weights, decay: 0.95 });
  private typedCount = 0;
  private last: { prefix: string; preds: readonly ComponentPrediction[] } | undefined;

  constructor(private readonly options: EnsembleHostOptions) {
    this.strategy = new EnsembleStrategy(options.cacheConfidence === undefined ? DEFAULT_ENSEMBLE_OPTIONS : { ...DEFAULT_ENSEMBLE_OPTIONS, cacheConfidence: options.cacheConfidence, cacheGate: undefined });
    this.cache = new WorkspaceCache({ memoryBytes: options.cacheBytes, logger: options.logger });
    // The second model loads in the background, so the first "models" completion does not wait for it.
    if (options.secondModelDir) void this.secondModel();
  }

  /** Queues text for the cache and learns it in slices, yielding between them. */
  feed(f: CacheFeed): void {
    if (f.kind === 'forget') this.cache.forget(f.key);
    else if (f.kind === 'document') this.cache.feedDocument(f.key, f.text, f.version);
    else this.cache.feedEdit(f.key, f.before, f.inserted, f.version);
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumping || this.disposed) return;
    this.pumping = true;
    const step = () => {
      if (this.disposed) return;
      if (this.cache.pump(SLICE_BYTES)) setTimeout(step, 0);
      else this.pumping = false;
    };
    setTimeout(step, 0);
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.options.logger.warn(message);
  }

  private secondModel(): Promise<LoadedModel | undefined> {
    const dir = this.options.secondModelDir;
    if (!dir) return Promise.resolve(undefined);
    this.second ??= loadModel(dir, { logger: this.options.logger, threads: this.options.threads, skipChecksums: this.options.skipChecksums }).catch((err: unknown) => {
      this.warnOnce(`ensemble: the second model in ${dir} cannot be used (${describeError(err)}); completing with one model`);
      return undefined;
    });
    return this.second;
  }

  /**
   * The strategy and request for a completion in `mode`, or undefined when
   * the mode cannot apply (off, or no second model): the caller then runs
   * its plain boundary strategy.
   */
  async prepare(
    mode: EnsembleMode,
    request: BoundaryRequest,
    text: { readonly prefix: string; readonly suffix: string; readonly path?: string; readonly primaryName: string },
  ): Promise<{ strategy: BoundaryStrategy; request: EnsembleRequest } | undefined> {
    if (mode === 'off') return undefined;
    const before = encoder.encode(text.prefix.slice(-512));
    if (mode === 'cache') {
      this.learnFromTyping(text.prefix);
      const prefix = text.prefix;
      return {
        strategy: this.strategy,
        request: {
          ...request,
          before,
          primaryName: text.primaryName,
          cache: this.cache.model,
          after: suffixProbeBytes(text.suffix),
          cacheWarmupBits: this.cache.recentBits(),
          // A few keystrokes are evidence enough; before that the warm-up decides.
          startWeights: this.typedCount >= MIN_TYPED ? this.typed.weights() : undefined,
          onFirstPrediction: (preds) => {
            this.last = { prefix, preds };
          },
        },
      };
    }
    const second = await this.secondModel();
    if (!second) {
      if (!this.options.secondModelDir) this.warnOnce('ensemble "models": subword.model.path names no model besides the bundled one; completing with one model');
      return undefined;
    }
    this.secondCounter ??= new LineTokenCounter(second.tokenizer);
    const budget = { contextLength: second.model.contextLength, maxTokens: Math.min(request.maxTokens, second.model.contextLength >> 1) };
    const p = buildPrompt(second.format, second.tokenizer, { prefix: text.prefix, suffix: text.suffix, path: text.path }, budget, this.secondCounter);
    const other: NeuralPrompt = { name: second.name, model: second.model, tokenizer: second.tokenizer, headIds: p.headIds, streamBytes: p.streamBytes, stopIds: p.stopIds };
    return { strategy: this.modelsStrategy, request: { ...request, before, primaryName: text.primaryName, others: [other] } };
  }

  /** Scores the byte the user typed after the last request's cursor, if this prefix extends that one by a few characters. */
  private learnFromTyping(prefix: string): void {
    const last = this.last;
    this.last = undefined;
    if (!last || last.preds.length !== 2) return;
    for (let typed = 1; typed <= 8 && typed < prefix.length; typed++) {
      const tail = last.prefix.slice(-256);
      if (tail.length < 16 || !prefix.endsWith(tail, prefix.length - typed)) continue;
      const b = encoder.encode(prefix.slice(prefix.length - typed))[0]!;
      this.typed.update(last.preds.map((p) => byteBits(p, b)));
      this.typedCount++;
      return;
    }
  }

  /** Weights learnt from typing so far (model, cache), and how many keystrokes they rest on (logs, tests). */
  typingWeights(): { weights: number[]; keystrokes: number } {
    return { weights: this.typed.weights(), keystrokes: this.typedCount };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const second = await this.second;
    await second?.model.dispose();
  }
}
