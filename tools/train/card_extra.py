#!/usr/bin/env python3
"""Extra MODEL_CARD sections for the shipped model: size/quality trade-off across the
sizes trained, tokenizer-size measurement, the GPU run, and the held-out set definition.
usage: card_extra.py out.json --compression c.json --latency lat.json --contaminated raw_bpb.json
       --row NAME:eval.json:train_log.json:latency_index[:int8_latency_index] ..."""
import argparse, json

LANGS = ["python", "javascript", "typescript", "markdown"]


def table(header, rows):
    """A Markdown table: header row, separator, one line per row of cells."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--compression")
ap.add_argument("--latency")
ap.add_argument("--contaminated")
ap.add_argument("--clean-stats")
ap.add_argument("--row", action="append", default=[])
a = ap.parse_args()
lat = json.load(open(a.latency)) if a.latency else []
S = []
S += ["## Size / quality trade-off", "",
      "Same corpus, tokenizer and objective. Bits/byte: float weights in onnxruntime-node on the same held-out token ids for every model "
      "(`onnx_bpb.mjs`; the held-out files in order up to 150 kB per language). FIM EM: strict / editor-style line stop (see above), 200 cases. "
      "Latency: onnxruntime-node, 1 intra-op thread, 512-token prefill / one cached decode step in ms, minimum over 10 interleaved rounds "
      "(`bench_models.mjs`) on this shared 2-core machine (other jobs running; load average ~4).", ""]
rows = []
for r in a.row:
    parts = r.split(":")
    name, evp, logp = parts[0], parts[1], parts[2]
    fi = int(parts[3]) if len(parts) > 3 and parts[3] != "" else None
    qi = int(parts[4]) if len(parts) > 4 and parts[4] != "" else None
    ev = json.load(open(evp))
    tl = json.load(open(logp))
    cfg = tl["cfg"]
    nparams = ev.get("train_meta", {}).get("n_params")
    if nparams is None:
        d, L, V = cfg["d_model"], cfg["n_layer"], cfg["vocab_size"]
        nparams = V * d + L * (12 * d * d + 2 * d) + d
    f = lambda i: "%.0f / %.1f" % (lat[i]["prefill512_min_ms"], lat[i]["decode_min_ms"]) if i is not None and i < len(lat) else "-"
    vl = tl.get("val_loss")
    rows.append(["%s (%dL, d%d)" % (name, cfg["n_layer"], cfg["d_model"]), "%.1fM" % (nparams / 1e6), "%.0f s on %s, %.2fM tokens" % (tl["train_seconds"], tl["device"], tl["tokens"] / 1e6), "%.3f" % vl]
                + ["%.3f" % ev["bpb"][l]["bits_per_byte"] if l in ev["bpb"] else "-" for l in LANGS]
                + ["%.1f%% / %.1f%%" % (100 * ev["fim"]["exact_match"], 100 * ev["fim"].get("exact_match_line_stop", 0)), f(fi), f(qi)])
S += table(["model", "params", "training", "val loss (nats/token)"] + LANGS + ["FIM EM", "float ms", "int8 ms"], rows)
S += ["", "Of the sizes probed with random-weight exports (4-10 layers, d256-d512), the 8-layer d384 model is the largest that meets the CPU budget (<= 150 ms prefill, <= 10 ms decode), and only as int8; in float it "
      "needs about twice the prefill time (the 6-layer d256 model meets the budget in float and is the fallback). Against the 6-layer d256 model (trained 170 s instead of 470 s) it gains in validation loss "
      "(1.45 vs 1.69 nats/token) and in bits/byte on Python, TypeScript and Markdown, not on JavaScript (whose held-out bytes are dominated by one "
      "large file, `valibot/dist/index.cjs`), and not measurably in FIM exact match at n = 200.", ""]
if a.compression:
    c = json.load(open(a.compression))
    S += ["## Tokenizer", "",
          "Byte-level BPE trained by `tools/train/bpe.py` on a 50 MB sample of the train split (one merge list; the 4k and 8k vocabularies are prefixes of the 16k one). "
          "Pre-tokenizer: the cl100k/Llama-3 regex (HF `Split`, Isolated) then `ByteLevel` (no prefix space, GPT-2 byte map). "
          "Special tokens (ids 8186-8191): `<|fim_prefix|>`, `<|fim_suffix|>`, `<|fim_middle|>`, `<|fim_end|>`, `<|endoftext|>`, `<|file_sep|>`. "
          "Ids are checked identical to `@huggingface/tokenizers` on `tools/train/golden_ids.json`.", "",
          "Bytes per token on the validation split:", ""]
    S += table(["vocabulary"] + LANGS, [[v] + ["%.2f" % r[l] for l in LANGS] for v, r in sorted(c.items(), key=lambda kv: int(kv[0]))])
    S += ["", "Choice: **8192**. The prefill budget (512 tokens in <= 150 ms on one core) is dominated by matrix products, and the output "
          "projection over the vocabulary is computed for every prefill position: on a 4-layer d256 probe, prefill took 65 / 94 / 111 ms with "
          "4k / 8k / 16k vocabularies (same machine, same hour), while 16k saves only ~8% of tokens over 8k. Spending that compute on "
          "depth/width buys more than the extra compression.", ""]
S += ["## Training run (GPU)", "",
      "`tools/train/gpu_run.sh L8d384 470 520 128` on one NVIDIA H200 (torch 2.11 + CUDA 13, bf16 autocast, flash SDPA, torch.compile), "
      "AdamW (0.9, 0.95), weight decay 0.1, lr 2e-3 with 200 warm-up steps and cosine decay to 5% over the wall-clock budget, "
      "batch 128 x 1024 tokens, residual dropout 0.1, gradient clip 1.0; 1.8M tokens/s; 6450 steps = 845M tokens = ~10 passes over the "
      "83M packed tokens (two different random FIM/plain draws of each training file). Weights kept = best validation loss (step 6323). "
      "The packed corpus (uint16 ids, xz, 45 MB) travels to the GPU machine; the 16 MB fp16 weight pieces come back and are exported on the CPU.", ""]
if a.clean_stats:
    cs = json.load(open(a.clean_stats))
    S += ["## Held-out set", "",
          "The file-level test split turned out to contain near-duplicates of training files (ESM and CommonJS builds of the same module, "
          "vendored copies, `.d.ts` next to `.ts`), which made bits/byte look far better than it is. All held-out numbers in this card therefore use "
          "`test_clean.jsonl` (`tools/train/decontaminate.py`): test-split files of which fewer than %d%% of the long lines (>= %d chars, stripped) occur anywhere in "
          "the train split, plus files from npm packages that are not in the corpus at all (`tools/train/fresh_heldout.py`, "
          "`heldout-packages.json`), filtered the same way. Selection depends only on the data, not on model outputs." % (100 * cs["threshold"], cs["min_line_chars"]), ""]
    fr = cs.get("fresh_npm", {}).get("bytes_per_lang", {})
    per = {l: cs["per_lang"].get(l, {}) for l in LANGS}
    S += table(["language", "test-split files", "kept", "+ files from unseen packages (bytes)"],
               [[l, str(per[l].get("files", 0)), str(per[l].get("kept", 0)), str(fr.get(l, 0))] for l in LANGS])
    S += ["", "Unseen packages used: " + ", ".join(sorted(cs.get("fresh_npm", {}).get("packages", {}).keys())) + ".", ""]
if a.contaminated:
    raw = json.load(open(a.contaminated))
    S += ["For reference, on the raw (contaminated) test split the same model scores " + ", ".join("%s %.3f" % (l, raw[l]["bits_per_byte"]) for l in LANGS if l in raw)
          + " bits/byte (onnxruntime, up to 150 kB per language) -- numbers that should not be quoted as held-out quality.", ""]
json.dump({"sections": S}, open(a.out, "w"), indent=1, ensure_ascii=False)
print("\n".join(S))
