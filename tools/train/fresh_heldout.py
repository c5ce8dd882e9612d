#!/usr/bin/env python3
"""Add extra held-out JS/TS files from npm packages that are NOT in the training corpus
(installed into a scratch folder), filtered like the corpus and decontaminated against the
train split; appended to <corpus>/test_clean.jsonl. Eval-only data: never used for training."""
import json, os, sys, collections
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus as C
from decontaminate import keys

PKGS = ["zustand", "valibot", "ts-pattern", "superstruct", "yup", "joi", "mitt", "jotai", "@tanstack/table-core",
        "@tanstack/virtual-core", "neverthrow", "remeda", "radash", "es-toolkit", "ky", "ofetch", "h3", "consola", "pinia",
        "vue-router", "@preact/signals-core", "solid-js", "lit", "mobx-state-tree", "effector", "ramda",
        "d3-array", "d3-scale", "d3-shape", "d3-force"]
PER_PKG = 60_000
PER_LANG = 250_000


def main():
    corpus, fresh_root, train_root = sys.argv[1], sys.argv[2], sys.argv[3]
    seen = set()
    for l in open(os.path.join(corpus, "train.jsonl")):
        seen.update(keys(json.loads(l)["text"]))
    nm = os.path.join(fresh_root, "node_modules")
    used_lang = collections.Counter()
    out = open(os.path.join(corpus, "test_clean.jsonl"), "a")
    added = {}
    local = set()
    for name in PKGS:
        if os.path.isdir(os.path.join(train_root, "node_modules", name)):
            continue  # present in the training corpus
        pdir = os.path.join(nm, name)
        lic, ver = C.npm_licence(pdir)
        if not lic or not C.PERMISSIVE.match(lic):
            continue
        used = 0
        for p in C.walk(pdir, skip_dirs=("node_modules", "test", "tests", "__tests__", "umd", "min")):
            lang = C.lang_of(p)
            if lang not in ("javascript", "typescript"):
                continue
            b = os.path.basename(p)
            if ".min." in b or "bundle" in b or ".prod." in b or ".development." in b:
                continue
            text = C.read(p)
            if text is None or not C.good(text, lang) or used_lang[lang] >= PER_LANG or used >= PER_PKG:
                continue
            ks = list(keys(text))
            if not ks:
                continue
            ov = sum(k in seen or k in local for k in ks) / len(ks)
            if ov >= 0.25:
                continue
            local.update(ks)
            n = len(text.encode())
            used += n
            used_lang[lang] += n
            out.write(json.dumps({"lang": lang, "src": "fresh npm:%s@%s" % (name, ver), "licence": lic,
                                  "path": os.path.relpath(p, nm), "text": text, "train_line_overlap": round(ov, 3)}) + "\n")
            added.setdefault("%s@%s (%s)" % (name, ver, lic), 0)
            added["%s@%s (%s)" % (name, ver, lic)] += n
    out.close()
    st = json.load(open(os.path.join(corpus, "test_clean_stats.json")))
    st["fresh_npm"] = {"bytes_per_lang": used_lang, "packages": added}
    json.dump(st, open(os.path.join(corpus, "test_clean_stats.json"), "w"), indent=1)
    print(dict(used_lang), len(added), "packages")


if __name__ == "__main__":
    main()
