"""How search should rank its candidates: the shipped image encoder's cosine to the prompt, or log p(prompt | image)
among every base emoji name (search_ranking/, pipeline/render/ranking.ts) at several scales.

N base emoji per Unicode group (fixed seed) × C candidates each (seeds 100.., DDIM 8 steps, guidance 6, text states as
a key's 4-bit codes), sampled once in PyTorch; each rule picks one candidate per prompt from the first 8 and from all
C, and the evaluation-only judge scores the picks (R@10 among all base names, as evaluate.py). Every rule sees the
same candidates, so the rules compare pair by pair. "any-of" is the share of prompts with a right candidate at all:
what a perfect ranker would reach. About 8 minutes for N = 30, C = 16 on two cores.

Usage: /usr/bin/python3 pipeline/train/ranking_probe.py runs/shipped_unet.pt [--n 30] [--candidates 16]
"""
import argparse
import collections
import os
import random
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import diffusion as DF  # noqa: E402
import judge as J  # noqa: E402
import keyspace_stats as KS  # noqa: E402
import train as TR  # noqa: E402
from amp import bf16  # noqa: E402
from models import unet_from_checkpoint  # noqa: E402

STEPS, GUIDANCE, BATCH, SCALES = 8, 6.0, 64, (5, 10, 20, 30, 40, 80)


@torch.no_grad()
def candidates(unet, ae, cond, uncond, n_cand):
    """[P, C, 3, 64, 64] decoded pictures: candidate s of every prompt from seed 100 + s."""
    out = []
    for s in range(n_cand):
        noise = torch.randn(len(cond), 4, 16, 16, generator=torch.Generator().manual_seed(100 + s))
        lat = []
        for i in range(0, len(cond), BATCH):
            c = cond[i:i + BATCH]
            with bf16():
                lat.append(DF.ddim_sample(unet, c, uncond.expand(len(c), -1, -1), noise[i:i + BATCH], STEPS, GUIDANCE))
        out.append(ae.decode_norm(torch.cat(lat).float()).clamp(-1, 1))
    return torch.stack(out, 1)


def rules(sims, own):
    """Candidate scores per rule: sims [P, C, names] cosines to every name, own [P, C] cosine to the prompt."""
    out = {"cosine": own}
    for s in SCALES:
        out[f"p(prompt|image) at {s}"] = s * own - torch.logsumexp(s * sims, 2)
    return out


@torch.no_grad()
def main(path, n, n_cand):
    _, meta = J.load_all()
    concepts, names, groups = J.name_table(meta)
    tok = J.tokenizer()
    ae, clip = TR.load_frozen()
    _, ids, _ = TR.caption_table([m for m in meta if m["set"] in TR.D.TRAIN_SETS], tok)
    states = torch.cat([clip.text(ids[i:i + 512])[0] for i in range(0, len(ids), 512)])
    levels = torch.tensor(KS.code_levels(KS.quantile_table(states[1:])), dtype=torch.float32)
    by_group = collections.defaultdict(list)
    for i, g in enumerate(groups):
        by_group[g].append(i)
    order = sorted(by_group)
    rnd = random.Random(0)
    pick = [i for g in order for i in rnd.sample(by_group[g], n)]
    hidden, name_emb = clip.text(torch.tensor([tok.encode(x) for x in names]))
    cond = KS.quantize(hidden[pick], levels)
    uncond = clip.text(torch.tensor([tok.encode("")]))[0]
    imgs = candidates(unet_from_checkpoint(torch.load(path)), ae, cond, uncond, n_cand)
    flat = imgs.flatten(0, 1)
    judge, _ = J.load()
    truth = torch.tensor(pick)
    hit = (J.ranks(J.embed_images(judge, flat), J.embed_names(judge, tok, names), truth.repeat_interleave(n_cand))
           < J.TOP_K).view(len(pick), n_cand).float()
    sims = clip.image(flat).view(len(pick), n_cand, -1) @ name_emb.t()
    own = sims.gather(2, truth[:, None, None].expand(-1, n_cand, 1)).squeeze(2)
    group_of = torch.tensor([order.index(groups[i]) for i in pick])
    print(f"{len(pick)} prompts: one candidate {hit[:, 0].mean():.1%}, any of 8 {hit[:, :8].max(1).values.mean():.1%}, "
          f"any of {n_cand} {hit.max(1).values.mean():.1%}")
    for k in (8, n_cand):
        for name, score in rules(sims[:, :k], own[:, :k]).items():
            chosen = hit[:, :k].gather(1, score.argmax(1, keepdim=True)).squeeze(1)
            per = " ".join(f"{g.split()[0].lower()} {chosen[group_of == j].mean():.0%}" for j, g in enumerate(order))
            print(f"best of {k:2d} by {name:22s} {chosen.mean():.1%} | {per}", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("unet")
    ap.add_argument("--n", type=int, default=30, help="prompts per group")
    ap.add_argument("--candidates", type=int, default=16)
    a = ap.parse_args()
    torch.set_num_threads(2)
    main(a.unet, a.n, a.candidates)
