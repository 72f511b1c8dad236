"""The evaluator ("judge"): a CLIP-style pair trained only to judge the default model, never shipped with it.

The shipped text and image encoders rank search candidates, so a model trained against them could drift toward its
own judge; this pair has its own weights and sees every style, OpenMoji (held out of the diffusion model's
training) included. It ranks the names of all base emoji (no skin-tone variants: 'pizza', 'keycap: 7',
'flag: france') for an image; R@10 is how often the right name is among the top 10.

  image tower  the picture at 32x32, 3 conv stages (64/128/256 channels, GroupNorm), flattened 4x4 map -> 128-d
  text tower   WordPiece ids (the model's tokenizer) -> 2 transformer blocks (width 128) -> masked mean -> 128-d
  training     every step scores each image against its name and 512 random others (a sampled softmax over the
               name list: R@10 is what is optimised); concept-balanced batches over all 7 styles and skin-tone variants (a toned picture
               is still its base name); augmentation: shifts, rescaling, and half the time the picture as the
               model's own autoencoder returns it (the artefacts of decoded images, not the UNet's)

Usage: /usr/bin/python3 pipeline/train/judge.py train [--steps 1500]   -> runs/judge.pt (resumable), then pipeline/train/judge.pt
       /usr/bin/python3 pipeline/train/judge.py real                   -> R@10 of real images per style and group
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data as D  # noqa: E402
import tokenizer as TK  # noqa: E402
import train as TR  # noqa: E402
from amp import bf16  # noqa: E402
from models import TextBlock  # noqa: E402
from paths import RUNS  # noqa: E402

WEIGHTS = os.path.join(HERE, "judge.pt")
GROUPS = ["Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink", "Travel & Places", "Activities",
          "Objects", "Symbols", "Flags"]
DIM = 128
TOP_K = 10
NEGATIVES = 512


class JudgeImage(nn.Module):
    def __init__(self):
        super().__init__()

        def blk(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, stride=2, padding=1), nn.GroupNorm(8, o), nn.SiLU(),
                                 nn.Conv2d(o, o, 3, padding=1), nn.GroupNorm(8, o), nn.SiLU())
        self.net = nn.Sequential(blk(3, 64), blk(64, 128), blk(128, 256))
        self.head = nn.Sequential(nn.Linear(256 * 16, 512), nn.SiLU(), nn.Linear(512, DIM))

    def forward(self, x):
        # 32x32 is enough to tell emoji apart and costs a quarter of 64x64 on two cores
        e = self.head(self.net(F.avg_pool2d(x, 2)).flatten(1)).float()
        return e / e.norm(dim=-1, keepdim=True).clamp(min=1e-6)


class JudgeText(nn.Module):
    def __init__(self, vocab, width=128, layers=2, heads=4):
        super().__init__()
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Parameter(torch.randn(TK.T, width) * 0.02)
        self.blocks = nn.ModuleList([TextBlock(width, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(width)
        self.out = nn.Linear(width, DIM)

    def forward(self, ids):
        keep = (ids != TK.PAD).float()
        bias = ((1.0 - keep) * -1e4)[:, None, None, :]
        x = self.tok(ids) + self.pos[None]
        for b in self.blocks:
            x = b(x, bias)
        x = self.norm(x)
        pooled = (x * keep[..., None]).sum(1) / keep.sum(1, keepdim=True).clamp(min=1.0)
        e = self.out(pooled).float()
        return e / e.norm(dim=-1, keepdim=True).clamp(min=1e-6)


class Judge(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.image = JudgeImage()
        self.text = JudgeText(vocab)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(10.0)))


def tokenizer():
    return TK.Tokenizer.from_file(os.path.join(TR.TOKENIZER_DIR, "tokenizer.json"))


def name_table(metas):
    """Base emoji names (Component excluded), sorted by concept code, with their group."""
    names = {}
    for m in metas:
        if m["category"] in GROUPS:
            names[m["concept"]] = (m["name"], m["category"])
    concepts = sorted(names)
    return concepts, [names[c][0] for c in concepts], [names[c][1] for c in concepts]


def load_all():
    """Training styles plus held-out OpenMoji: images uint8 [N,64,64,3], meta (Component dropped)."""
    xa, ma = D.load()
    xb, mb = D.load(held_out=True)
    x = np.concatenate([xa, xb])
    meta = ma + mb
    keep = [i for i, m in enumerate(meta) if m["category"] in GROUPS]
    return x[keep], [meta[i] for i in keep]


def to_tensor(rgb):
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def augment(x, g):
    """Random shift (±4 px) and scale (0.85–1.1) on a white canvas; no flips (left and right arrows differ)."""
    b = x.shape[0]
    scale = 0.85 + 0.25 * torch.rand(b, generator=g)
    shift = (torch.rand(b, 2, generator=g) - 0.5) * 0.25
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = 1 / scale
    theta[:, 1, 1] = 1 / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1  # white pad


@torch.no_grad()
def autoencoded(x):
    ae, _ = TR.load_frozen()
    with bf16():
        return torch.cat([ae.decode_norm(ae.encode_norm(x[i:i + 512])).float() for i in range(0, x.shape[0], 512)])


def cached(path, make):
    if os.path.exists(path):
        return torch.load(path)
    value = make()
    torch.save(value, path)
    return value


@torch.no_grad()
def embed_images(judge, x, batch=512):
    judge.eval()
    return torch.cat([judge.image(x[i:i + batch]) for i in range(0, x.shape[0], batch)])


@torch.no_grad()
def embed_names(judge, tok, names):
    judge.eval()
    ids = torch.tensor([tok.encode(n) for n in names], dtype=torch.int64)
    return judge.text(ids)


def ranks(img_emb, name_emb, truth):
    """Rank (0 = best) of the true name for each image."""
    sims = img_emb @ name_emb.t()
    true = sims.gather(1, truth[:, None])
    return (sims > true).sum(1)


def real_report(judge, tok, x, meta, concepts, names):
    """R@10 of real, toneless images per style and per group."""
    index = {c: i for i, c in enumerate(concepts)}
    plain = [i for i, m in enumerate(meta) if m["unified"] == m["concept"]]
    truth = torch.tensor([index[meta[i]["concept"]] for i in plain])
    hit = (ranks(embed_images(judge, to_tensor(x[plain])), embed_names(judge, tok, names), truth) < TOP_K).float()
    out = {"overall": hit.mean().item(), "per_style": {}, "per_group": {}}
    for key, field in (("per_style", "set"), ("per_group", "category")):
        for v in sorted({meta[i][field] for i in plain}):
            sel = torch.tensor([meta[i][field] == v for i in plain])
            out[key][v] = hit[sel].mean().item()
    return out


def cosine_lr(base, frac, warm=0.03, floor=0.02):
    if frac < warm:
        return base * (0.1 + 0.9 * frac / warm)
    return base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * (frac - warm) / (1 - warm))))


def train(steps, batch=256, lr=2e-3):
    """`steps` optimiser steps (counted, not timed: the machine is shared), checkpointed every 100 to runs/judge.pt
    and resumed from there."""
    torch.manual_seed(7)
    tok = tokenizer()
    x_u8, meta = load_all()
    concepts, names, _ = name_table(meta)
    index = {c: i for i, c in enumerate(concepts)}
    x = to_tensor(x_u8)
    x_ae = cached(os.path.join(RUNS, "judge_autoencoded.pt"), lambda: autoencoded(x))
    by_concept = [[] for _ in concepts]
    for i, m in enumerate(meta):
        by_concept[index[m["concept"]]].append(i)
    ids = torch.tensor([tok.encode(n) for n in names], dtype=torch.int64)
    judge = Judge(len(tok.vocab))
    opt = torch.optim.AdamW(judge.parameters(), lr=lr, weight_decay=0.05)
    ckpt = os.path.join(RUNS, "judge.pt")
    step = 0
    if os.path.exists(ckpt):
        ck = torch.load(ckpt)
        judge.load_state_dict(ck["model"]), opt.load_state_dict(ck["opt"])
        step = ck["step"]
        TR.log(f"judge: resumed at step {step}")
    g = torch.Generator().manual_seed(11 + step)
    rnd = random.Random(13 + step)
    TR.log(f"judge: {len(concepts)} names, {len(meta)} images, {sum(p.numel() for p in judge.parameters())} params")
    while step < steps:
        judge.train()
        for pg in opt.param_groups:
            pg["lr"] = cosine_lr(lr, step / steps)
        cls = torch.randint(0, len(concepts), (batch,), generator=g)
        idx = torch.tensor([rnd.choice(by_concept[c]) for c in cls.tolist()])
        use_ae = torch.rand(batch, generator=g) < 0.5
        xb = torch.where(use_ae[:, None, None, None], x_ae[idx], x[idx])
        xb = augment(xb, g)
        # the batch's names plus random others (the text tower over all names every step would cost most of it)
        pool = torch.unique(torch.cat([cls, torch.randint(0, len(concepts), (NEGATIVES,), generator=g)]))
        target = torch.searchsorted(pool, cls)
        with bf16():
            img = judge.image(xb)
            txt = judge.text(ids[pool])
        logits = judge.logit_scale.exp().clamp(max=100) * img @ txt.t()
        loss = F.cross_entropy(logits, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            acc = (logits.argmax(1) == target).float().mean().item()
            TR.log(f"judge step {step}/{steps} loss {loss.item():.3f} top1 {acc:.2f}")
        if step % 100 == 0:
            TR.save_ckpt("judge", {"model": judge.state_dict(), "opt": opt.state_dict(), "step": step})
    rep = real_report(judge, tok, x_u8, meta, concepts, names)
    TR.log(f"judge: done, {step} steps, real R@10 {json.dumps(rep)}")
    state = {k: v.half() if v.is_floating_point() else v for k, v in judge.state_dict().items()}
    torch.save({"model": state, "vocab": len(tok.vocab), "steps": step, "batch": batch, "names": names,
                "concepts": concepts, "real": rep}, WEIGHTS)
    return rep


def load():
    ck = torch.load(WEIGHTS)
    judge = Judge(ck["vocab"])
    judge.load_state_dict({k: v.float() for k, v in ck["model"].items()})
    return judge.eval(), ck


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["train", "real"])
    ap.add_argument("--steps", type=int, default=1500)
    a = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(RUNS, exist_ok=True)
    if a.what == "train":
        train(a.steps)
    else:
        judge, ck = load()
        x, meta = load_all()
        concepts, names, _ = name_table(meta)
        print(json.dumps(real_report(judge, tokenizer(), x, meta, concepts, names), indent=1))
