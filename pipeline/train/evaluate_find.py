"""Benchmarks find (picture -> key, issue 12) on pictures it never saw rendered, and judges the results.

Protocol:
  pictures   100 training pictures (base emoji, all six training styles, fixed seed) and 100 OpenMoji pictures
             (a style never trained on), 64x64 on white, fed to find as PNG files through loadPicture
  modes      fine     the default: fine-latent keys (8-bit), 12 candidates (every candidate's score is kept, so the
                      first candidate alone is reported too)
             coarse   keys of the model's own profile (4-bit latent), 12 candidates, on the first 50 of each set
             caption  the key carries the caption the model's image encoder ranks best, and the sampler is inverted
                      under it (one candidate), on the same 100 as coarse: against find's empty prompt
  similarity median PSNR and SSIM of the found key's image against the picture
  judge      how often the evaluation-only judge (judge.py) gives the found image the same top-1 name as the picture
Writes OUT/metrics.json and OUT/contact_sheet.png (picture | fine | coarse, 16 of each set), prints a table.

Usage: /usr/bin/python3 pipeline/train/evaluate_find.py [--out docs/find] [--n 100] [--modes fine,coarse,caption]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import judge as J  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SEED = 20261130


def choose(meta, n):
    """n training pictures (base emoji, any training style) and n OpenMoji pictures, each of a distinct emoji."""
    rnd = random.Random(SEED)
    base = [i for i, m in enumerate(meta) if m["unified"] == m["concept"]]
    train = [i for i in base if meta[i]["set"] != "openmoji"]
    held = [i for i in base if meta[i]["set"] == "openmoji"]
    rnd.shuffle(train)
    rnd.shuffle(held)

    def distinct(pool):
        seen, out = set(), []
        for i in pool:
            if meta[i]["concept"] not in seen:
                seen.add(meta[i]["concept"])
                out.append(i)
            if len(out) == n:
                break
        return out
    return distinct(train), distinct(held)


def run_mode(mode, pictures, out, candidates, captions):
    cmd = ["npx", "tsx", "scripts/find-renders.ts", "--pictures", pictures, "--out", out, "--mode", mode,
           "--candidates", str(candidates)]
    if captions:
        cmd += ["--captions", captions]
    subprocess.run(cmd, cwd=ROOT, check=True)
    with open(os.path.join(out, f"{mode}.json")) as f:
        rows = json.load(f)
    rgb = np.fromfile(os.path.join(out, f"{mode}.rgb"), dtype=np.uint8).reshape(len(rows), 64, 64, 3)
    return rows, rgb


def summary(rows, same, idx):
    sel = [rows[i] for i in idx]
    out = {
        "pictures": len(sel),
        "median_psnr": float(np.median([r["psnr"] for r in sel])),
        "median_ssim": float(np.median([r["ssim"] for r in sel])),
        "same_top1": float(np.mean([same[i] for i in idx])),
        "median_s": float(np.median([r["ms"] for r in sel]) / 1000),
        "max_s": float(np.max([r["ms"] for r in sel]) / 1000),
    }
    if sel[0]["history"]:
        out["median_psnr_first_candidate"] = float(np.median([r["history"][0] for r in sel]))
    return out


def contact_sheet(pictures, found, metas, psnrs, path, title):
    font = ImageFont.load_default()
    cols, cell, label = 4, 3 * 128 + 16, 14
    rows = (len(pictures) + cols - 1) // cols
    canvas = Image.new("RGB", (cols * cell, 20 + rows * (128 + label + 6)), (255, 255, 255))
    d = ImageDraw.Draw(canvas)
    d.text((4, 4), title, fill=(0, 0, 0), font=font)
    big = lambda a: Image.fromarray(a).resize((128, 128), Image.NEAREST)  # noqa: E731
    for k, pic in enumerate(pictures):
        r, c = divmod(k, cols)
        x0, y0 = c * cell, 20 + r * (128 + label + 6)
        canvas.paste(big(pic), (x0 + 4, y0))
        for j, f in enumerate(found):
            if f[k] is not None:
                canvas.paste(big(f[k]), (x0 + 4 + (j + 1) * 128, y0))
        text = f"{metas[k]['set']}: {metas[k]['name'][:22]}  " + " / ".join(f"{p:.1f}" for p in psnrs[k] if p is not None)
        text = text.encode("latin-1", "replace").decode("latin-1")  # the default bitmap font is latin-1 only
        d.text((x0 + 4, y0 + 129), text, fill=(0, 0, 0), font=font)
    canvas.save(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "find"))
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--modes", default="fine,coarse,caption")
    ap.add_argument("--candidates", type=int, default=12)
    ap.add_argument("--subset", type=int, help="pictures of each set for coarse and caption (default n / 2)")
    args = ap.parse_args()
    modes = args.modes.split(",")
    torch.set_num_threads(2)
    x_all, meta_all = J.load_all()
    train, held = choose(meta_all, args.n)
    chosen = train + held
    half = args.subset or args.n // 2
    subset = list(range(half)) + list(range(args.n, args.n + half))
    concepts, names, _ = J.name_table(meta_all)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        pics = os.path.join(tmp, "pictures")
        os.makedirs(pics)
        files = []
        for k, i in enumerate(chosen):
            files.append(f"{k:03d}.png")
            Image.fromarray(x_all[i]).save(os.path.join(pics, files[-1]))
        caps = os.path.join(tmp, "captions.json")
        with open(caps, "w") as f:
            json.dump(names, f)
        for mode in modes:
            sel = list(range(len(chosen))) if mode == "fine" else subset
            sub = os.path.join(tmp, mode)
            os.makedirs(sub)
            with open(os.path.join(sub, "pictures.json"), "w") as f:
                json.dump([os.path.join("..", "pictures", files[k]) for k in sel], f)
            rows, rgb = run_mode(mode, sub, sub, args.candidates, caps if mode == "caption" else None)
            full_rows, full_rgb = [None] * len(chosen), [None] * len(chosen)
            for j, k in enumerate(sel):
                full_rows[k], full_rgb[k] = rows[j], rgb[j]
            results[mode] = (full_rows, full_rgb, sel)

    judge, _ = J.load()
    tok = J.tokenizer()
    txt = J.embed_names(judge, tok, names)
    top1 = lambda imgs: (J.embed_images(judge, J.to_tensor(np.stack(imgs))) @ txt.t()).argmax(1).tolist()  # noqa: E731
    picture_top1 = top1([x_all[i] for i in chosen])
    metrics = {"pictures": {"training_styles": len(train), "openmoji": len(held)}, "candidates": args.candidates,
               "seed": SEED, "names": len(names), "modes": {}}
    for mode, (rows, rgb, sel) in results.items():
        found_top1 = dict(zip(sel, top1([rgb[k] for k in sel])))
        same = {k: found_top1[k] == picture_top1[k] for k in sel}
        tr = [k for k in sel if k < args.n]
        om = [k for k in sel if k >= args.n]
        metrics["modes"][mode] = {"training_styles": summary(rows, same, tr), "openmoji": summary(rows, same, om)}
        if mode == "caption":
            metrics["modes"][mode]["captions"] = {files_k: rows[k]["prompt"] for files_k, k in
                                                 ((f"{k:03d}", k) for k in sel[:10])}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    show = list(range(min(16, args.n))) + list(range(args.n, args.n + min(16, args.n)))
    found = [[results[m][1][k] for k in show] for m in ("fine", "coarse") if m in results]
    psnrs = [[results[m][0][k]["psnr"] if results[m][0][k] else None for m in ("fine", "coarse") if m in results]
             for k in show]
    contact_sheet([x_all[chosen[k]] for k in show], found, [meta_all[chosen[k]] for k in show], psnrs,
                  os.path.join(args.out, "contact_sheet.png"),
                  "picture | lob find (fine key, default) | lob find --coarse (4-bit key); PSNR dB fine / coarse")
    print(f"{'mode':8} {'set':16} {'PSNR':>6} {'1st cand':>8} {'SSIM':>6} {'same top-1':>10} {'s/pic':>6} {'max s':>6}")
    for mode, sets in metrics["modes"].items():
        for name in ("training_styles", "openmoji"):
            s = sets[name]
            first = s.get("median_psnr_first_candidate")
            print(f"{mode:8} {name:16} {s['median_psnr']:6.1f} {first if first is None else round(first, 1)!s:>8} "
                  f"{s['median_ssim']:6.3f} {s['same_top1']:10.0%} {s['median_s']:6.1f} {s['max_s']:6.1f}")


if __name__ == "__main__":
    main()
