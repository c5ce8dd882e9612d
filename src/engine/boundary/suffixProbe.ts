/**
 * The first bytes of the text after the cursor, as the END rules read them
 * (the ensemble's cache gate, ensemble/endGate.ts, and the model's own join
 * rule, suffixJoin.ts): the suffix's leading whitespace, up to
 * MAX_LEADING_SPACE bytes (an indentation run says little by its first
 * bytes, the text after it says how deep it is), then SUFFIX_PROBE bytes.
 */

/** Suffix bytes after its leading whitespace that an END rule reads. */
export const SUFFIX_PROBE = 8;
/** Most leading whitespace of the suffix read before the probe. */
export const MAX_LEADING_SPACE = 64;

/**
 * Characters of the text after the cursor that callers pass as `after`: every
 * character is at least one byte, so this holds a whole probe
 * (MAX_LEADING_SPACE + SUFFIX_PROBE bytes) with room to spare, and a
 * surrogate pair split at the cut lies beyond it.
 */
const PROBE_CHARS = 96;
const utf8 = new TextEncoder();

/** The start of the text after the cursor, as the bytes an END rule reads. */
export function suffixProbeBytes(suffix: string): Uint8Array {
  return utf8.encode(suffix.slice(0, PROBE_CHARS));
}

/** Space, tab, line feed, carriage return: what counts as the suffix's leading whitespace. */
export const isProbeSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/** The probe cut from `after`, and whether it is whole. */
export interface SuffixProbe {
  /** Leading whitespace (up to MAX_LEADING_SPACE) then up to SUFFIX_PROBE bytes. */
  readonly bytes: Uint8Array;
  /**
   * Whether the suffix holds a whole probe (its leading whitespace and
   * SUFFIX_PROBE bytes after it). Near the end of the file it does not: a
   * short probe is little evidence, and a rule fitted on whole probes would
   * read it as a join everywhere; callers keep the model's END then.
   */
  readonly complete: boolean;
}

export function cutProbe(after: Uint8Array): SuffixProbe {
  let lead = 0;
  while (lead < after.length && lead < MAX_LEADING_SPACE && isProbeSpace(after[lead]!)) lead++;
  const bytes = after.slice(0, lead + SUFFIX_PROBE);
  return { bytes, complete: lead < after.length && bytes.length === lead + SUFFIX_PROBE };
}
