#!/usr/bin/env python3
"""Export a checkpoint (or a random init, for latency probing) to ONNX with a KV cache,
using Optimum/transformers.js I/O names. Optionally store weights as fp16 (Cast to fp32
at load; onnxruntime constant-folds the Cast, so compute stays fp32) to halve the file, and
optionally add the int64 scalar input num_logits_to_keep (logits_keep.py: the vocabulary
projection runs for the last k positions only, 0 = all), which makes a generation prefill
cheaper while the same file still scores every position, and the outputs
new_key_values.N.key/.value (kv_outputs.py: the call's own keys/values, so the engine can
keep its cache in place instead of fetching the whole present every step)."""
import argparse, json, os, sys
import numpy as np
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import GPT, get_config
import onnx
from onnx import helper, numpy_helper, TensorProto
from logits_keep import add_logits_to_keep_file
from kv_outputs import add_new_kv_outputs_file


def load_model(ckpt=None, config=None, vocab=None, ctx=2048):
    if ckpt:
        sd = torch.load(ckpt, map_location="cpu") if ckpt.endswith(".pt") else None
        cfg = sd["cfg"]
        m = GPT(**cfg)
        m.load_state_dict({k: v.float() for k, v in sd["model"].items()})
    else:
        m = GPT(vocab, **get_config(config), max_pos=ctx)
    m.eval()
    return m


def export(m, path, fp16_storage=False, logits_to_keep=False, new_kv_outputs=False):
    cfg = m.cfg
    L, H, hd = cfg["n_layer"], cfg["n_head"], cfg["d_model"] // cfg["n_head"]
    B, S, P = 1, 3, 2
    ids = torch.randint(0, cfg["vocab_size"], (B, S))
    am = torch.ones(B, P + S, dtype=torch.long)
    pos = torch.arange(P, P + S)[None]
    past = []
    in_names = ["input_ids", "attention_mask", "position_ids"]
    out_names = ["logits"]
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
           "position_ids": {0: "batch_size", 1: "sequence_length"},
           "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(L):
        for kv in ("key", "value"):
            past.append(torch.randn(B, H, P, hd))
            n = "past_key_values.%d.%s" % (i, kv)
            o = "present.%d.%s" % (i, kv)
            in_names.append(n)
            out_names.append(o)
            dyn[n] = {0: "batch_size", 2: "past_sequence_length"}
            dyn[o] = {0: "batch_size", 2: "total_sequence_length"}
    with torch.no_grad():
        torch.onnx.export(m, (ids, am, pos, *past), path, input_names=in_names, output_names=out_names,
                          dynamic_axes=dyn, opset_version=14, do_constant_folding=False)
    mp = onnx.load(path)
    mp.producer_name = "subword-tools-train"
    onnx.save(mp, path)
    if fp16_storage:
        to_fp16_storage(path, path)
    if logits_to_keep:
        add_logits_to_keep_file(path, path)
        in_names.insert(3, "num_logits_to_keep")
    if new_kv_outputs:
        add_new_kv_outputs_file(path, path)
        out_names += ["new_key_values.%d.%s" % (i, kv) for i in range(L) for kv in ("key", "value")]
    onnx.checker.check_model(path)
    return in_names, out_names


def to_fp16_storage(src, dst):
    """Store float initializers as fp16 followed by a Cast to fp32 (folded by onnxruntime
    at session creation, so inference runs in fp32 on the fp16-rounded weights)."""
    mp = onnx.load(src)
    g = mp.graph
    if True:
        new_inits, casts = [], []
        for init in g.initializer:
            if init.data_type == TensorProto.FLOAT and np.prod(init.dims) >= 1024:
                arr = numpy_helper.to_array(init).astype(np.float16)
                h = numpy_helper.from_array(arr, init.name + "_fp16")
                new_inits.append(h)
                casts.append(helper.make_node("Cast", [h.name], [init.name], to=TensorProto.FLOAT, name="cast_" + init.name))
            else:
                new_inits.append(init)
        del g.initializer[:]
        g.initializer.extend(new_inits)
        nodes = list(g.node)
        del g.node[:]
        g.node.extend(casts + nodes)
    onnx.save(mp, dst)
    onnx.checker.check_model(dst)


def reference(m, path_prefix, n_prefill=40, seed=0):
    """Write inputs and PyTorch logits for a prefill + one cached decode step."""
    g = torch.Generator().manual_seed(seed)
    V = m.cfg["vocab_size"]
    ids = torch.randint(0, V, (1, n_prefill + 1), generator=g)
    with torch.no_grad():
        full = m.forward_train(ids, use_sdpa=False)[0]  # [T,V]
    np.asarray(full.numpy(), dtype=np.float32).tofile(path_prefix + ".logits.f32")
    json.dump({"ids": ids[0].tolist(), "n_prefill": n_prefill, "vocab": V}, open(path_prefix + ".json", "w"))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt")
    ap.add_argument("--config")
    ap.add_argument("--vocab", type=int, default=16384)
    ap.add_argument("--ctx", type=int, default=2048)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fp16-storage", action="store_true")
    ap.add_argument("--reference")
    ap.add_argument("--logits-to-keep", action="store_true",
                    help="add the int64 scalar input num_logits_to_keep (logits for the last k positions; 0 = all)")
    ap.add_argument("--new-kv-outputs", action="store_true",
                    help="add outputs new_key_values.N.key/.value (the call's own keys/values)")
    a = ap.parse_args()
    m = load_model(a.ckpt, a.config, a.vocab, a.ctx)
    if a.fp16_storage:
        # make the reference match the stored weights exactly
        with torch.no_grad():
            for p in m.parameters():
                p.copy_(p.half().float())
    export(m, a.out, a.fp16_storage, a.logits_to_keep, a.new_kv_outputs)
    if a.reference:
        reference(m, a.reference)
    print("exported", a.out, os.path.getsize(a.out), "bytes", m.n_params(), "params")
