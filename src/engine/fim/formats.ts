/**
 * Fill-in-the-middle prompt formats, as data. A format says which special
 * tokens frame the prefix, the suffix and the middle, in which order, and
 * which tokens end the middle; the prompt builder (prompt.ts) is one code
 * path for all of them.
 */
import type { Tokenizer } from '../tokenizers/types';
import type { Logger } from '../log';

export type FimFormatId =
  | 'subword-spm'
  | 'starcoder'
  | 'starcoder2'
  | 'qwen2.5-coder'
  | 'codellama-psm'
  | 'codellama-spm'
  | 'deepseek-coder'
  | 'codegemma'
  | 'plain';

/** One piece of a prompt template. */
export type FimPiece =
  | { readonly kind: 'token'; readonly text: readonly string[] } // a special token (alternative spellings)
  | { readonly kind: 'prefix' }
  | { readonly kind: 'suffix' }
  | { readonly kind: 'header' }; // file path header, when the format has one

export interface FimFormat {
  readonly id: FimFormatId;
  readonly description: string;
  /**
   * Pieces before the text stream the model continues. In a joint format
   * (suffix first) the prefix is NOT here: it is the start of the stream
   * that the middle continues, so the boundary strategies see the cursor.
   */
  readonly head: readonly FimPiece[];
  /** True when prefix and middle form one token stream (SPM / suffix first). */
  readonly joint: boolean;
  /** Special tokens that end the middle (alternative spellings; missing ones are skipped). */
  readonly stop: readonly string[];
  /** Tokens a tokenizer must have for this format to be detected (all of them). */
  readonly signature: readonly string[];
  /** A header template for the file path ({path}); the format's own convention. */
  readonly header?: { readonly token?: readonly string[]; readonly template: string };
  /** Prepended token (beginning of sentence), if the family expects one. */
  readonly bos?: readonly string[];
}

const tok = (...text: string[]): FimPiece => ({ kind: 'token', text });
const PREFIX: FimPiece = { kind: 'prefix' };
const SUFFIX: FimPiece = { kind: 'suffix' };
const HEADER: FimPiece = { kind: 'header' };

/** CodeLlama's FIM markers carry a sentencepiece space in tokenizer.json. */
const CL = (name: string) => [`\u2581<${name}>`, `<${name}>`];

export const FIM_FORMATS: Readonly<Record<FimFormatId, FimFormat>> = {
  'subword-spm': {
    id: 'subword-spm',
    description: "Subword's own: <|fim_prefix|><|fim_suffix|> suffix <|fim_middle|> prefix+middle <|fim_end|>",
    head: [tok('<|fim_prefix|>'), tok('<|fim_suffix|>'), SUFFIX, tok('<|fim_middle|>')],
    joint: true,
    stop: ['<|fim_end|>', '<|endoftext|>', '<|file_sep|>'],
    signature: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|fim_end|>'],
  },
  starcoder: {
    id: 'starcoder',
    description: 'StarCoder: <fim_prefix> prefix <fim_suffix> suffix <fim_middle> middle',
    head: [HEADER, tok('<fim_prefix>'), PREFIX, tok('<fim_suffix>'), SUFFIX, tok('<fim_middle>')],
    joint: false,
    stop: ['<|endoftext|>', '<file_sep>', '<fim_pad>'],
    signature: ['<fim_prefix>', '<fim_suffix>', '<fim_middle>'],
    header: { token: ['<filename>'], template: '{path}\n' },
  },
  starcoder2: {
    id: 'starcoder2',
    description: 'StarCoder2: <file_sep>path, then <fim_prefix> prefix <fim_suffix> suffix <fim_middle> middle',
    head: [HEADER, tok('<fim_prefix>'), PREFIX, tok('<fim_suffix>'), SUFFIX, tok('<fim_middle>')],
    joint: false,
    stop: ['<|endoftext|>', '<file_sep>', '<fim_pad>'],
    signature: ['<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<file_sep>'],
    header: { token: ['<file_sep>'], template: '{path}\n' },
  },
  'qwen2.5-coder': {
    id: 'qwen2.5-coder',
    description: 'Qwen2.5-Coder: <|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|> middle',
    head: [tok('<|fim_prefix|>'), PREFIX, tok('<|fim_suffix|>'), SUFFIX, tok('<|fim_middle|>')],
    joint: false,
    stop: ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|repo_name|>', '<|im_end|>', '<|fim_prefix|>'],
    signature: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|fim_pad|>'],
  },
  'codellama-psm': {
    id: 'codellama-psm',
    description: 'CodeLlama PSM: <s> <PRE> prefix <SUF> suffix <MID> middle <EOT>',
    head: [tok(...CL('PRE')), PREFIX, tok(...CL('SUF')), SUFFIX, tok(...CL('MID'))],
    joint: false,
    stop: [...CL('EOT'), '</s>'],
    signature: ['<PRE>', '<SUF>', '<MID>'],
    bos: ['<s>'],
  },
  'codellama-spm': {
    id: 'codellama-spm',
    description: 'CodeLlama SPM: <s> <PRE> <SUF> suffix <MID> prefix+middle <EOT>',
    head: [tok(...CL('PRE')), tok(...CL('SUF')), SUFFIX, tok(...CL('MID'))],
    joint: true,
    stop: [...CL('EOT'), '</s>'],
    signature: ['<PRE>', '<SUF>', '<MID>'],
    bos: ['<s>'],
  },
  'deepseek-coder': {
    id: 'deepseek-coder',
    description: 'DeepSeek-Coder: <｜fim▁begin｜> prefix <｜fim▁hole｜> suffix <｜fim▁end｜> middle',
    head: [tok('<\uff5cfim\u2581begin\uff5c>'), PREFIX, tok('<\uff5cfim\u2581hole\uff5c>'), SUFFIX, tok('<\uff5cfim\u2581end\uff5c>')],
    joint: false,
    stop: ['<|EOT|>', '<\uff5cend\u2581of\u2581sentence\uff5c>'],
    signature: ['<\uff5cfim\u2581begin\uff5c>', '<\uff5cfim\u2581hole\uff5c>', '<\uff5cfim\u2581end\uff5c>'],
    bos: ['<\uff5cbegin\u2581of\u2581sentence\uff5c>'],
  },
  codegemma: {
    id: 'codegemma',
    description: 'CodeGemma: <|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|> middle <|file_separator|>',
    head: [tok('<|fim_prefix|>'), PREFIX, tok('<|fim_suffix|>'), SUFFIX, tok('<|fim_middle|>')],
    joint: false,
    stop: ['<|file_separator|>', '<eos>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'],
    signature: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|file_separator|>'],
    bos: ['<bos>'],
  },
  plain: {
    id: 'plain',
    description: 'No FIM tokens: left-to-right continuation of the prefix (the suffix is ignored)',
    head: [],
    joint: true,
    stop: ['<|endoftext|>', '</s>', '<eos>', '<\uff5cend\u2581of\u2581sentence\uff5c>'],
    signature: [],
  },
};

/**
 * Order of detection: the most specific signature first (several families
 * share <|fim_prefix|>; the extra tokens tell them apart).
 */
const DETECTION_ORDER: readonly FimFormatId[] = [
  'deepseek-coder',
  'starcoder2',
  'starcoder',
  'codegemma',
  'qwen2.5-coder',
  'subword-spm',
  'codellama-psm',
];

/** Looks up a special token by any of its spellings. */
export function findSpecial(tokenizer: Tokenizer, spellings: readonly string[]): number | undefined {
  for (const s of spellings) {
    const id = tokenizer.specialTokenId(s);
    if (id !== undefined) return id;
  }
  // CodeLlama's markers are stored with a sentencepiece space.
  for (const s of spellings) {
    const id = tokenizer.specialTokenId(`\u2581${s}`);
    if (id !== undefined) return id;
  }
  return undefined;
}

/** Ids of a format's stop tokens that this tokenizer has. */
export function stopIds(format: FimFormat, tokenizer: Tokenizer): number[] {
  const ids = new Set<number>();
  for (const s of format.stop) {
    const id = findSpecial(tokenizer, [s]);
    if (id !== undefined) ids.add(id);
  }
  return [...ids];
}

/** The format whose signature tokens the tokenizer has, else 'plain'. */
export function detectFimFormat(tokenizer: Tokenizer): FimFormat {
  for (const id of DETECTION_ORDER) {
    const f = FIM_FORMATS[id];
    if (f.signature.every((s) => findSpecial(tokenizer, [s]) !== undefined)) return f;
  }
  return FIM_FORMATS.plain;
}

/** Accepts the ids above plus common spellings from manifests ("psm", "qwen"...). */
export function fimFormatById(name: string): FimFormat | undefined {
  const key = name.toLowerCase().replace(/_/g, '-');
  const aliases: Record<string, FimFormatId> = {
    subword: 'subword-spm',
    'subword-spm': 'subword-spm',
    spm: 'subword-spm',
    qwen: 'qwen2.5-coder',
    'qwen2.5': 'qwen2.5-coder',
    'qwen25-coder': 'qwen2.5-coder',
    codellama: 'codellama-psm',
    'code-llama': 'codellama-psm',
    deepseek: 'deepseek-coder',
    'deepseek-coder': 'deepseek-coder',
    gemma: 'codegemma',
    'code-gemma': 'codegemma',
    none: 'plain',
  };
  const id = (aliases[key] ?? key) as FimFormatId;
  return FIM_FORMATS[id];
}

/**
 * The manifest's format when it names one (checked against the tokenizer),
 * else detection from the tokenizer's special tokens; the choice is logged.
 */
export function chooseFimFormat(tokenizer: Tokenizer, manifestFormat: string | undefined, logger: Logger, source = 'model'): FimFormat {
  if (manifestFormat) {
    const f = fimFormatById(manifestFormat);
    if (!f) {
      logger.warn(`${source}: unknown FIM format ${JSON.stringify(manifestFormat)} in the manifest; detecting from special tokens instead`);
    } else {
      const missing = f.signature.filter((s) => findSpecial(tokenizer, [s]) === undefined);
      if (missing.length) throw new Error(`${source}: manifest says FIM format ${f.id} but tokenizer.json lacks ${missing.join(', ')}`);
      logger.info(`${source}: FIM format ${f.id} (from the manifest)`);
      return f;
    }
  }
  const f = detectFimFormat(tokenizer);
  if (f.id === 'plain') logger.warn(`${source}: no known FIM special tokens in tokenizer.json; completing left to right from the prefix only (suffix ignored)`);
  else logger.info(`${source}: FIM format ${f.id} (detected from the tokenizer's special tokens)`);
  return f;
}
