/**
 * One completion request end to end, next to the model (in the worker, or
 * in-process for the CLI and tests): context windows -> FIM prompt ->
 * boundary strategy -> stop rules -> ghost text.
 */
import type { BoundaryMode, BoundaryResult, BoundaryStrategy } from '../boundary/types';
import type { Logger } from '../log';
import { buildPrompt, LineTokenCounter, type BuiltPrompt, type PrefixAnchor } from '../fim/prompt';
import type { LoadedModel } from '../model/load';
import { CancelledError } from '../model/types';
import { seededRandom } from './sampling';
import { createStopAt, finalizeCompletion, type CompletionContext, type ErrorCounter } from '../syntax/postprocess';
import { completeUtf8Length, deferredRule, finishText, firstOf, maxLinesRule, repetitionRule, type StopRule } from './stops';
import { StrategySet } from './strategies';
import { suffixProbeBytes } from '../boundary/suffixProbe';
import { MAX_JOIN_WAIT_BYTES, PLAIN_JOIN_LOOKAHEAD_BYTES } from './joinWait';
import type { EnsembleHost, EnsembleMode } from '../ensemble/host';

/** What the editor (or CLI) asks for. Strings are UTF-16, as the editor has them. */
export interface CompletionRequest {
  /** Text before the cursor (the whole document part; the engine windows it). */
  readonly prefix: string;
  /** Text after the cursor. */
  readonly suffix: string;
  readonly languageId?: string;
  /** Workspace-relative path, for formats with a file header. */
  readonly path?: string;
  readonly boundary?: BoundaryMode;
  readonly maxTokens?: number;
  readonly maxLines?: number;
  /** 0 = greedy. */
  readonly temperature?: number;
  readonly topP?: number;
  /** Seed for sampling (reproducible runs); random when absent. */
  readonly seed?: number;
  /** Byte-level ensemble (setting subword.completion.ensemble); needs CompletionCore.ensemble. */
  readonly ensemble?: EnsembleMode;
  /**
   * Bytes a plain mode may generate past a syntax stop looking for the
   * suffix join (setting subword.completion.joinWait); absent:
   * CompletionCore.plainJoinLookahead.
   */
  readonly joinWait?: number;
}

/** What the model side returns for one request. */
export interface CoreResult {
  readonly text: string;
  /** Engine time of this request, ms (model loading excluded). */
  readonly ms: number;
  /** Tokens (or bytes, at byte level) generated. */
  readonly tokens: number;
  /** The boundary mode that actually ran (naive when the wanted one failed). */
  readonly boundary: BoundaryMode;
  readonly stoppedBy: string;
  readonly modelCalls: number;
  /** Prompt size in tokens (head + encoded stream). */
  readonly promptTokens: number;
  /** With an ensemble: the component that drove the completion ("cache", a model's name). */
  readonly driver?: string;
}

/**
 * Where the post-processing gets parse-error counts (SyntaxService fits):
 * with one, overlap trimming and candidate ranking prefer the text whose
 * insertion leaves fewer ERROR/MISSING nodes; without, they use lexical rules.
 */
export interface SyntaxErrorSource {
  /** Loads the language's grammar (resolves undefined when there is none). */
  language(languageId: string): Promise<unknown>;
  errorCounter(languageId: string): ErrorCounter | undefined;
}

export const DEFAULT_MAX_TOKENS = 64;
export const DEFAULT_MAX_LINES = 4;

/** Strings the tokenizer must never see unpaired. */
function wellFormed(s: string): string {
  // Lone surrogates become U+FFFD (TextEncoder does the same); done here so
  // that windowing, encoding and the cache key agree on one string.
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

export class CompletionCore {
  private readonly counter: LineTokenCounter;
  private anchor: PrefixAnchor | undefined;
  private readonly strategies = new StrategySet();
  private readonly failedModes = new Set<BoundaryMode>();
  /** The byte-level ensemble (workspace cache, second model), when the backend made one. */
  ensemble: EnsembleHost | undefined;
  /** Bytes the cache ensemble may generate past a syntax stop looking for the suffix join (0: stop there). */
  joinLookahead = JOIN_LOOKAHEAD_BYTES;
  /** The same for a plain mode's join rule (boundary/suffixJoin.ts), unless the request says (joinWait); see complete(). */
  plainJoinLookahead = PLAIN_JOIN_LOOKAHEAD_BYTES;

  constructor(
    readonly loaded: LoadedModel,
    private readonly logger: Logger,
    /** Extra stop rule per request (the syntax-aware rules), if any. */
    private readonly syntaxStop?: (req: CompletionRequest, prompt: BuiltPrompt) => StopRule | undefined,
    private readonly syntax?: SyntaxErrorSource,
  ) {
    this.counter = new LineTokenCounter(loaded.tokenizer);
  }

  private finish(ctx: CompletionContext, bytes: Uint8Array, joinsSuffix = false): string {
    return finishWith(ctx, bytes, this.logger, this.syntax?.errorCounter(ctx.languageId), joinsSuffix);
  }

  /** The prompt a request would use (the CLI's --show-prompt and the tests). */
  prompt(req: CompletionRequest): BuiltPrompt {
    const { model, tokenizer, format } = this.loaded;
    const maxTokens = clampInt(req.maxTokens ?? DEFAULT_MAX_TOKENS, 1, Math.max(1, model.contextLength >> 1));
    let prompt = buildPrompt(format, tokenizer, { prefix: wellFormed(req.prefix), suffix: wellFormed(req.suffix), path: req.path }, { contextLength: model.contextLength, maxTokens }, this.counter, this.anchor);
    // Per-line counts are an estimate; if the real encoding overshoots, trim the prefix by lines.
    let guard = 0;
    while (prompt.headIds.length + prompt.streamIds.length + maxTokens > model.contextLength && guard++ < 8) {
      const over = prompt.headIds.length + prompt.streamIds.length + maxTokens - model.contextLength;
      const cut = prompt.prefixText.indexOf('\n', Math.min(prompt.prefixText.length, over * 2)) + 1 || Math.min(prompt.prefixText.length, over * 4);
      prompt = buildPrompt(format, tokenizer, { prefix: prompt.prefixText.slice(cut), suffix: prompt.suffixText, path: req.path }, { contextLength: model.contextLength, maxTokens }, this.counter);
    }
    return prompt;
  }

  async complete(req: CompletionRequest, signal?: AbortSignal): Promise<CoreResult> {
    const t0 = performance.now();
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledError();
    const { model, tokenizer } = this.loaded;
    const maxTokens = clampInt(req.maxTokens ?? DEFAULT_MAX_TOKENS, 1, Math.max(1, model.contextLength >> 1));
    const prompt = this.prompt(req);
    this.anchor = prompt.prefixAnchor;
    const wanted = req.boundary ?? 'exact';
    let strategy: BoundaryStrategy = this.strategies.get(wanted);
    // The syntax-aware rules (end of word mid-identifier, end of line or
    // block, brackets) see the same windows the model sees.
    const ctx: CompletionContext = { languageId: req.languageId ?? 'plaintext', prefix: prompt.prefixText, suffix: prompt.suffixText };
    const limits = [maxLinesRule(req.maxLines ?? DEFAULT_MAX_LINES), repetitionRule()];
    const syntaxRules = firstOf(createStopAt(ctx), this.syntaxStop?.(req, prompt))!; // createStopAt always gives a rule
    const stopAt = firstOf(...limits, syntaxRules);
    // The grammar loads while the model generates; the error counter needs it at the end.
    const grammar = this.syntax?.language(ctx.languageId).catch(() => undefined);
    const request = {
      model,
      tokenizer,
      headIds: prompt.headIds,
      streamBytes: prompt.streamBytes,
      stopIds: prompt.stopIds,
      maxTokens,
      stopAt,
      temperature: req.temperature ?? 0,
      topP: req.topP ?? 1,
      random: seededRandom(req.seed ?? Math.floor(Math.random() * 2 ** 31)),
      signal,
      // The start of the suffix: a strategy with the join rule ends the middle where it follows (boundary/suffixJoin.ts).
      after: suffixProbeBytes(prompt.suffixText),
    };
    // The cache ensemble finds where its text joins the suffix (its END gate), often just past
    // the word or bracket the syntax rules stop at: those rules wait a few bytes for the join
    // (the text is cut where they fired unless it ends at the join; finalizeCompletion).
    // A plain mode's join rule waits PLAIN_JOIN_LOOKAHEAD_BYTES by default (see there).
    const plainWait = req.joinWait !== undefined && Number.isFinite(req.joinWait) ? Math.max(0, Math.min(MAX_JOIN_WAIT_BYTES, Math.floor(req.joinWait))) : this.plainJoinLookahead;
    const wait = req.ensemble === 'cache' ? this.joinLookahead : (req.ensemble ?? 'off') === 'off' ? plainWait : 0;
    const waiting = wait > 0 ? deferredRule(syntaxRules, wait) : undefined;
    const waitingRequest = waiting ? { ...request, stopAt: firstOf(...limits, waiting) } : request;
    const mixed = req.ensemble && req.ensemble !== 'off' ? await this.ensemble?.prepare(req.ensemble, waitingRequest, { prefix: prompt.prefixText, suffix: prompt.suffixText, path: req.path, primaryName: this.loaded.name }) : undefined;
    if (mixed) strategy = mixed.strategy;
    let result;
    try {
      result = await strategy.generate(mixed?.request ?? waitingRequest);
    } catch (err) {
      if (err instanceof CancelledError || signal?.aborted || strategy.mode === 'naive') throw err;
      // A strategy bug must not take completions down: log (once per mode) and fall back.
      if (!this.failedModes.has(strategy.mode)) this.logger.error(new Error(`boundary mode ${strategy.mode} failed; falling back to naive`, { cause: err }));
      this.failedModes.add(strategy.mode);
      strategy = this.strategies.get('naive');
      result = await strategy.generate(request);
    }
    await grammar;
    return {
      text: this.finish(ctx, cutUnlessJoined(result, waiting?.pending()), result.joinsSuffix),
      ms: performance.now() - t0,
      tokens: result.steps,
      boundary: strategy.mode,
      stoppedBy: result.stoppedBy,
      modelCalls: result.modelCalls,
      promptTokens: prompt.headIds.length + prompt.streamIds.length,
      driver: (result as { ensemble?: { driver: string } }).ensemble?.driver,
    };
  }
}

/** How far past a syntax stop the cache ensemble may generate looking for the suffix join. */
export const JOIN_LOOKAHEAD_BYTES = 8;


/** The generated bytes, cut where a waiting stop rule fired unless the text ended at the suffix join. */
function cutUnlessJoined(result: BoundaryResult, stopAt: number | undefined): Uint8Array {
  if (result.joinsSuffix || stopAt === undefined || result.bytes.length <= stopAt) return result.bytes;
  return result.bytes.subarray(0, Math.max(0, stopAt));
}

/** Ghost text from generated bytes: whole characters, then the syntax post-processing. */
function finishWith(ctx: CompletionContext, bytes: Uint8Array, logger: Logger, countErrors: ErrorCounter | undefined, joinsSuffix: boolean): string {
  const basic = finishText(bytes.subarray(0, completeUtf8Length(bytes)), '');
  try {
    const text = finalizeCompletion(ctx, basic, countErrors, { joinsSuffix }).text;
    // Ghost text of nothing but spaces shows nothing useful (and hides the suffix's alignment).
    return text.trim() === '' ? '' : text;
  } catch (err) {
    logger.error(new Error('completion post-processing failed; using the raw text', { cause: err }));
    return finishText(bytes, ctx.suffix);
  }
}

function clampInt(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.floor(Number.isFinite(v) ? v : lo)));
}
