/**
 * `subword syntax FILE`: what the syntax layer sees in a file: grammar or
 * lexical fallback, parse time and errors, function/class blocks with their
 * token totals, the span (and its tokens) at a position, and the
 * identifiers that fragment the most under a tokenizer.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseFlags } from './args';
import { languageForPath } from './languages';
import type { Logger } from '../engine/log';
import { blockSpans } from '../engine/syntax/blocks';
import { identifierTokensAt, mostFragmentedIdentifiers } from '../engine/syntax/identifierTokens';
import { countSyntaxErrors } from '../engine/syntax/postprocess';
import { SyntaxService } from '../engine/syntax/service';
import type { CliIo, Subcommand } from './subcommands';
import { cliRegistry } from './tokenizerCommands';

const USAGE = `Usage: subword syntax FILE [--language ID] [--at LINE:COL] [--fragments N] [--tokenizer ID]

  --language ID   VS Code language id (default: from the file extension)
  --at LINE:COL   show the identifier span at a 1-based position and its tokens
  --fragments N   list the N identifiers that take the most tokens
  --tokenizer ID  tokenizer for token counts (default o200k_base; see \`subword tokenizers\`)
`;

const SWITCHES = new Set(['help']);
const OPTIONS = { known: new Set(['language', 'at', 'fragments', 'tokenizer']), positionals: true, missingValue: (name: string) => `missing value for --${name}` };

function stderrLogger(io: CliIo): Logger {
  return { trace() {}, debug() {}, info: (m) => io.stderr(`${m}\n`), warn: (m) => io.stderr(`warning: ${m}\n`), error: (m) => io.stderr(`error: ${String(m)}\n`) };
}

export const syntaxCommand: Subcommand = {
  name: 'syntax',
  summary: 'Show what tree-sitter sees in a file: blocks, spans, identifier token counts',
  async run(args, io) {
    let flags: Map<string, string>;
    let files: string[];
    try {
      const parsed = parseFlags(args, SWITCHES, OPTIONS);
      if (parsed.switches.has('help')) {
        io.stdout(USAGE);
        return 0;
      }
      flags = parsed.flags;
      files = parsed.positionals;
    } catch (err) {
      io.stderr(`${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    if (files.length !== 1) {
      io.stderr(USAGE);
      return 2;
    }
    const file = files[0]!;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      io.stderr(`cannot read ${file}: ${(err as Error).message}\n`);
      return 1;
    }
    const languageId = flags.get('language') ?? languageForPath(file) ?? 'plaintext';
    const service = new SyntaxService({ grammarsDir: join(io.packageRoot, 'grammars'), logger: stderrLogger(io), parseTimeoutMs: 2000 });
    try {
      const lang = await service.language(languageId);
      const t0 = performance.now();
      const view = await service.parse(languageId, text, 2000);
      const ms = performance.now() - t0;
      io.stdout(`${file}: ${languageId}, ${text.split('\n').length} lines, ${lang ? `grammar ${lang.grammar}` : 'no grammar (lexical rules)'}`);
      io.stdout(view.tree ? `, parsed in ${ms.toFixed(1)} ms, ${countSyntaxErrors(view.tree)} ERROR/MISSING nodes\n` : lang ? ', parse gave up (lexical rules)\n' : '\n');
      const tokenizer = await cliRegistry(io.packageRoot).get(flags.get('tokenizer') ?? 'o200k_base');
      const lines = text.split('\n');
      const lineStarts: number[] = [];
      let acc = 0;
      for (const l of lines) {
        lineStarts.push(acc);
        acc += l.length + 1;
      }
      for (const b of blockSpans(view)) {
        const tokens = tokenizer.encode(text.slice(b.start, b.end)).length;
        io.stdout(`${'  '.repeat(b.depth + 1)}${b.kind} ${b.name ?? `<${b.nodeType}>`} lines ${b.startLine + 1}-${b.endLine + 1}: ${tokens} tokens\n`);
      }
      const at = flags.get('at');
      if (at) {
        const m = /^(\d+):(\d+)$/.exec(at);
        if (!m || Number(m[1]) < 1 || Number(m[1]) > lines.length) {
          io.stderr(`--at wants LINE:COL within the file, got ${at}\n`);
          return 2;
        }
        const line = Number(m[1]) - 1;
        const offset = lineStarts[line]! + Math.min(lines[line]!.length, Math.max(0, Number(m[2]) - 1));
        const r = identifierTokensAt(view, offset, tokenizer);
        if (!r) io.stdout(`at ${at}: no identifier\n`);
        else {
          io.stdout(`at ${at}: ${r.span.kind} ${JSON.stringify(r.span.text)} (${r.span.source}${r.span.nodeType ? ` ${r.span.nodeType}` : ''})\n`);
          io.stdout(`  ${r.count} tokens alone: ${r.pieces.map((p) => JSON.stringify(p)).join(' ')}\n`);
          if (r.inContext) io.stdout(`  ${r.inContext.count} tokens in its line: ${r.inContext.pieces.map((p) => JSON.stringify(p)).join(' ')}\n`);
        }
      }
      const n = flags.get('fragments');
      if (n) {
        io.stdout(`identifiers taking the most ${tokenizer.id} tokens:\n`);
        for (const f of mostFragmentedIdentifiers(view, tokenizer, { limit: Math.max(1, Number(n) || 10) })) {
          io.stdout(`  ${String(f.count).padStart(3)}  ${f.text}  (${f.pieces.map((p) => JSON.stringify(p)).join(' ')}, ${f.occurrences}x)\n`);
        }
      }
      view.dispose();
      return 0;
    } finally {
      service.dispose();
    }
  },
};
