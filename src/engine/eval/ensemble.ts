/**
 * Ensemble modes of the evaluation (`subword eval --boundary exact+cache`):
 * how each case's cache is filled (from the same file's prefix and suffix,
 * never the hidden middle; optionally from other files of the same package)
 * and which strategy and request each mode runs.
 *
 *   cache             the cache model alone for bytes; END from the model
 *                     (a cache of the workspace cannot know where the hole ends)
 *   exact+cache       the model's exact byte probabilities mixed with the cache,
 *                     END from the suffix's likelihood under the cache (endGate.ts)
 *   exact+cache-bytes the same mixture of bytes, END from the model (as before
 *                     the END gate)
 *   model2            the second model (--model2) alone, exact mode
 *   exact+model2      the two models mixed at the byte level
 *   exact+model2+cache  both models and the cache
 */
import type { BoundaryRequest, BoundaryStrategy } from '../boundary/types';
import { ExactStrategy } from '../boundary/exact';
import { ByteCacheModel } from '../ensemble/cacheModel';
import type { NeuralPrompt } from '../ensemble/components';
import { suffixProbeBytes } from '../ensemble/endGate';
import { DEFAULT_ENSEMBLE_OPTIONS, EnsembleStrategy, MODELS_ENSEMBLE_OPTIONS, type EnsembleOptions, type EnsembleRequest } from '../ensemble/strategy';
import type { EvalCase, SourceFile } from './cases';

export const ENSEMBLE_EVAL_MODES = ['cache', 'exact+cache', 'exact+cache-bytes', 'model2', 'exact+model2', 'exact+model2+cache'] as const;
export type EnsembleEvalMode = (typeof ENSEMBLE_EVAL_MODES)[number];

export function isEnsembleEvalMode(m: string): m is EnsembleEvalMode {
  return (ENSEMBLE_EVAL_MODES as readonly string[]).includes(m);
}

export function modeNeedsModel2(m: EnsembleEvalMode): boolean {
  return m.includes('model2');
}

export interface CacheFillOptions {
  /** Bytes at the end of the prefix the cache predicts before learning them: the weights' warm-up evidence. */
  readonly warmupBytes: number;
  /** Also learn from other files of the same package (other cases' prompt and suffix), up to this many bytes; 0: the file only. */
  readonly packageBytes: number;
  /**
   * The package's files to learn from instead of other cases (the source
   * split the cases were cut from), nearest folder first; the case's own
   * file is never among them.
   */
  readonly packageFiles?: readonly SourceFile[];
}

export const DEFAULT_CACHE_FILL: CacheFillOptions = { warmupBytes: 256, packageBytes: 0 };

const encoder = new TextEncoder();

/** "heldout/<package>/<path>@<start>-<end>" -> package and file. */
function locate(taskId: string): { pkg: string; file: string } {
  const path = taskId.replace(/^heldout\//, '').replace(/@\d+-\d+$/, '');
  const parts = path.split('/');
  const pkg = parts[0]?.startsWith('@') && parts.length > 1 ? `${parts[0]}/${parts[1]}` : (parts[0] ?? '');
  return { pkg, file: path };
}

/** Other files of the case's package, those sharing the longest folder prefix with it first (the editor's "files next to the active one"). */
function packageNeighbours(here: { pkg: string; file: string }, files: readonly SourceFile[]): SourceFile[] {
  const dirs = (p: string) => p.split('/').slice(0, -1);
  const mine = dirs(here.file);
  const shared = (p: string) => {
    const d = dirs(p);
    let k = 0;
    while (k < d.length && k < mine.length && d[k] === mine[k]) k++;
    return k;
  };
  return files
    .filter((f) => f.path !== here.file && locate(`heldout/${f.path}@0-0`).pkg === here.pkg)
    .map((f) => ({ f, k: shared(f.path) }))
    .sort((a, b) => b.k - a.k || (a.f.path < b.f.path ? -1 : a.f.path > b.f.path ? 1 : 0))
    .map((x) => x.f);
}

/**
 * Fills `cache` for one case: other files of the package first (when
 * asked: `packageFiles`, else other cases of the package), then the case's suffix, then its prefix, whose last `warmupBytes`
 * are predicted before they are learnt. Returns those bytes' losses (bits).
 * The middle is never seen; another case's windows of the same file are
 * skipped, since they may contain this case's middle.
 */
export function fillCaseCache(cache: ByteCacheModel, c: EvalCase, all: readonly EvalCase[], opts: CacheFillOptions = DEFAULT_CACHE_FILL): number[] {
  cache.clear();
  if (opts.packageBytes > 0) {
    const here = locate(c.task_id);
    const texts = opts.packageFiles
      ? packageNeighbours(here, opts.packageFiles).map((f) => f.text)
      : all
          .filter((o) => {
            const there = locate(o.task_id);
            return there.pkg === here.pkg && there.file !== here.file;
          })
          .flatMap((o) => [o.prompt, o.suffix]);
    let budget = opts.packageBytes;
    for (const text of texts) {
      if (budget <= 0) break;
      const b = encoder.encode(text).subarray(0, budget);
      cache.observe(b);
      budget -= b.length;
    }
  }
  cache.observe(encoder.encode(c.suffix));
  const prefix = encoder.encode(c.prompt);
  const warmFrom = Math.max(0, prefix.length - opts.warmupBytes);
  for (let i = 0; i < warmFrom; i++) cache.observeAt(prefix, i);
  const bits: number[] = [];
  const p = new Float64Array(256);
  for (let i = warmFrom; i < prefix.length; i++) {
    cache.predict(prefix, i, p);
    bits.push(-Math.log2(Math.max(p[prefix[i]!]!, 1e-300)));
    cache.observeAt(prefix, i);
  }
  return bits;
}

/** The strategy of an ensemble mode. */
export function ensembleStrategy(mode: EnsembleEvalMode, options: EnsembleOptions = DEFAULT_ENSEMBLE_OPTIONS): BoundaryStrategy {
  switch (mode) {
    case 'cache':
      // Weight only on the cache for bytes; the model is there for END alone.
      return new EnsembleStrategy({ ...options, fixedWeights: [0, 1], byteLevelOnly: true });
    case 'model2':
      return new ExactStrategy(options.exact);
    case 'exact+cache':
      return new EnsembleStrategy(options);
    case 'exact+cache-bytes':
      return new EnsembleStrategy({ ...options, endGate: undefined });
    case 'exact+model2':
      return new EnsembleStrategy({ ...MODELS_ENSEMBLE_OPTIONS, exact: options.exact });
    case 'exact+model2+cache':
      return new EnsembleStrategy({ ...options, weights: MODELS_ENSEMBLE_OPTIONS.weights, byteLevelOnly: true });
  }
}

export interface EnsembleCaseInputs {
  readonly cache: ByteCacheModel;
  readonly warmupBits: readonly number[];
  /** The second model's prompt for this case, when a mode needs it. */
  readonly model2?: NeuralPrompt;
  readonly primaryName: string;
}

/** The request an ensemble mode runs on, from the primary model's base request. */
export function ensembleRequest(mode: EnsembleEvalMode, c: EvalCase, base: BoundaryRequest, inputs: EnsembleCaseInputs): EnsembleRequest {
  const before = encoder.encode(c.prompt);
  if (mode === 'model2') {
    const m2 = inputs.model2;
    if (!m2) throw new Error('mode model2 needs --model2');
    return { ...base, model: m2.model, tokenizer: m2.tokenizer, headIds: m2.headIds, streamBytes: m2.streamBytes, stopIds: m2.stopIds };
  }
  const withCache = mode.includes('cache');
  const others = modeNeedsModel2(mode) ? [inputs.model2 ?? failModel2()] : [];
  return {
    ...base,
    before,
    primaryName: inputs.primaryName,
    others,
    ...(withCache ? { cache: inputs.cache, cacheWarmupBits: inputs.warmupBits, after: suffixProbeBytes(c.suffix) } : {}),
  };
}

function failModel2(): never {
  throw new Error('this mode needs --model2');
}
