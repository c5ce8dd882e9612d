/** How a subcommand talks to the terminal; tests pass string collectors. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Reads all of standard input (for `-` file arguments). */
  readStdin(): Promise<Buffer>;
  /** Folder holding models/ and grammars/ (the package root). */
  readonly packageRoot: string;
}

export interface Subcommand {
  readonly name: string;
  readonly summary: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

const TOKENIZER_SUMMARIES = {
  tokenizers: 'List the tokenizers (id, vocabulary size, source, exact or approximate)',
  count: 'Count the tokens of a file or standard input',
  tokenize: 'Print the tokens of a file or standard input with ids and byte offsets',
} as const;

/** Every CLI subcommand; later modules append their entry here. */
export const SUBCOMMANDS: Subcommand[] = [
  {
    name: 'version',
    summary: 'Print the engine version',
    run: async (_args, io) => {
      const { ENGINE_VERSION } = await import('../engine/version');
      io.stdout(`${ENGINE_VERSION}\n`);
      return 0;
    },
  },
  {
    name: 'complete',
    summary: 'Complete code at a position (or between a prefix and a suffix)',
    // Loaded on demand so other commands never load onnxruntime.
    run: async (args, io) => (await import('./completeCommand')).completeCommand.run(args, io),
  },
  {
    name: 'eval',
    summary: 'Measure the boundary modes on infilling cases (exact match, bits per byte, pass@1)',
    run: async (args, io) => (await import('./evalCommand')).evalCommand.run(args, io),
  },
  {
    name: 'syntax',
    summary: 'Show what tree-sitter sees in a file: blocks, spans, identifier token counts',
    run: async (args, io) => (await import('./syntaxCommand')).syntaxCommand.run(args, io),
  },
  // tokenizers, count, tokenize (src/cli/tokenizerCommands.ts), loaded on demand
  ...(['tokenizers', 'count', 'tokenize'] as const).map((name) => ({
    name,
    summary: TOKENIZER_SUMMARIES[name],
    run: async (args: readonly string[], io: CliIo) => (await import('./tokenizerCommands')).tokenizerCommands.find((c) => c.name === name)!.run(args, io),
  })),
];
