/** Bumped when the engine's public behaviour changes; shown by `subword --version`. */
export const ENGINE_VERSION = '0.1.0';
