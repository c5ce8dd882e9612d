/**
 * `subword eval`: the boundary modes measured on infilling cases
 * (HumanEval-infilling JSON lines), and `--make-random-spans` to build such
 * cases from held-out source files.
 */
import { BUNDLED_MODEL_NAME } from '../engine/models';
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, relative, resolve } from 'node:path';
import { BOUNDARY_MODES, isBoundaryMode } from '../engine/boundary/index';
import { CompletionCore } from '../engine/completion/core';
import { languageOfTask, makeRandomSpans, parseCases, type EvalCase, type SourceFile } from '../engine/eval/cases';
import { runEval, type EvalMode } from '../engine/eval/run';
import { isJoinEvalMode, JOIN_EVAL_MODES, joinModeStrategy } from '../engine/eval/joinModes';
import { pairedWins } from '../engine/eval/metrics';
import { suffixProbeBytes } from '../engine/boundary/suffixProbe';
import { ByteCacheModel } from '../engine/ensemble/cacheModel';
import type { NeuralPrompt } from '../engine/ensemble/components';
import { DEFAULT_ENSEMBLE_OPTIONS } from '../engine/ensemble/strategy';
import { ENSEMBLE_EVAL_MODES, ensembleRequest, ensembleStrategy, fillCaseCache, isEnsembleEvalMode, modeNeedsModel2 } from '../engine/eval/ensemble';
import { silentLogger, type Logger } from '../engine/log';
import { finalizeCompletion } from '../engine/syntax/postprocess';
import { loadModel } from '../engine/model/load';
import { parseFlags } from './args';
import type { CliIo, Subcommand } from './subcommands';

const HELP = `Usage:
  subword eval --data FILE.jsonl [--boundary naive,heal,exact] [options]
  subword eval --make-random-spans DIR|FILE.jsonl --seed S --n N > FILE.jsonl

Evaluates the boundary modes on fill-in-the-middle cases in the
HumanEval-infilling JSON-lines shape (task_id, prompt, suffix,
canonical_solution, optional test and entry_point). Per mode: exact match,
edit similarity, middle bits per byte (the true middle then end-of-middle,
teacher-forced, as the mode scores it), pass@1 (python3 runs the tests in a
subprocess with a timeout) and ms per case. Decoding is greedy; the prompt
is the completion engine's (same windowing and FIM format as the editor)
and the middle is the raw output up to end-of-middle (no editor stop rules),
so the modes differ only in how they treat the cursor.

Options:
  --boundary LIST      modes, comma-separated (default naive,heal,exact); MODE+join /
                       MODE-join: the mode with the join rule (END from the model's
                       reading of the suffix; on by default) on / off; byte-level
                       ensembles: cache, exact+cache, model2, exact+model2,
                       exact+model2+cache
  --model2 DIR         second model folder (any tokenizer) for the model2 modes
  --cache-mb N         memory of the cache model, MB (default 8)
  --cache-package KB   also fill the cache from other files of the same package
                       (other cases' prompt and suffix), up to KB kilobytes (default 0)
  --cache-package-from DIR|FILE.jsonl
                       the package's files come from these source files (as
                       --make-random-spans reads them) instead of other cases,
                       same folder first; the case's own file is left out
  --cache-prior W      prior weight of the cache in the mixture (default 0.1)
  --cache-confidence G instead of the learned gate (the default), the older
                       rule: the cache's weight times (its top byte's odds)^G,
                       byte by byte (0: the online weights alone)
  --context N          cap the model's context window at N tokens (as
                       subword.model.contextWindow does in the editor); the
                       cache still holds the whole case
  --model DIR          model folder (default: the bundled model)
  --limit N            first N cases only
  --max-tokens N       most tokens per middle (default 64)
  --no-score           skip bits per byte (generation only)
  --postprocess        score what the editor would insert: the raw middle after the
                       engine's stop rules and suffix merge / overlap trimming
  --test-timeout S     seconds per test run (default 10)
  --threads N          onnxruntime intra-op threads (default 1)
  --samples FILE       write {"task_id","mode","completion"} per case and mode
  --json               print {"n": N, "results": {mode: {...}}}

Random spans: DIR is a folder of source files or a JSON-lines file of
{"path","text"} records (the training corpus's test split); one hole per
case, starting at a random character, 1..--max-middle characters long
(default 64), with up to 3000 characters before it and 1000 after.
  --whole-file         keep the whole file around the hole (prompt + suffix =
                       the file minus the middle)
  --min-bytes N        only files of at least N bytes (UTF-8)
  --max-bytes N        only files of at most N bytes
  --ext LIST           only these file extensions, comma-separated (py,js,ts)
`;

const SWITCHES = new Set(['json', 'help', 'no-score', 'verbose', 'postprocess', 'whole-file']);

function int(flags: Map<string, string>, name: string, fallback: number): number {
  const v = flags.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

const SOURCE_EXT = new Set(['.py', '.js', '.mjs', '.cjs', '.ts', '.tsx', '.jsx', '.mts', '.cts', '.md', '.css', '.rs', '.go', '.java', '.c', '.h', '.cpp']);

/** Source files from a folder (recursively) or a JSON-lines file of {path, text}. */
export function readSources(from: string): SourceFile[] {
  if (statSync(from).isFile()) {
    return readFileSync(from, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l, i) => {
        const o = JSON.parse(l) as { path?: unknown; text?: unknown };
        if (typeof o.text !== 'string') throw new Error(`${from}:${i + 1}: no "text" field`);
        return { path: typeof o.path === 'string' ? o.path : `line${i + 1}`, text: o.text };
      });
  }
  const out: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && !e.name.startsWith('.')) walk(p);
      } else if (SOURCE_EXT.has(extname(e.name))) out.push({ path: relative(from, p).split('\\').join('/'), text: readFileSync(p, 'utf8') });
    }
  };
  walk(from);
  return out;
}

/** The bundled model (BUNDLED_MODEL_NAME, as the extension uses), else the first folder under models/. */
function bundledModel(packageRoot: string): string {
  const models = join(packageRoot, 'models');
  if (existsSync(join(models, BUNDLED_MODEL_NAME))) return join(models, BUNDLED_MODEL_NAME);
  const dirs = existsSync(models) ? readdirSync(models, { withFileTypes: true }).filter((d) => d.isDirectory()) : [];
  return dirs.length ? join(models, dirs[0]!.name) : join(models, BUNDLED_MODEL_NAME);
}

let python: string | null | undefined;
function pythonPath(): string | null {
  if (python === undefined) python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : null;
  return python;
}

/** Runs prompt + completion + suffix + test + check(entry_point) in python3 (never in-process). */
export function runPythonTests(c: EvalCase, completion: string, timeoutS: number): Promise<boolean | undefined> {
  const py = pythonPath();
  if (!py || !c.test || !c.entry_point) return Promise.resolve(undefined);
  const dir = mkdtempSync(join(tmpdir(), 'subword-eval-'));
  const file = join(dir, 'case.py');
  writeFileSync(file, `${c.prompt}${completion}${c.suffix}\n\n${c.test}\n\ncheck(${c.entry_point})\n`);
  return new Promise((resolvePromise) => {
    const child = spawn(py, [file], { cwd: dir, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      resolvePromise(code === 0);
    });
    child.on('error', () => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      resolvePromise(false);
    });
  });
}

function fmt(v: number | null, digits: number): string {
  return v === null ? '-' : v.toFixed(digits);
}

export const evalCommand: Subcommand = {
  name: 'eval',
  summary: 'Measure the boundary modes on infilling cases (exact match, bits per byte, pass@1)',
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { flags, switches } = parseFlags(args, SWITCHES);
    if (switches.has('help')) {
      io.stdout(HELP);
      return 0;
    }
    if (flags.has('make-random-spans')) {
      const from = resolve(flags.get('make-random-spans')!);
      const exts = flags.has('ext') ? new Set(flags.get('ext')!.split(',').map((e) => `.${e.trim().replace(/^\./, '')}`)) : undefined;
      const whole = switches.has('whole-file');
      const cases = makeRandomSpans(
        readSources(from).filter((f) => !exts || exts.has(extname(f.path))),
        {
          seed: int(flags, 'seed', 1),
          n: int(flags, 'n', 200),
          maxMiddleChars: int(flags, 'max-middle', 64),
          ...(whole ? { maxPrefixChars: Infinity, maxSuffixChars: Infinity } : {}),
          ...(flags.has('min-bytes') ? { minFileBytes: int(flags, 'min-bytes', 0) } : {}),
          ...(flags.has('max-bytes') ? { maxFileBytes: int(flags, 'max-bytes', 0) } : {}),
        },
      );
      io.stdout(cases.map((c) => JSON.stringify(c)).join('\n') + (cases.length ? '\n' : ''));
      return 0;
    }
    const data = flags.get('data');
    if (!data) {
      io.stderr(`subword eval: --data FILE.jsonl is required\n\n${HELP}`);
      return 2;
    }
    const modes = (flags.get('boundary') ?? BOUNDARY_MODES.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
    const bad = modes.filter((m) => !isBoundaryMode(m) && !isEnsembleEvalMode(m) && !isJoinEvalMode(m));
    if (bad.length || !modes.length) {
      io.stderr(`subword eval: unknown boundary mode(s) ${bad.join(', ')}; use ${[...BOUNDARY_MODES, ...JOIN_EVAL_MODES, ...ENSEMBLE_EVAL_MODES].join(', ')}\n`);
      return 2;
    }
    if (modes.some((m) => isEnsembleEvalMode(m) && modeNeedsModel2(m)) && !flags.has('model2')) {
      io.stderr('subword eval: the model2 modes need --model2 DIR\n');
      return 2;
    }
    let cases = parseCases(data === '-' ? (await io.readStdin()).toString('utf8') : readFileSync(resolve(data), 'utf8'), data);
    if (flags.has('limit')) cases = cases.slice(0, int(flags, 'limit', cases.length));
    const maxTokens = Math.max(1, int(flags, 'max-tokens', 64));
    const logger: Logger = switches.has('verbose')
      ? { ...silentLogger, info: (m) => io.stderr(`${m}\n`), warn: (m) => io.stderr(`${m}\n`), error: (m) => io.stderr(`${String(m)}\n`) }
      : silentLogger;
    const modelDir = flags.has('model') ? resolve(flags.get('model')!) : bundledModel(io.packageRoot);
    const contextLength = flags.has('context') ? Math.max(64, int(flags, 'context', 0)) : undefined;
    const loaded = await loadModel(modelDir, { logger, threads: int(flags, 'threads', 1), skipChecksums: true, contextLength });
    const core = new CompletionCore(loaded, logger);
    const loaded2 = flags.has('model2') ? await loadModel(resolve(flags.get('model2')!), { logger, threads: int(flags, 'threads', 1), skipChecksums: true }) : undefined;
    const core2 = loaded2 ? new CompletionCore(loaded2, logger) : undefined;
    const cache = modes.some(isEnsembleEvalMode) ? new ByteCacheModel({ memoryBytes: Math.max(1, int(flags, 'cache-mb', 8)) * 1024 * 1024 }) : undefined;
    const packageFiles = flags.has('cache-package-from') ? readSources(resolve(flags.get('cache-package-from')!)) : undefined;
    // A package source without a budget means "the whole package" (bounded by the cache's memory anyway).
    const fill = { warmupBytes: 256, packageBytes: int(flags, 'cache-package', packageFiles ? 1 << 20 : 0) * 1024, packageFiles };
    const prior = flags.has('cache-prior') ? Number(flags.get('cache-prior')) : DEFAULT_ENSEMBLE_OPTIONS.cachePrior;
    if (!(prior >= 0 && prior <= 1)) throw new Error(`--cache-prior must be between 0 and 1, got ${JSON.stringify(flags.get('cache-prior'))}`);
    const confidence = flags.has('cache-confidence') ? Number(flags.get('cache-confidence')) : DEFAULT_ENSEMBLE_OPTIONS.cacheConfidence;
    if (!(confidence >= 0)) throw new Error(`--cache-confidence must be a non-negative number, got ${JSON.stringify(flags.get('cache-confidence'))}`);
    // As in the editor host: naming a confidence exponent selects the older rule instead of the gate.
    const ensembleOptions = flags.has('cache-confidence')
      ? { ...DEFAULT_ENSEMBLE_OPTIONS, cachePrior: prior, cacheConfidence: confidence, cacheGate: undefined }
      : { ...DEFAULT_ENSEMBLE_OPTIONS, cachePrior: prior };
    let filledFor: EvalCase | undefined;
    let warmupBits: number[] = [];
    let model2Prompt: NeuralPrompt | undefined;
    const samples = flags.has('samples') ? createWriteStream(resolve(flags.get('samples')!)) : undefined;
    const timeoutS = int(flags, 'test-timeout', 10);
    const t0 = performance.now();
    try {
      const { report, stats } = await runEval(
        cases,
        {
          prompt: (c, max) => {
            const p = core.prompt({ prefix: c.prompt, suffix: c.suffix, maxTokens: max });
            return { model: loaded.model, tokenizer: loaded.tokenizer, headIds: p.headIds, streamBytes: p.streamBytes, stopIds: p.stopIds, after: suffixProbeBytes(p.suffixText) };
          },
          runTests: (c, completion) => runPythonTests(c, completion, timeoutS),
          onSample: samples ? (s) => samples.write(`${JSON.stringify(s)}\n`) : undefined,
          strategy: (m) => (isEnsembleEvalMode(m) ? ensembleStrategy(m, ensembleOptions) : joinModeStrategy(m)),
          request: (c, m, base) => {
            if (!isEnsembleEvalMode(m)) return base;
            if (filledFor !== c) {
              // Once per case: the cache from this file's prefix and suffix (never the middle), the second model's prompt.
              filledFor = c;
              warmupBits = fillCaseCache(cache!, c, cases, fill);
              if (loaded2 && core2) {
                const p = core2.prompt({ prefix: c.prompt, suffix: c.suffix, maxTokens });
                model2Prompt = { name: loaded2.name, model: loaded2.model, tokenizer: loaded2.tokenizer, headIds: p.headIds, streamBytes: p.streamBytes, stopIds: p.stopIds };
              }
            }
            return ensembleRequest(m, c, base, { cache: cache!, warmupBits, model2: model2Prompt, primaryName: loaded.name });
          },
          onProgress: switches.has('json') ? undefined : (done, total) => io.stderr(`\r${done}/${total} cases`),
          now: () => performance.now(),
          postprocess: switches.has('postprocess') ? (c, raw, r) => finalizeCompletion({ languageId: languageOfTask(c.task_id), prefix: c.prompt, suffix: c.suffix }, raw, undefined, { joinsSuffix: r.joinsSuffix }).text : undefined,
        },
        { modes: modes as EvalMode[], maxTokens, score: !switches.has('no-score') },
      );
      if (switches.has('json')) {
        io.stdout(`${JSON.stringify(report)}\n`);
        return 0;
      }
      io.stderr('\n');
      io.stdout(`${report.n} cases, model ${loaded.name}${loaded2 ? `, model2 ${loaded2.name}` : ''}, max ${maxTokens} tokens, ${((performance.now() - t0) / 1000).toFixed(1)} s\n\n`);
      io.stdout('| mode | exact match | edit similarity | middle bits/byte | pass@1 | ms/case |\n|---|---|---|---|---|---|\n');
      for (const m of modes as EvalMode[]) {
        const r = report.results[m]!;
        const zero = stats.get(m)!.zeroProbabilityCases;
        io.stdout(`| ${m} | ${fmt(r.exact_match, 3)} | ${fmt(r.edit_similarity, 3)} | ${fmt(r.middle_bits_per_byte, 3)}${zero ? ` (${zero} at p=0)` : ''} | ${fmt(r.pass_at_1, 3)} | ${fmt(r.ms_per_case, 0)} |\n`);
      }
      if (modes.length > 1) {
        // Paired exact matches: a mode's wins over another are the cases only it got right.
        const ms = modes as EvalMode[];
        const wins = pairedWins(ms.map((m) => stats.get(m)!));
        io.stdout(`\nExact matches only the row's mode got (not the column's):\n\n| | ${ms.join(' | ')} |\n|---|${ms.map(() => '---|').join('')}\n`);
        ms.forEach((m, i) => io.stdout(`| ${m} | ${wins[i]!.join(' | ')} |\n`));
      }
      return 0;
    } finally {
      samples?.end();
      await loaded2?.model.dispose();
    }
  },
};
