"""Builds the emoji training set (images + caption variants) from the npm packages.

Images: Noto (emoji-datasource-google, Apache-2.0) and Twemoji (emoji-datasource-twitter, CC-BY 4.0), 64x64 RGBA
composited onto white. Captions: emoji.json (name, short names, category, subcategory, skin tone) and
emojibase-data en/data.json (label, tags). Output: data/emoji64.npz (uint8 images) + data/emoji64.json (captions).
"""
import json
import os
import random
import re
import sys

import numpy as np
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NM = os.path.join(ROOT, "node_modules")
DATA_DIR = os.path.join(ROOT, "data")
NPZ = os.path.join(DATA_DIR, "emoji64.npz")
META = os.path.join(DATA_DIR, "emoji64.json")
SETS = [("google", "emoji-datasource-google"), ("twitter", "emoji-datasource-twitter")]
TONES = {"1F3FB": "light skin tone", "1F3FC": "medium-light skin tone", "1F3FD": "medium skin tone",
         "1F3FE": "medium-dark skin tone", "1F3FF": "dark skin tone"}


def strip_fe0f(code):
    return "-".join(p for p in code.upper().split("-") if p != "FE0F")


def clean(text):
    text = text.replace("_", " ").replace("-", " ").strip().lower()
    return re.sub(r"\s+", " ", text)


def load_emojibase():
    """hexcode (without FE0F) -> emojibase entry, including skin-tone entries."""
    table = {}
    with open(os.path.join(NM, "emojibase-data", "en", "data.json")) as f:
        for e in json.load(f):
            table[strip_fe0f(e["hexcode"])] = e
            for s in e.get("skins", []):
                s = dict(s)
                s.setdefault("tags", e.get("tags", []))
                table[strip_fe0f(s["hexcode"])] = s
    return table


def tone_words(unified):
    return [TONES[p] for p in unified.upper().split("-") if p in TONES]


def captions_for(entry, unified, base):
    """Caption variants for one image: canonical label first, then names, short names, tags, category words."""
    eb = base.get(strip_fe0f(unified))
    tones = tone_words(unified)
    tone_txt = " and ".join(dict.fromkeys(tones))
    name = clean(entry.get("name") or entry["short_name"])
    label = eb["label"].lower() if eb else (name + (": " + tone_txt if tone_txt else ""))
    caps = [label]
    base_label = label.split(":")[0].strip()
    suffix = (", " + tone_txt) if tone_txt else ""
    caps.append(name + suffix)
    for sn in entry.get("short_names", []):
        caps.append(clean(sn) + suffix)
    tags = [t.lower() for t in (eb or {}).get("tags", []) if t]
    if tags:
        caps.append(base_label + ", " + ", ".join(tags[:4]) + suffix)
        caps.append(", ".join(tags[:3]) + suffix)
    sub = clean(entry.get("subcategory", ""))
    cat = clean(entry.get("category", "").replace("&", "and"))
    caps.append(f"{base_label}{suffix}, {sub}")
    caps.append(f"{cat}: {base_label}{suffix}")
    out = []
    for c in caps:
        c = re.sub(r"\s+", " ", c).strip(" ,")
        if c and c not in out:
            out.append(c)
    return out


def load_png(path):
    im = Image.open(path).convert("RGBA")
    if im.size != (64, 64):
        im = im.resize((64, 64), Image.LANCZOS)
    bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(bg, im).convert("RGB"), dtype=np.uint8)


def build():
    base = load_emojibase()
    images, meta = [], []
    for set_name, pkg in SETS:
        with open(os.path.join(NM, pkg, "emoji.json")) as f:
            entries = sorted(json.load(f), key=lambda e: e["sort_order"])
        img_dir = os.path.join(NM, pkg, "img", set_name, "64")
        for e in entries:
            variants = [(e["unified"], e["image"], e.get(f"has_img_{set_name}", False))]
            for v in (e.get("skin_variations") or {}).values():
                variants.append((v["unified"], v["image"], v.get(f"has_img_{set_name}", False)))
            for unified, image, has in variants:
                path = os.path.join(img_dir, image)
                if not has or not os.path.exists(path):
                    continue
                images.append(load_png(path))
                caps = captions_for(e, unified, base)
                meta.append({"unified": unified, "set": set_name, "category": e.get("category", ""),
                             "canonical": caps[0], "captions": caps})
    os.makedirs(DATA_DIR, exist_ok=True)
    np.savez_compressed(NPZ, images=np.stack(images))
    with open(META, "w") as f:
        json.dump(meta, f, ensure_ascii=False, indent=0)
    return len(images)


def load():
    """Returns (images uint8 [N,64,64,3], meta list)."""
    with open(META) as f:
        meta = json.load(f)
    return np.load(NPZ)["images"], meta


if __name__ == "__main__":
    if "--force" in sys.argv or not (os.path.exists(NPZ) and os.path.exists(META)):
        n = build()
        print(f"built {n} images -> {NPZ}")
    images, meta = load()
    rnd = random.Random(0)
    for m in rnd.sample(meta, 8):
        print(m["set"], m["unified"], m["captions"])
    print("images", images.shape, "captions", sum(len(m["captions"]) for m in meta))
