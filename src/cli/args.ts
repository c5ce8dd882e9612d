/** Command-line parsing shared by the subcommands. */

export interface ParsedArgs {
  /** `--name value` and `--name=value` options. */
  readonly flags: Map<string, string>;
  /** Options that take no value (`--json`); `-h` counts as `help`. */
  readonly switches: Set<string>;
}

/**
 * Parses `--name value`, `--name=value` and the value-less options named in
 * `switchNames`. Positional arguments are an error: these commands take files
 * through options.
 */
export function parseFlags(args: readonly string[], switchNames: ReadonlySet<string>): ParsedArgs {
  const flags = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h') {
      switches.add('help');
      continue;
    }
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(a)}`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (switchNames.has(name)) {
      switches.add(name);
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    flags.set(name, value);
  }
  return { flags, switches };
}
