/**
 * The seam between the model runner (src/engine/model) and the decoding
 * strategies (src/engine/boundary, src/engine/completion). Strategies ask for
 * next-token distributions; the runner decides how (KV-cache reuse, batching,
 * a worker thread).
 */
export interface NextTokenModel {
  /** Width of the logits (>= tokenizer.vocabSize). */
  readonly vocabSize: number;
  /** Longest token sequence the model accepts. */
  readonly contextLength: number;
  /**
   * Next-token log-probabilities (natural log, length vocabSize) after `ids`.
   * Implementations reuse cached keys/values for the longest common prefix
   * with earlier calls, so a call that extends the previous one by a token
   * costs one decode step. The row may be shared with the implementation's
   * cache (a repeated call returns the same array): read it, never write it.
   */
  nextTokenLogProbs(ids: readonly number[], signal?: AbortSignal): Promise<Float32Array>;
  /**
   * The same for several sequences that usually share a long prefix (the
   * covers of exact mode); batched into as few model calls as possible.
   * Rows may likewise be shared (equal sequences get the same array): read
   * them, never write them.
   */
  nextTokenLogProbsBatch(sequences: ReadonlyArray<readonly number[]>, signal?: AbortSignal): Promise<Float32Array[]>;
}

/** Thrown (or used as AbortSignal reason) when a newer request supersedes this one. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/**
 * Probabilities (exp of each entry) that came with a row from the runner:
 * the graph's own Exp output (logSoftmaxGraph.ts), computed vectorised
 * inside onnxruntime. Readers that sum a whole row's probabilities (exact
 * mode's mass per first byte) use them instead of a Math.exp per entry; a
 * row without them (another runner, a copy) is exp'd by the reader.
 */
const rowProbabilities = new WeakMap<ArrayLike<number>, Float32Array>();

/** Records `probs` as the probabilities of `row` (the runner's side; read-only for both). */
export function attachProbabilities(row: ArrayLike<number>, probs: Float32Array): void {
  rowProbabilities.set(row, probs);
}

/** The probabilities that came with `row`, if any (read-only). */
export function probabilitiesOf(row: ArrayLike<number>): Float32Array | undefined {
  return rowProbabilities.get(row);
}
