#!/usr/bin/env python3
"""Give an exported decoder extra outputs new_key_values.N.key/.value: the keys and
values of the call's own tokens ([batch, heads, sequence, head_dim]), i.e. the second
input of the Concat that builds present.N.key/.value.

Why: onnxruntime-node copies every fetched output into a fresh JS buffer, so fetching
the presents costs a copy of the whole cache per decode step (most of a step at a
512-token past). With these outputs the completion engine keeps its own cache in place
(a fixed-capacity past whose unused slots are masked by attention_mask) and fetches only
the new tokens' keys/values. The presents stay, so other clients see no difference.

usage: /usr/bin/python3 tools/train/kv_outputs.py IN.onnx OUT.onnx [--manifest subword.json]
(IN may equal OUT). With --manifest, the manifest's io and the sha256/bytes of OUT are updated.
"""
import re
import sys
import onnx
from graph_edit_cli import edit_file, main
from onnx import helper

PREFIX = "new_key_values"


def add_new_kv_outputs(model):
    """Adds the outputs in place; returns the model (no-op if present)."""
    g = model.graph
    have = {o.name for o in g.output}
    if any(n.startswith(PREFIX + ".") for n in have):
        return model
    prod = {o: n for n in g.node for o in n.output}
    inputs = {i.name: i for i in g.input}
    added = []
    for out in list(g.output):
        m = re.fullmatch(r"present\.(\d+)\.(key|value)", out.name)
        if not m:
            continue
        cat = prod.get(out.name)
        past = "past_key_values.%s.%s" % m.groups()
        if cat is None or cat.op_type != "Concat" or len(cat.input) != 2 or cat.input[0] != past:
            raise SystemExit("kv_outputs: %s is not Concat(%s, new) (found %s)" % (out.name, past, cat.op_type if cat else "a graph input"))
        name = "%s.%s.%s" % (PREFIX, m.group(1), m.group(2))
        ident = helper.make_node("Identity", [cat.input[1]], [name], name="kv_outputs_" + name)
        g.node.append(ident)
        et = inputs[past].type.tensor_type.elem_type
        dims = ["batch_size", inputs[past].type.tensor_type.shape.dim[1].dim_value or "heads", "sequence_length",
                inputs[past].type.tensor_type.shape.dim[3].dim_value or "head_dim"]
        added.append(helper.make_tensor_value_info(name, et, dims))
    if not added:
        raise SystemExit("kv_outputs: no present.N.key/.value outputs")
    g.output.extend(added)
    onnx.checker.check_model(model)
    return model


def has_new_kv_outputs(path):
    return any(o.name.startswith(PREFIX + ".") for o in onnx.load(path, load_external_data=False).graph.output)


def manifest_io(io):
    """Declares the outputs in a subword.json "io" object (in place)."""
    io["outputs"][PREFIX + ".{i}.key"] = ["batch", "heads", "seq", "head_dim", "float32"]
    io["outputs"][PREFIX + ".{i}.value"] = ["batch", "heads", "seq", "head_dim", "float32"]
    io["new_key_values"] = ("keys/values of this call's tokens only (the last seq positions of present.{i}.*); "
                            "lets a runner keep its cache in place instead of fetching the whole present every step")
    return io


def add_new_kv_outputs_file(src, dst):
    edit_file(src, dst, add_new_kv_outputs)


if __name__ == "__main__":
    main(sys.argv[1:], __doc__, add_new_kv_outputs_file, manifest_io)
