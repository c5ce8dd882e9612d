/**
 * NextTokenModel on onnxruntime-node for decoder exports in the Hugging Face
 * Optimum / transformers.js layout (input_ids, attention_mask, position_ids,
 * past_key_values.N.key/.value -> logits, present.N.key/.value).
 *
 * The runner keeps the keys/values of the last sequence it ran and reuses
 * them for the longest common token prefix with the next request: typing one
 * character costs a short prefill, and a decode step costs one token.
 */
import { readFile, stat } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { attachProbabilities, CancelledError, type NextTokenModel } from './types';
import { ModelFolderError } from './manifest';
import { graphOutputType, LOG_PROBS_OUTPUT, logSoftmaxModel, PROBS_OUTPUT, withLogProbsOutput } from './logSoftmaxGraph';

type KvData = Float32Array | Uint16Array;

/** What the runner learned about the graph's inputs and outputs. */
export interface GraphLayout {
  readonly pastNames: readonly string[];
  readonly presentNames: readonly string[];
  /**
   * Outputs with the keys/values of the call's own tokens, in pastNames
   * order (tools/train/kv_outputs.py), when the graph has them: the runner
   * then keeps its cache in place instead of fetching the presents.
   */
  readonly newKvNames?: readonly string[];
  readonly hasAttentionMask: boolean;
  readonly hasPositionIds: boolean;
  readonly hasCacheBranch: boolean;
  /**
   * The session has LOG_PROBS_OUTPUT (createSession appended it): rows are
   * read from it, already normalised, instead of from `logits`.
   */
  readonly hasLogProbs?: boolean;
  /** The session has PROBS_OUTPUT too (exp of the rows): each row comes with its probabilities (attachProbabilities). */
  readonly hasProbs?: boolean;
  /**
   * The graph takes `num_logits_to_keep` (int64 scalar; Hugging Face's name,
   * added by tools/train/logits_keep.py): logits only for the last k
   * positions, 0 = all. A prefill then skips the vocabulary projection of
   * every prompt position but the last.
   */
  readonly hasLogitsToKeep: boolean;
  readonly nLayer: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly kvType: 'float32' | 'float16';
  /** Logits width from the graph, when static. */
  readonly logitsWidth?: number;
  /**
   * The graph returns logits for the last position only (an export that
   * skips the vocabulary projection of every prompt position, which is a
   * large share of a long prefill); batches then group rows by length.
   * Set by OrtNextTokenModel.probe() (graph metadata does not say reliably).
   */
  lastPositionLogits: boolean;
}

/** Counters for the benchmark and the status bar's tooltip. */
export interface RunnerStats {
  /** session.run calls. */
  runs: number;
  /** Time spent inside session.run (ms): the raw onnxruntime share. */
  runMs: number;
  /** Tokens that went through the model. */
  tokensComputed: number;
  /** Logits rows the model returned (fewer than tokensComputed with num_logits_to_keep or last-position graphs). */
  logitsRows: number;
  /** Tokens whose keys/values were reused from the cache. */
  tokensReused: number;
  /** Requests (single or batch) that could reuse at least one cached token. */
  cacheHits: number;
  requests: number;
  /** Times dead cache slots were copied out (see KvCache). */
  compactions: number;
  /** Times the in-place store's buffers were allocated (once per runner unless the context is huge). */
  storeAllocations: number;
}

const KNOWN_INPUTS = /^(input_ids|attention_mask|position_ids|use_cache_branch|num_logits_to_keep|past_key_values\.\d+\.(key|value))$/;

/** Reads and checks the graph's I/O; throws ModelFolderError naming the file. */
export function inspectGraph(session: ort.InferenceSession, modelPath: string): GraphLayout {
  const unknown = session.inputNames.filter((n) => !KNOWN_INPUTS.test(n));
  if (unknown.length) throw new ModelFolderError(modelPath, `unknown input names ${unknown.join(', ')} (expected the Optimum/transformers.js decoder layout: input_ids, attention_mask, position_ids, past_key_values.N.key/.value)`);
  if (!session.inputNames.includes('input_ids')) throw new ModelFolderError(modelPath, 'has no input_ids input; not a decoder language model');
  if (!session.outputNames.includes('logits')) throw new ModelFolderError(modelPath, `has no logits output (outputs: ${session.outputNames.join(', ')})`);
  const pastNames = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
  if (!pastNames.length) throw new ModelFolderError(modelPath, 'has no past_key_values inputs; export it with a KV cache (Optimum: task text-generation-with-past)');
  const nLayer = pastNames.length / 2;
  const ordered: string[] = [];
  const presents: string[] = [];
  for (let l = 0; l < nLayer; l++) {
    for (const kv of ['key', 'value']) {
      const n = `past_key_values.${l}.${kv}`;
      if (!pastNames.includes(n)) throw new ModelFolderError(modelPath, `input ${n} is missing (found ${pastNames.length} past inputs)`);
      ordered.push(n);
      const p = `present.${l}.${kv}`;
      if (!session.outputNames.includes(p)) throw new ModelFolderError(modelPath, `output ${p} is missing; unknown output names ${session.outputNames.filter((o) => o !== 'logits' && !o.startsWith('present.')).join(', ') || '(none)'}`);
      presents.push(p);
    }
  }
  const meta = session.inputMetadata.find((m) => m.name === ordered[0]);
  let kvHeads = 0;
  let headDim = 0;
  let kvType: 'float32' | 'float16' = 'float32';
  if (meta && meta.isTensor) {
    const shape = meta.shape;
    if (typeof shape[1] === 'number') kvHeads = shape[1];
    if (typeof shape[3] === 'number') headDim = shape[3];
    if (meta.type === 'float16') kvType = 'float16';
    else if (meta.type !== 'float32') throw new ModelFolderError(modelPath, `past_key_values type ${meta.type} is not supported (float32 or float16)`);
  }
  if (!kvHeads || !headDim) throw new ModelFolderError(modelPath, 'past_key_values shapes have no static head count/head size; cannot build an empty cache');
  const logitsMeta = session.outputMetadata.find((m) => m.name === 'logits');
  const lw = logitsMeta && logitsMeta.isTensor ? logitsMeta.shape[2] : undefined;
  return {
    pastNames: ordered,
    presentNames: presents,
    newKvNames: presents.every((p) => session.outputNames.includes(p.replace('present.', 'new_key_values.'))) ? presents.map((p) => p.replace('present.', 'new_key_values.')) : undefined,
    hasAttentionMask: session.inputNames.includes('attention_mask'),
    hasPositionIds: session.inputNames.includes('position_ids'),
    hasCacheBranch: session.inputNames.includes('use_cache_branch'),
    hasLogitsToKeep: session.inputNames.includes('num_logits_to_keep'),
    nLayer,
    kvHeads,
    headDim,
    kvType,
    logitsWidth: typeof lw === 'number' ? lw : undefined,
    lastPositionLogits: logitsMeta !== undefined && logitsMeta.isTensor && logitsMeta.shape[1] === 1,
    hasLogProbs: session.outputNames.includes(LOG_PROBS_OUTPUT),
    hasProbs: session.outputNames.includes(LOG_PROBS_OUTPUT) && session.outputNames.includes(PROBS_OUTPUT),
  };
}

/** IEEE half -> float, for models whose logits are float16. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Natural-log softmax of one row of logits into a new array. */
export function logSoftmaxRow(data: Float32Array | Uint16Array, offset: number, width: number, half: boolean): Float32Array {
  const out = new Float32Array(width);
  let src: Float32Array;
  let from = offset;
  if (half) {
    for (let i = 0; i < width; i++) out[i] = halfToFloat(data[offset + i]!);
    src = out;
    from = 0;
  } else src = data as Float32Array;
  // One pass for the maximum and the sum of exponentials (rescaled when the
  // maximum moves, which stops happening early): the exponentials are most of
  // the cost, and exact mode takes a dozen rows per request.
  let max = -Infinity;
  let sum = 0;
  for (let i = from, end = from + width; i < end; i++) {
    const v = src[i]!;
    if (v > max) {
      sum = sum * Math.exp(max - v) + 1;
      max = v;
    } else if (max > -Infinity) sum += Math.exp(v - max);
  }
  const lse = max + Math.log(sum);
  for (let i = 0; i < width; i++) out[i] = src[from + i]! - lse;
  return out;
}

/**
 * The cached keys/values. The tensors hold `length` physical slots; the
 * cached sequence `ids` sits in the slots listed in `slots` (ascending).
 * Other slots are dead: left behind by a rewind (a keystroke, token
 * healing's backup, exact mode's covers) and masked out with attention_mask
 * instead of copied away, so a rewind costs nothing. Positions are passed
 * explicitly, so a token's physical slot does not matter. Dead slots are
 * dropped in one copy once there are enough of them (compact()).
 *
 * With a graph that returns the new tokens' keys/values (newKvNames) the
 * cache is a fixed-capacity store instead: token j of `ids` lives in slot j,
 * the slots past ids.length are masked, each run writes its new keys/values
 * into the store, and the presents (a copy of the whole cache that
 * onnxruntime-node would copy once more into JS) are never fetched.
 */
interface KvCache {
  ids: number[];
  slots: number[];
  /** Physical slots in the tensors, [1, kvHeads, length, headDim] each. */
  length: number;
  tensors: ort.Tensor[];
  /** Log-probs after the last cached id, when known (saves a run for a repeat). */
  last?: Float32Array;
}

export interface OrtModelOptions {
  readonly contextLength: number;
  /** Longest prefill chunk; cancellation is checked between chunks. */
  readonly prefillChunk?: number;
  /** Largest batch for nextTokenLogProbsBatch. */
  readonly maxBatch?: number;
  /**
   * Shared prefix length from which batch rows run one by one on the cache
   * instead of as one batch (default 128; Infinity always batches).
   */
  readonly batchSharedLimit?: number;
  /**
   * Dead cache slots tolerated before they are copied out (default: 32, or
   * an eighth of the live ones if more). Each dead slot costs a little in
   * every later run (onnxruntime copies the whole past into the present).
   */
  readonly maxDeadSlots?: number;
  /**
   * Cache handling, for side-by-side measurements: 'copy' copies the past on
   * every rewind and fetches the presents (the plain Optimum way), 'mask'
   * masks rewound slots out, 'auto' (default) also keeps the cache in place
   * when the graph returns new_key_values.
   */
  readonly cacheMode?: 'auto' | 'mask' | 'copy';
  /**
   * A prompt whose new part is more than this many times the part it shares
   * with the cache is prefilled from scratch (default 4; Infinity: never).
   */
  readonly freshPrefillRatio?: number;
}

/**
 * Largest model file read into memory to append the log-softmax output
 * (withLogProbsOutput): while the session is made from those bytes they are
 * held twice (the file's copy and onnxruntime's), so a bigger model (a
 * user's export of hundreds of millions of parameters) is loaded from its
 * path and normalised by a session of its own. The bundled models are
 * 12-25 MB.
 */
const MAX_AUGMENTED_BYTES = 128 * 2 ** 20;

/**
 * Creates the InferenceSession with Subword's settings. A model whose float32
 * logits can be normalised in its own graph gets the LOG_PROBS_OUTPUT output
 * appended (see withLogProbsOutput), so every run returns log-probabilities
 * without a second session.run; anything unexpected (external weights, an
 * unusual graph) keeps the model as it is.
 */
export async function createSession(modelPath: string, threads: number, memArena = true, logProbsInGraph = true): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: Math.max(1, Math.floor(threads)),
    enableCpuMemArena: memArena,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Idle intra-op threads sleep instead of spinning: a spinning pool
    // keeps a core busy between runs, the core the editor needs.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  const augmented = logProbsInGraph ? await readWithLogProbs(modelPath) : undefined;
  if (augmented) {
    try {
      return await ort.InferenceSession.create(augmented, options);
    } catch {
      // e.g. weights in an external data file, which a session made from bytes cannot find
    }
  }
  try {
    return await ort.InferenceSession.create(modelPath, options);
  } catch (err) {
    throw new ModelFolderError(modelPath, `onnxruntime could not load it (corrupt, truncated or not an ONNX model): ${(err as Error).message.split('\n')[0]}`);
  }
}

/** The model's bytes with the log-softmax output appended, or undefined where that does not apply. */
async function readWithLogProbs(modelPath: string): Promise<Uint8Array | undefined> {
  try {
    if ((await stat(modelPath)).size > MAX_AUGMENTED_BYTES) return undefined;
    const bytes = new Uint8Array(await readFile(modelPath));
    if (graphOutputType(bytes, LOG_PROBS_OUTPUT)) return undefined;
    const logits = graphOutputType(bytes, 'logits');
    if (logits?.elemType !== FLOAT32_ELEM || !logits.rank) return undefined;
    return withLogProbsOutput(bytes, logits.rank);
  } catch {
    return undefined; // unreadable or not protobuf: the plain load reports it
  }
}

/** ONNX TensorProto.DataType FLOAT. */
const FLOAT32_ELEM = 1;

/**
 * A session running logSoftmaxModel(width), checked against the JS loop on
 * one row; undefined (the runner keeps the JS loop) if either fails.
 */
async function createNormalizer(width: number): Promise<{ session: ort.InferenceSession; width: number } | undefined> {
  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(logSoftmaxModel(width), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    const x = Float32Array.from({ length: width }, (_, i) => Math.sin(i * 0.37) * 12 - (i % 7));
    const y = (await session.run({ x: new ort.Tensor('float32', x, [1, width]) })).y!.data as Float32Array;
    const ref = logSoftmaxRow(x, 0, width, false);
    for (let i = 0; i < width; i++) if (!(Math.abs(y[i]! - ref[i]!) <= 1e-4)) throw new Error(`LogSoftmax differs at ${i}`);
    return { session, width };
  } catch {
    await session?.release().catch(() => undefined);
    return undefined;
  }
}

/** How one session.run is fed beyond its rows (see OrtNextTokenModel.run). */
interface RunOptions {
  /** Padded row width (default: the first row's length). */
  readonly width?: number;
  /** Physical past slots the rows may attend to (default: all). */
  readonly live?: readonly number[];
  /** Position of the rows' first token (default: the number of live slots). */
  readonly start?: number;
  /** What to fetch besides the logits: the presents (default), the new keys/values only, or nothing. */
  readonly fetch?: 'presents' | 'new' | 'logits';
  /** Logits rows wanted, counted from the end (graphs with num_logits_to_keep). */
  readonly keep?: number;
}

/** Store slots allocated beyond a prefill, for the completion that follows it. */
const RESERVE_AHEAD = 64;

/**
 * Largest store allocated for the whole context up front (bytes over all
 * tensors). Allocating the store afresh for each request left the process
 * heap fragmented by buffers of every size (RSS crept up over a 10,000
 * completion soak); one buffer per tensor, reused, does not.
 */
const STORE_UPFRONT_BYTES = 64 * 2 ** 20;

/** [from, from + 1, ..., to - 1]; a plain loop (Array.from with a mapper is several times slower, and this runs every step). */
function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

export class OrtNextTokenModel implements NextTokenModel {
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly stats: RunnerStats = { runs: 0, runMs: 0, tokensComputed: 0, logitsRows: 0, tokensReused: 0, cacheHits: 0, requests: 0, compactions: 0, storeAllocations: 0 };
  private cache: KvCache;
  private readonly prefillChunk: number;
  private readonly maxBatch: number;
  private batchSharedLimit: number;
  private readonly maxDeadSlots: number;
  private readonly cacheMode: 'auto' | 'mask' | 'copy';
  private disposed = false;
  /** emptyPast(1), made once. */
  private readonly emptyPasts = new Map<number, ort.Tensor[]>();
  /** Attention-mask buffers by length, least recently used first (maskBuffer). */
  private readonly masks = new Map<number, BigInt64Array>();
  /** num_logits_to_keep feeds by value (a handful of values; onnxruntime only reads them). */
  private readonly keepTensors = new Map<number, ort.Tensor>();
  /** Serialises calls: one session, one cache. */
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * Rewinds mask slots out instead of copying (needs attention_mask and
   * position_ids; probe() checks that a masked slot changes nothing).
   */
  private holes = false;
  /** The cache is a fixed-capacity store written in place (see KvCache). */
  private slotStore = false;
  /**
   * Backing buffers of the in-place store, one per past tensor, reused by
   * every request and by resetCache(): the store's tensors are views of
   * their first H*capacity*D elements.
   */
  private storeBuffers: KvData[] | undefined;
  /** LogSoftmax in onnxruntime (see logSoftmaxGraph.ts) for float32 logits of this width; JS without it. */
  private normalizer: { session: ort.InferenceSession; width: number } | undefined;
  private readonly freshPrefillRatio: number;

  constructor(
    private readonly session: ort.InferenceSession,
    readonly layout: GraphLayout,
    vocabSize: number,
    options: OrtModelOptions,
  ) {
    this.vocabSize = vocabSize;
    this.contextLength = options.contextLength;
    this.prefillChunk = options.prefillChunk ?? 256;
    this.maxBatch = options.maxBatch ?? 16;
    this.batchSharedLimit = options.batchSharedLimit ?? 128;
    this.maxDeadSlots = options.maxDeadSlots ?? 32;
    this.cacheMode = options.cacheMode ?? 'auto';
    this.freshPrefillRatio = options.freshPrefillRatio ?? 4;
    this.cache = this.emptyCache();
  }

  /**
   * A few short runs at load time: prove the graph executes (a broken model
   * fails at load, with the file named, not at the first keystroke), learn
   * whether logits come for every position or only the last, whether batch
   * rows are independent, and whether masked cache slots are invisible.
   */
  async probe(modelPath: string): Promise<void> {
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.run([[0, 0]], this.emptyPast(1), 0);
    } catch (err) {
      throw new ModelFolderError(modelPath, `a test run failed: ${(err as Error).message.split('\n')[0]}`);
    }
    this.layout.lastPositionLogits = !this.layout.hasLogitsToKeep && out.logits!.dims[1] === 1;
    if (out.logits!.type === 'float32' && !this.layout.hasLogProbs) this.normalizer = await createNormalizer(out.logits!.dims[2]!);
    // Batched rows must give the same numbers as single runs. Dynamically
    // quantized (int8) graphs compute one activation scale over the whole
    // batch, padding included, so a row's logits depend on its neighbours:
    // such models run covers one by one instead.
    const rows = [[1, 2, 3], this.layout.lastPositionLogits ? [4, 5, 6] : [4, 5]];
    const together = await this.run(rows, this.emptyPast(2), 0, { width: 3 });
    const V = together.logits!.dims[2]!;
    const R = together.logits!.dims[1]!;
    let diff = 0;
    for (let b = 0; b < rows.length; b++) {
      const alone = await this.run([rows[b]!], this.emptyPast(1), 0);
      const a = alone.logits!.data as Float32Array;
      const t = together.logits!.data as Float32Array;
      const aRow = (alone.logits!.dims[1]! - 1) * V;
      const tRow = (b * R + logitsRow(rows[b]!.length, 3, R)) * V;
      for (let i = 0; i < V; i++) diff = Math.max(diff, Math.abs(a[aRow + i]! - t[tRow + i]!));
    }
    this.batchConsistent = !(diff > 1e-3);
    if (!this.batchConsistent) this.batchSharedLimit = 0;
    this.holes = this.cacheMode !== 'copy' && this.layout.hasAttentionMask && this.layout.hasPositionIds && (await this.probeHoles());
    this.slotStore = this.cacheMode === 'auto' && this.holes && this.layout.newKvNames !== undefined && (await this.probeSlots());
    this.resetCache();
    for (const k of Object.keys(this.stats) as Array<keyof RunnerStats>) this.stats[k] = 0;
  }

  /**
   * [1 2] [3] [4] run contiguously, and again with a dead slot (token 7)
   * between 2 and 3: the last rows must agree. Same chunks on both sides, so
   * even dynamically quantized graphs agree to rounding.
   */
  private async probeHoles(): Promise<boolean> {
    const presents = (o: ort.InferenceSession.OnnxValueMapType) => this.layout.presentNames.map((n) => o[n]!);
    const last = (o: ort.InferenceSession.OnnxValueMapType) => {
      const l = o.logits!;
      return (l.data as Float32Array).subarray((l.dims[1]! - 1) * l.dims[2]!, l.dims[1]! * l.dims[2]!);
    };
    try {
      const a1 = await this.run([[1, 2]], this.emptyPast(1), 0);
      const a2 = await this.run([[3]], presents(a1), 2);
      const a3 = await this.run([[4]], presents(a2), 3);
      const b2 = await this.run([[7]], presents(a1), 2);
      const b3 = await this.run([[3]], presents(b2), 3, { live: [0, 1], start: 2 });
      const b4 = await this.run([[4]], presents(b3), 4, { live: [0, 1, 3], start: 3 });
      const x = last(a3);
      const y = last(b4);
      let diff = 0;
      for (let i = 0; i < x.length; i++) diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
      return diff < 1e-3;
    } catch {
      return false;
    }
  }

  /**
   * The new keys/values written into a store of 8 slots give the same logits
   * as the presents: [1 2] then [3] then [4], both ways.
   */
  private async probeSlots(): Promise<boolean> {
    try {
      const last = (o: ort.InferenceSession.OnnxValueMapType) => {
        const l = o.logits!;
        return (l.data as Float32Array).subarray((l.dims[1]! - 1) * l.dims[2]!, l.dims[1]! * l.dims[2]!);
      };
      const a1 = await this.run([[1, 2]], this.emptyPast(1), 0);
      const a2 = await this.run([[3]], this.layout.presentNames.map((n) => a1[n]!), 2);
      const a3 = await this.run([[4]], this.layout.presentNames.map((n) => a2[n]!), 3);
      this.cache = this.emptyCache();
      this.slotStore = true;
      await this.single([1, 2]);
      await this.single([1, 2, 3]);
      const y = await this.single([1, 2, 3, 4]);
      const x = logSoftmaxRow(last(a3), 0, last(a3).length, false);
      let diff = 0;
      for (let i = 0; i < x.length; i++) diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
      return diff < 1e-3;
    } catch {
      return false;
    } finally {
      this.slotStore = false;
      this.cache = this.emptyCache();
    }
  }

  /** Whether batched rows reproduce single runs (false for dynamically quantized graphs). */
  batchConsistent = true;

  /** Whether rewinds mask cache slots instead of copying (see KvCache). */
  get masksRewinds(): boolean {
    return this.holes;
  }

  /** Whether logits are normalised by onnxruntime's LogSoftmax (see logSoftmaxGraph.ts) rather than in JS. */
  get normalizesInOnnxruntime(): boolean {
    return this.layout.hasLogProbs === true || this.normalizer !== undefined;
  }

  /** Whether the cache is a store written in place from the new keys/values (see KvCache). */
  get cacheInPlace(): boolean {
    return this.slotStore;
  }

  /** Token ids whose keys/values are cached (for tests and the benchmark). */
  get cachedIds(): readonly number[] {
    return this.cache.ids;
  }

  /** Physical slots in the cache, dead ones included (for tests and the benchmark). */
  get cacheSlots(): number {
    return this.cache.length;
  }

  /** Memory under the first cached tensor (for tests: the in-place store reuses one buffer). */
  get kvBuffer(): ArrayBufferLike {
    return (this.cache.tensors[0]!.data as KvData).buffer;
  }

  /** Drops the cache (a model switch, or a test that wants a cold start). */
  resetCache(): void {
    this.cache = this.emptyCache();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue.catch(() => undefined);
    this.cache = this.emptyCache();
    this.storeBuffers = undefined;
    const normalizer = this.normalizer;
    this.normalizer = undefined;
    await Promise.all([this.session.release(), normalizer?.session.release()]);
  }

  nextTokenLogProbs(ids: readonly number[], signal?: AbortSignal): Promise<Float32Array> {
    return this.serial(() => this.single(ids, signal));
  }

  nextTokenLogProbsBatch(sequences: ReadonlyArray<readonly number[]>, signal?: AbortSignal): Promise<Float32Array[]> {
    return this.serial(() => this.batch(sequences, signal));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private check(ids: readonly number[], signal?: AbortSignal): void {
    if (this.disposed) throw new Error('model was disposed');
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledError();
    if (!ids.length) throw new Error('nextTokenLogProbs needs at least one token');
    if (ids.length > this.contextLength) throw new RangeError(`sequence of ${ids.length} tokens exceeds the model's context of ${this.contextLength}`);
    for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`token id ${id} outside the vocabulary (0..${this.vocabSize - 1})`);
  }

  private async single(ids: readonly number[], signal?: AbortSignal): Promise<Float32Array> {
    this.check(ids, signal);
    this.stats.requests++;
    let common = commonPrefix(this.cache.ids, ids);
    if (common === ids.length && common === this.cache.ids.length && this.cache.last) {
      this.stats.cacheHits++;
      this.stats.tokensReused += common;
      return this.cache.last;
    }
    // The last token must go through the model to produce its logits.
    if (common >= ids.length) common = ids.length - 1;
    // A prompt that shares only its first few tokens (the FIM header: the cursor moved to another
    // place or file) is computed afresh: a prefill against the store attends to all of its slots,
    // masked ones included (+35% time measured on 512-token prompts), while recomputing a short
    // shared part costs little.
    if (this.slotStore && common > 0 && common * this.freshPrefillRatio < ids.length - common) common = 0;
    if (common > 0) this.stats.cacheHits++;
    this.stats.tokensReused += common;
    this.rewind(common);
    // Room for the whole sequence and a completion after it, in one allocation.
    if (this.slotStore) this.reserve(ids.length, ids.length + RESERVE_AHEAD);
    let last: Float32Array | undefined;
    for (let start = common; start < ids.length; start += this.prefillChunk) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledError();
      const chunk = ids.slice(start, Math.min(ids.length, start + this.prefillChunk));
      const c = this.cache;
      // Nothing cached yet: no past at all, rather than a store of masked slots.
      const empty = this.slotStore && start === 0;
      const out = await this.run([chunk], empty ? this.emptyPast(1) : c.tensors, empty ? 0 : c.length, { live: empty ? undefined : c.slots, start, fetch: this.slotStore ? 'new' : 'presents' });
      const logits = out.logits!;
      // The last row, whether the graph returns every position or only the
      // last; of the last chunk only (earlier chunks' rows are not used).
      if (start + chunk.length >= ids.length) last = (await this.normalize(out, [logits.dims[1]! - 1]))[0]!;
      if (this.slotStore) {
        this.store(out, start, chunk.length);
        this.cache = { ids: ids.slice(0, start + chunk.length), slots: range(0, start + chunk.length), length: c.length, tensors: c.tensors };
      } else {
        this.cache = {
          ids: ids.slice(0, start + chunk.length),
          slots: [...c.slots, ...range(c.length, c.length + chunk.length)],
          length: c.length + chunk.length,
          tensors: this.layout.presentNames.map((n) => out[n]!),
        };
      }
    }
    this.cache.last = last;
    // Shared with the cache, not copied (NextTokenModel: rows are read-only).
    return last!;
  }

  private async batch(sequences: ReadonlyArray<readonly number[]>, signal?: AbortSignal): Promise<Float32Array[]> {
    if (!sequences.length) return [];
    for (const s of sequences) this.check(s, signal);
    if (sequences.length === 1) return [await this.single(sequences[0]!, signal)];
    // The shared part goes through the single-sequence path (and stays
    // cached, its row serving the sequences that end there); only the
    // differing tails run on top of it.
    let shared = sequences[0]!.length;
    for (const s of sequences) shared = Math.min(shared, commonPrefix(sequences[0]!, s));
    const results: Float32Array[] = new Array(sequences.length);
    const oneByOne = !this.batchConsistent || shared >= this.batchSharedLimit;
    const c = this.cache;
    if (oneByOne && this.holes && shared > 1 && !(c.last && c.ids.length === shared) && commonPrefix(c.ids, sequences[0]!) >= shared) {
      // The shared part is cached but its row is not (the cache runs on past
      // it): rather than a run for that one row, step back a token, free of
      // charge, and let the tails carry it; the shared sequence's own row then
      // comes from the first tail's run (prefix chains share a run).
      shared--;
      this.stats.cacheHits++;
      this.rewind(shared);
    } else if (shared > 0) {
      const row = await this.single(sequences[0]!.slice(0, shared), signal);
      sequences.forEach((s, i) => {
        // Rows are read-only by contract (NextTokenModel): every sequence that is the shared prefix gets the same one.
        if (s.length === shared) results[i] = row;
      });
    } else this.resetCache();
    this.stats.requests++;
    const todo = sequences.map((_, i) => i).filter((i) => !results[i]);
    if (oneByOne) {
      await this.tailsOneByOne(sequences, todo, shared, results, signal);
      return results;
    }
    // Batch rows each carry a copy of the past: copy the live slots only.
    this.compact();
    // Rows are right-padded to the longest tail; a graph that returns only
    // the last position's logits needs rows of equal length instead.
    const order = [...todo];
    if (this.layout.lastPositionLogits) order.sort((a, b) => sequences[a]!.length - sequences[b]!.length);
    const groups: number[][] = [];
    for (const i of order) {
      const g = groups.at(-1);
      if (g && g.length < this.maxBatch && (!this.layout.lastPositionLogits || sequences[g[0]!]!.length === sequences[i]!.length)) g.push(i);
      else groups.push([i]);
    }
    for (const group of groups) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledError();
      const tails = group.map((i) => sequences[i]!.slice(shared));
      const width = Math.max(...tails.map((t) => t.length));
      const out = await this.run(tails, this.expandPast(group.length), this.cache.ids.length, { width, start: shared, fetch: 'logits' });
      const logits = out.logits!;
      const rows = logits.dims[1]!;
      const normalized = await this.normalize(
        out,
        tails.map((t, k) => k * rows + logitsRow(t.length, width, rows)),
      );
      tails.forEach((_, k) => (results[group[k]!] = normalized[k]!));
      this.stats.tokensReused += shared * group.length;
    }
    return results;
  }

  /**
   * Each tail alone on top of the cached shared prefix (logits only: the
   * cache is left as it is). A tail that is a prefix of a longer one gets its
   * row from the longer one's run when the graph returns enough rows: the
   * prefixes of covers (exact mode) cost one run per branch, not per node.
   */
  private async tailsOneByOne(sequences: ReadonlyArray<readonly number[]>, todo: readonly number[], shared: number, results: Float32Array[], signal?: AbortSignal): Promise<void> {
    const longestFirst = [...todo].sort((a, b) => sequences[b]!.length - sequences[a]!.length);
    // Rows are normalised together after the runs (one LogSoftmax call, not one per run).
    const claimed = new Uint8Array(sequences.length);
    const parts: Array<readonly [j: number, logits: ort.Tensor, row: number, probs: ort.Tensor | undefined]> = [];
    for (const i of longestFirst) {
      if (results[i] || claimed[i]) continue;
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledError();
      const leaf = sequences[i]!;
      // Every sequence starts with the shared part: compare the tails only.
      const along = longestFirst.filter((j) => !results[j] && !claimed[j] && sequences[j]!.length <= leaf.length && sameFrom(sequences[j]!, leaf, shared));
      const tail = leaf.slice(shared);
      const shortest = Math.min(...along.map((j) => sequences[j]!.length));
      const c = this.cache;
      const out = await this.run([tail], c.tensors, c.length, { live: c.slots, start: shared, fetch: 'logits', keep: leaf.length - shortest + 1 });
      const logits = out.logits!;
      const R = logits.dims[1]!;
      for (const j of along) {
        const r = sequences[j]!.length - shared - 1 - (tail.length - R);
        if (r < 0) continue;
        claimed[j] = 1;
        parts.push([j, logits, r, out[PROBS_OUTPUT]]);
      }
      this.stats.tokensReused += shared;
    }
    const rows = await this.normalizeParts(parts.map(([, logits, r, probs]) => [logits, r, probs] as const));
    parts.forEach(([j], k) => (results[j] = rows[k]!));
  }

  /**
   * Log-probabilities of the given rows (indices over batch x positions) of
   * a logits tensor [B, R, V]: read as they are when the model's graph
   * normalised them (LOG_PROBS_OUTPUT, inside the run, so inside
   * stats.runMs); else onnxruntime's LogSoftmax in a session of its own when
   * the runner has one for this width (the rows copied out only when not all
   * are wanted), else the JS loop. Those two are pipeline time, not counted
   * in stats.runMs.
   */
  private normalize(out: Readonly<Record<string, ort.Tensor>>, rows: readonly number[]): Promise<Float32Array[]> {
    return this.normalizeParts(rows.map((r) => [out.logits!, r, out[PROBS_OUTPUT]] as const));
  }

  /** normalize() for rows of several runs' logits, in one LogSoftmax call. */
  private async normalizeParts(parts: ReadonlyArray<readonly [logits: ort.Tensor, row: number, probs?: ort.Tensor]>): Promise<Float32Array[]> {
    if (!parts.length) return [];
    // Normalised in the model's own graph: the rows are read where they are, or copied out of a
    // large output (a view would keep all of it alive, e.g. 4 MB for 16 covers x 8 positions).
    if (this.layout.hasLogProbs) {
      const cut = (data: Float32Array, V: number, r: number) => (data.length <= MAX_VIEWED_ROWS * V ? data.subarray(r * V, (r + 1) * V) : data.slice(r * V, (r + 1) * V));
      return parts.map(([l, r, probs]) => {
        const V = l.dims[2]!;
        const row = cut(l.data as Float32Array, V, r);
        if (probs) attachProbabilities(row, cut(probs.data as Float32Array, V, r));
        return row;
      });
    }
    const n = this.normalizer;
    const V = parts[0]![0].dims[2]!;
    if (!n || parts.some(([l]) => l.type !== 'float32' || l.dims[2] !== n.width)) return parts.map(([l, r]) => logSoftmaxRow(l.data as Float32Array | Uint16Array, r * l.dims[2]!, l.dims[2]!, l.type === 'float16'));
    const first = parts[0]![0];
    const all = parts.every(([l, r], i) => l === first && r === i) && parts.length === first.dims[0]! * first.dims[1]!;
    let x = first.data as Float32Array;
    if (!all) {
      x = new Float32Array(parts.length * V);
      parts.forEach(([l, r], i) => x.set((l.data as Float32Array).subarray(r * V, (r + 1) * V), i * V));
    }
    const y = (await n.session.run({ x: new ort.Tensor('float32', x, [parts.length, V]) })).y!.data as Float32Array;
    return parts.map((_, i) => y.subarray(i * V, (i + 1) * V));
  }

  /**
   * Runs rows (right-padded to `width`) after `pastLen` physical cache slots,
   * of which `live` are visible.
   */
  private async run(rows: ReadonlyArray<readonly number[]>, past: ort.Tensor[], pastLen: number, opts: RunOptions = {}): Promise<ort.InferenceSession.OnnxValueMapType> {
    const B = rows.length;
    const width = opts.width ?? rows[0]!.length;
    const live = opts.live;
    const start = opts.start ?? live?.length ?? pastLen;
    const inputIds = new BigInt64Array(B * width);
    const pos = new BigInt64Array(B * width);
    const total = pastLen + width;
    const mask = this.maskBuffer(B * total);
    for (let b = 0; b < B; b++) {
      const row = rows[b]!;
      for (let i = 0; i < width; i++) {
        inputIds[b * width + i] = BigInt(i < row.length ? row[i]! : 0);
        pos[b * width + i] = BigInt(start + Math.min(i, row.length - 1));
      }
      const m = b * total;
      if (!live || live.length === pastLen) mask.fill(1n, m, m + pastLen + row.length);
      // Ascending slots ending at length - 1 are 0..length-1 (the in-place store's case).
      else if (!live.length || live[live.length - 1] === live.length - 1) {
        mask.fill(1n, m, m + live.length);
        mask.fill(1n, m + pastLen, m + pastLen + row.length);
      } else {
        for (const s of live) mask[m + s] = 1n;
        mask.fill(1n, m + pastLen, m + pastLen + row.length);
      }
    }
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', inputIds, [B, width]) };
    if (this.layout.hasAttentionMask) feeds.attention_mask = new ort.Tensor('int64', mask, [B, total]);
    if (this.layout.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', pos, [B, width]);
    // Only the rows the caller reads: by default the last position of each row.
    if (this.layout.hasLogitsToKeep) {
      const keep = Math.min(width, opts.keep ?? width - Math.min(...rows.map((r) => r.length)) + 1);
      let keepTensor = this.keepTensors.get(keep);
      if (!keepTensor) this.keepTensors.set(keep, (keepTensor = new ort.Tensor('int64', BigInt64Array.of(BigInt(keep)), [])));
      feeds.num_logits_to_keep = keepTensor;
    }
    if (this.layout.hasCacheBranch) feeds.use_cache_branch = new ort.Tensor('bool', new Uint8Array([pastLen > 0 ? 1 : 0]), [1]);
    this.layout.pastNames.forEach((n, i) => (feeds[n] = past[i]!));
    const t0 = performance.now();
    // Only what the caller reads: onnxruntime-node copies every fetched output into a new JS
    // buffer, and the presents are most of the bytes. The rows come from the appended
    // log-softmax output when there is one (fetched in place of the logits).
    const rowsName = this.layout.hasLogProbs ? LOG_PROBS_OUTPUT : 'logits';
    const names = [rowsName, ...(this.layout.hasProbs ? [PROBS_OUTPUT] : []), ...(opts.fetch === 'logits' ? [] : opts.fetch === 'new' ? this.layout.newKvNames! : this.layout.presentNames)];
    const fetched = await this.session.run(feeds, names);
    this.stats.runMs += performance.now() - t0;
    this.stats.runs++;
    for (const r of rows) this.stats.tokensComputed += r.length;
    // Callers read the rows as `logits` either way; normalizeParts knows which they are. (The
    // map is this call's own: added to, not copied, which costs more than one would think.)
    const out = fetched as Record<string, ort.Tensor>;
    if (rowsName !== 'logits') out.logits = fetched[rowsName]!;
    const logits = out.logits;
    if (!logits || logits.dims.length !== 3) throw new Error(`model returned logits of shape [${logits?.dims.join(', ')}]; expected [batch, sequence, vocab]`);
    this.stats.logitsRows += logits.dims[0]! * logits.dims[1]!;
    if (logits.dims[2]! < this.vocabSize) throw new Error(`model's logits width ${logits.dims[2]} is smaller than the tokenizer's ${this.vocabSize} ids`);
    return out;
  }

  /**
   * A zeroed attention-mask buffer of n entries, reused from run to run
   * (runs are serial, and onnxruntime reads its inputs only during the run):
   * a fresh one per run was a measurable share of a decode step's overhead.
   */
  private maskBuffer(n: number): BigInt64Array {
    let buf = this.masks.get(n);
    if (buf) {
      this.masks.delete(n);
      buf.fill(0n);
    } else {
      buf = new BigInt64Array(n);
      if (this.masks.size >= MASK_BUFFERS) this.masks.delete(this.masks.keys().next().value!);
    }
    this.masks.set(n, buf);
    return buf;
  }

  /** Empty past tensors (no data, so shared by every run that starts from nothing). */
  private emptyPast(batch: number): ort.Tensor[] {
    let past = this.emptyPasts.get(batch);
    if (!past) {
      const { kvHeads, headDim, kvType } = this.layout;
      past = this.layout.pastNames.map(() => new ort.Tensor(kvType, kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0), [batch, kvHeads, 0, headDim]));
      if (batch === 1) this.emptyPasts.set(batch, past);
    }
    return past;
  }

  private emptyCache(): KvCache {
    return { ids: [], slots: [], length: 0, tensors: this.emptyPast(1) };
  }

  /** Keeps the first n cached tokens: masks the rest out, or copies when the model cannot mask. */
  private rewind(n: number): void {
    const c = this.cache;
    if (n >= c.ids.length) return;
    if (n === 0) {
      this.resetCache();
      return;
    }
    this.cache = { ids: c.ids.slice(0, n), slots: c.slots.slice(0, n), length: c.length, tensors: c.tensors };
    // In the store, the slots past n are free capacity, not dead.
    if (this.slotStore) return;
    const dead = c.length - n;
    if (!this.holes || dead > Math.max(this.maxDeadSlots, n >> 3)) this.compact();
  }

  /** Copies the live slots into fresh tensors (nothing to do when none is dead). */
  private compact(): void {
    const c = this.cache;
    const n = c.slots.length;
    if (n === c.length || this.slotStore) return;
    const { kvHeads, headDim, kvType } = this.layout;
    // Runs of consecutive live slots: one copy per run and head.
    const spans: Array<[from: number, to: number, len: number]> = [];
    for (let k = 0; k < n; k++) {
      const s = c.slots[k]!;
      const last = spans.at(-1);
      if (last && last[0] + last[2] === s) last[2]++;
      else spans.push([s, k, 1]);
    }
    const P = c.length;
    const tensors = c.tensors.map((t) => {
      const src = t.data as KvData;
      const dst = kvType === 'float16' ? new Uint16Array(kvHeads * n * headDim) : new Float32Array(kvHeads * n * headDim);
      for (let h = 0; h < kvHeads; h++) {
        for (const [from, to, len] of spans) dst.set(src.subarray((h * P + from) * headDim, (h * P + from + len) * headDim), (h * n + to) * headDim);
      }
      return new ort.Tensor(kvType, dst, [1, kvHeads, n, headDim]);
    });
    this.cache = { ids: c.ids, slots: range(0, n), length: n, tensors, last: c.last };
    this.stats.compactions++;
  }

  /** The cached past (its first ids.length slots: no dead ones) repeated for a batch of B rows. */
  private expandPast(B: number): ort.Tensor[] {
    const n = this.cache.ids.length;
    const L = this.cache.length;
    const { kvHeads: H, headDim: D } = this.layout;
    return this.cache.tensors.map((t) => {
      const src = t.data as KvData;
      const dst = src instanceof Uint16Array ? new Uint16Array(B * H * n * D) : new Float32Array(B * H * n * D);
      for (let b = 0; b < B; b++) {
        if (n === L) dst.set(src.subarray(0, H * n * D), b * H * n * D);
        else for (let h = 0; h < H; h++) dst.set(src.subarray(h * L * D, (h * L + n) * D), (b * H + h) * n * D);
      }
      return new ort.Tensor(t.type as 'float32', dst, [B, H, n, D]);
    });
  }

  /**
   * Store capacity for `need` tokens: grown in steps (a copy of the live
   * slots), never beyond the context; attention and onnxruntime's own
   * concatenation cost grows with the capacity, so it starts small.
   */
  private reserve(need: number, want = need + RESERVE_AHEAD): void {
    const c = this.cache;
    if (need <= c.length) return;
    const cap = Math.min(Math.max(this.contextLength, need), Math.max(want, Math.ceil((c.length * 3) / 2 / 64) * 64));
    const { kvHeads: H, headDim: D, kvType } = this.layout;
    const n = c.ids.length;
    // The store lives in one buffer per tensor, kept for the runner's life
    // (see storeBuffers): growing it re-lays the live slots out in place
    // instead of allocating; head h moves from h*old to h*cap, right, so the
    // heads move last to first and each copy is an overlap-safe memmove.
    const fresh = !this.storeBuffers || this.storeBuffers[0]!.length < H * cap * D;
    if (fresh) {
      const slots = this.storeCapacity(cap);
      this.storeBuffers = this.layout.pastNames.map(() => (kvType === 'float16' ? new Uint16Array(H * slots * D) : new Float32Array(H * slots * D)));
      this.stats.storeAllocations++;
    }
    const tensors = c.tensors.map((t, i) => {
      const src = t.data as KvData;
      const buf = this.storeBuffers![i]!;
      const dst = buf.subarray(0, H * cap * D);
      if (n > 0 && (fresh || src.buffer !== buf.buffer)) for (let h = 0; h < H; h++) dst.set(src.subarray(h * c.length * D, (h * c.length + n) * D), h * cap * D);
      else if (n > 0) for (let h = H - 1; h > 0; h--) dst.copyWithin(h * cap * D, h * c.length * D, (h * c.length + n) * D);
      return new ort.Tensor(kvType, dst, [1, H, cap, D]);
    });
    this.cache = { ids: c.ids, slots: c.slots, length: cap, tensors, last: c.last };
  }

  /**
   * Slots the store's buffers are allocated for: the whole context at once
   * (a few MB for the bundled model), so that they are allocated once per
   * runner, not per request; for a huge context, the slots asked for, grown
   * by halves.
   */
  private storeCapacity(cap: number): number {
    const { kvHeads: H, headDim: D, nLayer } = this.layout;
    const perSlot = 2 * nLayer * H * D * (this.layout.kvType === 'float16' ? 2 : 4);
    if (this.contextLength * perSlot <= STORE_UPFRONT_BYTES) return this.contextLength;
    return Math.min(this.contextLength, Math.max(cap, Math.ceil((((this.storeBuffers?.[0]?.length ?? 0) / (H * D)) * 3) / 2)));
  }

  /** Writes a run's new keys/values (S tokens from slot `at`) into the store. */
  private store(out: ort.InferenceSession.OnnxValueMapType, at: number, S: number): void {
    const { kvHeads: H, headDim: D } = this.layout;
    const cap = this.cache.length;
    this.layout.newKvNames!.forEach((name, i) => {
      const nw = out[name]!.data as KvData;
      const dst = this.cache.tensors[i]!.data as KvData;
      for (let h = 0; h < H; h++) dst.set(nw.subarray(h * S * D, (h + 1) * S * D), (h * cap + at) * D);
    });
  }
}

/**
 * Index, among the `returned` logits rows of a run, of the row after the
 * last token of a row of `len` tokens right-padded to `width`: the graph
 * returns the last `returned` positions (all, the last one, or k of them).
 */
/**
 * Rows of an output this small are returned as views into it (keeping at
 * most this many rows' bytes alive per row held); larger outputs are copied
 * from. A copy costs an allocation the garbage collector pays for again.
 */
const MAX_VIEWED_ROWS = 4;

/** Attention-mask buffers kept for reuse: the lengths a completion's runs use (decode steps, branches, a prefill). */
const MASK_BUFFERS = 4;

function logitsRow(len: number, width: number, returned: number): number {
  const r = len - 1 - (width - returned);
  if (r < 0) throw new Error(`model returned ${returned} logits rows for ${width} positions; the row of position ${len - 1} is missing`);
  return r;
}

/** Whether a[from..] equals b[from..a.length) (a no longer than b). */
function sameFrom(a: readonly number[], b: readonly number[], from: number): boolean {
  for (let k = from; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
