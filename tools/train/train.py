#!/usr/bin/env python3
"""Train the GPT on packed token streams for a wall-clock budget (CPU or CUDA).

Runs on Debian's torch 1.13 (CPU) and on newer CUDA builds (bf16 autocast, SDPA,
optional torch.compile). Writes fp16 weights in pieces of at most --piece-mb MB
(state_dict shards: model-00.pt, model-01.pt, ...) plus train_log.json.
"""
import argparse, json, lzma, math, os, sys, time
import numpy as np
import torch
import torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import GPT, get_config


def log(*a):
    print(*a, flush=True)


def load_u16(path):
    if os.path.exists(path):
        return np.fromfile(path, dtype=np.uint16)
    with lzma.open(path + ".xz") as f:
        return np.frombuffer(f.read(), dtype=np.uint16)


def save_pieces(model, out, cfg, piece_mb, extra):
    sd = {k: v.detach().to("cpu", torch.float16) for k, v in model.state_dict().items()}
    pieces, cur, cur_b = [], {}, 0
    lim = piece_mb * 1024 * 1024 - 64 * 1024
    for k, v in sd.items():
        b = v.numel() * 2
        if cur and cur_b + b > lim:
            pieces.append(cur)
            cur, cur_b = {}, 0
        cur[k] = v
        cur_b += b
    pieces.append(cur)
    names = []
    for i, p in enumerate(pieces):
        n = "model-%02d.pt" % i
        torch.save(p, os.path.join(out, n))
        names.append(n)
    json.dump(dict(cfg=cfg, pieces=names, **extra), open(os.path.join(out, "train_log.json"), "w"), indent=1)
    return names


def read_pieces(folder):
    meta = json.load(open(os.path.join(folder, "train_log.json")))
    sd = {}
    for n in meta["pieces"]:
        sd.update(torch.load(os.path.join(folder, n), map_location="cpu"))
    return sd, meta


def load_pieces(folder):
    sd, meta = read_pieces(folder)
    m = GPT(**meta["cfg"])
    m.load_state_dict({k: v.float() for k, v in sd.items()}, strict=False)
    return m, meta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--ctx", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.05)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--time", type=float, default=60, help="training wall-clock budget, seconds")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--deadline", type=float, default=0, help="stop training this many seconds after start-up (wall clock, includes loading/compiling)")
    ap.add_argument("--eval-batches", type=int, default=20)
    ap.add_argument("--eval-every", type=float, default=0, help="seconds between evals (0: only at end)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--piece-mb", type=float, default=16)
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save-every", type=float, default=0, help="seconds between intermediate weight saves")
    ap.add_argument("--init", default="", help="folder of an earlier run (train_log.json + pieces) to start from: "
                    "a warm restart of the learning-rate schedule on the same configuration")
    a = ap.parse_args()
    t_start = time.time()
    os.makedirs(a.out, exist_ok=True)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    cuda = torch.cuda.is_available()
    dev = torch.device("cuda" if cuda else "cpu")
    log("torch", torch.__version__, "cuda", cuda, torch.cuda.get_device_name(0) if cuda else "", "threads", torch.get_num_threads())
    bf16 = bool(cuda and torch.cuda.is_bf16_supported())
    has_sdpa = hasattr(F, "scaled_dot_product_attention")
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    train = torch.from_numpy(load_u16(os.path.join(a.data, "train.u16")).astype(np.int64))
    val = torch.from_numpy(load_u16(os.path.join(a.data, "val.u16")).astype(np.int64))
    log("tokens train", train.numel(), "val", val.numel(), "load %.1fs" % (time.time() - t_start))
    train = train.to(dev)
    val = val.to(dev)
    cfg = dict(vocab_size=a.vocab, max_pos=max(2048, a.ctx), **get_config(a.config))
    model = GPT(**cfg, dropout=a.dropout)
    init_meta = None
    if a.init:
        saved, init_meta = read_pieces(a.init)
        if init_meta["cfg"] != cfg:
            sys.exit("--init %s has configuration %s, not %s" % (a.init, init_meta["cfg"], cfg))
        missing = [k for k in model.state_dict() if k not in saved]
        if missing:
            # a checkpoint that lacks weights must not silently train them from random values
            sys.exit("--init %s lacks %s" % (a.init, missing[:5]))
        model.load_state_dict({k: v.float() for k, v in saved.items()})
        log("init from", a.init, "steps", init_meta.get("steps"), "tokens", init_meta.get("tokens"), "val_loss", init_meta.get("val_loss"))
    model = model.to(dev)
    log("config", a.config, cfg, "params", model.n_params())
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    nodecay = [p for n, p in model.named_parameters() if p.dim() < 2]
    kw = dict(lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    if cuda:
        try:
            opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd}, {"params": nodecay, "weight_decay": 0.0}], fused=True, **kw)
        except Exception:
            opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd}, {"params": nodecay, "weight_decay": 0.0}], **kw)
    else:
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd}, {"params": nodecay, "weight_decay": 0.0}], **kw)
    eager = lambda x: model.forward_train(x, use_sdpa=has_sdpa)
    fwd = eager
    compiled = False
    if a.compile and cuda and hasattr(torch, "compile"):
        try:
            class W(torch.nn.Module):
                def __init__(s, m):
                    super().__init__()
                    s.m = m

                def forward(s, x):
                    return s.m.forward_train(x, use_sdpa=has_sdpa)
            fwd = torch.compile(W(model))
            compiled = True
        except Exception as e:
            log("compile failed, eager:", repr(e))
            fwd = eager
    T = a.ctx
    g = torch.Generator(device=dev)
    g.manual_seed(a.seed)
    ar = torch.arange(T + 1, device=dev)

    def batch(data, B, gen=None):
        ix = torch.randint(0, data.numel() - T - 1, (B,), device=dev, generator=gen)
        w = data[ix[:, None] + ar[None]]
        return w[:, :-1], w[:, 1:]

    def loss_of(x, y, f=None):
        f = f or fwd
        if bf16:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                logits = f(x)
        else:
            logits = f(x)
        return F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.reshape(-1))

    @torch.no_grad()
    def evaluate():
        # eager forward in eval mode (no dropout); the compiled training graph is untouched
        model.eval()
        eg = torch.Generator(device=dev)
        eg.manual_seed(1234)
        tot = 0.0
        for _ in range(a.eval_batches):
            x, y = batch(val, a.batch, eg)
            tot += loss_of(x, y, eager).item()
        model.train()
        return tot / a.eval_batches

    if compiled:
        tc = time.time()
        try:
            x, y = batch(train, a.batch, g)
            loss_of(x, y).backward()
            opt.zero_grad(set_to_none=True)
            torch.cuda.synchronize()
            log("torch.compile ok in %.1fs" % (time.time() - tc))
        except Exception as e:
            log("compiled step failed, falling back to eager:", repr(e)[:500])
            fwd = eager
            opt.zero_grad(set_to_none=True)
    hist = []
    best = (float("inf"), 0)
    step, tokens = 0, 0
    last_save = time.time()
    extra = lambda: dict(config=a.config, steps=step, tokens=tokens, train_seconds=round(time.time() - t0, 1),
                         batch=a.batch, ctx=a.ctx, lr=a.lr, torch=torch.__version__,
                         device=torch.cuda.get_device_name(0) if cuda else "cpu", bf16=bf16, history=hist,
                         init=None if init_meta is None else dict(folder=os.path.basename(os.path.normpath(a.init)),
                                                                 steps=init_meta.get("steps"), tokens=init_meta.get("tokens"),
                                                                 val_loss=init_meta.get("val_loss"), init=init_meta.get("init")))
    t0 = time.time()
    last_eval = t0
    budget = a.time
    if a.deadline:
        budget = min(budget, a.deadline - (t0 - t_start))
        log("training budget %.0fs" % budget)
    model.train()
    while True:
        el = time.time() - t0
        if el >= budget or (a.max_steps and step >= a.max_steps):
            break
        frac = el / budget
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * (a.min_lr_frac + (1 - a.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))
        for gp in opt.param_groups:
            gp["lr"] = lr
        x, y = batch(train, a.batch, g)
        loss = loss_of(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tokens += x.numel()
        if step % 50 == 0 or step <= 3:
            l = loss.item()
            el = time.time() - t0
            log("step %d loss %.4f lr %.2e tok/s %.0f elapsed %.0fs" % (step, l, lr, tokens / max(el, 1e-9), el))
            hist.append((step, round(el, 1), round(l, 4)))
        if a.eval_every and time.time() - last_eval > a.eval_every:
            vl = evaluate()
            log("step %d val_loss %.4f" % (step, vl))
            hist.append((step, round(time.time() - t0, 1), "val", round(vl, 4)))
            if vl < best[0]:
                # keep the best weights by validation loss (guards against over-fitting repeated data)
                best = (vl, step)
                save_pieces(model, a.out, cfg, a.piece_mb, dict(extra(), val_loss=vl, partial=True))
                last_save = time.time()
            last_eval = time.time()
        if a.save_every and time.time() - last_save > a.save_every:
            save_pieces(model, a.out, cfg, a.piece_mb, dict(extra(), val_loss=None, partial=True))
            last_save = time.time()
    train_s = time.time() - t0
    vl = evaluate()
    log("final step %d tokens %d train_s %.1f val_loss %.4f" % (step, tokens, train_s, vl))
    ex = extra()
    ex.update(train_seconds=round(train_s, 1), val_loss=vl, wall_seconds=round(time.time() - t_start, 1))
    if vl <= best[0]:
        names = save_pieces(model, a.out, cfg, a.piece_mb, ex)
    else:
        # an earlier evaluation was better: keep those weights, record why
        meta = json.load(open(os.path.join(a.out, "train_log.json")))
        meta.update(final_val_loss=vl, kept_best_from_step=best[1], history=hist, wall_seconds=ex["wall_seconds"], partial=False)
        json.dump(meta, open(os.path.join(a.out, "train_log.json"), "w"), indent=1)
        names = meta["pieces"]
        log("kept best checkpoint from step %d (val %.4f)" % (best[1], best[0]))
    log("saved", names, [os.path.getsize(os.path.join(a.out, n)) for n in names])


if __name__ == "__main__":
    main()
