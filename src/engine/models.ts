/**
 * Names of the models Subword ships. The engine never works out paths: the
 * extension and the CLI join these names onto their own package root.
 */

/** Folder name, under the package's models/, of the model used when subword.model.path is empty. */
export const BUNDLED_MODEL_NAME = 'subword-code-small';
