"""The default model's UNet exported for onnxruntime's fused operators: the experiment behind
bench/fused-unet.bench.ts, which asks whether fewer, fused operators make a call faster.

    /usr/bin/python3 bench/python/fused_unet.py --model models/emoji --out DIR

Same weights (filled from the shipped unet/model.onnx as pipeline_ref.py does), same function, another graph:
spatial sizes fixed in every reshape (only the batch stays dynamic), tokens kept 2-D so linear layers are single
Gemms, self-attention as com.microsoft.Attention (packed q/k/v weights), cross-attention as
com.microsoft.MultiHeadAttention, the nine ResBlocks' time-embedding projections as one Gemm. Writes DIR/fused.onnx
and prints one JSON object: {"nodes": {"shipped": n, "fused": n}, "max_abs_diff_vs_torch": x}.
"""
import argparse
import json
import math
import os

import pipeline_ref as REF  # first: it puts pipeline/train on sys.path and keeps the real torch first
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from models import timestep_embedding  # noqa: E402


def _attention(q, k, v, heads):
    b, s, c = q.shape
    hd = c // heads
    q, k, v = (x.reshape(b, -1, heads, hd).transpose(1, 2) for x in (q, k, v))
    att = (q @ k.transpose(-1, -2) * (1.0 / math.sqrt(hd))).softmax(-1)
    return (att @ v).transpose(1, 2).reshape(b, s, c)


class SelfAttention(torch.autograd.Function):
    """com.microsoft.Attention: x [B,S,C] @ packed [C,3C] + bias -> attention over heads -> [B,S,C]."""

    @staticmethod
    def forward(ctx, x, w, bias, heads):
        q, k, v = (x @ w + bias).split(x.shape[2], -1)
        return _attention(q, k, v, heads)

    @staticmethod
    def symbolic(g, x, w, bias, heads):
        return g.op("com.microsoft::Attention", x, w, bias, num_heads_i=heads)


class CrossAttention(torch.autograd.Function):
    """com.microsoft.MultiHeadAttention: q [B,S,C], k and v [B,L,C] -> [B,S,C]."""

    @staticmethod
    def forward(ctx, q, k, v, heads):
        return _attention(q, k, v, heads)

    @staticmethod
    def symbolic(g, q, k, v, heads):
        return g.op("com.microsoft::MultiHeadAttention", q, k, v, num_heads_i=heads)


def attn_block(blk, x, ctx, hw):
    c, n = blk.norm.num_channels, hw[0] * hw[1]  # Python ints: fixed in the graph, not read from shapes
    h = F.linear(blk.norm(x).reshape(-1, c, n).transpose(1, 2).reshape(-1, c),
                 blk.proj_in.weight, blk.proj_in.bias)
    if blk.self_attn:
        a = blk.a1
        packed = torch.cat([a.q.weight, a.k.weight, a.v.weight], 0).t()
        o = SelfAttention.apply(blk.n1(h).reshape(-1, n, c), packed, torch.zeros(3 * c), a.h)
        h = h + F.linear(o.reshape(-1, c), a.o.weight, a.o.bias)
    a = blk.a2
    o = CrossAttention.apply(F.linear(blk.n2(h), a.q.weight).reshape(-1, n, c), F.linear(ctx, a.k.weight),
                             F.linear(ctx, a.v.weight), a.h)
    h = h + F.linear(o.reshape(-1, c), a.o.weight, a.o.bias)
    h = h + blk.mlp(blk.n3(h))
    h = F.linear(h, blk.proj_out.weight, blk.proj_out.bias)
    return x + h.reshape(-1, n, c).transpose(1, 2).reshape(-1, c, *hw)


def res_block(blk, x, scale_shift):
    scale, shift = scale_shift
    h = blk.c1(F.silu(blk.n1(x)))
    h = blk.c2(F.silu(blk.n2(h) * scale + shift))
    return blk.skip(x) + h


class FusedUNet(nn.Module):
    """The trained UNet's parameters, forward rewritten (pipeline/train/models.py UNet.forward is the reference)."""

    def __init__(self, unet, side=16):
        super().__init__()
        self.u, self.side = unet, side
        self.res = [unet.d1, unet.d2, unet.d3, unet.m1, unet.m2, unet.u3, unet.u2, unet.u1]

    def forward(self, x, t, ctx):
        u, s = self.u, self.side
        l1, l2, l3 = (s, s), (s // 2, s // 2), (s // 4, s // 4)
        temb = u.t_mlp(timestep_embedding(t, 128)) + u.ctx_pool(ctx.mean(1))
        weights = torch.cat([b.t.weight for b in self.res], 0)
        biases = torch.cat([b.t.bias for b in self.res], 0)
        sizes = [b.t.weight.shape[0] for b in self.res]
        ss = {}
        for b, p, n in zip(self.res, F.linear(F.silu(temb), weights, biases).split(sizes, 1), sizes):
            scale, shift = p.reshape(-1, n, 1, 1).split(n // 2, 1)
            ss[b] = (scale + 1, shift)
        h1 = attn_block(u.d1a, res_block(u.d1, u.conv_in(x), ss[u.d1]), ctx, l1)
        h2 = attn_block(u.d2a, res_block(u.d2, u.down1(h1), ss[u.d2]), ctx, l2)
        h3 = attn_block(u.d3a, res_block(u.d3, u.down2(h2), ss[u.d3]), ctx, l3)
        h = res_block(u.m2, attn_block(u.ma, res_block(u.m1, h3, ss[u.m1]), ctx, l3), ss[u.m2])
        h = attn_block(u.u3a, res_block(u.u3, torch.cat([h, h3], 1), ss[u.u3]), ctx, l3)
        h = u.up2(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = attn_block(u.u2a, res_block(u.u2, torch.cat([h, h2], 1), ss[u.u2]), ctx, l2)
        h = u.up1(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = attn_block(u.u1a, res_block(u.u1, torch.cat([h, h1], 1), ss[u.u1]), ctx, l1)
        return u.out(h)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    shipped = os.path.join(args.model, "unet", "model.onnx")
    unet = REF.UNet(ch=REF.unet_channels(shipped)).eval()
    REF.load_via_probe(unet, shipped, REF.export_unet)
    fused = FusedUNet(unet).eval()
    g = torch.Generator().manual_seed(0)
    x, t, ctx = torch.randn(2, 4, 16, 16, generator=g), torch.tensor([999, 500]), torch.randn(2, 16, 64, generator=g)
    with torch.no_grad():
        ref = unet(x, t, ctx)
        # the custom ops' forward is plain PyTorch, so the rewritten forward can be checked against the original
        diff = (fused(x, t, ctx) - ref).abs().max().item()
        path = os.path.join(args.out, "fused.onnx")
        names = REF.EX.UNET_IO
        torch.onnx.export(fused, (x, t, ctx), path, input_names=names[0], output_names=names[1],
                          dynamic_axes={n: {0: "batch"} for n in names[0] + names[1]}, opset_version=REF.EX.OPSET,
                          do_constant_folding=True, custom_opsets={"com.microsoft": 1})
    print(json.dumps({"nodes": {"shipped": len(onnx.load(shipped).graph.node), "fused": len(onnx.load(path).graph.node)},
                      "max_abs_diff_vs_torch": diff}))


if __name__ == "__main__":
    main()
