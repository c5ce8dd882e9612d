#!/usr/bin/env python3
"""Train the byte-level BPE on (a sample of) the train split; write tokenizer.json files
for each requested vocabulary size (smaller sizes are prefixes of the larger merge list)."""
import argparse, json, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe

ap = argparse.ArgumentParser()
ap.add_argument("--corpus", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--sizes", default="16384")
ap.add_argument("--sample-mb", type=float, default=50)
a = ap.parse_args()
sizes = sorted(int(x) for x in a.sizes.split(","))
texts, tot = [], 0
docs = [json.loads(l) for l in open(os.path.join(a.corpus, "train.jsonl"))]
# take every k-th document so every language is represented
allb = sum(len(d["text"]) for d in docs)
step = max(1, int(allb / (a.sample_mb * 1e6) + 0.999))
texts = [d["text"] for d in docs[::step]]
print("docs", len(texts), "chars", sum(map(len, texts)), flush=True)
t = time.time()
tb, merges = bpe.train(texts, sizes[-1], log=lambda s: print(s, flush=True))
print("trained in %.0fs: %d tokens %d merges" % (time.time() - t, len(tb), len(merges)), flush=True)
os.makedirs(a.out, exist_ok=True)
for v in sizes:
    n_tok = v - len(bpe.SPECIALS)
    tbv = tb[:n_tok]
    # tokens are created in merge order (a merge may reuse an existing token), so keep
    # exactly the merges whose operands and result all lie below the cut
    tok_id = {b: i for i, b in enumerate(tb)}
    keep = [(x, y) for x, y in merges if x < n_tok and y < n_tok and tok_id[tb[x] + tb[y]] < n_tok]
    tj = bpe.tokenizer_json(tbv, keep)
    p = os.path.join(a.out, "tokenizer-%d.json" % v)
    json.dump(tj, open(p, "w", encoding="utf-8"), ensure_ascii=False)
    print("wrote", p, len(tj["model"]["vocab"]), "merges", len(keep), flush=True)
