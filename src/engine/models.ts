/**
 * Names of the models Subword ships. The engine never works out paths: the
 * extension and the CLI join these names onto their own package root.
 */

/**
 * Model folders under the package's models/, default first. Both share one
 * tokenizer: subword-code-fast (6 layers, d256) answers ~2.5x faster at
 * nearly the same held-out quality, so it is the default; subword-code-small
 * (8 layers, d384) is the slower, slightly stronger choice (model cards).
 */
export const BUNDLED_MODELS = ['subword-code-fast', 'subword-code-small'] as const;

export type BundledModelName = (typeof BUNDLED_MODELS)[number];

/** Folder name, under the package's models/, of the model used when neither subword.model.path nor subword.model.bundled says otherwise. */
export const BUNDLED_MODEL_NAME: BundledModelName = BUNDLED_MODELS[0];
