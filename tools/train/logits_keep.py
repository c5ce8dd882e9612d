#!/usr/bin/env python3
"""Give an exported decoder an int64 scalar input `num_logits_to_keep` (the name
Hugging Face uses): the vocabulary projection runs only for the last k positions
(k = 0 keeps every position). One file then serves generation (keep 1: a 512-token
prefill no longer projects 511 rows it throws away) and teacher-forced scoring
(keep 0).

Works on the float export and on quantize.py's int8 graph. In the int8 graph the
slice is placed AFTER the lm head's DynamicQuantizeLinear, so the activation scale
is still computed over every position and the kept rows are bit-identical to the
same rows of the full graph.

usage: /usr/bin/python3 tools/train/logits_keep.py IN.onnx OUT.onnx [--manifest subword.json]
(IN may equal OUT). With --manifest, the manifest's io and the sha256/bytes of OUT are updated.
"""
import sys
import numpy as np
import onnx
from graph_edit_cli import edit_file, main
from onnx import helper, numpy_helper, TensorProto

INPUT = "num_logits_to_keep"


def _constant_tensors(g):
    """Names of tensors that do not depend on any graph input."""
    const = {i.name for i in g.initializer}
    for n in g.node:  # nodes are topologically sorted in a valid graph
        if all((x == "" or x in const) for x in n.input):
            const.update(n.output)
    return const


def _lm_head(g):
    """The matrix product that produces the logits (walking back over elementwise ops)."""
    prod = {o: n for n in g.node for o in n.output}
    seen, queue = set(), ["logits"]
    while queue:  # breadth first: the nearest matrix product wins
        n = prod.get(queue.pop(0))
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        if n.op_type in ("MatMul", "MatMulInteger", "Gemm"):
            return n, prod
        if n.op_type in ("Mul", "Cast", "Add", "Div", "Identity"):
            queue.extend(n.input)
    raise SystemExit("logits_keep: no MatMul produces the logits")


def add_logits_to_keep(model):
    """Adds the input and the Slice in place; returns the model (no-op if present)."""
    g = model.graph
    if any(i.name == INPUT for i in g.input):
        return model
    head, prod = _lm_head(g)
    const = _constant_tensors(g)
    act_idx = [i for i, x in enumerate(head.input[:2]) if x not in const]
    if len(act_idx) != 1 or act_idx[0] != 0:
        raise SystemExit("logits_keep: cannot tell the lm head's activation input (%s)" % list(head.input))
    if head.op_type == "MatMulInteger":
        q = prod.get(head.input[0])
        if q is None or q.op_type != "DynamicQuantizeLinear":
            raise SystemExit("logits_keep: MatMulInteger activation is not from DynamicQuantizeLinear")
    act = head.input[0]
    sliced = act + "_last_k"
    inits = [
        numpy_helper.from_array(np.array([1], dtype=np.int64), "logits_keep_shape1"),
        numpy_helper.from_array(np.array([np.iinfo(np.int64).max], dtype=np.int64), "logits_keep_end"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "logits_keep_axis"),
    ]
    nodes = [
        helper.make_node("Reshape", [INPUT, "logits_keep_shape1"], ["logits_keep_k1"], name="logits_keep_reshape"),
        # start = -k; k = 0 gives start 0, i.e. every position (Hugging Face's convention)
        helper.make_node("Neg", ["logits_keep_k1"], ["logits_keep_start"], name="logits_keep_neg"),
        helper.make_node("Slice", [act, "logits_keep_start", "logits_keep_end", "logits_keep_axis"], [sliced], name="logits_keep_slice"),
    ]
    head.input[0] = sliced
    # insert right before the lm head so the node list stays topologically sorted
    pos = [i for i, n in enumerate(g.node) if n is head or n.name == head.name][0]
    for k, n in enumerate(nodes):
        g.node.insert(pos + k, n)
    g.initializer.extend(inits)
    after = [i for i, x in enumerate(g.input) if x.name in ("position_ids", "attention_mask", "input_ids")]
    g.input.insert((max(after) + 1) if after else len(g.input), helper.make_tensor_value_info(INPUT, TensorProto.INT64, []))
    for o in g.output:
        if o.name == "logits":
            d = o.type.tensor_type.shape.dim
            if len(d) >= 2:
                d[1].Clear()
                d[1].dim_param = "logits_sequence_length"
    onnx.checker.check_model(model)
    return model


def has_logits_to_keep(path):
    return any(i.name == INPUT for i in onnx.load(path, load_external_data=False).graph.input)


def manifest_io(io):
    """Declares the input in a subword.json "io" object (in place)."""
    io["inputs"][INPUT] = ["int64"]
    io["num_logits_to_keep"] = ("int64 scalar: logits are returned for the last k positions only (k = 0: every position); "
                                "the logits output is then [batch, k, vocab]")
    return io


def add_logits_to_keep_file(src, dst):
    edit_file(src, dst, add_logits_to_keep)


if __name__ == "__main__":
    main(sys.argv[1:], __doc__, add_logits_to_keep_file, manifest_io)
