/**
 * What the cache model may learn from. Binary files, minified bundles and
 * huge generated files would flood a bounded cache with statistics that
 * never help a completion, and feeding them costs time; they are skipped,
 * and the caller logs why.
 */

export interface SourceLimits {
  /** Larger inputs are skipped (bytes). */
  readonly maxBytes: number;
  /** An input with a line longer than this (bytes) is treated as minified, once it is over `minifiedMinBytes`. */
  readonly maxLineBytes: number;
  /** Mean line length above which an input over `minifiedMinBytes` is treated as minified. */
  readonly maxMeanLineBytes: number;
  readonly minifiedMinBytes: number;
}

export const DEFAULT_SOURCE_LIMITS: SourceLimits = {
  maxBytes: 1024 * 1024,
  maxLineBytes: 4096,
  maxMeanLineBytes: 300,
  minifiedMinBytes: 16 * 1024,
};

/** Why an input is not fed to the cache; undefined when it looks like source. */
export function skipReason(bytes: Uint8Array, limits: SourceLimits = DEFAULT_SOURCE_LIMITS): string | undefined {
  if (bytes.length > limits.maxBytes) return `too large (${bytes.length} bytes > ${limits.maxBytes})`;
  // Binary: a NUL, or many control bytes, in the first 8 KB (what git and editors look at).
  const head = Math.min(bytes.length, 8192);
  let control = 0;
  for (let i = 0; i < head; i++) {
    const b = bytes[i]!;
    if (b === 0) return 'binary (NUL byte)';
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x1b) control++;
  }
  if (head > 0 && control / head > 0.05) return 'binary (control bytes)';
  if (!validUtf8(bytes.subarray(0, head))) return 'binary (not UTF-8)';
  if (bytes.length >= limits.minifiedMinBytes) {
    let lines = 1;
    let run = 0;
    let longest = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0x0a) {
        lines++;
        if (run > longest) longest = run;
        run = 0;
      } else run++;
    }
    if (run > longest) longest = run;
    if (longest > limits.maxLineBytes) return `minified (a ${longest}-byte line)`;
    if (bytes.length / lines > limits.maxMeanLineBytes) return `minified (mean line ${Math.round(bytes.length / lines)} bytes)`;
  }
  return undefined;
}

/** Whether bytes are UTF-8, allowing a sequence cut at the end. */
export function validUtf8(b: Uint8Array): boolean {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? (c <= 0xef ? 2 : -1) : c >= 0xc2 && c <= 0xdf ? 1 : -1;
    if (n < 0) return false;
    for (let k = 1; k <= n; k++) {
      if (i + k >= b.length) return true; // cut at the end of the window
      if ((b[i + k]! & 0xc0) !== 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}
