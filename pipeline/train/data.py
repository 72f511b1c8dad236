"""Builds the emoji training set (images + caption variants) from the npm packages.

Images, 64x64 composited onto white, one style per set (every licence permits training and redistribution with
credit; models/emoji/MODEL_CARD.md credits each):
  google     Noto Emoji (emoji-datasource-google PNGs, Apache-2.0)
  twitter    Twemoji (emoji-datasource-twitter PNGs, CC-BY 4.0)
  fluent     Microsoft Fluent Emoji Flat (@iconify-json/fluent-emoji-flat SVGs, MIT)
  noto-v1    the older Noto design (@iconify-json/noto-v1, Apache-2.0)
  fxemoji    Mozilla FxEmoji (@iconify-json/fxemoji, Apache-2.0)
  emojione   EmojiOne 2 (@iconify-json/emojione, CC-BY 4.0)
OpenMoji (@iconify-json/openmoji, CC-BY-SA 4.0) is held out of training: data/openmoji64.* is a style the model
never saw, for the evaluator and for image -> key tests. SVGs are rasterised by rasterize_iconify.mjs (sharp).
Every image is tied to its emoji (code points, from the set's chars.json or by name) and so to its concept (the base
emoji without skin tone) and its Unicode group, which training samples evenly.
Captions: emoji.json (name, short names, category, subcategory, skin tone) and emojibase-data en/data.json
(label, tags). Output: data/emoji64.npz (uint8 images) + data/emoji64.json (captions, concept, group).
"""
import json
import os
import random
import re
import subprocess
import sys
import unicodedata

import numpy as np
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NM = os.path.join(ROOT, "node_modules")
DATA_DIR = os.path.join(ROOT, "data")
NPZ = os.path.join(DATA_DIR, "emoji64.npz")
META = os.path.join(DATA_DIR, "emoji64.json")
HERE = os.path.dirname(os.path.abspath(__file__))
HELD_OUT_NPZ = os.path.join(DATA_DIR, "openmoji64.npz")
HELD_OUT_META = os.path.join(DATA_DIR, "openmoji64.json")
PNG_SETS = {"google": "emoji-datasource-google", "twitter": "emoji-datasource-twitter"}
ICONIFY_SETS = {"fluent": "fluent-emoji-flat", "noto-v1": "noto-v1", "fxemoji": "fxemoji", "emojione": "emojione",
                "openmoji": "openmoji"}
TRAIN_SETS = ["google", "twitter", "fluent", "noto-v1", "fxemoji", "emojione"]
HELD_OUT_SETS = ["openmoji"]
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


def slug(text):
    """CLDR-style slug, as Iconify names its emoji: 'flag: Côte d’Ivoire' -> 'flag-cote-divoire'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"['’.]", "", text)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


class EmojiIndex:
    """Every emoji of emoji-datasource (skin-tone variations included): code points -> (entry, variant code)."""

    def __init__(self):
        with open(os.path.join(NM, "emoji-datasource-google", "emoji.json")) as f:
            self.entries = sorted(json.load(f), key=lambda e: e["sort_order"])
        self.by_code = {}
        for e in self.entries:
            for unified in [e["unified"]] + [v["unified"] for v in (e.get("skin_variations") or {}).values()]:
                self.by_code[strip_fe0f(unified)] = (e, unified)
        self.base = load_emojibase()
        self.by_name = {}
        for code, eb in self.base.items():
            if code in self.by_code:
                self.by_name.setdefault(slug(eb["label"]), code)
        for code, (e, unified) in self.by_code.items():
            tones = " ".join(tone_words(unified))
            for n in [e.get("name") or ""] + e.get("short_names", []):
                self.by_name.setdefault(slug(f"{n} {tones}"), code)

    def lookup(self, hexcode, name):
        if hexcode:
            return self.by_code.get(strip_fe0f(hexcode))
        for cand in (name, re.sub(r"^flag-for-(flag-)?", "flag-", name), re.sub(r"-skin-tone$", "", name)):
            code = self.by_name.get(cand)
            if code:
                return self.by_code[code]
        # fxemoji names are Unicode names without separators ('sliceofpizza')
        squashed = {k.replace("-", ""): v for k, v in self.by_name.items()} if not hasattr(self, "_sq") else self._sq
        self._sq = squashed
        code = squashed.get(name.replace("-", ""))
        return self.by_code[code] if code else None


def record(index, entry, unified, set_name):
    caps = captions_for(entry, unified, index.base)
    name = captions_for(entry, entry["unified"], index.base)[0]
    return {"unified": unified, "set": set_name, "category": entry.get("category", ""),
            "concept": entry["unified"], "name": name, "canonical": caps[0], "captions": caps}


def png_set(index, set_name, pkg):
    images, meta = [], []
    img_dir = os.path.join(NM, pkg, "img", set_name, "64")
    for e in index.entries:
        variants = [(e["unified"], e["image"], e.get(f"has_img_{set_name}", False))]
        for v in (e.get("skin_variations") or {}).values():
            variants.append((v["unified"], v["image"], v.get(f"has_img_{set_name}", False)))
        for unified, image, has in variants:
            path = os.path.join(img_dir, image)
            if not has or not os.path.exists(path):
                continue
            images.append(load_png(path))
            meta.append(record(index, e, unified, set_name))
    return images, meta


def iconify_set(index, set_name, pkg_set):
    """Rasterised Iconify icons tied to their emoji; icons that are no emoji of emoji-datasource are dropped."""
    raster = os.path.join(DATA_DIR, "iconify")
    if not os.path.exists(os.path.join(raster, f"{pkg_set}.json")):
        subprocess.run(["node", os.path.join(HERE, "rasterize_iconify.mjs"), raster, pkg_set], cwd=ROOT, check=True)
    with open(os.path.join(raster, f"{pkg_set}.json")) as f:
        info = json.load(f)
    pixels = np.fromfile(os.path.join(raster, f"{pkg_set}.rgb"), dtype=np.uint8).reshape(-1, 64, 64, 3)
    images, meta, seen, dropped = [], [], set(), 0
    for i, icon in enumerate(info["icons"]):
        found = index.lookup(icon["hex"], icon["name"])
        if not found or found[0].get("category") == "Component" or strip_fe0f(found[1]) in seen:
            dropped += 1
            continue
        seen.add(strip_fe0f(found[1]))
        images.append(pixels[i])
        meta.append(record(index, found[0], found[1], set_name))
    print(f"{set_name}: {len(images)} emoji, {dropped} icons dropped (no emoji, component or duplicate)")
    return images, meta


def build_set(index, set_name):
    if set_name in PNG_SETS:
        return png_set(index, set_name, PNG_SETS[set_name])
    return iconify_set(index, set_name, ICONIFY_SETS[set_name])


def build(sets, npz, meta_path):
    index = EmojiIndex()
    images, meta = [], []
    for set_name in sets:
        im, me = build_set(index, set_name)
        images += im
        meta += me
    os.makedirs(DATA_DIR, exist_ok=True)
    np.savez_compressed(npz, images=np.stack(images))
    with open(meta_path, "w") as f:
        json.dump(meta, f, ensure_ascii=False, indent=0)
    return len(images)


def load(held_out=False):
    """Returns (images uint8 [N,64,64,3], meta list): the training set, or the held-out OpenMoji set."""
    npz, meta_path = (HELD_OUT_NPZ, HELD_OUT_META) if held_out else (NPZ, META)
    with open(meta_path) as f:
        meta = json.load(f)
    return np.load(npz)["images"], meta


if __name__ == "__main__":
    force = "--force" in sys.argv
    for sets, npz, meta_path in ((TRAIN_SETS, NPZ, META), (HELD_OUT_SETS, HELD_OUT_NPZ, HELD_OUT_META)):
        if force or not (os.path.exists(npz) and os.path.exists(meta_path)):
            print(f"built {build(sets, npz, meta_path)} images -> {npz}")
    images, meta = load()
    rnd = random.Random(0)
    for m in rnd.sample(meta, 8):
        print(m["set"], m["unified"], m["captions"])
    print("images", images.shape, "captions", sum(len(m["captions"]) for m in meta))
