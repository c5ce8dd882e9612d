/**
 * Subword's compact tokenizer format (".swtok"): the BpeData typed arrays
 * written back to back after a small JSON header, so loading is one file read
 * plus typed-array views (no JSON parse of a 10 MB vocabulary, no base64).
 * Built at package time by tools/build-tokenizers.ts; also usable for user
 * files as a cache.
 *
 * Layout (little-endian): "SWTK" | u32 version | u32 header length | header
 * JSON | then per section (tokenOffsets i32, tokenKind u8, tokenBytes u8,
 * merges i32, sortedIds i32): u32 byte length, padding to 4, data.
 */
import type { BpeData } from './bpe';

const MAGIC = 0x4b545753; // "SWTK" read as little-endian u32
const VERSION = 1;

/** Registry metadata stored with the data. */
export interface CompactMeta {
  readonly displayName: string;
  readonly source: string;
  readonly exact: boolean;
}

interface Header extends CompactMeta {
  id: string;
  vocabSize: number;
  mergePriority: BpeData['mergePriority'];
  symbols: BpeData['symbols'];
  ignoreMerges: boolean;
  preTokenizer: BpeData['preTokenizer'];
  normalizer: BpeData['normalizer'];
  unkId: number;
}

export function writeCompact(data: BpeData, meta: CompactMeta, sortedIds: Int32Array): Uint8Array {
  const header: Header = {
    id: data.id,
    displayName: meta.displayName,
    source: meta.source,
    exact: meta.exact,
    vocabSize: data.vocabSize,
    mergePriority: data.mergePriority,
    symbols: data.symbols,
    ignoreMerges: data.ignoreMerges,
    preTokenizer: data.preTokenizer,
    normalizer: data.normalizer,
    unkId: data.unkId,
  };
  const hbytes = new TextEncoder().encode(JSON.stringify(header));
  const sections: Uint8Array[] = [data.tokenOffsets, data.tokenKind, data.tokenBytes, data.merges, sortedIds].map(
    (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
  );
  const pad = (n: number) => (4 - (n % 4)) % 4;
  let size = 12 + hbytes.length + pad(hbytes.length);
  for (const s of sections) size += 4 + s.length + pad(s.length);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, VERSION, true);
  dv.setUint32(8, hbytes.length, true);
  out.set(hbytes, 12);
  let p = 12 + hbytes.length + pad(hbytes.length);
  for (const s of sections) {
    dv.setUint32(p, s.length, true);
    p += 4;
    out.set(s, p);
    p += s.length + pad(s.length);
  }
  return out;
}

/** Reads the compact format; `file` names the source in errors. */
export function readCompact(buf: Uint8Array, file: string): { data: BpeData; meta: CompactMeta } {
  const fail = (why: string): never => {
    throw new Error(`${file}: ${why}`);
  };
  if (buf.byteOffset % 4 !== 0) buf = buf.slice();
  if (buf.length < 12) fail('too short for a compact tokenizer file');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) fail('not a compact tokenizer file (bad magic)');
  if (dv.getUint32(4, true) !== VERSION) fail(`compact tokenizer version ${dv.getUint32(4, true)} is not supported (expected ${VERSION})`);
  const hlen = dv.getUint32(8, true);
  if (12 + hlen > buf.length) fail('truncated header');
  let h: Header;
  try {
    h = JSON.parse(new TextDecoder().decode(buf.subarray(12, 12 + hlen))) as Header;
  } catch {
    return fail('corrupt header');
  }
  let p = 12 + hlen + ((4 - (hlen % 4)) % 4);
  const next = (): Uint8Array => {
    if (p + 4 > buf.length) fail('truncated');
    const len = dv.getUint32(p, true);
    p += 4;
    if (p + len > buf.length) fail('truncated section');
    const s = buf.subarray(p, p + len);
    p += len + ((4 - (len % 4)) % 4);
    return s;
  };
  const i32 = (s: Uint8Array) => new Int32Array(s.buffer, s.byteOffset, s.byteLength / 4);
  const tokenOffsets = i32(next());
  const tokenKind = next();
  const tokenBytes = next();
  const merges = i32(next());
  const sortedIds = i32(next());
  if (tokenOffsets.length !== h.vocabSize + 1 || tokenKind.length !== h.vocabSize) fail('section sizes do not match the vocabulary size');
  return {
    data: {
      id: h.id,
      vocabSize: h.vocabSize,
      tokenBytes,
      tokenOffsets,
      tokenKind,
      merges,
      mergePriority: h.mergePriority,
      symbols: h.symbols,
      ignoreMerges: h.ignoreMerges,
      preTokenizer: h.preTokenizer,
      normalizer: h.normalizer,
      unkId: h.unkId,
      sortedIds,
    },
    meta: { displayName: h.displayName, source: h.source, exact: h.exact },
  };
}
