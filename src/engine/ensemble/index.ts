/**
 * Byte-level ensembles (setting `subword.completion.ensemble`): the
 * workspace cache model, the exact mixture of byte distributions, and the
 * strategy that generates and scores with it.
 */
export { ByteCacheModel, DEFAULT_CACHE_MEMORY, DEFAULT_ORDERS, type CacheModelOptions } from './cacheModel';
export { CacheComponent, ExactComponent, type ByteComponent, type NeuralPrompt } from './components';
export { EnsembleHost, type CacheFeed, type EnsembleHostOptions, type EnsembleMode } from './host';
export { byteBits, DEFAULT_WEIGHT_OPTIONS, END, mix, OnlineWeights, SYMBOLS, type ComponentPrediction, type WeightOptions } from './mixture';
export { DEFAULT_SOURCE_LIMITS, skipReason, type SourceLimits } from './sourceText';
export { DEFAULT_ENSEMBLE_OPTIONS, EnsembleStrategy, MODELS_ENSEMBLE_OPTIONS, type EnsembleInputs, type EnsembleOptions, type EnsembleReport, type EnsembleRequest, type EnsembleResult } from './strategy';
export { WorkspaceCache, type FeedOutcome, type WorkspaceCacheOptions } from './workspace';
