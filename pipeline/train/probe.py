"""A quick look at UNet checkpoints while they train: the judge's R@10 on images sampled in PyTorch, per group.

N base emoji per Unicode group (fixed seed) × seeds 0 and 1, each prompt's text states quantised to 4-bit codes as a
key stores them, DDIM 16 steps (trailing), guidance 6, decoded by the shipped autoencoder, named by the
evaluation-only judge among all base names. About two minutes for N = 40 (720 images) on two cores; the same
prompts and seeds for every checkpoint, so checkpoints compare pair by pair. It is not the issue's protocol
(evaluate.py runs that through `lob search` and `lob render`), only a way to see where a run is going without an
export. A constant-rate run and a cooled-down one are not comparable: compare like with like.

Usage: /usr/bin/python3 pipeline/train/probe.py runs/unet5.pt [runs/unet3_cool.pt …] [--n 40] [--unquantised]
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

STEPS, GUIDANCE, SEEDS, BATCH = 16, 6.0, (0, 1), 60


def load_unet(path):
    ck = torch.load(path)
    return unet_from_checkpoint(ck), ck.get("step")


@torch.no_grad()
def sample(unet, cond, uncond, seed):
    noise = torch.randn(len(cond), 4, 16, 16, generator=torch.Generator().manual_seed(seed))
    out = []
    for i in range(0, len(cond), BATCH):
        c = cond[i:i + BATCH]
        with bf16():
            out.append(DF.ddim_sample(unet, c, uncond.expand(len(c), -1, -1), noise[i:i + BATCH], STEPS, GUIDANCE))
    return torch.cat(out).float()


def key_codebook(clip, meta, tok):
    """The 4-bit codebook as train.py builds it: quantiles of every training caption's text states."""
    _, ids, _ = TR.caption_table([m for m in meta if m["set"] in TR.D.TRAIN_SETS], tok)
    with torch.no_grad():
        states = torch.cat([clip.text(ids[i:i + 512])[0] for i in range(0, len(ids), 512)])
    return torch.tensor(KS.code_levels(KS.quantile_table(states[1:])), dtype=torch.float32)


def probe_prompts(groups, n):
    """n base names per Unicode group (fixed seed, groups sorted): indices into the name table, and the groups."""
    by_group = collections.defaultdict(list)
    for i, g in enumerate(groups):
        by_group[g].append(i)
    rnd = random.Random(0)
    return [i for g in sorted(by_group) for i in rnd.sample(by_group[g], min(n, len(by_group[g])))], sorted(by_group)


def main(paths, n, quantised):
    _, meta = J.load_all()
    concepts, names, groups = J.name_table(meta)
    tok = J.tokenizer()
    ae, clip = TR.load_frozen()
    levels = key_codebook(clip, meta, tok)
    pick, order = probe_prompts(groups, n)
    with torch.no_grad():
        cond = clip.text(torch.tensor([tok.encode(names[i]) for i in pick]))[0]
        cond = KS.quantize(cond, levels) if quantised else cond
        uncond = clip.text(torch.tensor([tok.encode("")]))[0]
    judge, _ = J.load()
    name_emb = J.embed_names(judge, tok, names)
    truth = torch.tensor(pick)
    for path in paths:
        unet, step = load_unet(path)
        hits = torch.stack([J.ranks(J.embed_images(judge, ae.decode_norm(sample(unet, cond, uncond, s)).clamp(-1, 1)),
                                    name_emb, truth) < J.TOP_K for s in SEEDS]).float().mean(0)
        per = {g: hits[[k for k, i in enumerate(pick) if groups[i] == g]].mean().item() for g in order}
        cells = " ".join(f"{g.split()[0].lower()} {v:.0%}" for g, v in per.items())
        print(f"{os.path.basename(path)} step {step}: R@10 {hits.mean().item():.1%} of {len(pick) * len(SEEDS)} "
              f"images | {cells}", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("unet", nargs="+")
    ap.add_argument("--n", type=int, default=40, help="prompts per group")
    ap.add_argument("--unquantised", action="store_true", help="the text states as they are, not as a key holds them")
    a = ap.parse_args()
    torch.set_num_threads(2)
    main(a.unet, a.n, not a.unquantised)
