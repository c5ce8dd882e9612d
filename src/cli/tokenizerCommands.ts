/**
 * `subword tokenizers`, `subword count`, `subword tokenize`: the tokenizer
 * registry from a terminal. Input is read as bytes, so files that are not
 * valid UTF-8 are tokenized as the bytes they are (see encodeBytes).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLED_MODEL_NAME } from '../engine/models';
import { TokenizerRegistry } from '../engine/tokenizers/registry';
import type { BpeTokenizer } from '../engine/tokenizers/bpe';
import { parseFlags } from './args';
import type { CliIo, Subcommand } from './subcommands';

/** The registry as the CLI sees it: compact files in dist/, the bundled model's tokenizer.json. */
export function cliRegistry(packageRoot: string): TokenizerRegistry {
  return new TokenizerRegistry({
    dataDir: join(packageRoot, 'dist', 'tokenizers'),
    modelTokenizerFile: join(packageRoot, 'models', BUNDLED_MODEL_NAME, 'tokenizer.json'),
    nodeModules: join(packageRoot, 'node_modules'),
  });
}

interface Parsed {
  tokenizer: string;
  json: boolean;
  file: string | undefined;
  help: boolean;
}

const SWITCHES = new Set(['help', 'json']);
const OPTIONS = { known: new Set(['tokenizer']), aliases: { t: 'tokenizer' }, positionals: true, missingValue: () => '--tokenizer needs an id' };

/** The options of the three commands; a string is the error to print (with the usage) before exiting 2. */
function parseArgs(args: readonly string[], usage: string): Parsed | string {
  try {
    const { flags, switches, positionals } = parseFlags(args, SWITCHES, OPTIONS);
    if (positionals.length > 1) return `only one FILE may be given\n\n${usage}`;
    return { tokenizer: flags.get('tokenizer') ?? 'model', json: switches.has('json'), file: positionals[0], help: switches.has('help') };
  } catch (err) {
    return `${(err as Error).message}\n\n${usage}`;
  }
}

/** A command's run(): its options parsed, the usage for --help, exit 2 with the usage on a bad option. */
function withOptions(usage: string, body: (p: Parsed, io: CliIo) => Promise<number>): Subcommand['run'] {
  return async (args, io) => {
    const p = parseArgs(args, usage);
    if (typeof p === 'string') return (io.stderr(p), 2);
    if (p.help) return (io.stdout(usage), 0);
    return body(p, io);
  };
}

async function readInput(file: string | undefined, io: CliIo): Promise<Uint8Array> {
  if (file === undefined || file === '-') return new Uint8Array(await io.readStdin());
  try {
    return new Uint8Array(readFileSync(file));
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
}

async function getTokenizer(io: CliIo, id: string): Promise<BpeTokenizer> {
  const reg = cliRegistry(io.packageRoot);
  if (id === 'model' && !existsSync(join(io.packageRoot, 'models', BUNDLED_MODEL_NAME, 'tokenizer.json'))) {
    throw new Error(`the bundled model's tokenizer (models/${BUNDLED_MODEL_NAME}/tokenizer.json) is missing; pass --tokenizer ID (see \`subword tokenizers\`)`);
  }
  return reg.get(id);
}

const TOKENIZERS_USAGE = `Usage: subword tokenizers [--json]

Lists the tokenizers --tokenizer accepts (a path to a tokenizer.json works too).
`;

const COUNT_USAGE = `Usage: subword count [--tokenizer ID] [--json] [FILE|-]

Counts the tokens of FILE (or standard input). Default tokenizer: model.
--json prints {"tokenizer", "tokens", "bytes", "chars"} (chars: Unicode code points).
`;

const TOKENIZE_USAGE = `Usage: subword tokenize [--tokenizer ID] [--json] [FILE|-]

Prints each token of FILE (or standard input): byte offset, id and text
(JSON-escaped; bytes that are not whole UTF-8 characters as \\xNN).
`;

/** Token text for display: JSON-escaped, with bytes of partial characters as \xNN. */
function showToken(bytes: Uint8Array): string {
  try {
    return JSON.stringify(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch {
    return `"${[...bytes].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('')}"`;
  }
}

export const tokenizerCommands: Subcommand[] = [
  {
    name: 'tokenizers',
    summary: 'List the tokenizers (id, vocabulary size, source, exact or approximate)',
    run: withOptions(TOKENIZERS_USAGE, async (p, io) => {
      const reg = cliRegistry(io.packageRoot);
      // The model's tokenizer.json is small: load it so its vocabulary size is known.
      if (reg.has('model')) await reg.get('model').catch(() => undefined);
      const list = reg.list().filter((t) => t.id !== 'model' || existsSync(t.source));
      if (p.json) {
        io.stdout(`${JSON.stringify(list, null, 2)}\n`);
        return 0;
      }
      const rows = list.map((t) => [t.id, t.vocabSize ? String(t.vocabSize) : '?', t.exact ? 'exact' : 'approximate', t.displayName, t.source]);
      const head = ['id', 'vocab', 'counts', 'name', 'source'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const r of [head, ...rows]) io.stdout(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`);
      return 0;
    }),
  },
  {
    name: 'count',
    summary: 'Count the tokens of a file or standard input',
    run: withOptions(COUNT_USAGE, async (p, io) => {
      const tok = await getTokenizer(io, p.tokenizer);
      const bytes = await readInput(p.file, io);
      const tokens = tok.encodeBytes(bytes).length;
      const chars = [...new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)].length;
      if (p.json) io.stdout(`${JSON.stringify({ tokenizer: p.tokenizer, tokens, bytes: bytes.length, chars })}\n`);
      else io.stdout(`${tokens}\n`);
      return 0;
    }),
  },
  {
    name: 'tokenize',
    summary: 'Print the tokens of a file or standard input with ids and byte offsets',
    run: withOptions(TOKENIZE_USAGE, async (p, io) => {
      const tok = await getTokenizer(io, p.tokenizer);
      const bytes = await readInput(p.file, io);
      const ids = tok.encodeBytes(bytes);
      let offset = 0;
      const out: string[] = [];
      const json: Array<{ id: number; offset: number; length: number; text: string }> = [];
      for (const id of ids) {
        const b = tok.tokenBytes(id);
        if (p.json) json.push({ id, offset, length: b.length, text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(b) });
        else out.push(`${offset}\t${id}\t${showToken(b)}\n`);
        offset += b.length;
      }
      io.stdout(p.json ? `${JSON.stringify(json)}\n` : out.join(''));
      return 0;
    }),
  },
];
