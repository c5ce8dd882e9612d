#!/usr/bin/env python3
"""Encode the corpus into packed token streams for training.

Each train document becomes, with probability 1/2, a plain left-to-right sample
    enc(doc) <|endoftext|>
and otherwise is cut into chunks of at most --chunk chars (at line ends), each chunk
turned into a character-level FIM sample in the suffix-first ("SPM") order:
    <|fim_prefix|><|fim_suffix|> enc(suffix) <|fim_middle|> enc(prefix+middle) <|fim_end|>
where the split point is a random CHARACTER of the chunk, so prefix+middle (encoded as
one string) may end inside what would otherwise be a token. The start of the middle is
not visible in the sequence (prefix and middle are one stream), so one cut suffices.
Output: <out>/{train,val}.u16 (uint16 little endian), <out>/meta.json.
"""
import argparse, json, os, random, sys
from multiprocessing import Pool
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe

TOK = None


def init(tokpath):
    global TOK
    TOK = bpe.Tokenizer(tokpath)


def chunks(text, n):
    out, start = [], 0
    while start < len(text):
        end = min(len(text), start + n)
        if end < len(text):
            nl = text.rfind("\n", start + n // 2, end)
            if nl > 0:
                end = nl + 1
        out.append(text[start:end])
        start = end
    return out


def fim_sample(text, rng, sp):
    j = rng.randrange(1, len(text)) if len(text) > 1 else 0
    return [sp["<|fim_prefix|>"], sp["<|fim_suffix|>"]] + TOK.encode(text[j:]) + [sp["<|fim_middle|>"]] + \
        TOK.encode(text[:j]) + [sp["<|fim_end|>"]]


def work(args):
    idx, text, seed, fim_rate, chunk = args
    rng = random.Random(seed * 1000003 + idx)
    sp = TOK.special
    if rng.random() >= fim_rate:
        return TOK.encode(text) + [sp["<|endoftext|>"]], 0
    ids = []
    for c in chunks(text, chunk):
        ids += fim_sample(c, rng, sp)
    return ids, 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fim-rate", type=float, default=0.5)
    ap.add_argument("--chunk", type=int, default=3000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit-docs", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    meta = {"tokenizer": os.path.abspath(a.tokenizer), "fim_rate": a.fim_rate, "chunk": a.chunk, "seed": a.seed}
    with Pool(a.workers, initializer=init, initargs=(a.tokenizer,)) as pool:
        for split in ("train", "val"):
            docs = [json.loads(l)["text"] for l in open(os.path.join(a.corpus, split + ".jsonl"))]
            if a.limit_docs:
                docs = docs[:a.limit_docs]
            random.Random(a.seed).shuffle(docs)
            arrs, nfim, nbytes = [], 0, 0
            for ids, f in pool.imap(work, [(i, d, a.seed, a.fim_rate, a.chunk) for i, d in enumerate(docs)], chunksize=16):
                arrs.append(np.asarray(ids, dtype=np.uint16))
                nfim += f
            arr = np.concatenate(arrs)
            arr.tofile(os.path.join(a.out, split + ".u16"))
            nbytes = sum(len(d.encode()) for d in docs)
            meta[split] = {"docs": len(docs), "fim_docs": nfim, "tokens": int(arr.size), "bytes": nbytes}
            print(split, meta[split], flush=True)
    json.dump(meta, open(os.path.join(a.out, "meta.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
