"""The shipped image encoder, retrained as a ranker for search's best-of: which of N candidates shows the prompt.

Search renders N candidates and keeps the one whose image_encoder embedding is nearest the prompt's text_embeds.
The image tower trained with the first CLIP (5 minutes, two styles) ranks poorly: best-of 4 did not beat best-of 1
on the balanced protocol (models/emoji/MODEL_CARD.md, sweep). This retrains the image tower alone against the frozen
text tower, so text_embeds and the UNet's conditioning (last_hidden_state) stay exactly as they are:

  data        the six training styles only (OpenMoji stays held out for evaluation), concept-balanced, skin-tone
              variants under their base name; half the time the picture as the model's own autoencoder returns it
              (the artefacts of decoded images), with random shifts and rescaling
  objective   softmax over the text_embeds of every base emoji name (the image's name is the target)
  weights     starts from the shipped tower; same architecture, so the ONNX graph keeps its shape and size

It is not the evaluator: judge.py has its own text tower, its own image tower and sees OpenMoji; this one is shipped.

Usage: /usr/bin/python3 pipeline/train/ranker.py [--steps 1200]   -> runs/ranker.pt (resumable by step), docs/model/ranker.json
       then export.py --image-encoder pipeline/train/runs/ranker.pt
"""
import argparse
import copy
import json
import os
import random
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data as D  # noqa: E402
import judge as J  # noqa: E402
import train as TR  # noqa: E402
from amp import bf16  # noqa: E402
from paths import RUNS  # noqa: E402

CKPT = os.path.join(RUNS, "ranker.pt")
REPORT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "docs", "model", "ranker.json")


@torch.no_grad()
def name_embeds(clip, tok, names):
    ids = torch.tensor([tok.encode(n) for n in names], dtype=torch.int64)
    return torch.cat([clip.text(ids[i:i + 512])[1] for i in range(0, len(names), 512)])


@torch.no_grad()
def real_r10(image_tower, x, meta, truth, names_emb, rows):
    """R@10 over all base names of the toneless real pictures in `rows`, per style."""
    image_tower.eval()
    emb = torch.cat([image_tower(x[rows[i:i + 512]]) for i in range(0, len(rows), 512)])
    hit = (J.ranks(emb, names_emb, truth[rows]) < J.TOP_K).float()
    sets = [meta[i]["set"] for i in rows.tolist()]
    out = {"overall": round(hit.mean().item(), 4)}
    for s in sorted(set(sets)):
        out[s] = round(hit[torch.tensor([v == s for v in sets])].mean().item(), 4)
    return out


def train(steps, batch=256, lr=1e-3):
    ck = torch.load(CKPT) if os.path.exists(CKPT) else None
    if ck and ck.get("done"):  # like train.py's stages: remove runs/ranker.pt to train it again
        TR.log("ranker: already done")
        return
    torch.manual_seed(5)
    tok = J.tokenizer()
    x_u8, meta = J.load_all()
    concepts, names, _ = J.name_table(meta)
    index = {c: i for i, c in enumerate(concepts)}
    truth = torch.tensor([index[m["concept"]] for m in meta])
    x = J.to_tensor(x_u8)
    x_ae = J.cached(os.path.join(RUNS, "judge_autoencoded.pt"), lambda: J.autoencoded(x))
    _, clip = TR.load_frozen()
    names_emb = name_embeds(clip, tok, names)
    tower = copy.deepcopy(clip.image)
    train_rows = [i for i, m in enumerate(meta) if m["set"] in D.TRAIN_SETS]
    by_concept = [[] for _ in concepts]
    for i in train_rows:
        by_concept[index[meta[i]["concept"]]].append(i)
    present = [c for c, rows in enumerate(by_concept) if rows]
    plain = torch.tensor([i for i, m in enumerate(meta) if m["unified"] == m["concept"]])
    before = real_r10(clip.image, x, meta, truth, names_emb, plain)
    TR.log(f"ranker: shipped image tower, real R@10 {json.dumps(before)}")
    scale = torch.nn.Parameter(clip.logit_scale.detach().clone())
    opt = torch.optim.AdamW(list(tower.parameters()) + [scale], lr=lr, weight_decay=0.05)
    step = 0
    if ck:
        tower.load_state_dict(ck["image"]), opt.load_state_dict(ck["opt"])
        scale.data.fill_(ck["logit_scale"])
        step = ck["step"]
        TR.log(f"ranker: resumed at step {step}")
    g = torch.Generator().manual_seed(21 + step)
    rnd = random.Random(23 + step)
    while step < steps:
        tower.train()
        for pg in opt.param_groups:
            pg["lr"] = J.cosine_lr(lr, step / steps)
        cls = torch.tensor([present[j] for j in torch.randint(0, len(present), (batch,), generator=g).tolist()])
        idx = torch.tensor([rnd.choice(by_concept[c]) for c in cls.tolist()])
        use_ae = torch.rand(batch, generator=g) < 0.5
        xb = J.augment(torch.where(use_ae[:, None, None, None], x_ae[idx], x[idx]), g)
        with bf16():
            img = tower(xb).float()
        logits = scale.exp().clamp(max=100) * img @ names_emb.t()
        loss = F.cross_entropy(logits, cls)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            acc = (logits.argmax(1) == cls).float().mean().item()
            TR.log(f"ranker step {step}/{steps} loss {loss.item():.3f} top1 {acc:.2f} scale {scale.exp().item():.1f}")
        if step % 200 == 0:
            TR.save_ckpt("ranker", {"image": tower.state_dict(), "opt": opt.state_dict(), "step": step,
                                    "logit_scale": scale.item()})
    after = real_r10(tower, x, meta, truth, names_emb, plain)
    TR.log(f"ranker: done, {step} steps, real R@10 {json.dumps(after)}")
    TR.save_ckpt("ranker", {"image": tower.state_dict(), "step": step, "logit_scale": scale.item(), "done": True,
                            "real_r10_before": before, "real_r10_after": after})
    with open(REPORT, "w") as f:  # the model card quotes it
        json.dump({"steps": step, "batch": batch, "real_r10_before": before, "real_r10_after": after}, f, indent=1)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1200)
    a = ap.parse_args()
    torch.set_num_threads(2)
    train(a.steps)
