#!/usr/bin/env python3
"""Weight int8 / activation dynamic-uint8 quantization of the linear layers of an exported
model, written with plain ONNX ops (DynamicQuantizeLinear + MatMulInteger + Cast + Mul; the
same pattern onnxruntime fuses into DynamicQuantizeMatMul). Weights: symmetric int8, one
scale per output channel. Embedding lookup and attention stay float32 (the tied embedding
is kept as a float copy for the Gather and an int8 copy for the output projection)."""
import sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def quantize(src, dst, fp16_rest=False):
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    producers = {o: n for n in g.node for o in n.output}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    new_nodes, new_inits, drop = [], [], set()
    for n in g.node:
        if n.op_type == "MatMul":
            p = producers.get(n.input[1])
            if p is not None and p.op_type == "Transpose" and p.input[0] in inits:
                wname = p.input[0]
                W = numpy_helper.to_array(inits[wname]).astype(np.float32)  # [out, in]
                scale = np.maximum(np.abs(W).max(axis=1), 1e-8) / 127.0
                Wq = np.clip(np.round(W / scale[:, None]), -127, 127).astype(np.int8).T.copy()  # [in, out]
                base = n.name.strip("/").replace("/", "_") or wname
                qn, sn, zn = base + "_Wq", base + "_Wscale", base + "_Wzp"
                new_inits += [numpy_helper.from_array(Wq, qn), numpy_helper.from_array(scale.astype(np.float32), sn),
                              numpy_helper.from_array(np.zeros(W.shape[0], np.int8), zn)]
                a = n.input[0]
                aq, asc, azp = base + "_Aq", base + "_Ascale", base + "_Azp"
                mi, mf, ss = base + "_MMI", base + "_MMIf", base + "_scales"
                ks = producers.get(a)
                if ks is not None and ks.name == "logits_keep_slice":
                    # num_logits_to_keep (logits_keep.py): quantize every position, then
                    # slice, so the activation scale and the kept rows match the full graph
                    new_nodes += [
                        helper.make_node("DynamicQuantizeLinear", [ks.input[0]], [aq + "_all", asc, azp], name=base + "_dql"),
                        helper.make_node("Slice", [aq + "_all"] + list(ks.input[1:]), [aq], name="logits_keep_slice_q"),
                    ]
                    drop.add(id(ks))
                else:
                    new_nodes.append(helper.make_node("DynamicQuantizeLinear", [a], [aq, asc, azp], name=base + "_dql"))
                new_nodes += [
                    helper.make_node("MatMulInteger", [aq, qn, azp, zn], [mi], name=base + "_mmi"),
                    helper.make_node("Cast", [mi], [mf], to=TensorProto.FLOAT, name=base + "_cast"),
                    helper.make_node("Mul", [asc, sn], [ss], name=base + "_scalemul"),
                    helper.make_node("Mul", [mf, ss], [n.output[0]], name=base + "_mul"),
                ]
                if all(c.op_type == "MatMul" for c in consumers[p.output[0]]):
                    drop.add(id(p))
                continue
        new_nodes.append(n)
    new_nodes = [n for n in new_nodes if id(n) not in drop]
    used = {i for n in new_nodes for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.node[:]
    g.node.extend(new_nodes)
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    m.producer_name = "subword-tools-train-int8"
    onnx.save(m, dst)
    onnx.checker.check_model(dst)


if __name__ == "__main__":
    quantize(sys.argv[1], sys.argv[2])
