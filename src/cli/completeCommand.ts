/**
 * `subword complete`: one completion from a terminal, through the same
 * engine the editor uses (in this process; the CLI has no UI thread to
 * protect).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BoundaryMode } from '../engine/boundary/types';
import { CompletionEngine } from '../engine/completion/engine';
import type { Logger } from '../engine/log';
import { BUNDLED_MODEL_NAME } from '../engine/models';
import { parseFlags, type ParsedArgs } from './args';
import { languageForPath } from './languages';
import type { CliIo, Subcommand } from './subcommands';

const HELP = `Usage:
  subword complete --file F --line L --column C [options]
  subword complete --prefix-file P [--suffix-file S] [options]

Completes at a position of a file (line and column are 1-based; the column
counts UTF-16 code units, as editors do) or between a prefix and a suffix
read from files ("-" reads standard input).

Options:
  --boundary naive|heal|exact   how a cursor inside a token is handled (default exact, as the extension's setting)
  --model DIR                   model folder (default: the bundled model)
  --max-tokens N                most tokens generated (default 64)
  --max-lines N                 most lines (default 4)
  --join-wait N                 bytes past a syntax stop a completion may run looking for
                                the code after the cursor (default 16, as the extension's setting)
  --temperature T --top-p P     sampling (default greedy)
  --seed N                      sampling seed
  --threads N                   onnxruntime intra-op threads (default 1)
  --language ID                 language id (default from the file extension)
  --json                        print {"completion","ms","tokens","boundary","load_ms",...}
  --verbose                     log to standard error
`;

const SWITCHES = new Set(['json', 'verbose', 'help']);

/** The complete command's options. */
export function parseArgs(args: readonly string[]): ParsedArgs {
  return parseFlags(args, SWITCHES);
}

function num(flags: Map<string, string>, name: string): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/** Offset of 1-based (line, column) in text; clamps to the line's end and the text's end. */
export function offsetOf(text: string, line: number, column: number): number {
  if (!(line >= 1) || !(column >= 1)) throw new Error('--line and --column are 1-based positive numbers');
  let pos = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) throw new Error(`line ${line} is past the end of the file (${l} lines)`);
    pos = nl + 1;
  }
  let end = text.indexOf('\n', pos);
  if (end < 0) end = text.length;
  if (end > pos && text[end - 1] === '\r') end--;
  return Math.min(pos + column - 1, end);
}

/** The bundled model folder (BUNDLED_MODEL_NAME, as the extension uses), else the first folder under models/. */
export function defaultModelDir(packageRoot: string): string {
  const models = join(packageRoot, 'models');
  const preferred = join(models, BUNDLED_MODEL_NAME);
  if (existsSync(preferred)) return preferred;
  const dirs = existsSync(models) ? readdirSync(models, { withFileTypes: true }).filter((d) => d.isDirectory()) : [];
  return dirs.length ? join(models, dirs[0]!.name) : preferred;
}

async function readInput(path: string, io: CliIo): Promise<string> {
  return path === '-' ? (await io.readStdin()).toString('utf8') : readFileSync(path, 'utf8');
}

export const completeCommand: Subcommand = {
  name: 'complete',
  summary: 'Complete code at a position (or between a prefix and a suffix)',
  async run(args, io) {
    const { flags, switches } = parseArgs(args);
    if (switches.has('help')) {
      io.stdout(HELP);
      return 0;
    }
    let prefix: string;
    let suffix: string;
    let languageId = flags.get('language');
    let path: string | undefined;
    const file = flags.get('file');
    if (file !== undefined) {
      const line = num(flags, 'line');
      const column = num(flags, 'column');
      if (line === undefined || column === undefined) throw new Error('--file needs --line and --column');
      const text = await readInput(file, io);
      const at = offsetOf(text, line, column);
      prefix = text.slice(0, at);
      suffix = text.slice(at);
      path = file === '-' ? undefined : file;
      languageId ??= languageForPath(file);
    } else if (flags.has('prefix-file')) {
      prefix = await readInput(flags.get('prefix-file')!, io);
      suffix = flags.has('suffix-file') ? await readInput(flags.get('suffix-file')!, io) : '';
      languageId ??= languageForPath(flags.get('prefix-file')!);
    } else {
      io.stderr(HELP);
      return 2;
    }
    const boundary = (flags.get('boundary') ?? 'exact') as BoundaryMode;
    if (!['naive', 'heal', 'exact'].includes(boundary)) throw new Error(`--boundary must be naive, heal or exact, got ${JSON.stringify(boundary)}`);
    const modelDir = flags.has('model') ? resolve(flags.get('model')!) : defaultModelDir(io.packageRoot);
    const verbose = switches.has('verbose');
    const log = (level: string) => (m: string | Error) => {
      if (verbose) io.stderr(`[${level}] ${m instanceof Error ? m.message : m}\n`);
    };
    const logger: Logger = { trace: log('trace'), debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
    const engine = CompletionEngine.create({ modelDir, threads: num(flags, 'threads') ?? 1, logger, grammarsDir: join(io.packageRoot, 'grammars') });
    try {
      const info = await engine.whenReady();
      const r = await engine.complete({
        prefix,
        suffix,
        languageId,
        path,
        boundary,
        maxTokens: num(flags, 'max-tokens'),
        maxLines: num(flags, 'max-lines'),
        joinWait: num(flags, 'join-wait'),
        temperature: num(flags, 'temperature'),
        topP: num(flags, 'top-p'),
        seed: num(flags, 'seed'),
      });
      if (switches.has('json')) {
        io.stdout(
          `${JSON.stringify({
            completion: r.text,
            ms: round(r.ms),
            tokens: r.tokens,
            boundary: r.boundary,
            load_ms: round(info.loadMs),
            model: info.name,
            fim_format: info.fimFormat,
            stopped_by: r.stoppedBy,
            prompt_tokens: r.promptTokens,
          })}\n`,
        );
      } else {
        io.stdout(r.text.endsWith('\n') || !r.text ? r.text : `${r.text}\n`);
      }
      return 0;
    } finally {
      await engine.dispose();
    }
  },
};

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
