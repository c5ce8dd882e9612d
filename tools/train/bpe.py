#!/usr/bin/env python3
"""Byte-level BPE: trainer, encoder/decoder and Hugging Face tokenizer.json writer.

Encoding = split text with the cl100k/Llama-3 pre-tokenizer regex, map each piece's
UTF-8 bytes to GPT-2's printable byte alphabet, then within each piece repeatedly
merge the adjacent pair with the lowest merge rank (all its non-overlapping
occurrences, left to right), exactly like HF tokenizers' BPE model.
"""
import collections, heapq, json
import regex

PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
PAT = regex.compile(PATTERN)
SPECIALS = ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_end|>", "<|endoftext|>", "<|file_sep|>"]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


B2U = bytes_to_unicode()
U2B = {v: k for k, v in B2U.items()}


def pretokenize(text):
    return PAT.findall(text)


def train(texts, vocab_size, min_freq=2, log=print):
    """texts: iterable of str. vocab_size counts bytes + merged tokens + specials."""
    counts = collections.Counter()
    for t in texts:
        counts.update(PAT.findall(t))
    log("unique pre-tokens: %d" % len(counts))
    # symbols are ints; 0..255 are bytes
    tok_bytes = [bytes([i]) for i in range(256)]
    tok_id = {b: i for i, b in enumerate(tok_bytes)}
    words, freqs = [], []
    for w, c in counts.items():
        if c < min_freq and len(w) > 1:
            continue
        b = w.encode("utf-8")
        if len(b) < 2:
            continue
        words.append(list(b))
        freqs.append(c)
    pair_count = collections.Counter()
    where = collections.defaultdict(set)
    for i, (w, f) in enumerate(zip(words, freqs)):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += f
            where[(a, b)].add(i)
    heap = [(-c, tok_bytes[p[0]], tok_bytes[p[1]], p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    target = vocab_size - len(SPECIALS)
    while len(tok_bytes) < target and heap:
        negc, _, _, p = heapq.heappop(heap)
        c = pair_count.get(p, 0)
        if c != -negc:
            if c > 0:
                heapq.heappush(heap, (-c, tok_bytes[p[0]], tok_bytes[p[1]], p))
            continue
        if c < min_freq:
            break
        a, b = p
        nb = tok_bytes[a] + tok_bytes[b]
        if nb in tok_id:
            new = tok_id[nb]
        else:
            new = len(tok_bytes)
            tok_bytes.append(nb)
            tok_id[nb] = new
        merges.append((a, b))
        changed = collections.Counter()
        for wi in where.pop(p, ()):
            w = words[wi]
            f = freqs[wi]
            i = 0
            out = []
            n = len(w)
            # remove old pair counts of this word, then re-add after merging
            for x, y in zip(w, w[1:]):
                changed[(x, y)] -= f
            while i < n:
                if i < n - 1 and w[i] == a and w[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[wi] = out
            for x, y in zip(out, out[1:]):
                changed[(x, y)] += f
                where[(x, y)].add(wi)
        for q, d in changed.items():
            if d == 0:
                continue
            nc = pair_count.get(q, 0) + d
            if nc <= 0:
                pair_count.pop(q, None)
            else:
                pair_count[q] = nc
                if d > 0:
                    heapq.heappush(heap, (-nc, tok_bytes[q[0]], tok_bytes[q[1]], q))
        pair_count.pop(p, None)
        if len(merges) % 1000 == 0:
            log("merges %d vocab %d last %r count %d" % (len(merges), len(tok_bytes), nb, c))
    return tok_bytes, merges


def to_str(b):
    return "".join(B2U[x] for x in b)


def tokenizer_json(tok_bytes, merges):
    vocab = {to_str(b): i for i, b in enumerate(tok_bytes)}
    n = len(tok_bytes)
    added = []
    for k, s in enumerate(SPECIALS):
        vocab[s] = n + k
        added.append({"id": n + k, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True})
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": PATTERN}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab,
                  "merges": [to_str(tok_bytes[a]) + " " + to_str(tok_bytes[b]) for a, b in merges]},
    }


class Tokenizer:
    def __init__(self, path=None, tj=None):
        tj = tj or json.load(open(path, encoding="utf-8"))
        m = tj["model"]
        self.vocab = m["vocab"]
        self.id_to_bytes = {}
        for s, i in self.vocab.items():
            if s in SPECIALS:
                continue
            self.id_to_bytes[i] = bytes(U2B[ch] for ch in s)
        self.bytes_to_id = {b: i for i, b in self.id_to_bytes.items()}
        self.ranks = {}
        for r, mg in enumerate(m["merges"]):
            a, b = mg.split(" ") if isinstance(mg, str) else mg
            ia = self.vocab[a]
            ib = self.vocab[b]
            self.ranks[(ia, ib)] = (r, self.vocab[a + b])
        self.special = {t["content"]: t["id"] for t in tj["added_tokens"]}
        self.n_vocab = max(max(self.vocab.values()), max(self.special.values())) + 1
        self.cache = {}

    def _bpe(self, piece):
        ids = list(piece.encode("utf-8"))
        ranks = self.ranks
        while len(ids) > 1:
            best = None
            for x, y in zip(ids, ids[1:]):
                r = ranks.get((x, y))
                if r is not None and (best is None or r[0] < best[0]):
                    best = r
                    bp = (x, y)
            if best is None:
                break
            a, b = bp
            new = best[1]
            out = []
            i = 0
            n = len(ids)
            while i < n:
                if i < n - 1 and ids[i] == a and ids[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            ids = out
        return ids

    def encode(self, text):
        out = []
        cache = self.cache
        for p in PAT.findall(text):
            r = cache.get(p)
            if r is None:
                r = self._bpe(p)
                if len(cache) < 2_000_000:
                    cache[p] = r
            out.extend(r)
        return out

    def decode_bytes(self, ids):
        return b"".join(self.id_to_bytes.get(i, b"") for i in ids)

    def decode(self, ids):
        return self.decode_bytes(ids).decode("utf-8", errors="replace")
