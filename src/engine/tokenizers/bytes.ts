/**
 * UTF-8 helpers shared by the tokenizer core. Text is handled as JS strings
 * (UTF-16) by the pre-tokenizer and as bytes by BPE; the conversions live here.
 *
 * Arbitrary (possibly invalid) UTF-8 is carried through the string-based
 * pre-tokenizer with the "surrogate escape" trick: a byte that is not part of
 * a well-formed UTF-8 sequence becomes the lone surrogate U+DC80 + (byte -
 * 0x80) (bytes < 0x80 are always valid). Ordinary text never contains lone
 * surrogates after `sanitize`, so the escape is unambiguous, and `utf8Into`
 * turns each escape back into its original byte.
 */

const ESCAPE_BASE = 0xdc00;

/** Replaces lone surrogates with U+FFFD, which is what TextEncoder (and so every Rust reference) sees. */
export function sanitize(text: string): string {
  // Fast path: most text has no surrogates at all.
  if (!/[\ud800-\udfff]/.test(text)) return text;
  const wf = (text as { toWellFormed?: () => string }).toWellFormed;
  return wf ? wf.call(text) : text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/**
 * Writes the UTF-8 of text[start, end) into out at 0 and returns the byte
 * count; out must hold 3 bytes per code unit. Escaped bytes (U+DC80..U+DCFF
 * lone surrogates) become their byte; other lone surrogates become U+FFFD.
 */
export function utf8Into(text: string, start: number, end: number, out: Uint8Array): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
    } else if (c >= 0xd800 && c < 0xe000) {
      if (c < 0xdc00 && i + 1 < end) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          out[n++] = 0xf0 | (c >> 18);
          out[n++] = 0x80 | ((c >> 12) & 63);
          out[n++] = 0x80 | ((c >> 6) & 63);
          out[n++] = 0x80 | (c & 63);
          continue;
        }
      }
      if (c >= 0xdc80 && c < 0xdd00) {
        out[n++] = c - ESCAPE_BASE;
      } else {
        out[n++] = 0xef;
        out[n++] = 0xbf;
        out[n++] = 0xbd;
      }
    } else {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    }
  }
  return n;
}

/** UTF-8 byte length of text[start, end) under the same rules as utf8Into. */
export function utf8Length(text: string, start = 0, end = text.length): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < end) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n += 4;
        i++;
      } else n += 3;
    } else if (c >= 0xdc80 && c < 0xdd00) n += 1;
    else n += 3;
  }
  return n;
}

const encoder = new TextEncoder();
const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// ignoreBOM: a leading U+FEFF is text like any other (TextDecoder would drop it).
const lossyDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function decodeUtf8Lossy(bytes: Uint8Array): string {
  return lossyDecoder.decode(bytes);
}

/**
 * Bytes to an escaped string: well-formed UTF-8 decodes normally, every byte
 * of an ill-formed sequence becomes its escape surrogate (see file comment).
 * Ill-formed follows the Unicode "maximal subpart" rule implicitly: each byte
 * that cannot start or continue a valid sequence is escaped on its own.
 */
export function bytesToEscaped(bytes: Uint8Array): string {
  try {
    return fatalDecoder.decode(bytes);
  } catch {
    // fall through to the slow path
  }
  let out = '';
  let i = 0;
  const n = bytes.length;
  let runStart = 0;
  const flush = (end: number) => {
    if (end > runStart) out += lossyDecoder.decode(bytes.subarray(runStart, end));
  };
  while (i < n) {
    const len = validSequenceLength(bytes, i);
    if (len > 0) {
      i += len;
      continue;
    }
    flush(i);
    out += String.fromCharCode(ESCAPE_BASE + bytes[i]!);
    i++;
    runStart = i;
  }
  flush(n);
  return out;
}

/** Length of the well-formed UTF-8 sequence starting at i, or 0 if none starts there. */
export function validSequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const n = b.length;
  const cont = (k: number) => k < n && (b[k]! & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    const d = b[i + 1]!;
    if (c === 0xe0 && d < 0xa0) return 0;
    if (c === 0xed && d >= 0xa0) return 0;
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    const d = b[i + 1]!;
    if (c === 0xf0 && d < 0x90) return 0;
    if (c === 0xf4 && d >= 0x90) return 0;
    return 4;
  }
  return 0;
}

/** GPT-2's reversible byte <-> printable-character map used by byte-level vocabularies. */
export function byteLevelAlphabet(): { byteToChar: string[]; charToByte: Map<string, number> } {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const byteToChar: string[] = new Array(256);
  for (const b of bs) byteToChar[b] = String.fromCharCode(b);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (byteToChar[b] === undefined) byteToChar[b] = String.fromCharCode(256 + extra++);
  }
  const charToByte = new Map<string, number>();
  byteToChar.forEach((ch, b) => charToByte.set(ch, b));
  return { byteToChar, charToByte };
}

/**
 * Incremental UTF-8 decoder for streamed token bytes: a token that ends in the
 * middle of a multi-byte character yields nothing until the character
 * completes (then the whole character comes out).
 */
export class Utf8StreamDecoder {
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  /** Text completed by these bytes (possibly empty). */
  push(bytes: Uint8Array): string {
    return this.decoder.decode(bytes, { stream: true });
  }

  /** Ends the stream; an unfinished character becomes U+FFFD. */
  flush(): string {
    return this.decoder.decode();
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
