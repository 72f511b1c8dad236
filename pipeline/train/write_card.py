"""Writes models/emoji/MODEL_CARD.md from the checkpoints (steps, minutes), docs/model/metrics.json and
docs/model/speed.json. Usage: /usr/bin/python3 pipeline/train/write_card.py"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train as TR  # noqa: E402
from models import AutoEncoder, Clip, UNet, n_params  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
MODEL_DIR = os.path.join(ROOT, "models", "emoji")
DOCS = os.path.join(ROOT, "docs", "model")


def read_json(path):
    with open(path) as f:
        return json.load(f)


def pct(x):
    return "n/a" if x is None else f"{100 * x:.1f} %"


def main(unet_ckpt):
    index = read_json(os.path.join(MODEL_DIR, "model_index.json"))["lob"]
    m = read_json(os.path.join(DOCS, "metrics.json"))
    speed = read_json(os.path.join(DOCS, "speed.json"))
    ck = {k: torch.load(TR.ckpt_path(k)) for k in ("vae", "clip")}
    ck["unet"] = torch.load(TR.ckpt_path("unet"))
    more = torch.load(unet_ckpt) if os.path.abspath(unet_ckpt) != os.path.abspath(TR.ckpt_path("unet")) else None
    vocab = ck["clip"]["vocab_size"]
    clip = Clip(vocab)
    sizes = {g: os.path.getsize(os.path.join(MODEL_DIR, g, "model.onnx")) / 1e6
             for g in ("text_encoder", "unet", "vae_decoder", "vae_encoder", "image_encoder")}
    sweep_md = ""
    sweep_path = os.path.join(DOCS, "sweep.json")
    if os.path.exists(sweep_path):
        rows = read_json(sweep_path)
        sweep_md = (f"Choosing the defaults (`evaluate.py --sweep`, generated R-precision on {rows[0]['captions']} "
                    "captions × 2 seeds, the first of the evaluation's captions):\n\n| steps | guidance | generated R-precision |\n|---|---|---|\n"
                    + "".join(f"| {r['steps']} | {r['guidance_scale']} | {pct(r['generated_r_precision'])} |\n"
                              for r in rows) + "\n")
    rp = m["r_precision"]
    met = rp["generated_over_real"] >= 0.6
    obs_path = os.path.join(DOCS, "observations.md")  # what a person saw on the contact sheet of this version
    observations = open(obs_path).read().strip() + "\n\n" if os.path.exists(obs_path) else ""
    history = read_json(os.path.join(DOCS, "history.json"))
    history_md = "".join(
        f"| {h['version']} | {h.get('commit', 'this commit')} | {h['unet_steps']:,} | {h['guidance_scale']:g} | "
        f"{h['captions']} | {pct(h['generated'])} / {pct(h['real'])} = {pct(h['generated'] / h['real'])} | "
        f"{h['note']} |\n" for h in history)
    el = m["emoji_likeness"]
    minutes = {k: v["elapsed"] / 60 for k, v in ck.items()}
    more_row = "" if more is None else (
        f"| UNet, second phase: from the first phase's EMA weights, fresh AdamW, peak lr {more.get('lr', 5e-4):g} "
        f"cosine, EMA (`--stage unet-more`) | {more['step'] - ck['unet']['step']} | {more['elapsed'] / 60:.1f} |\n")
    vae = ck["vae"]
    decoder_row, recon = "", f"{vae['recon_l1']:.4f}"
    if vae.get("decoder_done"):
        decoder_row = (f"| decoder fine-tune (encoder frozen, so the UNet's latent space is unchanged) | "
                       f"{vae['decoder_steps']} | {vae['decoder_elapsed'] / 60:.1f} |\n")
        recon = f"{vae['recon_l1_before_finetune']:.4f} after the first stage, {vae['recon_l1']:.4f} after the fine-tune"
    card = f"""# emoji-ldm {index['version']} — the embedded default model

A small text-to-image latent diffusion model in the Stable Diffusion family (text encoder, autoencoder, UNet with
cross-attention, DDIM sampler), trained from scratch on this project's 2-core CPU and exported in the diffusers
ONNX layout (see docs/contracts.md). Output: 64×64 RGB emoji-style pictures.

Versions (every one stays in the git history; keys name images of one version: the key prefix `emoji-<n>.` changes
with the weights, so an old key is refused rather than silently drawing something else):

| version | commit | UNet steps | guidance | captions | generated / real R-precision | notes |
|---|---|---|---|---|---|---|
{history_md}
## Data and licences
- Images: 7,572 emoji PNGs (64×64, composited on white) from the npm packages
  `emoji-datasource-google` 16.0.0 — **Noto Emoji** artwork © Google, **Apache License 2.0** — and
  `emoji-datasource-twitter` 16.0.0 — **Twemoji** artwork © Twitter, Inc. and other contributors, **CC-BY 4.0**
  (https://creativecommons.org/licenses/by/4.0/). These weights are derived from that artwork; credit both when
  redistributing. No Apple or Facebook images are used.
- Captions (46,350 variants, 20,576 distinct): names, short names, categories, subcategories and skin tones from
  the packages' `emoji.json`, labels and tags from `emojibase-data` 17.0.0 (MIT).
- The dataset is rebuilt by `pipeline/train/data.py` and is not committed.

## Architecture (float32 ONNX, opset 17, dynamic batch)
| part | what | parameters | ONNX size |
|---|---|---|---|
| tokenizer | lowercase WordPiece, {vocab} tokens learned from the captions, every character included (misspellings fall back to subwords), `[CLS] … [SEP]`, pad/truncate to T = 16 | – | – |
| text_encoder | 4-layer transformer (width 128) → `last_hidden_state` [B,16,64] (layer-normed), `text_embeds` [B,64] | {n_params(clip.text):,} | {sizes['text_encoder']:.1f} MB |
| image_encoder | 4-stage CNN → `image_embeds` [B,64]; trained with the text encoder CLIP-style | {n_params(clip.image):,} | {sizes['image_encoder']:.1f} MB |
| vae_encoder / vae_decoder | conv autoencoder 64×64×3 ↔ 4×16×16; per-channel latent mean/std folded into both graphs (`scaling_factor` 1.0) | {n_params(AutoEncoder()):,} (both) | {sizes['vae_encoder']:.1f} + {sizes['vae_decoder']:.1f} MB |
| unet | 3 levels (48/96/144 channels at 16/8/4), ResBlocks with time embedding, cross-attention at every level, self-attention at 8×8 and 4×4, mean text state added to the time embedding | {n_params(UNet()):,} | {sizes['unet']:.1f} MB |

Diffusion: SD scaled-linear β schedule (0.00085–0.012, 1000 steps), **v-prediction**, min-SNR-5 loss weighting,
EMA of the weights, 10 % empty-prompt dropout for classifier-free guidance. Half the training prompts are
conditioned on their 4-bit key-quantised embedding (what a key stores), and 5 % on random keys' embeddings treated
as unconditional, so that rendering a key is faithful and random keys render emoji rather than fog.
Sampler: DDIM, eta 0, `timestep_spacing` "trailing"; defaults {index['default_steps']} steps, guidance
{index['guidance_scale']}.

## Training (this machine: 2 CPU cores; the first UNet phase shared them with four other jobs)
| stage | steps | minutes |
|---|---|---|
| autoencoder (L1 + ½ L2, latent noise 0.05, batch 32) | {ck['vae']['step']} | {minutes['vae']:.1f} |
| CLIP-style text + image encoders (batch 256, multi-positive InfoNCE) | {ck['clip']['step']} | {minutes['clip']:.1f} |
| UNet (batch 64, AdamW 1e-3 cosine, EMA) | {ck['unet']['step']} | {minutes['unet']:.1f} |
{decoder_row}{more_row}
Autoencoder reconstruction L1 on the training images (pixels in [-1, 1]): {recon}.

## Metrics (`pipeline/train/evaluate.py`, PyTorch, same weights)
Protocol: {m['protocol']}; generated images rendered the way a key renders (4-bit embedding and latent codes),
{m['steps']} DDIM steps, guidance {m['guidance_scale']}.

| | R-precision (top-10) | mean best-caption cosine | emoji-likeness* |
|---|---|---|---|
| real images (ceiling) | {pct(rp['real'])} | {m['best_caption_cosine_mean']['real']:.3f} | 90 % by definition |
| generated | {pct(rp['generated'])} ({pct(rp['generated_over_real'])} of the ceiling; target ≥ 60 %: {'met' if met else '**not met**'}) | {m['best_caption_cosine_mean']['generated']:.3f} | {pct(el['generated'])} |
| random keys | {pct(rp['random_keys'])} (chance level: they have no caption) | {m['best_caption_cosine_mean']['random_keys']:.3f} | {pct(el['random_keys'])} |

\\* share of images whose best caption cosine reaches the 10th percentile of real images' ({el['threshold_real_p10']:.3f}).
Contact sheet: `docs/model/contact_sheet.png` (32 prompts × 2 seeds, 32 random keys).

{sweep_md}## Speed (onnxruntime-node 1.30, this CPU)
One image, {speed['steps']} steps with CFG (UNet batch 2) + decoder: median **{speed['median_ms']:.0f} ms**
(min {speed['min_ms']:.0f}, max {speed['max_ms']:.0f}, {speed['runs']} runs; `node pipeline/train/bench_speed.mjs`).
{speed.get('conditions', '')}

## Limitations
{observations}Tiny model, short CPU training: many prompts give the right colours and rough shapes rather than faithful emoji;
fine details (text, flags, skin-tone variants of complex people emoji) are weak. English captions only.

## Retrain
`/usr/bin/python3 pipeline/train/run_all.py` rebuilds the dataset, trains every stage (time-budgeted, resumable
with `--resume`), exports to models/emoji/, evaluates and rewrites this card. Requires Debian's python3-torch
(1.13), python3-onnx, numpy, PIL, node with the repo's npm dependencies, and an optimised BLAS
(`apt-get install libopenblas0-pthread`; the reference BLAS makes the transformer layers ~20× slower).
Training is budgeted by wall-clock time, so step counts depend on the machine's load. The defaults add up to 136
minutes of training (autoencoder 8, encoders 9, UNet 58 + 55, decoder 6); building the data, the export (20 s),
the evaluation (~4 min at 2 threads) and the speed check bring the one command to about 2 h 25 min.
"""
    with open(os.path.join(MODEL_DIR, "MODEL_CARD.md"), "w") as f:
        f.write(card)
    print("wrote", os.path.join(MODEL_DIR, "MODEL_CARD.md"))


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--unet", default=TR.ckpt_path("unet_more"), help="the UNet checkpoint that was exported")
    main(ap.parse_args().unet)
