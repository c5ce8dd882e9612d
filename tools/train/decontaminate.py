#!/usr/bin/env python3
"""Held-out files that are near-duplicates of training files (another build of the same
module: ESM vs CJS, a vendored copy, a version bump) make bits/byte look far better than
it is. Writes <corpus>/test_clean.jsonl: the test files whose long lines (>= 16 chars after
stripping) mostly do NOT occur anywhere in the train split. Selection uses only the data."""
import hashlib, json, os, sys

MIN_LEN = 16


def keys(text):
    for l in text.split("\n"):
        s = l.strip()
        if len(s) >= MIN_LEN:
            yield int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little")


def main():
    corpus = sys.argv[1]
    thr = float(sys.argv[2]) if len(sys.argv) > 2 else 0.25
    seen = set()
    for l in open(os.path.join(corpus, "train.jsonl")):
        seen.update(keys(json.loads(l)["text"]))
    kept, stats = [], {}
    for l in open(os.path.join(corpus, "test.jsonl")):
        d = json.loads(l)
        ks = list(keys(d["text"]))
        ov = sum(k in seen for k in ks) / max(1, len(ks))
        s = stats.setdefault(d["lang"], {"files": 0, "kept": 0, "bytes_kept": 0})
        s["files"] += 1
        if ov < thr and ks:
            d["train_line_overlap"] = round(ov, 3)
            kept.append(d)
            s["kept"] += 1
            s["bytes_kept"] += len(d["text"].encode())
    with open(os.path.join(corpus, "test_clean.jsonl"), "w") as f:
        for d in kept:
            f.write(json.dumps(d) + "\n")
    json.dump({"threshold": thr, "min_line_chars": MIN_LEN, "per_lang": stats}, open(os.path.join(corpus, "test_clean_stats.json"), "w"), indent=1)
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
