"""Decoder-only transformer: pre-norm (RMSNorm), RoPE, GELU MLP, tied embeddings.
Works with Debian's torch 1.13 (CPU, ONNX export) and newer CUDA torch (training)."""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {
    # name: n_layer, n_head, d_model
    "micro": dict(n_layer=2, n_head=2, d_model=64),
    "tiny": dict(n_layer=2, n_head=4, d_model=128),
    "small": dict(n_layer=4, n_head=4, d_model=256),
    "base": dict(n_layer=6, n_head=6, d_model=384),
    "medium": dict(n_layer=8, n_head=8, d_model=512),
    "large": dict(n_layer=10, n_head=8, d_model=512),
    "xl": dict(n_layer=12, n_head=12, d_model=768),
}


def get_config(name):
    """'L6d256' style names give n_layer/d_model with head_dim 64."""
    if name in CONFIGS:
        return dict(CONFIGS[name])
    import re
    m = re.fullmatch(r"L(\d+)d(\d+)", name)
    L, d = int(m.group(1)), int(m.group(2))
    return dict(n_layer=L, n_head=d // 64, d_model=d)


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(max_pos, head_dim, base=10000.0):
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2).float() / head_dim))
    t = torch.arange(max_pos).float()
    f = torch.outer(t, inv)  # [T, hd/2]
    emb = torch.cat([f, f], dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Block(nn.Module):
    def __init__(self, d, n_head, dropout=0.0):
        super().__init__()
        self.dropout = dropout
        self.n_head = n_head
        self.hd = d // n_head
        self.ln1 = RMSNorm(d)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.proj = nn.Linear(d, d, bias=False)
        self.ln2 = RMSNorm(d)
        self.fc = nn.Linear(d, 4 * d, bias=False)
        self.fc2 = nn.Linear(4 * d, d, bias=False)

    def forward(self, x, cos, sin, past_k=None, past_v=None, mask=None, use_sdpa=False):
        B, S, D = x.shape
        h = self.ln1(x)
        q, k, v = self.qkv(h).split(D, dim=-1)
        q = q.view(B, S, self.n_head, self.hd).transpose(1, 2)
        k = k.view(B, S, self.n_head, self.hd).transpose(1, 2)
        v = v.view(B, S, self.n_head, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        if use_sdpa:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.hd))
            att = att + mask
            att = torch.softmax(att, dim=-1)
            y = torch.matmul(att, v)
        y = y.transpose(1, 2).reshape(B, S, D)
        p = self.dropout if self.training else 0.0
        x = x + F.dropout(self.proj(y), p, self.training)
        x = x + F.dropout(self.fc2(F.gelu(self.fc(self.ln2(x)))), p, self.training)
        return x, k, v


class GPT(nn.Module):
    def __init__(self, vocab_size, n_layer, n_head, d_model, max_pos=2048, dropout=0.0):
        super().__init__()
        self.cfg = dict(vocab_size=vocab_size, n_layer=n_layer, n_head=n_head, d_model=d_model, max_pos=max_pos)
        self.wte = nn.Embedding(vocab_size, d_model)
        self.blocks = nn.ModuleList([Block(d_model, n_head, dropout) for _ in range(n_layer)])
        self.ln_f = RMSNorm(d_model)
        cos, sin = rope_tables(max_pos, d_model // n_head)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.apply(self._init)
        for b in self.blocks:
            nn.init.normal_(b.proj.weight, std=0.02 / math.sqrt(2 * n_layer))
            nn.init.normal_(b.fc2.weight, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def n_params(self):
        return sum(p.numel() for p in self.parameters())

    def forward_train(self, idx, use_sdpa=True):
        """idx [B,T] -> logits [B,T,V] (causal, positions 0..T-1)."""
        B, T = idx.shape
        x = self.wte(idx)
        cos = self.rope_cos[:T].to(x.dtype)[None, None]
        sin = self.rope_sin[:T].to(x.dtype)[None, None]
        mask = None
        if not use_sdpa:
            mask = torch.full((T, T), float("-inf"), device=idx.device).triu(1)[None, None]
        for b in self.blocks:
            x, _, _ = b(x, cos, sin, mask=mask, use_sdpa=use_sdpa)
        x = self.ln_f(x)
        return F.linear(x, self.wte.weight)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        """ONNX/KV-cache entry: past = (k0, v0, k1, v1, ...), each [B,H,P,hd].
        Returns logits [B,S,V] and presents in the same order."""
        B, S = input_ids.shape
        x = self.wte(input_ids)
        cos = self.rope_cos[position_ids].unsqueeze(1)  # [B,1,S,hd]
        sin = self.rope_sin[position_ids].unsqueeze(1)
        P = past[0].shape[2]
        L = P + S
        # causal: query i (absolute P+i) sees key j when j <= P+i; plus padding mask
        qpos = torch.arange(S, device=input_ids.device).unsqueeze(1) + P
        kpos = torch.arange(L, device=input_ids.device).unsqueeze(0)
        causal = kpos <= qpos  # [S,L]
        keep = causal.unsqueeze(0).unsqueeze(0) & (attention_mask[:, None, None, :] > 0)
        mask = torch.where(keep, torch.zeros((), dtype=x.dtype), torch.full((), -1e9, dtype=x.dtype))
        presents = []
        for i, b in enumerate(self.blocks):
            x, k, v = b(x, cos, sin, past[2 * i], past[2 * i + 1], mask=mask, use_sdpa=False)
            presents += [k, v]
        x = self.ln_f(x)
        logits = F.linear(x, self.wte.weight)
        return (logits, *presents)
