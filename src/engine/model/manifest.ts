/**
 * The model folder: what a folder must hold, how its manifest (subword.json)
 * is read, and the checks that run before onnxruntime ever sees the files.
 * Every problem names the file and what is wrong with it, so a user with a
 * broken folder reads one clear message instead of an onnxruntime stack.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Subword's manifest, read tolerantly (snake_case or camelCase keys). */
export interface ModelManifest {
  readonly name?: string;
  /** FIM format id (see src/engine/fim/formats.ts), e.g. "subword-spm". */
  readonly fimFormat?: string;
  readonly contextLength?: number;
  /** Role -> token text, e.g. { fim_prefix: "<|fim_prefix|>" }. */
  readonly specialTokens: Readonly<Record<string, string>>;
  readonly inputNames?: readonly string[];
  readonly outputNames?: readonly string[];
  readonly nLayer?: number;
  readonly nHead?: number;
  readonly nKvHead?: number;
  readonly headDim?: number;
  readonly vocabSize?: number;
  /** File name (relative to the folder) -> expected sha256 (hex) and size. */
  readonly files: Readonly<Record<string, { sha256?: string; bytes?: number }>>;
  /** File names of the ONNX model and the tokenizer, if the manifest names them. */
  readonly modelFile?: string;
  readonly tokenizerFile?: string;
}

/** A problem with a model folder; `file` is the path the user should look at. */
export class ModelFolderError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'ModelFolderError';
  }
}

/** Where the files of a model folder are, after the presence checks. */
export interface ModelFolder {
  readonly dir: string;
  readonly modelPath: string;
  readonly tokenizerPath: string;
  readonly manifestPath?: string;
  readonly manifest?: ModelManifest;
  /** transformers' config.json (Optimum exports carry it), if present. */
  readonly hfConfig?: Readonly<Record<string, unknown>>;
}

/** Places an Optimum / transformers.js export puts the decoder, best first. */
const MODEL_CANDIDATES = [
  'model.onnx',
  'decoder_model_merged.onnx',
  'decoder_with_past_model.onnx',
  'onnx/model.onnx',
  'onnx/decoder_model_merged.onnx',
  'onnx/decoder_with_past_model.onnx',
];

/** Smallest believable ONNX file; anything shorter is a truncated download. */
const MIN_ONNX_BYTES = 1024;

function pick(obj: Record<string, unknown>, ...keys: string[]): unknown {
  for (const k of keys) if (obj[k] !== undefined) return obj[k];
  return undefined;
}

function asNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function asStringArray(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

/** Parses a manifest object; throws ModelFolderError on a structurally wrong one. */
export function parseManifest(raw: unknown, file = 'subword.json'): ModelManifest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ModelFolderError(file, 'is not a JSON object');
  const o = raw as Record<string, unknown>;
  const fim = pick(o, 'fim_format', 'fimFormat', 'fim');
  const fimFormat = typeof fim === 'string' ? fim : typeof fim === 'object' && fim !== null ? (pick(fim as Record<string, unknown>, 'format', 'name', 'id') as string | undefined) : undefined;
  const specialsRaw = pick(o, 'special_tokens', 'specialTokens');
  const specialTokens: Record<string, string> = {};
  if (specialsRaw !== undefined) {
    if (Array.isArray(specialsRaw)) {
      for (const s of specialsRaw) if (typeof s === 'string') specialTokens[s] = s;
    } else if (typeof specialsRaw === 'object' && specialsRaw !== null) {
      for (const [k, v] of Object.entries(specialsRaw)) {
        if (typeof v === 'string') specialTokens[k] = v;
        else if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') specialTokens[k] = (v as { content: string }).content;
      }
    } else throw new ModelFolderError(file, '"special_tokens" must be an object or a list');
  }
  const io = pick(o, 'io', 'io_names', 'ioNames') as Record<string, unknown> | undefined;
  // Names as a list, or as an object of name -> shape where per-layer names
  // are templated ("past_key_values.{i}.key") and listed separately.
  const names = (v: unknown, perLayer: unknown): string[] | undefined => {
    const list = asStringArray(v);
    if (list) return list;
    if (typeof v !== 'object' || v === null) return undefined;
    const fixed = Object.keys(v).filter((k) => !k.includes('{'));
    return [...fixed, ...(asStringArray(perLayer) ?? [])];
  };
  const inputNames = io ? names(pick(io, 'inputs', 'input_names', 'inputNames'), pick(io, 'past_key_values_names', 'pastNames')) : asStringArray(pick(o, 'input_names', 'inputNames'));
  const outputNames = io ? names(pick(io, 'outputs', 'output_names', 'outputNames'), pick(io, 'present_names', 'presentNames')) : asStringArray(pick(o, 'output_names', 'outputNames'));
  const arch = (pick(o, 'architecture', 'model', 'config') ?? {}) as Record<string, unknown>;
  const num = (...keys: string[]) => asNumber(pick(o, ...keys)) ?? (typeof arch === 'object' ? asNumber(pick(arch, ...keys)) : undefined);
  const files: Record<string, { sha256?: string; bytes?: number }> = {};
  const filesRaw = pick(o, 'files', 'sha256');
  if (filesRaw !== undefined) {
    if (typeof filesRaw !== 'object' || filesRaw === null) throw new ModelFolderError(file, '"files" must be an object');
    const entries = Array.isArray(filesRaw)
      ? filesRaw.map((e: unknown) => [String((e as Record<string, unknown>)?.name ?? (e as Record<string, unknown>)?.path ?? ''), e] as const)
      : Object.entries(filesRaw);
    for (const [name, v] of entries) {
      if (!name) continue;
      if (typeof v === 'string') files[name] = { sha256: v.toLowerCase() };
      else if (typeof v === 'object' && v !== null) {
        const e = v as Record<string, unknown>;
        const sha = pick(e, 'sha256', 'hash');
        files[name] = { sha256: typeof sha === 'string' ? sha.toLowerCase() : undefined, bytes: asNumber(pick(e, 'bytes', 'size')) };
      }
    }
  }
  const modelFile = pick(o, 'model_file', 'modelFile', 'onnx');
  const tokenizerFile = pick(o, 'tokenizer_file', 'tokenizerFile');
  return {
    name: typeof o.name === 'string' ? o.name : undefined,
    fimFormat,
    contextLength: num('context_length', 'contextLength', 'n_ctx', 'max_position_embeddings', 'context'),
    specialTokens,
    inputNames,
    outputNames,
    nLayer: num('n_layer', 'nLayer', 'num_layers', 'num_hidden_layers', 'layers'),
    nHead: num('n_head', 'nHead', 'num_heads', 'num_attention_heads', 'heads'),
    nKvHead: num('n_kv_head', 'nKvHead', 'num_kv_heads', 'num_key_value_heads', 'kv_heads'),
    vocabSize: num('vocab_size', 'vocabSize'),
    headDim: num('head_dim', 'headDim'),
    files,
    modelFile: typeof modelFile === 'string' ? modelFile : undefined,
    tokenizerFile: typeof tokenizerFile === 'string' ? tokenizerFile : undefined,
  };
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ModelFolderError(path, `cannot be read (${(err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ModelFolderError(path, `is not valid JSON (${(err as Error).message}); truncated?`);
  }
}

/**
 * Finds and checks the files of a model folder: presence, sizes, the manifest
 * parses. Cheap (no hashing); `verifyChecksums` does the sha256 part.
 */
export function locateModelFolder(dir: string): ModelFolder {
  if (!dir) throw new ModelFolderError('(model folder)', 'no folder given');
  if (!existsSync(dir)) throw new ModelFolderError(dir, 'model folder does not exist');
  if (!statSync(dir).isDirectory()) throw new ModelFolderError(dir, 'is not a folder (expected a folder with model.onnx and tokenizer.json)');
  const manifestPath = join(dir, 'subword.json');
  const manifest = existsSync(manifestPath) ? parseManifest(readJson(manifestPath), manifestPath) : undefined;
  const configPath = join(dir, 'config.json');
  const hfConfigRaw = existsSync(configPath) ? readJson(configPath) : undefined;
  const hfConfig = typeof hfConfigRaw === 'object' && hfConfigRaw !== null ? (hfConfigRaw as Record<string, unknown>) : undefined;

  const candidates = manifest?.modelFile ? [manifest.modelFile] : MODEL_CANDIDATES;
  const modelRel = candidates.find((c) => existsSync(join(dir, c)));
  if (!modelRel) throw new ModelFolderError(join(dir, candidates[0]!), `missing (looked for ${candidates.join(', ')})`);
  const modelPath = join(dir, modelRel);
  const size = statSync(modelPath).size;
  if (size < MIN_ONNX_BYTES) throw new ModelFolderError(modelPath, `only ${size} bytes; truncated or not an ONNX model`);
  const expected = manifest?.files[modelRel]?.bytes;
  if (expected !== undefined && expected !== size) throw new ModelFolderError(modelPath, `is ${size} bytes but subword.json says ${expected}; truncated or replaced`);

  const tokRel = manifest?.tokenizerFile ?? 'tokenizer.json';
  const tokenizerPath = join(dir, tokRel);
  if (!existsSync(tokenizerPath)) throw new ModelFolderError(tokenizerPath, 'missing (the model folder needs the tokenizer.json the model was trained with)');
  const tokExpected = manifest?.files[tokRel]?.bytes;
  const tokSize = statSync(tokenizerPath).size;
  if (tokExpected !== undefined && tokExpected !== tokSize) throw new ModelFolderError(tokenizerPath, `is ${tokSize} bytes but subword.json says ${tokExpected}; truncated or replaced`);
  return { dir, modelPath, tokenizerPath, manifestPath: manifest ? manifestPath : undefined, manifest, hfConfig };
}

/** sha256 (hex) of a file, streamed so a 60 MB model does not sit in memory twice. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Checks every sha256 the manifest lists; throws on the first mismatch or missing file. */
export async function verifyChecksums(folder: ModelFolder): Promise<void> {
  const files = folder.manifest?.files ?? {};
  for (const [name, { sha256 }] of Object.entries(files)) {
    if (!sha256) continue;
    const path = join(folder.dir, name);
    if (!existsSync(path)) throw new ModelFolderError(path, 'listed in subword.json but missing');
    const actual = await sha256File(path);
    if (actual !== sha256) throw new ModelFolderError(path, `sha256 mismatch (expected ${sha256.slice(0, 12)}…, found ${actual.slice(0, 12)}…); the file is corrupt or was replaced`);
  }
}

/** Context length from the manifest, else transformers' config.json, else undefined. */
export function declaredContextLength(folder: ModelFolder): number | undefined {
  if (folder.manifest?.contextLength) return folder.manifest.contextLength;
  const c = folder.hfConfig;
  if (!c) return undefined;
  for (const k of ['max_position_embeddings', 'n_positions', 'n_ctx', 'seq_length']) {
    const v = asNumber(c[k]);
    if (v && v > 0) return v;
  }
  return undefined;
}
