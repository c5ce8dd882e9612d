"""Shared command line of the ONNX graph edits (logits_keep.py, kv_outputs.py):
`SCRIPT in.onnx out.onnx [--manifest subword.json]` writes the edited graph and,
given a manifest, records the new I/O and the file's sha256/size in it."""
import hashlib
import json
import os

import onnx


def edit_file(src, dst, edit):
    """Loads src, applies `edit` (which changes the ModelProto in place) and saves to dst."""
    m = onnx.load(src)
    edit(m)
    onnx.save(m, dst)


def update_manifest(manifest_path, onnx_path, manifest_io):
    """Let `manifest_io` describe the edit in the manifest's io block, and refresh the file's checksum."""
    m = json.load(open(manifest_path))
    manifest_io(m["io"])
    h = hashlib.sha256()
    with open(onnx_path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    name = os.path.relpath(onnx_path, os.path.dirname(os.path.abspath(manifest_path)))
    if name in m.get("files", {}):
        m["files"][name] = {"sha256": h.hexdigest(), "bytes": os.path.getsize(onnx_path)}
    json.dump(m, open(manifest_path, "w"), indent=1, ensure_ascii=False)


def main(argv, doc, edit_file, manifest_io):
    args = list(argv)
    man = None
    if "--manifest" in args:
        i = args.index("--manifest")
        man = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        raise SystemExit(doc)
    edit_file(args[0], args[1])
    print("wrote", args[1])
    if man:
        update_manifest(man, args[1], manifest_io)
        print("updated", man)
