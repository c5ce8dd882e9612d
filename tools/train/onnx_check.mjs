// Run an exported model in onnxruntime-node: latency benchmark and/or comparison with
// PyTorch reference logits. usage: node onnx_check.mjs model.onnx [--ref prefix] [--bench] [--threads 1]
// A graph with the num_logits_to_keep input (logits_keep.py) is checked with every
// position (keep 0) against PyTorch, its keep-1 output against the last of those rows,
// and benchmarked with keep 1, as the completion engine runs it. new_key_values outputs
// (kv_outputs.py) are checked against the last position of the presents.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const ort = require(process.env.ORT_PATH ?? "onnxruntime-node");
const args = process.argv.slice(2);
const modelPath = args[0];
const opt = (k, d) => { const i = args.indexOf(k); return i < 0 ? d : args[i + 1]; };
const threads = Number(opt("--threads", "1"));
const sess = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: "all" });
const pastNames = sess.inputNames.filter((n) => n.startsWith("past_key_values."));
const nLayer = pastNames.length / 2;
// discover heads/head_dim from metadata input shapes isn't exposed portably: take from args or manifest
const H = Number(opt("--heads", "0")), HD = Number(opt("--head-dim", "0"));
const hasKeep = sess.inputNames.includes("num_logits_to_keep");
function feeds(ids, past, pastLen, startPos, keep = 0) {
  const s = ids.length;
  const f = {
    input_ids: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [1, s]),
    attention_mask: new ort.Tensor("int64", new BigInt64Array(pastLen + s).fill(1n), [1, pastLen + s]),
    position_ids: new ort.Tensor("int64", BigInt64Array.from(ids.map((_, i) => BigInt(startPos + i))), [1, s]),
  };
  for (let l = 0; l < nLayer; l++) for (const kv of ["key", "value"]) {
    const n = `past_key_values.${l}.${kv}`;
    f[n] = past ? past[`present.${l}.${kv}`] : new ort.Tensor("float32", new Float32Array(0), [1, H, 0, HD]);
  }
  if (hasKeep) f.num_logits_to_keep = new ort.Tensor("int64", BigInt64Array.of(BigInt(keep)), []);
  return f;
}
const out = {};
if (args.includes("--ref")) {
  const prefix = opt("--ref");
  const ref = JSON.parse(readFileSync(prefix + ".json", "utf8"));
  const buf = readFileSync(prefix + ".logits.f32");
  const full = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const V = ref.vocab, n = ref.n_prefill;
  const r1 = await sess.run(feeds(ref.ids.slice(0, n), null, 0, 0));
  const r2 = await sess.run(feeds(ref.ids.slice(n, n + 1), r1, n, n));
  let maxd = 0;
  const l1 = r1.logits.data, l2 = r2.logits.data;
  for (let i = 0; i < n * V; i++) maxd = Math.max(maxd, Math.abs(l1[i] - full[i]));
  let maxd2 = 0;
  for (let i = 0; i < V; i++) maxd2 = Math.max(maxd2, Math.abs(l2[i] - full[n * V + i]));
  out.max_abs_diff_prefill = maxd; out.max_abs_diff_decode = maxd2;
  if (hasKeep) {
    const r3 = await sess.run(feeds(ref.ids.slice(0, n), null, 0, 0, 1));
    if (r3.logits.dims[1] !== 1) throw new Error(`num_logits_to_keep=1 gave ${r3.logits.dims[1]} rows`);
    let dk = 0;
    for (let i = 0; i < V; i++) dk = Math.max(dk, Math.abs(r3.logits.data[i] - l1[(n - 1) * V + i]));
    out.max_abs_diff_keep1_vs_full = dk;
  }
  if (sess.outputNames.includes("new_key_values.0.key")) {
    // the decode step's own keys/values are the last position of each head in the present
    let dn = 0;
    for (const kv of ["key", "value"]) {
      const nw = r2[`new_key_values.0.${kv}`].data, pr = r2[`present.0.${kv}`];
      const [, heads, T, hd] = pr.dims;
      for (let h = 0; h < heads; h++) for (let i = 0; i < hd; i++) dn = Math.max(dn, Math.abs(nw[h * hd + i] - pr.data[(h * T + T - 1) * hd + i]));
    }
    out.max_abs_diff_new_kv_vs_present = dn;
  }
}
if (args.includes("--bench")) {
  const V = 100;
  const ids = Array.from({ length: 512 }, (_, i) => (i * 7919) % V);
  let r = await sess.run(feeds(ids, null, 0, 0, 1));
  const reps = Number(opt("--reps", "5"));
  const pt = [];
  for (let i = 0; i < reps; i++) { const t = performance.now(); r = await sess.run(feeds(ids, null, 0, 0, 1)); pt.push(performance.now() - t); }
  pt.sort((a, b) => a - b);
  // min and median: the machine is shared, so the minimum is the least noisy estimate
  out.prefill512_ms = pt[0]; out.prefill512_median_ms = pt[pt.length >> 1];
  out.logits_to_keep = hasKeep;
  let past = r; let len = 512;
  const steps = 64;
  for (let i = 0; i < 4; i++) { past = await sess.run(feeds([5], past, len, len, 1)); len++; }
  const dt = [];
  for (let i = 0; i < steps; i++) { const t = performance.now(); past = await sess.run(feeds([5], past, len, len, 1)); len++; dt.push(performance.now() - t); }
  dt.sort((a, b) => a - b);
  out.decode_ms_at_512 = dt[dt.length >> 1]; out.decode_min_ms = dt[0];
}
console.log(JSON.stringify(out));
