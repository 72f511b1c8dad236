"""Evaluates the model with PyTorch (same weights as the ONNX export) and draws the contact sheet.

R-precision (issue 4): 300 fixed captions drawn from the canonical training captions, 2 images each; a hit is the
caption ranking in the top 10 of all canonical captions by cosine(image_embeds, text_embeds) of the shipped
encoders. Reported for
  - real: the Noto and Twemoji images of the caption (the ceiling),
  - generated: rendered the way a key renders (4-bit quantile-coded prompt embedding, 4-bit coded standard-normal
    initial latent from seeds 0 and 1, DDIM eta 0, CFG at the exported guidance, default steps),
  - random keys: random codes for embedding and latent, scored against the same 300 captions (chance level), plus
    "emoji-likeness": the share of images whose best caption cosine reaches the 10th percentile of real images'.
Writes docs/model/metrics.json and docs/model/contact_sheet.png.
"""
import argparse
import json
import os
import random
import sys

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data as D  # noqa: E402
import diffusion as DF  # noqa: E402
import export as EX  # noqa: E402
import keyspace_stats as KS  # noqa: E402
import tokenizer as TK  # noqa: E402
import train as TR  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT_DIR = os.path.join(ROOT, "docs", "model")
N_CAPTIONS = 300
TOP_K = 10
SHEET_PROMPTS = ["grinning face", "red heart", "smiling face with sunglasses", "thumbs up", "pile of poo", "rocket",
                 "pizza", "cat face", "fire", "star", "face with tears of joy", "ghost", "green apple", "blue circle",
                 "dog face", "birthday cake", "sun", "snowflake", "banana", "crying face", "ok hand: dark skin tone",
                 "rainbow", "car", "house", "skull", "alien", "tree", "cloud", "flag: japan", "soccer ball",
                 "waving hand: medium skin tone", "happy smiley"]


def std_normal_levels(bits=4):
    """Decoded values of the latent section's codes: Q((c + 0.5) / 2^bits), Q the standard normal inverse CDF."""
    p = (torch.arange(2 ** bits, dtype=torch.float64) + 0.5) / 2 ** bits
    return torch.special.ndtri(p).float()


def key_noise(seed, n_levels):
    """Initial latent of a key: a 4-bit code per element, drawn from a seeded generator."""
    g = torch.Generator().manual_seed(seed)
    return n_levels[torch.randint(0, len(n_levels), (4, 16, 16), generator=g)]


class Model:
    def __init__(self, unet_ckpt):
        self.ae, self.clip = TR.load_frozen()
        self.unet = EX.load_unet(unet_ckpt)
        self.tok = TK.Tokenizer.from_file(os.path.join(TR.TOKENIZER_DIR, "tokenizer.json"))
        _, meta = D.load()
        caps = sorted(set(TK.all_captions(meta)))
        self.levels = torch.tensor(KS.code_levels(KS.quantile_table(self.states(caps))), dtype=torch.float32)
        self.uncond = self.states([""])
        self.n_levels = std_normal_levels()

    @torch.no_grad()
    def states(self, texts):
        ids = torch.tensor([self.tok.encode(t) for t in texts], dtype=torch.int64)
        return torch.cat([self.clip.text(ids[i:i + 512])[0] for i in range(0, len(texts), 512)])

    @torch.no_grad()
    def text_embeds(self, texts):
        ids = torch.tensor([self.tok.encode(t) for t in texts], dtype=torch.int64)
        return torch.cat([self.clip.text(ids[i:i + 512])[1] for i in range(0, len(texts), 512)])

    @torch.no_grad()
    def image_embeds(self, x):
        return torch.cat([self.clip.image(x[i:i + 256]) for i in range(0, x.shape[0], 256)])

    @torch.no_grad()
    def render(self, emb, noise, steps, guidance, batch=64):
        """emb [N,T,D] (already key-decoded), noise [N,4,16,16] -> images [N,3,64,64] in [-1,1]."""
        out = []
        for i in range(0, emb.shape[0], batch):
            e, z = emb[i:i + batch], noise[i:i + batch]
            lat = DF.ddim_sample(self.unet, e, self.uncond.expand(e.shape[0], -1, -1), z, steps, guidance)
            out.append(self.ae.decode_norm(lat))
        return torch.cat(out)

    def key_embedding(self, texts):
        return KS.quantize(self.states(texts), self.levels)

    def random_key_embedding(self, n, seed):
        return KS.random_codes(self.levels, n, torch.Generator().manual_seed(seed)).view(n, 16, 64)


def r_precision(img_emb, truth, pool_emb):
    """img_emb [N,E]; truth [N] index into the pool; hit if the true caption is among the TOP_K most similar."""
    sims = img_emb @ pool_emb.t()
    true = sims.gather(1, truth[:, None])
    rank = (sims > true).sum(1)
    return float((rank < TOP_K).float().mean()), sims.max(1).values


def generated_r_precision(model, chosen, truth2, pool_emb, steps, guidance):
    emb = model.key_embedding(chosen).repeat_interleave(2, 0)
    noise = torch.stack([key_noise(s, model.n_levels) for _ in chosen for s in (0, 1)])
    gen = model.render(emb, noise, steps, guidance)
    return r_precision(model.image_embeds(gen), truth2, pool_emb)


def sweep(unet_ckpt, settings, n_captions):
    """Generated R-precision for each (steps, guidance): how the defaults were chosen."""
    model = Model(unet_ckpt)
    _, meta = D.load()
    pool = sorted({m["canonical"] for m in meta})
    pool_index = {c: i for i, c in enumerate(pool)}
    pool_emb = model.text_embeds(pool)
    chosen = random.Random(4).sample(pool, n_captions)
    truth2 = torch.tensor([pool_index[c] for c in chosen for _ in range(2)])
    out = []
    for steps, g in settings:
        rp, _ = generated_r_precision(model, chosen, truth2, pool_emb, steps, g)
        out.append({"steps": steps, "guidance_scale": g, "generated_r_precision": rp, "captions": n_captions})
        print(json.dumps(out[-1]), flush=True)
    return out


def evaluate(unet_ckpt, steps, guidance, n_captions=N_CAPTIONS):
    torch.manual_seed(0)
    model = Model(unet_ckpt)
    images, meta = D.load()
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    pool = sorted({m["canonical"] for m in meta})
    pool_index = {c: i for i, c in enumerate(pool)}
    pool_emb = model.text_embeds(pool)
    chosen = random.Random(4).sample(pool, n_captions)
    truth2 = torch.tensor([pool_index[c] for c in chosen for _ in range(2)])

    by_caption = {}
    for i, m in enumerate(meta):
        by_caption.setdefault(m["canonical"], []).append(i)
    real_idx = [by_caption[c][k % len(by_caption[c])] for c in chosen for k in range(2)]
    real_rp, real_best = r_precision(model.image_embeds(x[real_idx]), truth2, pool_emb)

    gen_rp, gen_best = generated_r_precision(model, chosen, truth2, pool_emb, steps, guidance)

    n_rand = 2 * n_captions
    rnd_emb = model.random_key_embedding(n_rand, 99)
    rnd_noise = torch.stack([key_noise(1000 + i, model.n_levels) for i in range(n_rand)])
    rnd = model.render(rnd_emb, rnd_noise, steps, guidance)
    rnd_rp, rnd_best = r_precision(model.image_embeds(rnd), truth2, pool_emb)

    threshold = float(torch.quantile(real_best, 0.10))
    metrics = {
        "protocol": f"{n_captions} canonical captions x 2 images, top-{TOP_K} of {len(pool)} canonical captions",
        "steps": steps, "guidance_scale": guidance,
        "r_precision": {"real": real_rp, "generated": gen_rp, "random_keys": rnd_rp,
                        "generated_over_real": gen_rp / real_rp if real_rp else None},
        "best_caption_cosine_mean": {"real": float(real_best.mean()), "generated": float(gen_best.mean()),
                                     "random_keys": float(rnd_best.mean())},
        "emoji_likeness": {"threshold_real_p10": threshold,
                           "generated": float((gen_best >= threshold).float().mean()),
                           "random_keys": float((rnd_best >= threshold).float().mean())},
    }
    sheet(model, steps, guidance, os.path.join(OUT_DIR, "contact_sheet.png"))
    return metrics


def to_pil(img, scale=2):
    a = ((img.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    return Image.fromarray(a).resize((64 * scale, 64 * scale), Image.NEAREST)


def sheet(model, steps, guidance, path):
    """32 prompts x 2 seeds (key path) and 32 random keys, each labelled."""
    emb = model.key_embedding(SHEET_PROMPTS).repeat_interleave(2, 0)
    noise = torch.stack([key_noise(s, model.n_levels) for _ in SHEET_PROMPTS for s in (0, 1)])
    gen = model.render(emb, noise, steps, guidance)
    rnd = model.render(model.random_key_embedding(32, 7),
                       torch.stack([key_noise(2000 + i, model.n_levels) for i in range(32)]), steps, guidance)
    font = ImageFont.load_default()
    cell_w, cell_h, label_h = 272, 128, 16
    cols = 4
    rows_p = (len(SHEET_PROMPTS) + cols - 1) // cols
    rows_r = 4
    title_h = 20
    W = cols * cell_w
    H = title_h + rows_p * (cell_h + label_h) + title_h + rows_r * (cell_h + label_h)
    canvas = Image.new("RGB", (W, H), (255, 255, 255))
    d = ImageDraw.Draw(canvas)
    d.text((4, 4), f"prompts (key path, seeds 0 and 1), {steps} DDIM steps, guidance {guidance}", fill=(0, 0, 0),
           font=font)
    for i, p in enumerate(SHEET_PROMPTS):
        r, c = divmod(i, cols)
        x0, y0 = c * cell_w, title_h + r * (cell_h + label_h)
        canvas.paste(to_pil(gen[2 * i]), (x0 + 4, y0))
        canvas.paste(to_pil(gen[2 * i + 1]), (x0 + 4 + 128 + 4, y0))
        d.text((x0 + 4, y0 + cell_h + 2), p[:40], fill=(0, 0, 0), font=font)
    y_r = title_h + rows_p * (cell_h + label_h)
    d.text((4, y_r + 4), "random keys (random codes for embedding and latent)", fill=(0, 0, 0), font=font)
    for i in range(32):
        r, c = divmod(i, 8)
        x0, y0 = c * (W // 8), y_r + title_h + r * (cell_h + label_h)
        canvas.paste(to_pil(rnd[i]), (x0 + 2, y0))
        d.text((x0 + 2, y0 + cell_h + 2), f"random key {i}", fill=(0, 0, 0), font=font)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    canvas.save(path)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--unet", default=os.path.join(TR.RUNS, "unet.pt"))
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--guidance", type=float, default=6.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--captions", type=int, default=N_CAPTIONS)
    ap.add_argument("--out", default=os.path.join(OUT_DIR, "metrics.json"))
    ap.add_argument("--sweep", help="steps:guidance pairs, e.g. 16:2,16:4 -> writes docs/model/sweep.json only")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.sweep:
        pairs = [(int(a), float(b)) for a, b in (p.split(":") for p in args.sweep.split(","))]
        with open(os.path.join(OUT_DIR, "sweep.json"), "w") as f:
            json.dump(sweep(args.unet, pairs, args.captions), f, indent=1)
            f.write("\n")
        sys.exit(0)
    m = evaluate(args.unet, args.steps, args.guidance, args.captions)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(m, f, indent=1)
        f.write("\n")
    print(json.dumps(m, indent=1))
