/**
 * The tokenizers the editor can count with: the completion model's own
 * tokenizer ("model") plus the engine's registry. Pure (no `vscode`); the
 * extension, the benchmark and the unit tests share it. Every tokenizer is
 * loaded once, on first use, and kept.
 */
import { existsSync } from 'node:fs';
import { describeError, type Logger } from '../engine/log';
import type { Tokenizer, TokenizerInfo } from '../engine/tokenizers/types';

/** The part of the engine's tokenizer registry the editor needs. */
export interface TokenizerRegistryLike {
  list(): readonly TokenizerInfo[];
  get(id: string): Tokenizer | Promise<Tokenizer>;
}

/** The id of the completion model's own tokenizer in subword.tokens.tokenizer. */
export const MODEL_TOKENIZER_ID = 'model';

/** Where the model's tokenizer comes from: tried in order until one loads. */
export interface ModelTokenizerSource {
  readonly label: string;
  load(): Promise<Tokenizer>;
}

export interface CatalogOptions {
  readonly registry: TokenizerRegistryLike;
  /** Candidates for "model": the configured model's tokenizer, then the bundled one. */
  readonly modelSources: readonly ModelTokenizerSource[];
  /** Used for "model" when no model tokenizer loads at all. */
  readonly fallbackId: string;
  readonly logger: Logger;
}

export class TokenizerCatalog {
  private readonly cache = new Map<string, Promise<Tokenizer>>();
  private readonly ready = new Map<string, Tokenizer>();
  private modelInfoValue: TokenizerInfo | undefined;

  private modelSources: readonly ModelTokenizerSource[];

  constructor(private readonly options: CatalogOptions) {
    this.modelSources = options.modelSources;
  }

  /** The model changed: "model" is loaded again from the new sources on next use. */
  setModelSources(sources: readonly ModelTokenizerSource[]): void {
    this.modelSources = sources;
    this.cache.delete(MODEL_TOKENIZER_ID);
    this.ready.delete(MODEL_TOKENIZER_ID);
    this.modelInfoValue = undefined;
  }

  /** "model" first, then the registry's entries (ids are unique). */
  list(): TokenizerInfo[] {
    const model: TokenizerInfo = this.modelInfoValue ?? {
      id: MODEL_TOKENIZER_ID,
      displayName: "Completion model's tokenizer",
      vocabSize: 0,
      source: this.modelSources[0]?.label ?? 'model folder',
      exact: true,
    };
    let rest: readonly TokenizerInfo[] = [];
    try {
      rest = this.options.registry.list();
    } catch (err) {
      this.options.logger.error(`tokenizer registry: ${describeError(err)}`);
    }
    return [model, ...rest.filter((t) => t.id !== MODEL_TOKENIZER_ID)];
  }

  info(id: string): TokenizerInfo | undefined {
    const listed = this.list().find((t) => t.id === id);
    if (listed || !isTokenizerFile(id)) return listed;
    const loaded = this.ready.get(id);
    return { id, displayName: `tokenizer.json at ${id}`, vocabSize: loaded?.vocabSize ?? 0, source: id, exact: true };
  }

  /** Whether `id` names a listed tokenizer or an existing tokenizer.json file. */
  has(id: string): boolean {
    return this.list().some((t) => t.id === id) || (isTokenizerFile(id) && existsSync(id));
  }

  /** The tokenizer if it has finished loading (synchronous callers: hover, overlays). */
  loaded(id: string): Tokenizer | undefined {
    return this.ready.get(id);
  }

  /** Loads (once) and returns a tokenizer; rejects with a message naming the id for unknown ids. */
  get(id: string): Promise<Tokenizer> {
    let p = this.cache.get(id);
    if (!p) {
      p = id === MODEL_TOKENIZER_ID ? this.loadModelTokenizer() : this.loadRegistered(id);
      this.cache.set(id, p);
      const mine = p;
      p.then(
        (t) => {
          if (this.cache.get(id) === mine) this.ready.set(id, t);
        },
        () => {
          // A later call may succeed (e.g. after a fix on disk).
          if (this.cache.get(id) === mine) this.cache.delete(id);
        },
      );
    }
    return p;
  }

  private async loadRegistered(id: string): Promise<Tokenizer> {
    if (!this.options.registry.list().some((t) => t.id === id) && !isTokenizerFile(id)) {
      throw new Error(`unknown tokenizer "${id}" (known: ${this.list().map((t) => t.id).join(', ')})`);
    }
    const t0 = performance.now();
    const tok = await this.options.registry.get(id);
    this.options.logger.info(`tokenizer ${id} loaded in ${(performance.now() - t0).toFixed(0)} ms`);
    return tok;
  }

  private async loadModelTokenizer(): Promise<Tokenizer> {
    const problems: string[] = [];
    const sources = this.modelSources;
    for (const source of sources) {
      try {
        const tok = await source.load();
        if (sources === this.modelSources) this.modelInfoValue = { id: MODEL_TOKENIZER_ID, displayName: "Completion model's tokenizer", vocabSize: tok.vocabSize, source: source.label, exact: true };
        if (problems.length) this.options.logger.warn(`model tokenizer: using ${source.label} (${problems.join('; ')})`);
        return tok;
      } catch (err) {
        problems.push(`${source.label}: ${describeError(err)}`);
      }
    }
    const fallback = this.options.fallbackId;
    this.options.logger.warn(`model tokenizer unavailable (${problems.join('; ') || 'no model folder'}); counting with ${fallback} instead`);
    const tok = await this.loadRegistered(fallback);
    const info = this.options.registry.list().find((t) => t.id === fallback);
    if (sources === this.modelSources) this.modelInfoValue = { id: MODEL_TOKENIZER_ID, displayName: `${info?.displayName ?? fallback} (model tokenizer unavailable)`, vocabSize: tok.vocabSize, source: info?.source ?? fallback, exact: false };
    return tok;
  }
}

/** A user's tokenizer.json given by path (the registry loads those by path). */
export function isTokenizerFile(id: string): boolean {
  return /[\\/]/.test(id) && id.endsWith('.json');
}
