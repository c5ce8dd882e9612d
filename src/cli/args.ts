/** Command-line parsing shared by the subcommands. */

export interface ParsedArgs {
  /** `--name value` and `--name=value` options (under their long name when given by an alias). */
  readonly flags: Map<string, string>;
  /** Options that take no value (`--json`); `-h` counts as `help`. */
  readonly switches: Set<string>;
  /** Positional arguments, in order (only when `FlagOptions.positionals` allows them). */
  readonly positionals: string[];
}

/** What a command accepts beyond `--name value` options and its switches. */
export interface FlagOptions {
  /**
   * The value options the command knows. Given, any other option is an
   * error (`unknown option --x`); absent, every `--name value` is accepted.
   */
  readonly known?: ReadonlySet<string>;
  /** Short spellings of long options: `{ t: 'tokenizer' }` makes `-t X` mean `--tokenizer X`. */
  readonly aliases?: Readonly<Record<string, string>>;
  /** Accept positional arguments (`-` alone is one: standard input); otherwise they are an error. */
  readonly positionals?: boolean;
  /** The error for an option given without its value; default `--name needs a value`. */
  readonly missingValue?: (name: string) => string;
}

/**
 * Parses `--name value`, `--name=value`, the value-less options named in
 * `switchNames` and, as `options` allows, short aliases and positional
 * arguments. Throws an Error with a message fit for the user on anything
 * else; the caller prints it (with its usage) and exits 2.
 */
export function parseFlags(args: readonly string[], switchNames: ReadonlySet<string>, options: FlagOptions = {}): ParsedArgs {
  const flags = new Map<string, string>();
  const switches = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h') {
      switches.add('help');
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq > 0 ? a.slice(eq + 1) : undefined;
    } else if (a.length > 1 && a.startsWith('-') && options.aliases?.[a.slice(1)] !== undefined) {
      name = options.aliases[a.slice(1)]!;
    } else if (options.positionals && (a === '-' || !a.startsWith('-'))) {
      positionals.push(a);
      continue;
    } else if (options.known && a.startsWith('-')) {
      throw new Error(`unknown option ${a}`);
    } else {
      throw new Error(`unexpected argument ${JSON.stringify(a)}`);
    }
    if (switchNames.has(name)) {
      switches.add(name);
      continue;
    }
    if (options.known && !options.known.has(name)) throw new Error(`unknown option ${a}`);
    const value = inline ?? args[++i];
    if (value === undefined) throw new Error(options.missingValue?.(name) ?? `--${name} needs a value`);
    flags.set(name, value);
  }
  return { flags, switches, positionals };
}
