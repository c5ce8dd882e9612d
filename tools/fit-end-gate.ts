/**
 * Fits the join rule's gates (src/engine/boundary/suffixJoin.ts) on held-out
 * spans: at every position of the true middle after its first byte, the
 * rule's features (the model's END, its probability of the suffix's first
 * byte, the look-ahead) and whether the middle ends there. Two populations:
 * exact mode's byte positions (teacher-forced through the covers) and the
 * token boundaries of token healing's path. Logistic regression by Newton's
 * method; prints the constants for DEFAULT_JOIN_RULE and the END bits per
 * middle byte with the gate and with the model's own END, on the fit cases
 * and on the test cases.
 *
 *   node --import tsx tools/fit-end-gate.ts --fit FILE.jsonl:FROM:TO [--fit ...] [--test FILE.jsonl:FROM:TO ...]
 *        [--model DIR] [--features OUT.jsonl] [--from-features IN.jsonl]
 *
 * The DEFAULT_JOIN_RULE constants came from
 *   --fit test/fixtures/eval/heldout-long-spans.jsonl:0:60 --test test/fixtures/eval/heldout-long-spans.jsonl:60:120
 * (never fit on heldout-clean-spans.jsonl: that is the test set of issue #7).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoverState, DEFAULT_EXACT_OPTIONS, healPlan, SuffixJoin, suffixProbeBytes, type JoinFeatures, type JoinGate, type JoinRule } from '../src/engine/boundary/index';
import { concatBytes, logSumExp, startsWithIds } from '../src/engine/boundary/util';
import { CompletionCore } from '../src/engine/completion/core';
import { parseCases } from '../src/engine/eval/cases';
import { silentLogger } from '../src/engine/log';
import { loadModel } from '../src/engine/model/load';

type Level = 'byte' | 'token';
interface Row extends JoinFeatures {
  readonly set: string;
  readonly level: Level;
  readonly task: string;
  readonly end: boolean;
  /** Middle bytes of the case (on its END row only; for bits per byte). */
  readonly middleBytes?: number;
}

/** Any gate with a non-zero look-ahead: the features do not depend on the constants. */
const PROBE_RULE: JoinRule = { byteLevel: { bias: 0, model: 0, first: 0, ahead: 1 }, tokenLevel: { bias: 0, model: 0, first: 0, ahead: 1 } };
const enc = new TextEncoder();

function parseSpec(spec: string): { file: string; from: number; to: number } {
  const m = /^(.*):(\d+):(\d+)$/.exec(spec);
  if (!m) throw new Error(`expected FILE:FROM:TO, got ${spec}`);
  return { file: m[1]!, from: Number(m[2]), to: Number(m[3]) };
}

async function extract(specs: string[], set: string, modelDir: string): Promise<Row[]> {
  const loaded = await loadModel(modelDir, { logger: silentLogger, skipChecksums: true });
  const core = new CompletionCore(loaded, silentLogger);
  const { model, tokenizer } = loaded;
  const out: Row[] = [];
  try {
    for (const spec of specs) {
      const { file, from, to } = parseSpec(spec);
      const cases = parseCases(readFileSync(file, 'utf8'), file).slice(from, to);
      for (const [ci, c] of cases.entries()) {
        const p = core.prompt({ prefix: c.prompt, suffix: c.suffix, maxTokens: 40 });
        const req = { model, tokenizer, headIds: p.headIds, streamBytes: p.streamBytes, stopIds: p.stopIds, maxTokens: 40, after: suffixProbeBytes(p.suffixText) };
        const rule = SuffixJoin.create(req, PROBE_RULE);
        if (!rule) continue; // no whole probe: the rule keeps the model's END there
        const truth = enc.encode(c.canonical_solution);
        // Exact mode's byte positions.
        const st = await CoverState.create(tokenizer, model, p.headIds, p.streamBytes, DEFAULT_EXACT_OPTIONS.score);
        for (let i = 0; i <= truth.length; i++) {
          const d = await st.distribution(p.stopIds);
          if (i > 0) {
            let stop = 0;
            for (const v of d.stops.values()) stop += v;
            const at = { anchor: st.anchor, tail: st.y, tailIds: st.T.ids, coverShare: logSumExp(st.covers.map((x) => x.logp)) - st.T.logp };
            const f = await rule.features(at, stop, d.bytes[rule.firstByte]!);
            out.push({ ...f, set, level: 'byte', task: c.task_id, end: i === truth.length, ...(i === truth.length ? { middleBytes: truth.length } : {}) });
          }
          if (i < truth.length) await st.advance(truth[i]!);
        }
        // Token boundaries of healing's path.
        const plan = healPlan(req, 4);
        const full = tokenizer.encodeBytes(concatBytes(p.streamBytes, truth));
        const cont = startsWithIds(full, plan.keptIds) ? full.slice(plan.keptIds.length) : tokenizer.encodeBytes(concatBytes(plan.healed, truth));
        const start = [...p.headIds, ...plan.keptIds];
        const seqs = cont.map((_, j) => [...start, ...cont.slice(0, j)]);
        seqs.push([...start, ...cont]);
        if (seqs[seqs.length - 1]!.length > model.contextLength) continue;
        const rows = await model.nextTokenLogProbsBatch(seqs);
        let bytes = 0;
        for (let j = 0; j <= cont.length; j++) {
          if (bytes - plan.healed.length > 0) {
            const m = rule.rowMasses(rows[j]!, p.stopIds);
            const f = await rule.features({ anchor: seqs[j]!, tail: new Uint8Array(0), tailIds: [], coverShare: 0 }, m.stop, m.first);
            out.push({ ...f, set, level: 'token', task: c.task_id, end: j === cont.length, ...(j === cont.length ? { middleBytes: truth.length } : {}) });
          }
          if (j < cont.length) bytes += tokenizer.tokenBytes(cont[j]!).length;
        }
        process.stderr.write(`\r${set} ${spec}: ${ci + 1}/${cases.length}`);
      }
      process.stderr.write('\n');
    }
  } finally {
    await loaded.model.dispose();
  }
  return out;
}

const x = (r: Row): number[] => [1, r.lnEnd, r.first, r.ahead];

/** Logistic regression (Newton's method, a little L2 on the slopes). */
function fit(rows: readonly Row[], l2 = 1e-3): number[] {
  const k = 4;
  let w = [0, 0, 0, 0];
  for (let iter = 0; iter < 100; iter++) {
    const g = new Array<number>(k).fill(0);
    const h = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    for (const r of rows) {
      const xi = x(r);
      const z = xi.reduce((s, v, j) => s + v * w[j]!, 0);
      const p = 1 / (1 + Math.exp(-z));
      const y = r.end ? 1 : 0;
      for (let a = 0; a < k; a++) {
        g[a]! += (p - y) * xi[a]!;
        for (let b = 0; b < k; b++) h[a]![b]! += p * (1 - p) * xi[a]! * xi[b]!;
      }
    }
    for (let a = 1; a < k; a++) {
      g[a]! += l2 * rows.length * w[a]!;
      h[a]![a]! += l2 * rows.length;
    }
    const step = solve(h, g);
    w = w.map((v, j) => v - step[j]!);
    if (Math.max(...step.map(Math.abs)) < 1e-9) break;
  }
  return w;
}

function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c || !m[c]![c]) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let j = c; j <= n; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  return m.map((row, i) => (row[i] ? row[n]! / row[i]! : 0));
}

/** END bits (END vs not END at every position after the first byte) per middle byte. */
function bitsPerByte(rows: readonly Row[], p: (r: Row) => number): number {
  let bits = 0;
  let bytes = 0;
  for (const r of rows) {
    const e = Math.min(1 - 1e-15, Math.max(1e-15, p(r)));
    bits += -Math.log2(r.end ? e : 1 - e);
    if (r.middleBytes) bytes += r.middleBytes;
  }
  return bytes ? bits / bytes : NaN;
}

const round = (v: number) => Math.round(v * 1000) / 1000;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const all = (name: string) => args.flatMap((a, i) => (a === name && args[i + 1] ? [args[i + 1]!] : []));
  const one = (name: string) => all(name)[0];
  const modelDir = one('--model') ?? join(__dirname, '..', 'models', 'subword-code-fast');
  let rows: Row[];
  const cached = one('--from-features');
  if (cached) rows = readFileSync(cached, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
  else {
    rows = [...(await extract(all('--fit'), 'fit', modelDir)), ...(await extract(all('--test'), 'test', modelDir))];
    const dump = one('--features');
    if (dump) writeFileSync(dump, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
  const gates: Record<Level, JoinGate> = { byte: { bias: 0, model: 0, first: 0, ahead: 0 }, token: { bias: 0, model: 0, first: 0, ahead: 0 } };
  for (const level of ['byte', 'token'] as const) {
    const fitRows = rows.filter((r) => r.level === level && r.set === 'fit');
    const w = fit(fitRows).map(round);
    gates[level] = { bias: w[0]!, model: w[1]!, first: w[2]!, ahead: w[3]! };
    const g = gates[level];
    const gate = (r: Row) => 1 / (1 + Math.exp(-(g.bias + g.model * r.lnEnd + g.first * r.first + g.ahead * r.ahead)));
    for (const set of ['fit', 'test']) {
      const rs = rows.filter((r) => r.level === level && r.set === set);
      if (!rs.length) continue;
      const ends = rs.filter((r) => r.end).length;
      console.log(
        `${level} ${set}: ${rs.length} positions, ${ends} ends; END bits per middle byte: model ${bitsPerByte(rs, (r) => Math.exp(r.lnEnd)).toFixed(3)}, gate ${bitsPerByte(rs, gate).toFixed(3)}`,
      );
    }
  }
  console.log(`\nbyteLevel: ${JSON.stringify(gates.byte)},\ntokenLevel: ${JSON.stringify(gates.token)},`);
}

void main();
