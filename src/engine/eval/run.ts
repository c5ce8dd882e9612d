/**
 * The evaluation loop: for each case and boundary mode, generate the middle
 * greedily, score the true middle teacher-forced, optionally run the tests,
 * and accumulate the metrics. Side effects (model, prompt building, test
 * execution, clock) come in as arguments.
 */
import { isBoundaryMode, strategyFor } from '../boundary/index';
import type { BoundaryMode, BoundaryRequest, BoundaryResult, BoundaryStrategy } from '../boundary/types';
import type { EvalCase } from './cases';
import { ModeStats, type ModeSummary } from './metrics';

/** The parts of a boundary request that depend on the case (the FIM prompt, and the suffix probe for the join rule). */
export type CasePrompt = Pick<BoundaryRequest, 'model' | 'tokenizer' | 'headIds' | 'streamBytes' | 'stopIds' | 'after'>;

/** A mode name: a boundary mode, or an ensemble mode the caller's `strategy` knows (e.g. `exact+cache`). */
export type EvalMode = BoundaryMode | (string & {});

export interface EvalDeps {
  /** The prompt for a case (windowed to the model's context). */
  prompt(c: EvalCase, maxTokens: number): CasePrompt;
  /** Runs the case's tests on prompt + completion + suffix; undefined when it cannot (no tests, no python3). */
  runTests?(c: EvalCase, completion: string): Promise<boolean | undefined>;
  /** Called once per case and mode with the generated middle (the --samples file). */
  onSample?(sample: { task_id: string; mode: EvalMode; completion: string }): void;
  /** Progress line per case. */
  onProgress?(done: number, total: number): void;
  now(): number;
  /** The strategy per mode (defaults to strategyFor, which knows the boundary modes only). */
  strategy?(mode: EvalMode): BoundaryStrategy | undefined;
  /**
   * The request a mode runs on for a case, from the case's base request
   * (ensemble modes add their cache and other models here). Called once per
   * case and mode, before generation; `base` is reused for the other modes.
   */
  request?(c: EvalCase, mode: EvalMode, base: BoundaryRequest): BoundaryRequest | Promise<BoundaryRequest>;
  /** Turns the raw middle into what the editor would insert (stop rules, suffix merge), when asked. */
  postprocess?(c: EvalCase, raw: string, result: BoundaryResult): string;
}

export interface EvalOptions {
  readonly modes: readonly EvalMode[];
  readonly maxTokens: number;
  /** Also compute middle bits per byte (one teacher-forced pass per case and mode). */
  readonly score: boolean;
  readonly signal?: AbortSignal;
}

export interface EvalReport {
  n: number;
  results: Partial<Record<EvalMode, ModeSummary>>;
}

const encoder = new TextEncoder();

export async function runEval(cases: readonly EvalCase[], deps: EvalDeps, opts: EvalOptions): Promise<{ report: EvalReport; stats: Map<EvalMode, ModeStats> }> {
  const stats = new Map<EvalMode, ModeStats>(opts.modes.map((m) => [m, new ModeStats()]));
  const strategies = new Map(
    opts.modes.map((m) => {
      const s = deps.strategy?.(m) ?? (isBoundaryMode(m) ? strategyFor(m) : undefined);
      if (!s) throw new Error(`eval: no strategy for mode ${m}`);
      return [m, s] as const;
    }),
  );
  let done = 0;
  for (const c of cases) {
    const base = deps.prompt(c, opts.maxTokens);
    const truth = encoder.encode(c.canonical_solution);
    for (const mode of opts.modes) {
      const strategy = strategies.get(mode)!;
      const plain: BoundaryRequest = { ...base, maxTokens: opts.maxTokens, temperature: 0, signal: opts.signal };
      const req = deps.request ? await deps.request(c, mode, plain) : plain;
      const t0 = deps.now();
      const r = await strategy.generate(req);
      const ms = deps.now() - t0;
      const raw = new TextDecoder().decode(r.bytes);
      const completion = deps.postprocess ? deps.postprocess(c, raw, r) : raw;
      deps.onSample?.({ task_id: c.task_id, mode, completion });
      const logProb = opts.score ? await strategy.score(req, truth) : undefined;
      const passed = deps.runTests && c.test && c.entry_point ? await deps.runTests(c, completion) : undefined;
      stats.get(mode)!.add({ completion, truth: c.canonical_solution, logProb, truthBytes: truth.length, ms, passed });
    }
    deps.onProgress?.(++done, cases.length);
  }
  const results: EvalReport['results'] = {};
  for (const [m, s] of stats) results[m] = s.summary();
  return { report: { n: cases.length, results }, stats };
}
