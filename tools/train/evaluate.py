#!/usr/bin/env python3
"""Held-out evaluation on the TEST split (never used for training or tokenizer):
bits per byte per language (PyTorch model), an order-3 byte n-gram baseline, FIM exact
match on random-character cuts, and greedy completions."""
import json, math, os, random, sys, time
import numpy as np
import torch
import torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe
from prepare_data import chunks

LANGS = ["python", "javascript", "typescript", "markdown"]


def load_docs(corpus, split="test"):
    """Held-out evaluation uses test_clean.jsonl (decontaminate.py) when present."""
    p = os.path.join(corpus, split + "_clean.jsonl")
    if not os.path.exists(p):
        p = os.path.join(corpus, split + ".jsonl")
    return [json.loads(l) for l in open(p)]


@torch.no_grad()
def bits_per_byte(model, tok, docs, ctx=1024, max_bytes_per_lang=400_000):
    eot = tok.special["<|endoftext|>"]
    res = {}
    for lang in LANGS:
        nll, nb = 0.0, 0
        for d in docs:
            if d["lang"] != lang or nb >= max_bytes_per_lang:
                continue
            ids = [eot] + tok.encode(d["text"])
            nb += len(d["text"].encode("utf-8"))
            # windows of ctx tokens; after the first, keep ctx/2 tokens of context
            start = 0
            scored = 1  # ids[0] is the context-only EOT
            while scored < len(ids):
                lo = max(0, scored - ctx // 2) if scored > 1 else 0
                hi = min(len(ids), lo + ctx)
                x = torch.tensor(ids[lo:hi])[None]
                logits = model.forward_train(x, use_sdpa=False)[0].float()
                lp = F.log_softmax(logits, -1)
                tgt = torch.tensor(ids[lo + 1:hi])
                tl = -lp[:-1].gather(1, tgt[:, None])[:, 0]
                # positions predicting ids[scored..hi-1]
                nll += tl[scored - lo - 1:].sum().item()
                scored = hi
        if nb:
            res[lang] = {"bits_per_byte": nll / math.log(2) / nb, "bytes": nb}
    return res


def cap_docs(docs, max_bytes_per_lang):
    """The documents dump_ids selects: per language, in file order, until the cap is reached."""
    out, nb = [], {}
    for lang in LANGS:
        for d in docs:
            if d["lang"] != lang or nb.get(lang, 0) >= max_bytes_per_lang:
                continue
            nb[lang] = nb.get(lang, 0) + len(d["text"].encode("utf-8"))
            out.append(d)
    return out


def dump_ids(tok, docs, path, max_bytes_per_lang=200_000, ctx=1024):
    """Token ids of the test docs (same selection as bits_per_byte) for onnx_bpb.mjs."""
    eot = tok.special["<|endoftext|>"]
    out, nb = [], {}
    for lang in LANGS:
        for d in docs:
            if d["lang"] != lang or nb.get(lang, 0) >= max_bytes_per_lang:
                continue
            b = len(d["text"].encode("utf-8"))
            nb[lang] = nb.get(lang, 0) + b
            out.append({"lang": lang, "ids": [eot] + tok.encode(d["text"]), "bytes": b})
    json.dump({"ctx": ctx, "docs": out}, open(path, "w"))


def ngram_baseline(corpus, test_docs, order=3, max_train_bytes=60_000_000):
    """Witten-Bell interpolated byte n-gram with `order` bytes of context."""
    tr = []
    tot = 0
    for l in open(os.path.join(corpus, "train.jsonl")):
        b = json.loads(l)["text"].encode("utf-8")
        tr.append(b)
        tot += len(b)
        if tot > max_train_bytes:
            break
    data = np.frombuffer(b"\x00\x00\x00".join(tr), dtype=np.uint8).astype(np.uint64)
    tables = []
    for k in range(1, order + 1):
        # code = ctx (k bytes) << 8 | next
        code = np.zeros(len(data) - k, dtype=np.uint64)
        for j in range(k):
            code = (code << np.uint64(8)) | data[j:len(data) - k + j]
        code = (code << np.uint64(8)) | data[k:]
        u, c = np.unique(code, return_counts=True)
        ctx = u >> np.uint64(8)
        cu, first, ccount = np.unique(ctx, return_index=True, return_counts=True)
        csum = np.add.reduceat(c, first)
        tables.append((u, c, cu, csum, ccount))
    uni = np.bincount(data.astype(np.int64), minlength=256).astype(np.float64)
    p0 = (uni + 1) / (uni.sum() + 256)

    def lookup(tab, ctxcode, full):
        u, c, cu, csum, cdist = tab
        i = np.searchsorted(cu, ctxcode)
        i = np.minimum(i, len(cu) - 1)
        has = cu[i] == ctxcode
        cs = np.where(has, csum[i], 0).astype(np.float64)
        td = np.where(has, cdist[i], 0).astype(np.float64)
        j = np.minimum(np.searchsorted(u, full), len(u) - 1)
        cf = np.where(u[j] == full, c[j], 0).astype(np.float64)
        return cf, cs, td

    res = {}
    for lang in LANGS:
        bs = [d["text"].encode("utf-8") for d in test_docs if d["lang"] == lang]
        if not bs:
            continue
        bits, n = 0.0, 0
        for b in bs:
            x = np.frombuffer(b"\x00\x00\x00" + b, dtype=np.uint8).astype(np.uint64)
            nxt = x[3:]
            p = p0[nxt.astype(np.int64)]
            for k in range(1, order + 1):
                ctx = np.zeros(len(nxt), dtype=np.uint64)
                for j in range(k):
                    ctx = (ctx << np.uint64(8)) | x[3 - k + j:len(x) - k + j]
                full = (ctx << np.uint64(8)) | nxt
                cf, cs, td = lookup(tables[k - 1], ctx, full)
                p = np.where(cs > 0, (cf + td * p) / np.maximum(cs + td, 1), p)
            bits += -np.log2(p).sum()
            n += len(b)
        res[lang] = {"bits_per_byte": bits / n, "bytes": n}
    return res


class Runner:
    """Greedy decoding with the KV-cache forward (same graph as the ONNX export)."""

    def __init__(self, model):
        self.m = model
        self.L = model.cfg["n_layer"]
        self.H = model.cfg["n_head"]
        self.hd = model.cfg["d_model"] // self.H

    @torch.no_grad()
    def step(self, ids, past, pos):
        x = torch.tensor(ids)[None]
        if past is None:
            past = [torch.zeros(1, self.H, 0, self.hd) for _ in range(2 * self.L)]
        P = past[0].shape[2]
        am = torch.ones(1, P + len(ids), dtype=torch.long)
        pid = torch.arange(pos, pos + len(ids))[None]
        out = self.m(x, am, pid, *past)
        return out[0][0, -1].float(), list(out[1:])


def generate(runner, tok, prompt_ids, heal=b"", max_bytes=120, stop_newlines=3, end_ids=()):
    """Greedy; `heal` bytes must be produced first (token healing). Returns (bytes, ended)."""
    ctx = 1024
    prompt_ids = prompt_ids[-(ctx - 64):]
    logits, past = runner.step(prompt_ids, None, 0)
    pos = len(prompt_ids)
    out = b""
    idb = tok.id_to_bytes
    for _ in range(64):
        if len(heal) > len(out):
            rem = heal[len(out):]
            order = torch.argsort(logits, descending=True).tolist()
            t = None
            for c in order:
                b = idb.get(c)
                if b and (b.startswith(rem) or rem.startswith(b)):
                    t = c
                    break
        else:
            t = int(torch.argmax(logits))
        if t in end_ids:
            return out, True
        out += idb.get(t, b"")
        if len(out) > max_bytes + len(heal) or out.count(b"\n") >= stop_newlines:
            return out, False
        logits, past = runner.step([t], past, pos)
        pos += 1
        if pos >= ctx:
            break
    return out, False


def heal_split(text):
    """Back off to the start of the last pre-token: (stable_text, healed_tail)."""
    pieces = bpe.PAT.findall(text)
    if not pieces:
        return text, ""
    tail = pieces[-1]
    return text[:len(text) - len(tail)], tail


def fim_exact_match(model, tok, docs, n=200, seed=7, chunk=3000):
    rng = random.Random(seed)
    sp = tok.special
    runner = Runner(model)
    cands = [d for d in docs if d["lang"] in LANGS[:3]]
    hits, hits_line, tot, per = 0, 0, 0, {}
    examples = []
    while tot < n:
        d = rng.choice(cands)
        ch = rng.choice(chunks(d["text"], chunk))
        if len(ch) < 20:
            continue
        i = rng.randrange(1, len(ch) - 1)
        j = ch.find("\n", i)
        if j < 0:
            j = len(ch)
        mid = ch[i:j]
        if not mid.strip() or len(mid) > 80:
            continue
        prefix, suffix = ch[:i], ch[j:]
        stable, tail = heal_split(prefix)
        prompt = [sp["<|fim_prefix|>"], sp["<|fim_suffix|>"]] + tok.encode(suffix)[:400] + [sp["<|fim_middle|>"]] + tok.encode(stable)
        out, ended = generate(runner, tok, prompt, heal=tail.encode(), max_bytes=len(mid.encode()) + 8,
                              stop_newlines=1, end_ids=(sp["<|fim_end|>"], sp["<|endoftext|>"]))
        gen = out[len(tail.encode()):]
        ok = ended and gen == mid.encode()
        # editor-style single-line completion: stop at <|fim_end|> or at the first newline.
        # (Greedy token decoding often prefers a merged token like ";\n" over ";" + <|fim_end|>;
        # the byte-level engine resolves that boundary, plain greedy cannot.)
        line = gen if ended else gen.split(b"\n")[0]
        ok_line = (ended or b"\n" in gen) and line == mid.encode()
        hits += ok
        hits_line += ok_line
        tot += 1
        r = per.setdefault(d["lang"], [0, 0, 0])
        r[0] += ok
        r[1] += 1
        r[2] += ok_line
        if len(examples) < 5:
            examples.append({"path": d["path"], "prefix_tail": prefix[-60:], "middle": mid, "generated": gen.decode("utf-8", "replace"),
                             "suffix_head": suffix[:40], "exact": bool(ok), "exact_line_stop": bool(ok_line)})
    return {"exact_match": hits / tot, "exact_match_line_stop": hits_line / tot, "n": tot,
            "per_lang": {k: v[0] / v[1] for k, v in per.items()}, "per_lang_line_stop": {k: v[2] / v[1] for k, v in per.items()},
            "examples": examples}


def completions(model, tok, docs, k=10, seed=11):
    """k held-out prompts chosen by a fixed seed before any output is seen."""
    rng = random.Random(seed)
    runner = Runner(model)
    sp = tok.special
    res = []
    cands = [d for d in docs if d["lang"] in LANGS[:3]]
    while len(res) < k:
        d = rng.choice(cands)
        t = d["text"]
        if len(t) < 400:
            continue
        i = rng.randrange(200, len(t) - 100)
        prefix = t[max(0, i - 1500):i]
        fim = len(res) % 2 == 1
        stable, tail = heal_split(prefix)
        if fim:
            j = t.find("\n", i)
            j = len(t) if j < 0 else j
            suffix = t[j:j + 1500]
            prompt = [sp["<|fim_prefix|>"], sp["<|fim_suffix|>"]] + tok.encode(suffix) + [sp["<|fim_middle|>"]] + tok.encode(stable)
            out, _ = generate(runner, tok, prompt, heal=tail.encode(), max_bytes=160, stop_newlines=2,
                              end_ids=(sp["<|fim_end|>"], sp["<|endoftext|>"]))
        else:
            prompt = [sp["<|endoftext|>"]] + tok.encode(stable)
            out, _ = generate(runner, tok, prompt, heal=tail.encode(), max_bytes=160, stop_newlines=3,
                              end_ids=(sp["<|endoftext|>"],))
        gen = out[len(tail.encode()):].decode("utf-8", "replace")
        res.append({"mode": "FIM" if fim else "left-to-right", "path": d["path"], "prompt_tail": prefix[-160:],
                    "completion": gen, "actual": t[i:i + len(gen) + 20]})
    return res


if __name__ == "__main__":
    import argparse
    from train import load_pieces
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fim-n", type=int, default=200)
    ap.add_argument("--bpb-bytes", type=int, default=400_000)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--baseline-only", action="store_true")
    ap.add_argument("--fim-only", action="store_true")
    ap.add_argument("--baseline-train-mb", type=float, default=60)
    ap.add_argument("--cap-bytes", type=int, default=0, help="per language, select test docs like dump_ids (same subset as onnx_bpb)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    tok = bpe.Tokenizer(a.tokenizer)
    docs = load_docs(a.corpus)
    if a.cap_bytes:
        docs = cap_docs(docs, a.cap_bytes)
    res = {}
    if not a.no_baseline:
        t = time.time()
        res["ngram3"] = ngram_baseline(a.corpus, docs, max_train_bytes=int(a.baseline_train_mb * 1e6))
        print("ngram", res["ngram3"], "%.0fs" % (time.time() - t), flush=True)
    if a.fim_only:
        model, meta = load_pieces(a.run)
        model.eval()
        res["fim"] = fim_exact_match(model, tok, docs, n=a.fim_n)
        print("fim", res["fim"]["exact_match"], res["fim"]["exact_match_line_stop"], flush=True)
    elif not a.baseline_only:
        model, meta = load_pieces(a.run)
        model.eval()
        t = time.time()
        res["bpb"] = bits_per_byte(model, tok, docs, max_bytes_per_lang=a.bpb_bytes)
        print("bpb", res["bpb"], "%.0fs" % (time.time() - t), flush=True)
        t = time.time()
        res["fim"] = fim_exact_match(model, tok, docs, n=a.fim_n)
        print("fim", res["fim"]["exact_match"], res["fim"]["per_lang"], "%.0fs" % (time.time() - t), flush=True)
        res["completions"] = completions(model, tok, docs)
    json.dump(res, open(a.out, "w"), indent=1, ensure_ascii=False)
