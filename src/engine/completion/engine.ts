/**
 * The completion engine as the editor and the CLI use it: one object per
 * model folder, with load state for the status bar, a completion cache, the
 * typed-through shortcut, and "a newer request supersedes an older one".
 */
import type { BoundaryMode } from '../boundary/types';
import { describeError, performanceClock, type Clock, type Logger } from '../log';
import type { RunnerStats } from '../model/ortModel';
import { CancelledError } from '../model/types';
import type { BackendOptions, CompletionBackend, ModelInfo } from './backend';
import type { CompletionRequest, CoreResult } from './core';
import type { CacheFeed } from '../ensemble/host';
import { WorkerBackend } from './workerBackend';
import { detachString } from '../tokenizers/bpe';

export type { CompletionRequest } from './core';

export interface CompletionEngineOptions {
  /** Model folder (models/<name> or the user's subword.model.path). */
  readonly modelDir: string;
  /** onnxruntime intra-op threads (subword.model.threads). */
  readonly threads?: number;
  readonly logger: Logger;
  readonly clock?: Clock;
  /**
   * Worker script (dist/model-worker.js). Given: the model runs in a worker
   * thread; absent: in this thread (CLI, tests).
   */
  readonly workerScript?: string;
  /** Extra workerData for a bootstrap script (tests under tsx). */
  readonly workerBootstrapData?: Record<string, unknown>;
  /** Entries of the completion cache (LRU). Default 256. */
  readonly cacheSize?: number;
  /** After a completion, compute the one that follows accepting it, when idle. */
  readonly prefetch?: boolean;
  readonly skipChecksums?: boolean;
  /** Cap on the context window (tokens), below the model's own. */
  readonly contextLength?: number;
  /** The package's grammars/ folder: post-processing by parse errors (BackendOptions.grammarsDir). */
  readonly grammarsDir?: string;
  /** A byte-level ensemble next to the model (BackendOptions.ensemble). */
  readonly ensemble?: BackendOptions['ensemble'];
}

export type EngineState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'ready'; readonly info: ModelInfo }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'disposed' };

export interface CompletionResult {
  /** Ghost text to insert at the cursor (may be empty: no completion). */
  readonly text: string;
  /** Engine time of this request in ms (model loading excluded). */
  readonly ms: number;
  /** Tokens generated (0 when served from the cache). */
  readonly tokens: number;
  readonly boundary: BoundaryMode;
  /** Served without a model call (cache hit or typed-through). */
  readonly cached: boolean;
  readonly stoppedBy?: string;
  readonly promptTokens?: number;
  /** With an ensemble: the component that drove the completion. */
  readonly driver?: string;
}

export interface EngineCounters {
  requests: number;
  cacheHits: number;
  typedThrough: number;
  cancelled: number;
  prefetches: number;
}

/** The model could not be loaded; completions are off until the engine is recreated. */
export class ModelUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelUnavailableError';
  }
}

interface Remembered {
  readonly prefix: string;
  readonly suffix: string;
  readonly optionsKey: string;
  readonly text: string;
  readonly boundary: BoundaryMode;
}

/** How much of each side identifies a request in the cache (beyond any model window). */
const KEY_PREFIX_CHARS = 16384;
const KEY_SUFFIX_CHARS = 8192;
/** Earlier completions kept for the typed-through check. */
const TYPED_THROUGH_MEMORY = 8;

export class CompletionEngine {
  private readonly backend: CompletionBackend;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private stateValue: EngineState = { kind: 'loading' };
  private readonly listeners = new Set<(s: EngineState) => void>();
  private readonly cache = new Map<string, { text: string; boundary: BoundaryMode }>();
  private readonly recent: Remembered[] = [];
  private current: AbortController | undefined;
  private prefetching: AbortController | undefined;
  private prefetchDone: Promise<void> = Promise.resolve();
  private readonly ready: Promise<ModelInfo>;
  readonly counters: EngineCounters = { requests: 0, cacheHits: 0, typedThrough: 0, cancelled: 0, prefetches: 0 };

  private constructor(private readonly options: CompletionEngineOptions) {
    this.logger = options.logger;
    this.clock = options.clock ?? performanceClock;
    const backendOptions = { modelDir: options.modelDir, threads: options.threads ?? 1, skipChecksums: options.skipChecksums, contextLength: options.contextLength, grammarsDir: options.grammarsDir, ensemble: options.ensemble };
    this.backend = options.workerScript
      ? new WorkerBackend(
          {
            ...backendOptions,
            workerScript: options.workerScript,
            bootstrapData: options.workerBootstrapData,
            // A dead worker is not restarted in a loop: the engine reports the error once.
            onCrash: (err) => {
              if (this.stateValue.kind === 'ready') this.setState({ kind: 'error', message: describeError(err) });
            },
          },
          options.logger,
        )
      : lazyInProcess(backendOptions, options.logger);
    this.ready = this.backend.load().then(
      (info) => {
        this.setState({ kind: 'ready', info });
        return info;
      },
      (err: unknown) => {
        const message = describeError(err);
        // One clear error; requests fail fast from now on (no retry storm).
        if (this.stateValue.kind !== 'disposed') {
          this.logger.error(`model ${options.modelDir} unavailable: ${message}`);
          this.setState({ kind: 'error', message });
        }
        throw new ModelUnavailableError(message);
      },
    );
    this.ready.catch(() => undefined);
  }

  /** Starts loading the model folder at once; `whenReady()` waits for it. */
  static create(options: CompletionEngineOptions): CompletionEngine {
    return new CompletionEngine(options);
  }

  get state(): EngineState {
    return this.stateValue;
  }

  /** Resolves with the model's info once loaded; rejects with ModelUnavailableError. */
  whenReady(): Promise<ModelInfo> {
    return this.ready;
  }

  /** Listens to loading / ready / error / disposed. */
  onStateChange(listener: (s: EngineState) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private setState(s: EngineState): void {
    this.stateValue = s;
    for (const l of [...this.listeners]) {
      try {
        l(s);
      } catch (err) {
        this.logger.error(err instanceof Error ? err : String(err));
      }
    }
  }

  /**
   * One completion. A newer call supersedes (cancels) an older one still
   * running; a cancelled call rejects with CancelledError. Served from the
   * cache when the same context was completed before, and without any model
   * call when the user typed the start of the last ghost text.
   */
  async complete(req: CompletionRequest & { readonly signal?: AbortSignal }): Promise<CompletionResult> {
    const t0 = this.clock();
    this.counters.requests++;
    if (this.stateValue.kind === 'disposed') throw new CancelledError('engine disposed');
    if (this.stateValue.kind === 'error') throw new ModelUnavailableError(this.stateValue.message);
    // Any newer request, even one the cache answers, ends the older work.
    this.prefetching?.abort(new CancelledError('superseded by a request'));
    this.current?.abort(new CancelledError('superseded'));
    const optionsKey = optionsKeyOf(req);
    const sampling = (req.temperature ?? 0) > 0;
    if (!sampling) {
      const through = this.typedThrough(req, optionsKey);
      if (through) {
        this.counters.typedThrough++;
        return { ...through, ms: this.clock() - t0, tokens: 0, cached: true };
      }
      const hit = this.cache.get(cacheKey(req, optionsKey));
      if (hit) {
        this.counters.cacheHits++;
        this.cache.delete(cacheKey(req, optionsKey));
        this.cache.set(cacheKey(req, optionsKey), hit);
        return { text: hit.text, boundary: hit.boundary, ms: this.clock() - t0, tokens: 0, cached: true };
      }
    }
    const ac = new AbortController();
    this.current = ac;
    const onOuterAbort = () => ac.abort(req.signal?.reason instanceof Error ? req.signal.reason : new CancelledError());
    if (req.signal?.aborted) onOuterAbort();
    else req.signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      await this.ready;
      const r: CoreResult = await this.backend.complete(stripSignal(req), ac.signal);
      if (!sampling) this.remember(req, optionsKey, r.text, r.boundary);
      if (this.options.prefetch && !sampling && r.text) this.prefetch(req, r.text);
      return { text: r.text, ms: r.ms, tokens: r.tokens, boundary: r.boundary, cached: false, stoppedBy: r.stoppedBy, promptTokens: r.promptTokens, driver: r.driver };
    } catch (err) {
      if (err instanceof CancelledError || ac.signal.aborted) {
        this.counters.cancelled++;
        throw err instanceof CancelledError ? err : new CancelledError();
      }
      throw err;
    } finally {
      req.signal?.removeEventListener('abort', onOuterAbort);
      if (this.current === ac) this.current = undefined;
    }
  }

  /** If the user typed the start of a recent completion, the rest of it. */
  private typedThrough(req: CompletionRequest, optionsKey: string): { text: string; boundary: BoundaryMode } | undefined {
    for (let i = this.recent.length - 1; i >= 0; i--) {
      const r = this.recent[i]!;
      if (r.optionsKey !== optionsKey || r.suffix !== req.suffix) continue;
      const typedLen = req.prefix.length - r.prefix.length;
      if (typedLen <= 0 || typedLen >= r.text.length) continue;
      if (!req.prefix.endsWith(r.text.slice(0, typedLen))) continue;
      if (!req.prefix.startsWith(r.prefix)) continue;
      return { text: r.text.slice(typedLen), boundary: r.boundary };
    }
    return undefined;
  }

  private remember(req: CompletionRequest, optionsKey: string, text: string, boundary: BoundaryMode): void {
    const key = cacheKey(req, optionsKey);
    this.cache.delete(key);
    this.cache.set(key, { text, boundary });
    const cap = this.options.cacheSize ?? 256;
    while (this.cache.size > cap) this.cache.delete(this.cache.keys().next().value as string);
    if (text) {
      this.recent.push({ prefix: req.prefix, suffix: req.suffix, optionsKey, text, boundary });
      if (this.recent.length > TYPED_THROUGH_MEMORY) this.recent.shift();
    }
  }

  /** Computes the completion after accepting `text`, so it is cached by the time it is asked for. */
  private prefetch(req: CompletionRequest, text: string): void {
    const next = { ...stripSignal(req), prefix: req.prefix + text };
    const key = optionsKeyOf(next);
    if (this.cache.has(cacheKey(next, key))) return;
    const ac = new AbortController();
    this.prefetching = ac;
    this.counters.prefetches++;
    this.prefetchDone = this.backend.complete(next, ac.signal).then(
      (r) => {
        if (!ac.signal.aborted) this.remember(next, key, r.text, r.boundary);
      },
      () => undefined,
    );
  }

  /** Resolves when no prefetch is running (tests, benchmarks). */
  whenIdle(): Promise<void> {
    return this.prefetchDone;
  }

  /** Text for the ensemble's workspace cache (the open documents, nearby files, edits); a no-op without an ensemble. */
  feedCache(feed: CacheFeed): void {
    if (this.stateValue.kind === 'disposed' || this.stateValue.kind === 'error') return;
    this.backend.feedCache?.(feed);
  }

  /** Runner counters (KV-cache reuse, onnxruntime time) from the model side. */
  stats(): Promise<RunnerStats> {
    return this.backend.stats();
  }

  /** Drops the model's KV cache and the completion cache (benchmarks' cold starts). */
  async resetCaches(): Promise<void> {
    this.cache.clear();
    this.recent.length = 0;
    await this.backend.resetCache();
  }

  /** Cancels what is running, releases the session and ends the worker. */
  async dispose(): Promise<void> {
    if (this.stateValue.kind === 'disposed') return;
    this.current?.abort(new CancelledError('engine disposed'));
    this.prefetching?.abort(new CancelledError('engine disposed'));
    this.setState({ kind: 'disposed' });
    this.listeners.clear();
    await this.backend.dispose();
  }
}

/**
 * The in-process backend, imported on first use: with a worker the calling
 * thread never loads onnxruntime's native addon at all.
 */
function lazyInProcess(options: BackendOptions, logger: Logger): CompletionBackend {
  let inner: Promise<CompletionBackend> | undefined;
  const get = () => (inner ??= import('./backend').then(({ InProcessBackend }) => new InProcessBackend(options, logger)));
  return {
    load: async () => (await get()).load(),
    complete: async (req, signal) => (await get()).complete(req, signal),
    stats: async () => (await get()).stats(),
    resetCache: async () => (await get()).resetCache(),
    feedCache: (feed) => void get().then((b) => b.feedCache?.(feed)),
    dispose: async () => {
      if (inner) await (await inner).dispose();
    },
  };
}

function stripSignal(req: CompletionRequest & { readonly signal?: AbortSignal }): CompletionRequest {
  // AbortSignal cannot cross to the worker; the engine's own controller goes instead.
  const { signal: _signal, ...rest } = req;
  return rest;
}

function optionsKeyOf(req: CompletionRequest): string {
  return [req.boundary ?? 'exact', req.maxTokens ?? '', req.maxLines ?? '', req.languageId ?? '', req.path ?? '', req.ensemble ?? 'off', req.joinWait ?? ''].join('\u0001');
}

function cacheKey(req: CompletionRequest, optionsKey: string): string {
  // Detached: a key built from slices would keep each request's whole
  // document text alive (256 entries, 256 copies of a large file).
  return detachString(`${optionsKey}\u0000${req.prefix.length > KEY_PREFIX_CHARS ? req.prefix.slice(-KEY_PREFIX_CHARS) : req.prefix}\u0000${req.suffix.length > KEY_SUFFIX_CHARS ? req.suffix.slice(0, KEY_SUFFIX_CHARS) : req.suffix}`);
}
