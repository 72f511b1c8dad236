"""Widens a trained UNet without changing what it computes (Net2WiderNet, Chen et al. 2016), so a wider model starts
from the narrow one's quality instead of from noise.

Each level's channels are doubled or kept. A doubled channel appears twice in the wide model, laid out so that every
GroupNorm group (and every attention head) holds exactly its old group's channels, each twice: group statistics,
LayerNorm statistics and head contents are those of the narrow model. A layer that reads duplicated channels splits
each old weight between the two copies at a random ratio (the sum is the old weight, so the output is unchanged, and
the copies differ, so training drives them apart). A head twice as wide doubles q·k; the query is scaled by 1/√2 to
give the same attention. `check()` measures the difference on random inputs.

Usage: /usr/bin/python3 pipeline/train/widen.py --check
"""
import argparse
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import LATENT_C, UNet, n_params  # noqa: E402

GROUPS = 8  # GroupNorm(8, c) throughout the UNet; heads (4) are unions of groups, so they are kept too


def dup_index(n, factor):
    """Old channel index of each new channel when a space of `n` channels becomes `n * factor` (1 or 2)."""
    if factor == 1:
        return torch.arange(n)
    k = n // GROUPS
    j = torch.arange(2 * n)
    return (j // (2 * k)) * k + (j % (2 * k)) % k


class Space:
    """A channel axis: one or more concatenated parts (old size, factor), e.g. a skip concat or scale||shift."""

    def __init__(self, *parts):
        self.parts = parts

    def index(self):
        out, base = [], 0
        for n, f in self.parts:
            out.append(dup_index(n, f) + base)
            base += n
        return torch.cat(out)


def split_weights(index, g):
    """Per new input channel, the share of its old weight: random a and 1-a over a duplicated pair, 1 otherwise."""
    share = torch.ones(len(index))
    seen = {}
    a = torch.empty(len(index)).uniform_(0.3, 0.7, generator=g)
    for j, old in enumerate(index.tolist()):
        if old in seen:
            first = seen[old]
            share[first], share[j] = a[first], 1 - a[first]
        else:
            seen[old] = j
    return share


def widen_param(w, out_space, in_space, g, scale=1.0):
    """A weight (out, in, ...) or vector (out,) re-indexed into the wide spaces, input shares applied."""
    oi = out_space.index()
    w = w[oi] * scale
    if in_space is not None:
        ii = in_space.index()
        w = w[:, ii] * split_weights(ii, g).view(1, -1, *([1] * (w.dim() - 2)))
    return w


def unet_plan(old, new):
    """(parameter name -> out space, in space, scale) for UNet(ch=old) -> UNet(ch=new)."""
    f = [n // o for o, n in zip(old, new)]
    assert all(n == o * k and k in (1, 2) for o, n, k in zip(old, new, f)), "each level is kept or doubled"
    c = [Space((o, k)) for o, k in zip(old, f)]
    cat = [Space((o, k), (o, k)) for o, k in zip(old, f)]
    ss = [Space((o, k), (o, k)) for o, k in zip(old, f)]  # a ResBlock's scale||shift
    hid = [Space((2 * o, k)) for o, k in zip(old, f)]  # an AttnBlock MLP's hidden layer
    same = None
    plan = {}

    def lin(name, out, inp, scale=1.0):
        plan[f"{name}.weight"] = (out, inp, scale)
        plan[f"{name}.bias"] = (out, None, scale)

    def norm(name, sp):
        plan[f"{name}.weight"] = (sp, None, 1.0)
        plan[f"{name}.bias"] = (sp, None, 1.0)

    def res(name, cin, lvl):
        norm(f"{name}.n1", cin)
        lin(f"{name}.c1", c[lvl], cin)
        lin(f"{name}.t", ss[lvl], same)
        norm(f"{name}.n2", c[lvl])
        lin(f"{name}.c2", c[lvl], c[lvl])
        if cin is not c[lvl]:
            lin(f"{name}.skip", c[lvl], cin)

    def attn(name, lvl, self_attn=True):
        sp, q = c[lvl], 1 / math.sqrt(f[lvl])
        norm(f"{name}.norm", sp)
        lin(f"{name}.proj_in", sp, sp)
        for n in ["n1", "n2", "n3"] if self_attn else ["n2", "n3"]:
            norm(f"{name}.{n}", sp)
        if self_attn:
            plan[f"{name}.a1.q.weight"] = (sp, sp, q)
            plan[f"{name}.a1.k.weight"] = (sp, sp, 1.0)
            plan[f"{name}.a1.v.weight"] = (sp, sp, 1.0)
            lin(f"{name}.a1.o", sp, sp)
        plan[f"{name}.a2.q.weight"] = (sp, sp, q)
        plan[f"{name}.a2.k.weight"] = (sp, same, 1.0)
        plan[f"{name}.a2.v.weight"] = (sp, same, 1.0)
        lin(f"{name}.a2.o", sp, sp)
        lin(f"{name}.mlp.0", hid[lvl], sp)
        lin(f"{name}.mlp.2", sp, hid[lvl])
        lin(f"{name}.proj_out", sp, sp)

    lin("conv_in", c[0], same)
    res("d1", c[0], 0), attn("d1a", 0, self_attn=False)
    lin("down1", c[1], c[0])
    res("d2", c[1], 1), attn("d2a", 1)
    lin("down2", c[2], c[1])
    res("d3", c[2], 2), attn("d3a", 2)
    res("m1", c[2], 2), attn("ma", 2), res("m2", c[2], 2)
    res("u3", cat[2], 2), attn("u3a", 2)
    lin("up2", c[1], c[2])
    res("u2", cat[1], 1), attn("u2a", 1)
    lin("up1", c[0], c[1])
    res("u1", cat[0], 0), attn("u1a", 0, self_attn=False)
    norm("out.0", c[0])
    lin("out.2", Space((LATENT_C, 1)), c[0])
    return plan


def widen_unet(state, old, new, seed=0):
    """The wide UNet's state_dict from the narrow one's (same function, see the module doc)."""
    plan = unet_plan(old, new)
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, w in state.items():
        if name in plan:
            o, i, s = plan[name]
            out[name] = widen_param(w, o, i, g, s)
        else:  # time and pooled-text embeddings: no channel axis of a level
            out[name] = w.clone()
    wide = UNet(ch=new)
    missing = set(wide.state_dict()) - set(out)
    assert not missing, f"no plan for {sorted(missing)}"
    wide.load_state_dict(out)
    return wide


def check(old=(48, 96, 144), new=(96, 192, 144)):
    """Largest output difference between a random narrow UNet and its widening, relative to the output's scale."""
    torch.manual_seed(0)
    narrow = UNet(ch=old).eval()
    # a freshly initialised UNet has near-zero norms' effect; perturb every parameter so every path is exercised
    with torch.no_grad():
        for p in narrow.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    wide = widen_unet(narrow.state_dict(), old, new).eval()
    x, t, ctx = torch.randn(3, LATENT_C, 16, 16), torch.tensor([10, 500, 990]), torch.randn(3, 16, 64)
    with torch.no_grad():
        a, b = narrow(x, t, ctx), wide(x, t, ctx)
    rel = ((a - b).abs().max() / a.abs().max()).item()
    print(f"{old} {n_params(narrow):,} -> {new} {n_params(wide):,} parameters: max |difference| / max |output| = "
          f"{rel:.2e}")
    return rel


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    if a.check:
        rel = check()
        check((48, 96, 144), (96, 192, 288))
        sys.exit(0 if rel < 1e-4 else 1)
