// Side-by-side latency of several ONNX models in onnxruntime-node (1 intra-op thread),
// interleaved round by round so that load from other processes hits all models alike.
// usage: node bench_models.mjs rounds a.onnx:heads:headDim b.onnx:heads:headDim ...
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const ort = require("onnxruntime-node");
const [roundsArg, ...specs] = process.argv.slice(2);
const rounds = Number(roundsArg);
const models = [];
for (const spec of specs) {
  const [path, H, HD] = spec.split(":");
  const sess = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: "all" });
  const nLayer = sess.inputNames.filter((n) => n.startsWith("past_key_values.")).length / 2;
  models.push({ path, sess, H: Number(H), HD: Number(HD), nLayer, prefill: [], decode: [] });
}
function feeds(m, ids, past, pastLen) {
  const s = ids.length;
  const f = {
    input_ids: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [1, s]),
    attention_mask: new ort.Tensor("int64", new BigInt64Array(pastLen + s).fill(1n), [1, pastLen + s]),
    position_ids: new ort.Tensor("int64", BigInt64Array.from(ids.map((_, i) => BigInt(pastLen + i))), [1, s]),
  };
  for (let l = 0; l < m.nLayer; l++) for (const kv of ["key", "value"]) {
    f[`past_key_values.${l}.${kv}`] = past ? past[`present.${l}.${kv}`] : new ort.Tensor("float32", new Float32Array(0), [1, m.H, 0, m.HD]);
  }
  // generation needs the last position's logits only (graphs made with logits_keep.py)
  if (m.sess.inputNames.includes("num_logits_to_keep")) f.num_logits_to_keep = new ort.Tensor("int64", BigInt64Array.of(1n), []);
  return f;
}
const ids = Array.from({ length: 512 }, (_, i) => (i * 7919) % 1000);
for (const m of models) await m.sess.run(feeds(m, ids, null, 0)); // warm-up
for (let r = 0; r < rounds; r++) {
  for (const m of models) {
    let t = performance.now();
    let out = await m.sess.run(feeds(m, ids, null, 0));
    m.prefill.push(performance.now() - t);
    let len = 512;
    const steps = [];
    for (let i = 0; i < 16; i++) {
      t = performance.now();
      out = await m.sess.run(feeds(m, [7], out, len));
      steps.push(performance.now() - t);
      len++;
    }
    steps.sort((a, b) => a - b);
    m.decode.push(steps[steps.length >> 1]);
  }
}
const q = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const res = models.map((m) => ({ model: m.path, prefill512_min_ms: q(m.prefill, 0), prefill512_median_ms: q(m.prefill, 0.5),
  decode_min_ms: q(m.decode, 0), decode_median_ms: q(m.decode, 0.5) }));
console.log(JSON.stringify(res, null, 1));
