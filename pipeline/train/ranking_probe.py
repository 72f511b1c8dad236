"""How search should rank its candidates: the shipped image encoder's cosine to the prompt; log p(prompt | image)
among every base emoji name's text embedding (search_ranking/ format 1, 9.0.0); or log p(target | image) among every
base name's picture prototype, the mean image embedding of its training pictures (format 2, from 9.1.0), where the
prompt's target is that name's prototype (exact) or the prototypes of the names its words are near (soft, what
pipeline/render/ranking.ts does for any prompt).

N base emoji per Unicode group (fixed seed) × C candidates each (seeds 100.., DDIM 8 steps, guidance 6, text states as
a key's 4-bit codes), sampled once in PyTorch; each rule picks one candidate per prompt from the first 8 and from all
C, and the evaluation-only judge scores the picks (R@10 among all base names, as evaluate.py). Every rule sees the
same candidates, so the rules compare pair by pair. "any-of" is the share of prompts with a right candidate at all:
what a perfect ranker would reach. About 8 minutes for N = 30, C = 16 on two cores; with --cache the candidates are
kept, and a rerun (other rules, the same pictures) takes about a minute.

Usage: /usr/bin/python3 pipeline/train/ranking_probe.py runs/shipped_unet.pt [--n 30] [--candidates 16] [--cache F]
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import diffusion as DF  # noqa: E402
import export as EX  # noqa: E402
import judge as J  # noqa: E402
import probe as P  # noqa: E402
import keyspace_stats as KS  # noqa: E402
import train as TR  # noqa: E402
from amp import bf16  # noqa: E402
from models import unet_from_checkpoint  # noqa: E402

STEPS, GUIDANCE, BATCH, SCALES, PROTO_SCALES = 8, 6.0, 64, (10, 30), (10, 20, 40)
TAUS = (100,)


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


def posterior(own, sims, scale):
    """log p(prompt | image) at `scale`: the prompt's softmax share among itself and every reference row."""
    return scale * own - torch.logsumexp(torch.cat([scale * sims, scale * own[..., None]], -1), -1)


def training_pictures(x, meta, concepts):
    """Every base name's pictures in the training styles (never the held-out OpenMoji; float [N, 3, 64, 64] in
    [-1, 1]) and each one's name row: what export.py makes search_ranking/'s prototypes and thumbnails from."""
    row = {c: k for k, c in enumerate(concepts)}
    keep = [i for i, m in enumerate(meta)
            if m["set"] in TR.D.TRAIN_SETS and m["unified"] == m["concept"] and m["concept"] in row]
    return J.to_tensor(x[keep]), [row[meta[i]["concept"]] for i in keep]


def thumbnail_share(cand_thumbs, name_thumbs, weights, temperature=EX.THUMBNAIL_TEMPERATURE):
    """log of the prompt's share by pixels (ranking.ts's thumbnailShare): cand_thumbs [P, C, v], name_thumbs [names,
    v], weights [P, names] how much each name is the prompt."""
    logits = -(torch.cdist(cand_thumbs.flatten(0, 1), name_thumbs) ** 2 / name_thumbs.shape[1] / temperature)
    logits = logits.view(*cand_thumbs.shape[:2], -1)
    own = (logits * weights[:, None, :]).sum(2)
    return own - torch.logsumexp(torch.cat([logits, own[..., None]], -1), -1)


def rules(img, name_emb, protos, text_prompt, truth, cand_thumbs, name_thumbs):
    """Candidate scores [P, C] per rule. img [P, C, dim] candidates' image embeddings; name_emb and protos [names,
    dim] every name's text embedding and picture prototype; text_prompt [P, dim] the prompt's text embedding;
    cand_thumbs [P, C, v] and name_thumbs [names, v] thumbnails of the candidates and of each name's pictures."""
    sims = img @ name_emb.t()
    own = torch.einsum("pcd,pd->pc", img, text_prompt)
    psims = img @ protos.t()
    pown = psims.gather(2, truth[:, None, None].expand(-1, img.shape[1], 1)).squeeze(2)
    out = {"cosine": own}
    for s in SCALES:
        out[f"p(prompt|image) at {s}"] = posterior(own, sims, s)
    for s in PROTO_SCALES:
        out[f"p(proto|image) at {s}"] = posterior(pown, psims, s)
    # a prompt that is no base name has no prototype: its target is the prototypes of the names its words are near
    for tau in TAUS:
        target = torch.nn.functional.normalize(torch.softmax(tau * text_prompt @ name_emb.t(), 1) @ protos, dim=1)
        sown = torch.einsum("pcd,pd->pc", img, target)
        for s in PROTO_SCALES[:2]:
            out[f"p(soft proto|image) at {s}, tau {tau}"] = posterior(sown, psims, s)
        out[f"text 10 + soft proto 10, tau {tau}"] = posterior(own, sims, 10) + posterior(sown, psims, 10)
        weights = torch.softmax(tau * text_prompt @ name_emb.t(), 1)
        for t in (0.01, 0.03, 0.1):
            out[f"soft proto 10 + thumbnails at {t}, tau {tau}"] = (posterior(sown, psims, 10)
                                                                    + thumbnail_share(cand_thumbs, name_thumbs,
                                                                                      weights, t))
    return out


@torch.no_grad()
def main(path, n, n_cand, cache):
    x, meta = J.load_all()
    concepts, names, groups = J.name_table(meta)
    tok = J.tokenizer()
    ae, clip = TR.load_frozen()
    pick, order = P.probe_prompts(groups, n)
    hidden, name_emb = clip.text(torch.tensor([tok.encode(x) for x in names]))
    if cache and os.path.exists(cache):
        imgs = torch.load(cache)
    else:
        cond = KS.quantize(hidden[pick], P.key_codebook(clip, meta, tok))
        uncond = clip.text(torch.tensor([tok.encode("")]))[0]
        imgs = candidates(unet_from_checkpoint(torch.load(path)), ae, cond, uncond, n_cand)
        if cache:
            torch.save(imgs, cache)
    n_cand = imgs.shape[1]
    flat = imgs.flatten(0, 1)
    judge, _ = J.load()
    truth = torch.tensor(pick)
    hit = (J.ranks(J.embed_images(judge, flat), J.embed_names(judge, tok, names), truth.repeat_interleave(n_cand))
           < J.TOP_K).view(len(pick), n_cand).float()
    img = torch.cat([clip.image(flat[i:i + 512]) for i in range(0, len(flat), 512)]).view(len(pick), n_cand, -1)
    pictures, rows = training_pictures(x, meta, concepts)
    protos = EX.picture_prototypes(clip, pictures, rows, len(concepts))
    name_thumbs = EX.name_thumbnails(pictures, rows, len(concepts))
    cand_thumbs = EX.thumbnails(flat).view(len(pick), n_cand, -1)
    group_of = torch.tensor([order.index(groups[i]) for i in pick])
    print(f"{len(pick)} prompts: one candidate {hit[:, 0].mean():.1%}, any of 8 {hit[:, :8].max(1).values.mean():.1%}, "
          f"any of {n_cand} {hit.max(1).values.mean():.1%}")
    for k in (8, n_cand):
        for name, score in rules(img[:, :k], name_emb, protos, name_emb[truth], truth, cand_thumbs[:, :k],
                                 name_thumbs).items():
            chosen = hit[:, :k].gather(1, score.argmax(1, keepdim=True)).squeeze(1)
            per = " ".join(f"{g.split()[0].lower()} {chosen[group_of == j].mean():.0%}" for j, g in enumerate(order))
            print(f"best of {k:2d} by {name:34s} {chosen.mean():.1%} | {per}", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("unet")
    ap.add_argument("--n", type=int, default=30, help="prompts per group")
    ap.add_argument("--candidates", type=int, default=16)
    ap.add_argument("--cache", help="a .pt file: the candidates' pictures are kept there and reused if it exists")
    a = ap.parse_args()
    torch.set_num_threads(2)
    main(a.unet, a.n, a.candidates, a.cache)
