"""Evaluates an exported model folder the way a user meets it, and judges it with the evaluation-only pair (judge.py).

Protocol (issue 11):
  prompts    300 base emoji (no skin-tone variants), drawn with a fixed seed, stratified over the nine Unicode groups
             (34 or 33 each); each prompt is the plain name a person types ('pizza', 'keycap: 7', 'flag: France')
  generated  the real key path: searchKey(prompt, seed 0 and 1) then renderKey, in onnxruntime-node, 4-bit codes,
             the folder's sampler, steps and guidance (scripts/eval-renders.ts); the PNG's pixels are judged
  real       every training style and held-out OpenMoji picture of the same 300 emoji (the ceiling)
  random     64 random keys (`lob random --seed 0..63`)
  judge      R@10: the right name among the judge's top 10 of all 1,906 base emoji names
  colour     hue histograms of coloured pixels, generated against the real pictures of the same emoji (histogram
             intersection, 1 = same hues), with mismatched pairs as the baseline
Writes OUT/metrics.json and OUT/contact_sheet.png (the ten everyday prompts and 32 standard ones x 2 seeds, 32 random
keys), and prints the metrics.

Usage: /usr/bin/python3 pipeline/train/evaluate.py --model models/emoji --out docs/model [--quick 100]
       [--scheduler DDIM|Euler|DPM --steps 16 --guidance 6]  (a sweep point: --sweep-out FILE, no sheet)
"""
import argparse
import colorsys
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data as D  # noqa: E402
import export as EX  # noqa: E402
import judge as J  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
N_PROMPTS = 300
PROMPT_SEED = 20261130
N_RANDOM = 64
EVERYDAY = ["red heart", "pizza", "rocket", "dog", "sun", "tree", "snowman", "keycap: 7", "flag: France",
            "a cat wearing sunglasses"]
STANDARD = ["grinning face", "red heart", "smiling face with sunglasses", "thumbs up", "pile of poo", "rocket",
            "pizza", "cat face", "fire", "star", "face with tears of joy", "ghost", "green apple", "blue circle",
            "dog face", "birthday cake", "sun", "snowflake", "banana", "crying face", "ok hand: dark skin tone",
            "rainbow", "car", "house", "skull", "alien", "tree", "cloud", "flag: Japan", "soccer ball",
            "waving hand: medium skin tone", "happy smiley"]
SCHEDULERS = EX.SCHEDULER_CLASSES


def labels():
    """Base emoji code -> its label as a person writes it ('flag: France')."""
    return {code: e["label"] for code, e in D.load_emojibase().items()}


def choose_prompts(meta, n=N_PROMPTS, seed=PROMPT_SEED):
    """[(concept, prompt, group)], stratified: n // 9 per group, the remainder to the first groups."""
    by_group = {g: sorted({m["concept"] for m in meta if m["category"] == g}) for g in J.GROUPS}
    label = labels()
    rnd = random.Random(seed)
    out = []
    for i, g in enumerate(J.GROUPS):
        k = n // len(J.GROUPS) + (1 if i < n % len(J.GROUPS) else 0)
        for c in rnd.sample(by_group[g], k):
            out.append((c, label.get(D.strip_fe0f(c), c), g))
    return out


def model_variant(model, scheduler, steps, guidance, tmp, ranking=None):
    """A copy of the model folder (ONNX files linked) with another sampler, step count or guidance, or with search
    ranking its candidates another way: `ranking` "cosine" leaves out search_ranking/ (the raw cosine, as editions
    before 9.0.0), "text" keeps only its names' text embeddings (p(prompt | image) at scale 30, as 9.0.0)."""
    if scheduler is None and steps is None and guidance is None and not ranking:
        return model
    if steps:  # search rounds a step count to the nearest the keys can hold: measure only what a key can say
        with open(os.path.join(model, "keyspace.json")) as f:
            values = next(s["values"] for s in json.load(f)["sections"] if s.get("kind") == "steps")
        if steps not in values:
            raise SystemExit(f"--steps {steps}: this model's keys hold only {values} steps")
    dst = os.path.join(tmp, "model")
    shutil.copytree(model, dst, copy_function=os.link,
                    ignore=shutil.ignore_patterns("search_ranking") if ranking == "cosine" else None)
    if ranking == "text":
        folder = os.path.join(dst, "search_ranking")
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        cfg = {"format": "lob-search-ranking/1", "scale": 30, "dim": cfg["dim"], "names": cfg["names"]}
        for name in ("config.json", "prototypes.f32"):  # links to the original: unlink, never write through them
            os.unlink(os.path.join(folder, name))
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(cfg, f)
    if scheduler:
        path = os.path.join(dst, "scheduler", "scheduler_config.json")
        with open(path) as f:
            cfg = json.load(f)
        for k in ("algorithm_type", "solver_order", "solver_type", "lower_order_final", "final_sigmas_type"):
            cfg.pop(k, None)
        cfg.update(SCHEDULERS[scheduler])
        os.unlink(path)
        with open(path, "w") as f:
            json.dump(cfg, f)
    if steps or guidance:
        path = os.path.join(dst, "model_index.json")
        with open(path) as f:
            idx = json.load(f)
        idx["lob"].update({k: v for k, v in (("default_steps", steps), ("guidance_scale", guidance)) if v})
        os.unlink(path)
        with open(path, "w") as f:
            json.dump(idx, f)
    return dst


def render(model, prompts, seeds, n_random, out, best_of=None, preview=None):
    """scripts/eval-renders.ts: returns (generated uint8 [P*S,64,64,3], rows, random uint8 [R,64,64,3], info)."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "prompts.json"), "w") as f:
        json.dump(prompts, f)
    cmd = ["npx", "tsx", "scripts/eval-renders.ts", "--model", model, "--prompts", os.path.join(out, "prompts.json"),
           "--seeds", ",".join(map(str, seeds)), "--random", str(n_random), "--out", out,
           *(["--best-of", str(best_of)] if best_of else []), *(["--preview", preview] if preview else [])]
    res = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    info = json.loads(res.stdout.strip().splitlines()[-1])

    def read(name):
        return np.fromfile(os.path.join(out, f"{name}.rgb"), dtype=np.uint8).reshape(-1, 64, 64, 3)
    with open(os.path.join(out, "generated.json")) as f:
        rows = json.load(f)
    return read("generated"), rows, read("random"), info


COLOUR_BINS = 18


def hue_hist(rgb):
    """Normalised hue histogram of the coloured pixels (saturation and value above 0.25), or None if grey."""
    a = rgb.reshape(-1, 3).astype(np.float32) / 255
    mx, mn = a.max(1), a.min(1)
    sat = np.where(mx > 0, (mx - mn) / np.maximum(mx, 1e-6), 0)
    keep = (sat > 0.25) & (mx > 0.25)
    if keep.sum() < 40:
        return None
    hues = np.array([colorsys.rgb_to_hsv(*p)[0] for p in a[keep][::4]])
    h, _ = np.histogram(hues, bins=COLOUR_BINS, range=(0, 1))
    return h / h.sum()


def colour_report(gen, gen_concepts, real, real_concepts):
    """Mean histogram intersection of each generated picture with the real pictures of its emoji, against a
    shuffled pairing (the same generated pictures with another emoji's real hues)."""
    ref = {}
    for img, c in zip(real, real_concepts):
        h = hue_hist(img)
        if h is not None:
            ref.setdefault(c, []).append(h)
    ref = {c: np.mean(v, 0) for c, v in ref.items()}
    concepts = sorted(ref)
    rnd = random.Random(5)
    matched, shuffled = [], []
    for img, c in zip(gen, gen_concepts):
        h = hue_hist(img)
        if c not in ref:
            continue
        if h is None:
            matched.append(0.0)
            shuffled.append(0.0)
            continue
        other = rnd.choice([o for o in concepts if o != c])
        matched.append(float(np.minimum(h, ref[c]).sum()))
        shuffled.append(float(np.minimum(h, ref[other]).sum()))
    return {"hue_intersection": float(np.mean(matched)), "hue_intersection_shuffled": float(np.mean(shuffled)),
            "images": len(matched)}




def ranking_of(model, ranking):
    """How the evaluated search ranks its candidates (the card's sweep names it)."""
    if ranking:
        return {"cosine": "cosine", "text": "p(prompt|image)"}[ranking]
    path = os.path.join(model, "search_ranking", "config.json")
    if not os.path.exists(path):
        return "cosine"
    with open(path) as f:
        cfg = json.load(f)
    if not cfg["format"].endswith("/2"):
        return "p(prompt|image)"
    return "p(target|image) by prototypes" + (" and thumbnails" if "thumbnails" in cfg else "")


def evaluate(model, out, n_prompts=N_PROMPTS, scheduler=None, steps=None, guidance=None, sheet=True, best_of=None,
             preview=None, ranking=None):
    torch.set_num_threads(2)
    judge, _ = J.load()
    tok = J.tokenizer()
    x_all, meta_all = J.load_all()
    concepts, names, groups = J.name_table(meta_all)
    index = {c: i for i, c in enumerate(concepts)}
    chosen = choose_prompts(meta_all, N_PROMPTS)[:: max(1, N_PROMPTS // n_prompts)][:n_prompts]
    with tempfile.TemporaryDirectory() as tmp:
        variant = model_variant(model, scheduler, steps, guidance, tmp, ranking)
        gen, rows, rnd_imgs, info = render(variant, [p for _, p, _ in chosen], [0, 1], N_RANDOM,
                                           os.path.join(tmp, "renders"), best_of, preview)
    gen_truth = torch.tensor([index[c] for c, _, _ in chosen for _ in (0, 1)])
    gen_groups = [g for _, _, g in chosen for _ in (0, 1)]
    txt = J.embed_names(judge, tok, names)  # once: every image set is ranked against the same names
    img = J.embed_images(judge, J.to_tensor(gen))
    gen_hit = (J.ranks(img, txt, gen_truth) < J.TOP_K).float()

    chosen_set = {c for c, _, _ in chosen}
    real_idx = [i for i, m in enumerate(meta_all) if m["concept"] in chosen_set and m["unified"] == m["concept"]]
    real_truth = torch.tensor([index[meta_all[i]["concept"]] for i in real_idx])
    rimg = J.embed_images(judge, J.to_tensor(x_all[real_idx]))
    real_hit = (J.ranks(rimg, txt, real_truth) < J.TOP_K).float()

    rand_img = J.embed_images(judge, J.to_tensor(rnd_imgs))
    rand_truth = torch.tensor([index[chosen[i % len(chosen)][0]] for i in range(len(rnd_imgs))])
    rand_hit = (J.ranks(rand_img, txt, rand_truth) < J.TOP_K).float()
    best = (rand_img @ txt.t()).argmax(1).tolist()
    rand_groups = {}
    for b in best:
        rand_groups[groups[b]] = rand_groups.get(groups[b], 0) + 1

    def share(hit, sel):
        sel = torch.tensor(sel)
        return float(hit[sel].mean()) if sel.any() else None

    per_group = {}
    for g in J.GROUPS:
        r = share(real_hit, [meta_all[i]["category"] == g for i in real_idx])
        q = share(gen_hit, [gg == g for gg in gen_groups])
        per_group[g] = {"real": r, "generated": q, "of_ceiling": q / r if r else None}
    per_style = {s: share(real_hit, [meta_all[i]["set"] == s for i in real_idx])
                 for s in sorted({meta_all[i]["set"] for i in real_idx})}
    real_r, gen_r = float(real_hit.mean()), float(gen_hit.mean())
    metrics = {
        "model": model, "sampler": scheduler or "shipped", "steps": steps, "guidance": guidance, "best_of": info["bestOf"],
        "ranking": ranking_of(model, ranking),
        "prompts": len(chosen), "seeds": [0, 1], "names": len(names), "top_k": J.TOP_K,
        "preview": info.get("preview"), "median_ms_per_image": info["medianMs"],
        "median_ms_per_search": info.get("medianSearchMs"),
        "real": {"r_at_10": real_r, "images": len(real_idx), "per_style": per_style},
        "generated": {"r_at_10": gen_r, "of_ceiling": gen_r / real_r, "images": len(gen)},
        "random_keys": {"r_at_10": float(rand_hit.mean()), "images": len(rnd_imgs),
                        "best_group_counts": rand_groups, "groups_spanned": len(rand_groups),
                        "largest_group_share": max(rand_groups.values()) / len(rnd_imgs)},
        "per_group": per_group,
        "colour": colour_report(gen, [c for c, _, _ in chosen for _ in (0, 1)], x_all[real_idx],
                                [meta_all[i]["concept"] for i in real_idx]),
        "failures": [{"prompt": rows[i]["prompt"], "seed": rows[i]["seed"], "judge_top1": names[int((img[i] @ txt.t()).argmax())]}
                     for i in range(len(rows)) if not gen_hit[i]][:60],
    }
    os.makedirs(out, exist_ok=True)
    if sheet:
        contact_sheet(model, os.path.join(out, "contact_sheet.png"))
    return metrics


def contact_sheet(model, path):
    """The ten everyday prompts and the 32 standard ones, seeds 0 and 1, and 32 random keys, each labelled."""
    prompts = EVERYDAY + STANDARD
    with tempfile.TemporaryDirectory() as tmp:
        gen, _, rnd, _ = render(model, prompts, [0, 1], 32, tmp)
    font = ImageFont.load_default()
    cols, cell_w, cell_h, label_h, title_h = 4, 272, 128, 16, 20
    rows_p = (len(prompts) + cols - 1) // cols
    W = cols * cell_w
    H = title_h + rows_p * (cell_h + label_h) + title_h + 4 * (cell_h + label_h)
    canvas = Image.new("RGB", (W, H), (255, 255, 255))
    d = ImageDraw.Draw(canvas)
    big = lambda a: Image.fromarray(a).resize((128, 128), Image.NEAREST)  # noqa: E731
    d.text((4, 4), "lob search PROMPT --seed 0 / --seed 1, then lob render (first 10: the everyday prompts)",
           fill=(0, 0, 0), font=font)
    for i, p in enumerate(prompts):
        r, c = divmod(i, cols)
        x0, y0 = c * cell_w, title_h + r * (cell_h + label_h)
        canvas.paste(big(gen[2 * i]), (x0 + 4, y0))
        canvas.paste(big(gen[2 * i + 1]), (x0 + 4 + 128 + 4, y0))
        d.text((x0 + 4, y0 + cell_h + 2), p[:40], fill=(0, 0, 0), font=font)
    y_r = title_h + rows_p * (cell_h + label_h)
    d.text((4, y_r + 4), "lob random --seed 0..31", fill=(0, 0, 0), font=font)
    for i in range(32):
        r, c = divmod(i, 8)
        x0, y0 = c * (W // 8), y_r + title_h + r * (cell_h + label_h)
        canvas.paste(big(rnd[i]), (x0 + 2, y0))
        d.text((x0 + 2, y0 + cell_h + 2), f"random --seed {i}", fill=(0, 0, 0), font=font)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    canvas.save(path)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "emoji"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "model"))
    ap.add_argument("--quick", type=int, default=N_PROMPTS, help="evaluate every k-th prompt down to this many")
    ap.add_argument("--scheduler", choices=sorted(SCHEDULERS))
    ap.add_argument("--steps", type=int)
    ap.add_argument("--guidance", type=float)
    ap.add_argument("--best-of", type=int,
                    help="search as `lob search --best-of N` (default: as `lob search` alone, the model's own number)")
    ap.add_argument("--preview", metavar="STEPS,KEEP|none",
                    help="search's early ranking (default: the model's lob.search_preview; none: finish every candidate)")
    ap.add_argument("--ranking", choices=["cosine", "text"],
                    help="search ranks by the raw cosine (as before 9.0.0) or by p(prompt | image) among the names' "
                         "text embeddings (as 9.0.0) instead of the model's own search_ranking/")
    ap.add_argument("--sweep-out", help="append this point's metrics to a JSON list (no contact sheet)")
    a = ap.parse_args()
    m = evaluate(a.model, a.out, a.quick, a.scheduler, a.steps, a.guidance, sheet=not a.sweep_out,
                 best_of=a.best_of, preview=a.preview, ranking=a.ranking)
    if a.sweep_out:
        points = json.load(open(a.sweep_out)) if os.path.exists(a.sweep_out) else []
        points.append(m)
        with open(a.sweep_out, "w") as f:
            json.dump(points, f, indent=1)
    else:
        with open(os.path.join(a.out, "metrics.json"), "w") as f:
            json.dump(m, f, indent=1)
            f.write("\n")
    print(json.dumps({k: m[k] for k in ("real", "generated", "random_keys", "per_group", "colour")}, indent=1))
