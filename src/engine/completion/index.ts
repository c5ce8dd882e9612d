/**
 * The completion engine's public surface for the editor and the CLI:
 *
 *   const engine = CompletionEngine.create({ modelDir, threads, logger, workerScript });
 *   engine.onStateChange((s) => statusBar.update(s)); // loading / ready / error / disposed
 *   const r = await engine.complete({ prefix, suffix, languageId, boundary, maxTokens, maxLines, signal });
 *   // r.text (ghost text), r.ms, r.tokens, r.boundary, r.cached
 *   await engine.dispose();
 *
 * A model that cannot be loaded puts the engine in the 'error' state once
 * (one log line); complete() then rejects at once with ModelUnavailableError
 * until a new engine is created (e.g. on a settings change).
 */
export { CompletionEngine, ModelUnavailableError, type CompletionEngineOptions, type CompletionResult, type EngineCounters, type EngineState } from './engine';
export type { CompletionRequest } from './core';
export type { ModelInfo } from './backend';
export { CancelledError } from '../model/types';
export { ModelFolderError } from '../model/manifest';
export { FIM_FORMATS, detectFimFormat, type FimFormat, type FimFormatId } from '../fim/formats';
