/** Shared setup of the syntax tests: real grammars from grammars/, real fixtures. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../../src/engine/log';
import { SyntaxService, type SyntaxServiceOptions } from '../../../src/engine/syntax/service';

export const ROOT = join(__dirname, '..', '..', '..');
export const GRAMMARS_DIR = join(ROOT, 'grammars');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'syntax');

/** Fixture file -> VS Code language id (every shipped grammar, plus C for the lexical path). */
export const FIXTURE_LANGUAGES: ReadonlyArray<readonly [file: string, languageId: string]> = [
  ['sample.py', 'python'],
  ['sample.js', 'javascript'],
  ['sample.ts', 'typescript'],
  ['sample.tsx', 'typescriptreact'],
  ['sample.rs', 'rust'],
  ['sample.go', 'go'],
  ['Sample.java', 'java'],
  ['sample.cpp', 'cpp'],
  ['sample.cs', 'csharp'],
  ['sample.rb', 'ruby'],
  ['sample.php', 'php'],
  ['sample.sh', 'shellscript'],
  ['sample.css', 'css'],
  ['sample.ini', 'ini'],
];

/** The grammars are copied by `npm run build`; copy them here when a test runs before any build. */
export function ensureGrammars(): void {
  if (existsSync(join(GRAMMARS_DIR, 'tree-sitter-python.wasm'))) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'tools', 'copy-grammars.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tools/copy-grammars.mjs failed: ${r.stderr}`);
}

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** A logger that keeps what it is told, for asserting on fallbacks. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const rec = (level: string) => (m: string | Error) => {
    lines.push(`${level}: ${m instanceof Error ? m.message : m}`);
  };
  return { lines, trace: rec('trace'), debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}

export function makeService(options: Partial<SyntaxServiceOptions> = {}): SyntaxService & { logLines: string[] } {
  ensureGrammars();
  const logger = recordingLogger();
  const service = new SyntaxService({ grammarsDir: GRAMMARS_DIR, logger, ...options }) as SyntaxService & { logLines: string[] };
  service.logLines = logger.lines;
  return service;
}
