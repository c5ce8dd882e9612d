/**
 * `subword`: the engine from a terminal. Subcommands register themselves in
 * SUBCOMMANDS; `subword --help` lists them.
 */
import { ENGINE_VERSION } from '../engine/version';
import { SUBCOMMANDS, type CliIo } from './subcommands';

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`subword ${ENGINE_VERSION}\n`);
    return 0;
  }
  const sub = SUBCOMMANDS.find((s) => s.name === name);
  if (!sub) {
    io.stderr(`subword: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  try {
    return await sub.run(rest, io);
  } catch (err) {
    io.stderr(`subword ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

export function usage(): string {
  const width = Math.max(...SUBCOMMANDS.map((s) => s.name.length));
  const lines = SUBCOMMANDS.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`);
  return [
    'Usage: subword <command> [options]',
    '',
    'Token-aware code completion and token insight from a terminal.',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `subword <command> --help` for the options of one command.',
    '',
  ].join('\n');
}
