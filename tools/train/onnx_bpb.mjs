// Bits per byte of an ONNX model in onnxruntime-node on pre-tokenized documents
// (written by evaluate.py --dump-ids), with the same windowing as evaluate.py.
// usage: node onnx_bpb.mjs model.onnx docs.json heads head_dim
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const ort = require("onnxruntime-node");
const [modelPath, docsPath, H, HD] = process.argv.slice(2);
const sess = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: "all" });
const nLayer = sess.inputNames.filter((n) => n.startsWith("past_key_values.")).length / 2;
const { ctx, docs } = JSON.parse(readFileSync(docsPath, "utf8"));
const res = {};
for (const d of docs) {
  const ids = d.ids;
  let nll = 0;
  let scored = 1;
  while (scored < ids.length) {
    const lo = scored > 1 ? Math.max(0, scored - ctx / 2) : 0;
    const hi = Math.min(ids.length, lo + ctx);
    const s = hi - lo;
    const f = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids.slice(lo, hi).map(BigInt)), [1, s]),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(s).fill(1n), [1, s]),
      position_ids: new ort.Tensor("int64", BigInt64Array.from({ length: s }, (_, i) => BigInt(i)), [1, s]),
    };
    // every position is scored: keep all logits (0) on graphs with num_logits_to_keep
    if (sess.inputNames.includes("num_logits_to_keep")) f.num_logits_to_keep = new ort.Tensor("int64", BigInt64Array.of(0n), []);
    for (let l = 0; l < nLayer; l++) for (const kv of ["key", "value"]) f[`past_key_values.${l}.${kv}`] = new ort.Tensor("float32", new Float32Array(0), [1, Number(H), 0, Number(HD)]);
    const out = await sess.run(f);
    const V = out.logits.dims[2];
    const L = out.logits.data;
    for (let p = scored - lo - 1; p < s - 1; p++) {
      let m = -Infinity;
      for (let v = 0; v < V; v++) m = Math.max(m, L[p * V + v]);
      let z = 0;
      for (let v = 0; v < V; v++) z += Math.exp(L[p * V + v] - m);
      nll += Math.log(z) + m - L[p * V + ids[lo + p + 1]];
    }
    scored = hi;
  }
  const r = (res[d.lang] ??= { nll: 0, bytes: 0 });
  r.nll += nll; r.bytes += d.bytes;
}
const outp = {};
for (const [k, v] of Object.entries(res)) outp[k] = { bits_per_byte: v.nll / Math.LN2 / v.bytes, bytes: v.bytes };
console.log(JSON.stringify(outp));
