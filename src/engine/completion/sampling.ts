/** Randomness for sampled completions (temperature > 0). */

/** A small seeded generator for reproducible sampling in tests and eval. */
export { seededRandom } from '../random';
