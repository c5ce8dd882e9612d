/**
 * The single source of truth for Subword's settings.
 *
 * This file deliberately does not import `vscode`: the schema, defaults and
 * validation are plain data and functions so that unit tests can check them
 * in plain Node, and so that a test can prove package.json's
 * `contributes.configuration` says exactly the same thing.
 */

import { MAX_JOIN_WAIT_BYTES, PLAIN_JOIN_LOOKAHEAD_BYTES } from '../engine/completion/joinWait';
import { BUNDLED_MODEL_NAME, BUNDLED_MODELS, type BundledModelName } from '../engine/models';

export type SettingType = 'boolean' | 'integer' | 'number' | 'string' | 'object' | 'array';

export interface SettingSpec {
  readonly type: SettingType;
  readonly default: unknown;
  readonly description: string;
  readonly enum?: readonly string[];
  readonly enumDescriptions?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  /** 'machine-overridable' etc.; omitted means VS Code's default ('window'). */
  readonly scope?: 'application' | 'machine' | 'machine-overridable' | 'window' | 'resource' | 'language-overridable';
}

export interface SettingSection {
  readonly title: string;
  readonly settings: Readonly<Record<string, SettingSpec>>;
}

/** Sections, keyed by their prefix; setting keys are full ids (`subword.x.y`). */
export const SETTING_SECTIONS = {
  model: {
    title: 'Model',
    settings: {
      'subword.model.path': {
        type: 'string',
        default: '',
        description:
          'Folder of an ONNX model to complete with (model.onnx, tokenizer.json and optionally subword.json). Empty uses the bundled model. Ignored at workspace level in untrusted workspaces.',
        scope: 'machine-overridable',
      },
      'subword.model.bundled': {
        type: 'string',
        default: BUNDLED_MODEL_NAME,
        enum: [...BUNDLED_MODELS],
        enumDescriptions: [
          'Default: 6 layers, 6.8M parameters; about 2.5x faster than subword-code-small at nearly the same held-out quality.',
          '8 layers, 17.3M parameters; slightly better on held-out code, about 2.5x slower per completion.',
        ],
        description: 'Which bundled model completes when subword.model.path is empty (both share one tokenizer).',
      },
      'subword.model.threads': {
        type: 'integer',
        default: 1,
        minimum: 1,
        maximum: 16,
        description:
          'onnxruntime intra-op threads for the model. One thread measured fastest on a 2-core laptop, leaving the other core to the editor.',
      },
      'subword.model.contextWindow': {
        type: 'integer',
        default: 512,
        minimum: 64,
        maximum: 32768,
        description:
          "Tokens of context the model sees per completion (text around the cursor plus the completion), at most the model's own context. Latency grows faster than the window; 512 measured the best trade on a 2-core laptop.",
      },
    },
  },
  completion: {
    title: 'Completion',
    settings: {
      'subword.completion.enabled': {
        type: 'boolean',
        default: true,
        description: 'Show inline (ghost text) completions from the local model.',
      },
      'subword.completion.languages': {
        type: 'object',
        default: { '*': true, plaintext: false, markdown: false },
        description:
          'Per-language switch for inline completions, keyed by language id; "*" is the fallback for languages not listed.',
      },
      'subword.completion.boundary': {
        type: 'string',
        // exact, by measurement (README, "three boundary modes"): with the join
        // rule it has 1.7x heal's exact matches on 600 clean held-out holes
        // (48 vs 28; 25 vs 22 through the editor's stop rules) and the fewest
        // bits per byte, at 1.4x heal's time on a cold prompt, within the
        // latency targets (p50 36 ms, p95 63 ms on a 2-core CPU).
        default: 'exact',
        enum: ['naive', 'heal', 'exact'],
        enumDescriptions: [
          'Encode the text before the cursor as it is (fast, biased when the cursor is inside a token).',
          'Token healing: back up over the last partial word and constrain the completion to start with it.',
          'Exact byte-level probabilities over every tokenization of the partial word (Phan et al., ICLR 2025).',
        ],
        description: 'How the completion treats a cursor that sits inside a token.',
      },
      'subword.completion.maxTokens': {
        type: 'integer',
        default: 64,
        minimum: 1,
        maximum: 1024,
        description: 'Most tokens generated for one completion.',
      },
      'subword.completion.maxLines': {
        type: 'integer',
        default: 4,
        minimum: 1,
        maximum: 200,
        description: 'Most lines in one completion.',
      },
      'subword.completion.joinWait': {
        type: 'integer',
        default: PLAIN_JOIN_LOOKAHEAD_BYTES,
        minimum: 0,
        maximum: MAX_JOIN_WAIT_BYTES,
        description:
          'How many bytes a completion may run past a syntax stop (the end of a word, a closing bracket) looking for the code after the cursor: where it runs into that code it is inserted whole, else it is cut at the stop. 0 stops at once (fastest); measured in exact mode on 600 held-out holes, 0 / 16 / 32 bytes gave 23 / 28 / 33 exact matches at a median of 32 / 40 / 44 ms.',
      },
      'subword.completion.debounceMs': {
        type: 'integer',
        default: 60,
        minimum: 0,
        maximum: 2000,
        description: 'Base delay after a keystroke before a completion is requested; adapts to typing speed.',
      },
      'subword.completion.temperature': {
        type: 'number',
        default: 0,
        minimum: 0,
        maximum: 2,
        description: 'Sampling temperature; 0 is greedy decoding.',
      },
      'subword.completion.topP': {
        type: 'number',
        default: 1,
        minimum: 0,
        maximum: 1,
        description: 'Nucleus sampling threshold used when temperature is above 0.',
      },
      'subword.completion.ensemble': {
        type: 'string',
        default: 'off',
        enum: ['off', 'cache', 'models'],
        enumDescriptions: [
          'The neural model alone.',
          'Mix the model with a byte-level cache model of the workspace.',
          'Mix two models byte by byte (any tokenizers): the bundled model with the model in subword.model.path, or both bundled models when the path is empty.',
        ],
        description:
          'Combine the model with other byte-level predictors, mixed exactly at the byte level (exact byte-level probabilities, whatever subword.completion.boundary says).',
      },
      'subword.completion.ensembleCacheMB': {
        type: 'integer',
        default: 32,
        minimum: 1,
        maximum: 1024,
        description: 'Memory of the workspace cache model used by subword.completion.ensemble "cache", in MB (fixed when the model starts; a full cache forgets its rarest statistics).',
      },
    },
  },
  tokens: {
    title: 'Tokens',
    settings: {
      'subword.tokens.tokenizer': {
        type: 'string',
        default: 'model',
        description:
          'Tokenizer used for counts, overlays and the hover: "model" is the completion model\'s own tokenizer; see "Subword: Switch Tokenizer" for the others.',
      },
      'subword.tokens.overlays': {
        type: 'string',
        default: 'lines',
        enum: ['off', 'lines', 'blocks', 'both'],
        enumDescriptions: [
          'No token-count overlays.',
          'A token count at the end of each line.',
          'A token total above each function, class or block.',
          'Both line and block counts.',
        ],
        description: 'Token-count overlays in the editor.',
      },
      'subword.tokens.coloredTokens': {
        type: 'boolean',
        default: false,
        description: 'Paint token boundaries in the editor with alternating background colours.',
      },
      'subword.tokens.maxFileSizeKB': {
        type: 'integer',
        default: 1024,
        minimum: 1,
        maximum: 1048576,
        description: 'Above this file size, only the file total is shown (no per-line overlays or colours).',
      },
      'subword.tokens.compareWith': {
        type: 'array',
        default: ['o200k_base', 'cl100k_base', 'llama3', 'qwen3'],
        description: 'Tokenizers listed in the hover\'s and the count command\'s comparison tables.',
      },
    },
  },
} as const satisfies Record<string, SettingSection>;

type AllSettings = (typeof SETTING_SECTIONS)[keyof typeof SETTING_SECTIONS]['settings'];
type KeysOfEach<T> = T extends unknown ? keyof T : never;
type SettingKeys = KeysOfEach<AllSettings>;

/** Every setting id, e.g. `subword.completion.boundary`. */
export type SettingId = SettingKeys & string;

export type Boundary = 'naive' | 'heal' | 'exact';
export type EnsembleMode = 'off' | 'cache' | 'models';
export type OverlayMode = 'off' | 'lines' | 'blocks' | 'both';

/** The typed view of all settings, after validation. */
export interface SubwordConfig {
  readonly model: { readonly path: string; readonly bundled: BundledModelName; readonly threads: number; readonly contextWindow: number };
  readonly completion: {
    readonly enabled: boolean;
    readonly languages: Readonly<Record<string, boolean>>;
    readonly boundary: Boundary;
    readonly maxTokens: number;
    readonly maxLines: number;
    readonly joinWait: number;
    readonly debounceMs: number;
    readonly temperature: number;
    readonly topP: number;
    readonly ensemble: EnsembleMode;
    readonly ensembleCacheMB: number;
  };
  readonly tokens: {
    readonly tokenizer: string;
    readonly overlays: OverlayMode;
    readonly coloredTokens: boolean;
    readonly maxFileSizeKB: number;
    readonly compareWith: readonly string[];
  };
}

export function allSettingSpecs(): Array<[string, SettingSpec]> {
  const out: Array<[string, SettingSpec]> = [];
  for (const section of Object.values(SETTING_SECTIONS) as SettingSection[]) {
    for (const [id, spec] of Object.entries(section.settings)) out.push([id, spec]);
  }
  return out;
}

/** Why a raw value was rejected, or undefined when it is acceptable. */
export function checkSettingValue(spec: SettingSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'expected true or false';
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'expected a number';
      if (spec.type === 'integer' && !Number.isInteger(value)) return 'expected a whole number';
      if (spec.minimum !== undefined && value < spec.minimum) return `must be at least ${spec.minimum}`;
      if (spec.maximum !== undefined && value > spec.maximum) return `must be at most ${spec.maximum}`;
      return undefined;
    }
    case 'string':
      if (typeof value !== 'string') return 'expected a string';
      if (spec.enum && !spec.enum.includes(value)) return `must be one of ${spec.enum.map((e) => JSON.stringify(e)).join(', ')}`;
      return undefined;
    case 'array':
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? undefined : 'expected a list of strings';
    case 'object':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected an object';
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'boolean') return `value of ${JSON.stringify(k)} must be true or false`;
      }
      return undefined;
  }
}

export interface SettingProblem {
  readonly id: string;
  readonly value: unknown;
  readonly reason: string;
}

/**
 * Builds the typed config from a raw getter. Invalid values fall back to the
 * default and are returned as problems so the caller can report each once.
 */
export function readSettings(get: (id: string) => unknown): { config: SubwordConfig; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const values = new Map<string, unknown>();
  for (const [id, spec] of allSettingSpecs()) {
    const raw = get(id);
    if (raw === undefined || raw === null) {
      values.set(id, spec.default);
      continue;
    }
    const reason = checkSettingValue(spec, raw);
    if (reason) {
      problems.push({ id, value: raw, reason });
      values.set(id, spec.default);
    } else {
      values.set(id, raw);
    }
  }
  const v = <T>(id: SettingId): T => values.get(id) as T;
  const config: SubwordConfig = {
    model: { path: v('subword.model.path'), bundled: v('subword.model.bundled'), threads: v('subword.model.threads'), contextWindow: v('subword.model.contextWindow') },
    completion: {
      enabled: v('subword.completion.enabled'),
      languages: v('subword.completion.languages'),
      boundary: v('subword.completion.boundary'),
      maxTokens: v('subword.completion.maxTokens'),
      maxLines: v('subword.completion.maxLines'),
      joinWait: v('subword.completion.joinWait'),
      debounceMs: v('subword.completion.debounceMs'),
      temperature: v('subword.completion.temperature'),
      topP: v('subword.completion.topP'),
      ensemble: v('subword.completion.ensemble'),
      ensembleCacheMB: v('subword.completion.ensembleCacheMB'),
    },
    tokens: {
      tokenizer: v('subword.tokens.tokenizer'),
      overlays: v('subword.tokens.overlays'),
      coloredTokens: v('subword.tokens.coloredTokens'),
      maxFileSizeKB: v('subword.tokens.maxFileSizeKB'),
      compareWith: v('subword.tokens.compareWith'),
    },
  };
  return { config, problems };
}

/** Whether inline completion is on for a language id under this config. */
export function completionEnabledFor(config: SubwordConfig, languageId: string): boolean {
  if (!config.completion.enabled) return false;
  const langs = config.completion.languages;
  if (Object.prototype.hasOwnProperty.call(langs, languageId)) return langs[languageId] === true;
  return langs['*'] !== false;
}
