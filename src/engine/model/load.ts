/**
 * Loading a model folder end to end: presence and checksum checks, the
 * tokenizer, the onnxruntime session, the graph's I/O, and the agreement
 * between them. Every failure is one ModelFolderError naming the file.
 */
import type { Logger } from '../log';
import type { Tokenizer } from '../tokenizers/types';
import { chooseFimFormat, type FimFormat } from '../fim/formats';
import { declaredContextLength, locateModelFolder, ModelFolderError, verifyChecksums, type ModelFolder } from './manifest';
import { createSession, inspectGraph, OrtNextTokenModel } from './ortModel';
import { loadTokenizerFile } from './tokenizerFile';

export interface LoadOptions {
  /** onnxruntime intra-op threads (subword.model.threads). */
  readonly threads?: number;
  readonly logger: Logger;
  /** Skip the sha256 pass (tests that load the same folder many times). */
  readonly skipChecksums?: boolean;
  /**
   * Context window in tokens (prompt + completion), at most the model's own
   * context: DEFAULT_CONTEXT_WINDOW when absent, the model's full context
   * when 0. Latency grows faster than linearly with it (prefill, and every
   * decode step reads the whole cache).
   */
  readonly contextLength?: number;
  /** See OrtModelOptions.batchSharedLimit. */
  readonly batchSharedLimit?: number;
  /** See OrtModelOptions.cacheMode (benchmarks). */
  readonly cacheMode?: 'auto' | 'mask' | 'copy';
  /** onnxruntime's CPU memory arena (default on); off returns activation memory after each run. */
  readonly memArena?: boolean;
  /**
   * Log-softmax appended to the model's graph where possible (default on; see
   * createSession); off normalises in a session of its own (benchmarks).
   */
  readonly logProbsInGraph?: boolean;
  /** See OrtModelOptions.freshPrefillRatio (benchmarks). */
  readonly freshPrefillRatio?: number;
}

export interface LoadedModel {
  readonly folder: ModelFolder;
  readonly name: string;
  readonly model: OrtNextTokenModel;
  readonly tokenizer: Tokenizer;
  readonly format: FimFormat;
  /** Wall time of the whole load, ms. */
  readonly loadMs: number;
}

/** Used when neither subword.json nor config.json says how long the context is. */
const DEFAULT_CONTEXT = 2048;

/**
 * The context window used unless the caller sets one (setting
 * subword.model.contextWindow), chosen by measurement: see the README's
 * completion benchmark (latency per window) and held-out evaluation
 * (quality per window).
 */
export const DEFAULT_CONTEXT_WINDOW = 512;

export async function loadModel(dir: string, options: LoadOptions): Promise<LoadedModel> {
  const t0 = performance.now();
  const { logger } = options;
  const folder = locateModelFolder(dir);
  const name = folder.manifest?.name ?? dir.split(/[\\/]/).filter(Boolean).pop() ?? dir;
  if (!options.skipChecksums) await verifyChecksums(folder);
  else if (folder.manifest && Object.keys(folder.manifest.files).length) logger.debug(`${name}: sha256 checks skipped`);

  let tokenizer: Tokenizer;
  try {
    tokenizer = await loadTokenizerFile(folder.tokenizerPath, name);
  } catch (err) {
    throw new ModelFolderError(folder.tokenizerPath, `cannot be loaded as a tokenizer: ${(err as Error).message}`);
  }

  const session = await createSession(folder.modelPath, options.threads ?? 1, options.memArena ?? true, options.logProbsInGraph ?? true);
  let model: OrtNextTokenModel | undefined;
  try {
    const layout = inspectGraph(session, folder.modelPath);
    const m = folder.manifest;
    if (m?.inputNames) {
      const missing = m.inputNames.filter((n) => !session.inputNames.includes(n));
      const extra = session.inputNames.filter((n) => !m.inputNames!.includes(n));
      if (missing.length || extra.length) throw new ModelFolderError(folder.modelPath, `I/O names differ from ${folder.manifestPath}: ${[...missing.map((n) => `missing ${n}`), ...extra.map((n) => `unexpected ${n}`)].join(', ')}`);
    }
    if (m?.outputNames) {
      const missing = m.outputNames.filter((n) => !session.outputNames.includes(n));
      if (missing.length) throw new ModelFolderError(folder.modelPath, `outputs ${missing.join(', ')} listed in subword.json are missing`);
    }
    if (m?.vocabSize !== undefined && m.vocabSize !== tokenizer.vocabSize) throw new ModelFolderError(folder.tokenizerPath, `has ${tokenizer.vocabSize} ids but subword.json says vocab_size ${m.vocabSize}`);
    if (m?.nKvHead !== undefined && m.nKvHead !== layout.kvHeads) throw new ModelFolderError(folder.modelPath, `has ${layout.kvHeads} key/value heads but subword.json says ${m.nKvHead}`);
    if (m?.nLayer !== undefined && m.nLayer !== layout.nLayer) throw new ModelFolderError(folder.modelPath, `has ${layout.nLayer} layers but subword.json says ${m.nLayer}`);
    const width = layout.logitsWidth;
    if (width !== undefined) {
      if (width < tokenizer.vocabSize) throw new ModelFolderError(folder.tokenizerPath, `has ${tokenizer.vocabSize} ids but the model's logits are ${width} wide; tokenizer and model do not belong together`);
      if (m && width !== tokenizer.vocabSize) throw new ModelFolderError(folder.tokenizerPath, `has ${tokenizer.vocabSize} ids but the model's logits are ${width} wide (subword.json models must match exactly)`);
      if (width > tokenizer.vocabSize * 1.1 + 512) logger.warn(`${name}: logits are ${width} wide but the tokenizer has only ${tokenizer.vocabSize} ids; is this the model's own tokenizer.json?`);
    }
    let contextLength = declaredContextLength(folder);
    if (!contextLength) {
      contextLength = DEFAULT_CONTEXT;
      logger.info(`${name}: no context length in subword.json or config.json; assuming ${DEFAULT_CONTEXT}`);
    }
    const window = options.contextLength ?? DEFAULT_CONTEXT_WINDOW;
    if (window > 0) contextLength = Math.min(contextLength, Math.max(16, Math.floor(window)));
    model = new OrtNextTokenModel(session, layout, width ?? tokenizer.vocabSize, { contextLength, batchSharedLimit: options.batchSharedLimit, cacheMode: options.cacheMode, freshPrefillRatio: options.freshPrefillRatio });
    await model.probe(folder.modelPath);
    const format = chooseFimFormat(tokenizer, m?.fimFormat, logger, name);
    const loadMs = performance.now() - t0;
    logger.info(`${name}: loaded in ${loadMs.toFixed(0)} ms (${layout.nLayer} layers, ${tokenizer.vocabSize} ids, context ${contextLength}, ${options.threads ?? 1} thread(s))`);
    return { folder, name, model, tokenizer, format, loadMs };
  } catch (err) {
    if (model) await model.dispose();
    else await session.release();
    throw err;
  }
}
