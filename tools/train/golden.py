#!/usr/bin/env python3
"""Write golden token ids (Python encoder) for test-split files and tricky strings."""
import json, os, sys, random
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe

TRICKY = [
    "def f(x):\r\n\treturn x  # CRLF and tab\r\n",
    "\t\t\tindent\twith\ttabs\n\n\n",
    "x" + " " * 37 + "y\n" + " " * 64 + "\n",
    "    \n        \n\n    return",
    "emoji 😀👍🏽 🧑‍💻 family 👨‍👩‍👧‍👦!",
    "中文注释：计算总和 // 日本語のコメント 한국어",
    "I'm can't we'LL they've HE'S it'd",
    "12345678901 3.14159 0xFFee 1e-10 1_000_000",
    "a\u00a0b\u2003c\u200bd — “quotes” ‘single’ …",
    "café naïve Ünïcödé ß ẞ İı",
    "const s = `${a}${b}`;;;;;;;;;;\n}}}}\n]]]]))))\n",
    "\r\r\n\n\r \r\n \n  ",
    "",
    " ",
    "<div class=\"x\">&amp;</div>",
    "x=1\n" * 3 + "    " * 10 + "end",
]


def main():
    tokp, corpus, out = sys.argv[1], sys.argv[2], sys.argv[3]
    tok = bpe.Tokenizer(tokp)
    items = [{"name": "tricky-%d" % i, "text": t} for i, t in enumerate(TRICKY)]
    docs = [json.loads(l) for l in open(os.path.join(corpus, "test.jsonl"))]
    rng = random.Random(5)
    by_lang = {}
    for d in docs:
        by_lang.setdefault(d["lang"], []).append(d)
    for lang in sorted(by_lang):
        for d in rng.sample(by_lang[lang], min(2, len(by_lang[lang]))):
            t = d["text"][:3000]
            items.append({"name": "%s:%s" % (lang, d["path"]), "text": t})
    for it in items:
        it["ids"] = tok.encode(it["text"])
        assert tok.decode_bytes(it["ids"]) == it["text"].encode("utf-8")
    json.dump({"tokenizer": os.path.basename(tokp), "note": "ids from tools/train/bpe.py; text has no special tokens",
               "cases": items}, open(out, "w", encoding="utf-8"), ensure_ascii=False, indent=0)
    print("wrote", out, len(items), "cases")


if __name__ == "__main__":
    main()
