"""Writes models/emoji/MODEL_CARD.md from the exported folder, the model-3 checkpoint, docs/model/metrics.json
(evaluate.py), docs/model/sweep.json (evaluate.py --sweep-out), docs/model/speed.json, docs/model/history.json,
docs/model/ranker.json (ranker.py) and docs/model/observations.md (what a person saw on the contact sheet).

Usage: /usr/bin/python3 pipeline/train/write_card.py [--unet runs/unet3_cool.pt]
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data as D  # noqa: E402
import evaluate as EV  # noqa: E402
import train as TR  # noqa: E402
from models import UNET_CH, UNet, n_params  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
MODEL_DIR = os.path.join(ROOT, "models", "emoji")
DOCS = os.path.join(ROOT, "docs", "model")
GRAPHS = ("text_encoder", "unet", "vae_decoder", "vae_encoder", "image_encoder")
SETS = [
    ("google", "Noto Emoji", "emoji-datasource-google 16.0.0 (PNG)", "Apache-2.0", "© Google"),
    ("twitter", "Twemoji", "emoji-datasource-twitter 16.0.0 (PNG)", "CC-BY-4.0", "© Twitter, Inc. and other contributors"),
    ("fluent", "Fluent Emoji Flat", "@iconify-json/fluent-emoji-flat 1.2.6 (SVG)", "MIT", "© Microsoft Corporation"),
    ("noto-v1", "Noto Emoji, the older design", "@iconify-json/noto-v1 1.2.5 (SVG)", "Apache-2.0", "© Google Inc."),
    ("fxemoji", "FxEmoji", "@iconify-json/fxemoji 1.2.2 (SVG)", "Apache-2.0", "© Mozilla"),
    ("emojione", "EmojiOne 2", "@iconify-json/emojione 1.2.3 (SVG)", "CC-BY-4.0", "© Emoji One"),
    ("openmoji", "OpenMoji (evaluation only, never trained on)", "@iconify-json/openmoji 1.2.29 (SVG)",
     "CC-BY-SA-4.0", "© OpenMoji contributors"),
]


def read_json(path, default=None):
    if not os.path.exists(path):
        return default
    with open(path) as f:
        return json.load(f)


def pct(x):
    return "n/a" if x is None else f"{100 * x:.1f} %"


def counts():
    _, train = D.load()
    _, held = D.load(held_out=True)
    per = {}
    for m in train + held:
        per[m["set"]] = per.get(m["set"], 0) + 1
    return per, len({m["concept"] for m in train})


def data_md():
    per, concepts = counts()
    rows = "".join(f"| {name} | `{pkg}` | {lic} | {per.get(key, 0):,} | {credit} |\n"
                   for key, name, pkg, lic, credit in SETS)
    return (f"| style | npm package | licence | pictures | credit |\n|---|---|---|---:|---|\n{rows}\n"
            f"{sum(v for k, v in per.items() if k != 'openmoji'):,} training pictures of {concepts:,} emoji "
            "(skin-tone variants fold into their base emoji), 64×64 on white. Each licence was read from the package "
            "itself (its `info.json` / `package.json`); every one permits training and redistribution with credit, "
            "and these weights are derived from that artwork: credit the sets above when redistributing. OpenMoji "
            "(CC-BY-SA) is used only by the evaluator, never by the model. Captions: names, short names, categories "
            "and skin tones from `emoji-datasource-google`'s `emoji.json`, labels and tags from `emojibase-data` "
            "17.0.0 (MIT). `pipeline/train/data.py` rebuilds the set (Iconify SVGs are rasterised with sharp by "
            "`rasterize_iconify.mjs`); it is not committed.\n")


def ranking_md():
    """How the exported folder's search ranks candidates: by p(prompt | image) with search_ranking/, else cosine."""
    ranking = read_json(os.path.join(MODEL_DIR, "search_ranking", "config.json"))
    if not ranking:
        return "the shipped image encoder ranks closest to the prompt"
    if ranking["format"].endswith("/2"):
        return (f"the shipped image encoder finds most surely a picture of the prompt among the pictures of all "
                f"{len(ranking['names']):,} base names (each name's mean image embedding over its training "
                f"pictures; the prompt's own picture target mixes those of the names its words are near; log "
                f"p(target | image) at scale {ranking['scale']:g}"
                + (f", plus the same share by pixels: its {ranking['thumbnails']['side']} × "
                   f"{ranking['thumbnails']['side']} thumbnail against each name's mean one at temperature "
                   f"{ranking['thumbnails']['temperature']:g}" if "thumbnails" in ranking else "")
                + "; `search_ranking/`, pipeline/train/README.md; the sweep below has the same search ranked as 9.0.0 "
                "did, by the names' text embeddings, and by the raw cosine)")
    return (f"the shipped image encoder names as the prompt most surely among all {len(ranking['names']):,} base "
            f"names (log p(prompt | image) at scale {ranking['scale']:g}, `search_ranking/`; the sweep below has the "
            "same search by the raw cosine)")


def metrics_md(m):
    g = m["generated"]
    best_of = m.get("best_of") or 1
    pv = m.get("preview")
    early = (f". It ranks them early: after {pv['afterSteps']} steps each is scored on the picture its sampler "
             f"predicts, and only the {pv['keep']} best finish (`lob.search_preview`);" if pv else "")
    ranked = (f"`lob search` as shipped renders {best_of} candidates and keeps the one {ranking_md()} "
              f"(`lob.search_best_of`){early or ';'} the generator alone, one candidate, is the "
              "sweep's best-of 1 rows." if best_of > 1 else "")
    rows = "".join(
        f"| {grp} | {pct(v['real'])} | {pct(v['generated'])} | {pct(v['of_ceiling'])} |\n"
        for grp, v in m["per_group"].items())
    styles = ", ".join(f"{k} {pct(v)}" for k, v in m["real"]["per_style"].items())
    rk = m["random_keys"]
    col = m["colour"]
    worst = min(v["of_ceiling"] for v in m["per_group"].values() if v["of_ceiling"] is not None)
    return f"""Protocol (`pipeline/train/evaluate.py`): {m['prompts']} base emoji (no skin-tone variants) drawn with a fixed
seed, stratified over the nine Unicode groups; each prompt is the plain name ("pizza", "keycap: 7", "flag: France").
Generated images go through the real key path: `lob search PROMPT --seed 0` and `--seed 1`, then `lob render` of
each key (4-bit codes, the shipped sampler, steps and guidance), in onnxruntime-node. {ranked} The judge is an
evaluation-only CLIP-style pair (`pipeline/train/judge.py`, weights `pipeline/train/judge.pt`), trained on every
style including held-out OpenMoji, never the shipped encoders; R@10 = the right name among its top 10 of all
{m['names']:,} base emoji names.

| | R@10 |
|---|---|
| real pictures of the same emoji (the ceiling; {m['real']['images']:,} pictures) | {pct(m['real']['r_at_10'])} |
| generated ({g['images']} images, search best-of {best_of}) | {pct(g['r_at_10'])} = **{pct(g['of_ceiling'])} of the ceiling** (target ≥ 75 %: {'met' if g['of_ceiling'] >= 0.75 else '**not met**'}) |
| random keys ({rk['images']}, scored against the prompts: chance) | {pct(rk['r_at_10'])} |

Real R@10 per style: {styles}.

| group | real | generated | of the ceiling (target ≥ 50 % in every group: {'met' if worst >= 0.5 else '**not met**'}) |
|---|---|---|---|
{rows}
Random keys: the judge's best name falls in {rk['groups_spanned']} groups over {rk['images']} keys, the largest
holding {pct(rk['largest_group_share'])} (target ≥ 6 groups, none above 40 %): {json.dumps(rk['best_group_counts'])}.

Colour: hue histograms of the coloured pixels of each generated image against the real pictures of its emoji
intersect {col['hue_intersection']:.2f} on average (1 = the same hues), against {col['hue_intersection_shuffled']:.2f}
for the same images paired with another emoji's pictures.
"""


def sweep_md(points, shipped):
    """`shipped`: the exported folder's sampler, steps and guidance, for points that kept them."""
    if not points:
        return ""
    def val(p, k):
        return shipped[k] if p.get(k) in (None, "shipped") else p[k]
    def cost(p):  # measured search time + the key's render; older points: N candidates + the key, N + 1 images
        if p.get("median_ms_per_search") is not None:
            return p["median_ms_per_search"] + p["median_ms_per_image"]
        n = p.get("best_of") or 1
        return p["median_ms_per_image"] * (n + 1 if n > 1 else 1)
    def best_of(p):
        pv = p.get("preview")
        n = p.get("best_of") or 1
        how = f"{n}, ranked after {pv['afterSteps']} steps, {pv['keep']} finished" if pv and n > pv["keep"] else f"{n}"
        # a point that ranked otherwise than the shipped search (evaluate.py --ranking) says so
        other = {"cosine": ", by the raw cosine", "p(prompt|image)": ", by p(prompt \\| image) from text (as 9.0.0)",
                 "p(target|image) by prototypes": ", by prototypes without thumbnails"}
        how += other.get(p.get("ranking"), "") if p.get("ranking") != shipped.get("ranking") else ""
        # a point kept from the edition before, whose weights this one shares (sweep.json's "measured_on")
        return how + (f" ({p['measured_on']})" if p.get("measured_on") else "")
    rows = "".join(
        f"| {val(p, 'sampler')} | {val(p, 'steps')} | {val(p, 'guidance'):g} | {best_of(p)} | "
        f"{pct(p['generated']['r_at_10'])} | {p['median_ms_per_image']:.0f} | {cost(p):.0f} | "
        f"{100 * p['generated']['r_at_10'] / cost(p) * 100:.2f} |\n"
        for p in points)
    return ("Sampler and steps, by quality per millisecond (`evaluate.py --scheduler S --steps N --sweep-out`, "
            f"{points[0]['prompts']} of the evaluation's prompts × 2 seeds; ms = median render time of one image "
            "in the evaluation process, so compare within the table; " + cost_note(points) + "):\n\n"
            "| sampler | steps | guidance | search best-of | generated R@10 | ms / image | ms / search + render "
            "| R@10 points per 100 ms of it |\n"
            "|---|---|---|---|---|---|---|---|\n" + rows + "\n" + sweep_noise(points) + best_of_note(points, shipped)
            + earlier_sweep_note(points))


def earlier_sweep_note(points):
    """An edition that swept only some points says where the others were last measured."""
    if {p.get("sampler") for p in points} & {"DPM", "Euler"}:
        return ""
    return ("This edition's sweep reran the best-of and step-count points only. DPM-Solver++ 2M and Euler (8 and 16 "
            "steps) and guidance 4 and 8 were last swept on 5.0.0's weights (docs/model/sweep-5.0.0.json), where none "
            "beat DDIM 16 steps at guidance 6 by more than the noise.\n\n")


def cost_note(points):
    if all(p.get("median_ms_per_search") is None for p in points):
        return ("a best-of-N search renders N candidates and then its key, N + 1 images, so its cost per result is "
                "N + 1 renders")
    return ("the cost of a result is the search's measured time plus the key's render, or for points measured before "
            "searches were timed, N + 1 renders for a best-of-N search")


def best_of_note(points, shipped):
    """What the best-of rows say, when the sweep has them."""
    ranked = sorted({p.get("best_of") or 1 for p in points})
    if len(ranked) < 2:
        return ""
    n = shipped["best_of"]
    pv = shipped.get("preview")
    how = (f"ranking them after {pv['afterSteps']} steps and finishing the {pv['keep']} best, so that it costs about "
           f"{(n * pv['afterSteps'] + pv['keep'] * (shipped['steps'] - pv['afterSteps'])) / shipped['steps'] + 1:.1f} "
           "renders per result" if pv else f"a balance against its time ({n} + 1 renders per result); "
           + (f"`lob search --best-of {2 * n}` ranks more" if n >= 8 else
              "`lob search --best-of 8` and the app's \"Try 8\" rank more"))
    return (f"Search's best-of ({', '.join(map(str, ranked))} candidates above) moves the rate more than any sampler, "
            f"step count or guidance scale does. The shipped search ranks {n}, {how}.\n\n")


def sweep_noise(points):
    """How far apart two rows must be to mean something: the binomial standard error at the table's size."""
    n = points[0]["generated"]["images"]
    rates = [p["generated"]["r_at_10"] for p in points]
    mean = sum(rates) / len(rates)
    se = (mean * (1 - mean) / n) ** 0.5
    return (f"Each row scores {n} images, so a rate near {100 * mean:.0f} % has a standard error of about "
            f"{100 * se:.1f} points: the rows span {100 * min(rates):.1f}–{100 * max(rates):.1f} %, and differences "
            f"under about {200 * se:.0f} points are noise."
            + (" No row beats the shipped settings by more, so they are kept." if max(rates) - min(rates) < 2 * se else "")
            + "\n\n")


def ranker_md():
    r = read_json(os.path.join(DOCS, "ranker.json"))
    if not r:
        return "- The image encoder is emoji-ldm 2.0.1's, trained with the text encoder."
    b, a = r["real_r10_before"], r["real_r10_after"]
    styles = ", ".join(f"{k} {pct(v)}" for k, v in a.items() if k != "overall")
    return (f"- The image encoder, which ranks search's candidates, was retrained as a ranker (`ranker.py`): the image "
            f"tower alone against the frozen text tower's `text_embeds` of every base emoji name, on the six training "
            f"styles (concept-balanced, half of them through the autoencoder, shifted and rescaled), {r['steps']:,} "
            f"steps of {r['batch']}. R@10 of real pictures among all names went from {pct(b['overall'])} to "
            f"{pct(a['overall'])} ({styles}; OpenMoji is held out). The text encoder, and so every key, is unchanged.")


# 4.0.0's UNet, which model 5 was widened from: model 3's run plus its cool-down, and model 2's stages before them
MODEL4 = {"run_steps": 35_035, "run_min": 256, "cool_steps": 6_890, "cool_min": 45, "end_step": 41_925, "total_min": 437}


def cool_md(ck, branch, stage):
    return (f"\n- The export is a cool-down branched off that run at step {branch['step']:,} (`train.py --stage "
            f"{stage}`): {ck['step'] - branch['step']:,} more steps in {ck['elapsed'] / 60:.0f} minutes, the "
            "learning rate falling linearly from 3e-4 to 6e-6; the constant-rate run goes on from where it was.")


# shipped editions a later UNet was trained on from (from_shipped.py on a machine that lost runs/): total minutes
SHIPPED_TOTAL_MIN = {"6.0.0": 776, "7.0.0": 776, "8.0.0": 856, "9.0.0": 921, "9.1.0": 921}


def from_shipped_md(ck, branch):
    """A cool-down started from a shipped edition's UNet (runs/ lost): its EMA weights and a fresh optimiser."""
    prior = branch.get("from_shipped") or torch.load(TR.ckpt_path("shipped_unet"))["from_shipped"]
    total = SHIPPED_TOTAL_MIN[prior]
    codes_flag = " --key-codes-only" if ck.get("key_codes_only") else ""
    codes = (" Every captioned prompt was seen as a key stores it (4-bit codes), never as the text encoder's exact "
             "states (earlier cool-downs: half and half)." if codes_flag else "")
    return (f"- {prior}'s UNet ({total} minutes of training on this machine, step {branch['step']:,}), rebuilt from "
            f"its shipped ONNX file on a fresh machine (`from_shipped.py`; the runs were gone), then cooled down "
            f"again (`train.py --stage unet5-cool --cool-from shipped_unet{codes_flag}`): a fresh optimiser, the "
            f"learning rate warmed up over 3 minutes to 3e-4 and falling linearly to 6e-6, {ck['step'] - branch['step']:,} steps in "
            f"{ck['elapsed'] / 60:.0f} minutes of training time on 2 cores shared with other work (time paused for "
            f"other jobs is not counted).{codes}\n- The edition's total is {total + ck['elapsed'] / 60:.0f} minutes on this "
            f"machine.")


def recool_md(ck, branch):
    """8.0.0's recipe rebuilt from scratch (run_all.py): model 5's finished cool-down cooled down again."""
    return (f"- Model 5's finished cool-down (`runs/unet5_cool.pt`, step {branch['step']:,}), warmed up again and "
            f"cooled down a second time (`train.py --stage unet5-recool`): a fresh optimiser, {ck['step'] - branch['step']:,} "
            f"steps in {ck['elapsed'] / 60:.0f} minutes of training time on 2 cores (time paused for other jobs is not "
            f"counted).")


def codes_cool_md(ck, branch):
    """9.0.0's recipe rebuilt from scratch (run_all.py): the second cool-down cooled down once more on key codes."""
    return (f"- Model 5's second cool-down (`runs/unet5_recool.pt`, step {branch['step']:,}), warmed up and cooled down "
            f"once more on key codes only (`train.py --stage unet5-codes-cool`): a fresh optimiser, "
            f"{ck['step'] - branch['step']:,} steps in {ck['elapsed'] / 60:.0f} minutes of training time on 2 cores "
            f"(time paused for other jobs is not counted).")


def shipped_as_is_md(ck):
    """The UNet of a shipped edition, rebuilt from its ONNX file and exported unchanged (a new edition of settings)."""
    prior = ck["from_shipped"]
    return (f"- {prior}'s UNet unchanged (step {ck['step']:,}; rebuilt from its shipped ONNX file by `from_shipped.py` "
            f"and exported again, byte-identical): this edition changes how search finds keys, not "
            f"the weights.\n- The edition's total is {SHIPPED_TOTAL_MIN[prior]} minutes on this machine, {prior}'s.")


def unet_time_md(ck, ch):
    """Training time of the exported UNet: model 3's run (4.0.0 and before) or model 5's, which starts from 4.0.0."""
    if ck.get("from_shipped"):
        return shipped_as_is_md(ck)
    branch = ck.get("branch_of")
    if branch and branch["name"] == "shipped_unet":
        return from_shipped_md(ck, branch)
    if branch and branch["name"] == "unet5_cool":
        return recool_md(ck, branch)
    if branch and branch["name"] == "unet5_recool":
        return codes_cool_md(ck, branch)
    run = branch or ck
    run_min = run["elapsed"] / 60
    cool_min = ck["elapsed"] / 60 if branch else 0
    if tuple(ch) != tuple(UNET_CH):  # model 5 (a run or its cool-down) is the only wider UNet
        m4 = MODEL4
        cool = cool_md(ck, branch, "unet5-cool") if branch else ""
        return (f"- 4.0.0's UNet: model 3's run to step {m4['run_steps']:,} ({m4['run_min']} minutes) and a "
                f"{m4['cool_min']}-minute cool-down ({m4['cool_steps']:,} steps), {m4['total_min']} minutes with model "
                f"2's stages.\n- Model 5's run (`train.py --stage unet5`): that UNet widened, then "
                f"{run['step'] - m4['end_step']:,} steps in {run_min:.0f} minutes of training time on 2 cores shared "
                f"with other work (time paused for other jobs is not counted).{cool}\n- The phase is budgeted at "
                f"900 minutes and resumes across sessions; the edition's total is "
                f"{m4['total_min'] + run_min + cool_min:.0f} minutes on this machine.")
    cool = cool_md(ck, branch, "unet3-cool") if branch else ""
    return (f"- Model 3's run: {run['step']:,} steps in {run_min:.0f} minutes of training time on 2 cores "
            f"shared with other work (time paused for other jobs is not counted).{cool}\n- The phase is budgeted at "
            f"900 minutes in all and resumes across sessions; model 2's stages took 136 minutes, so the edition's "
            f"total so far is {136 + run_min + cool_min:.0f} minutes.")


def unet_recipe_md(ch):
    """Model 5 is model 3's recipe on a wider UNet grown from 4.0.0's; earlier editions are model 3's run itself."""
    if tuple(ch) == tuple(UNET_CH):
        return ""
    return (f"\n- **Model 5** widens 4.0.0's UNet to {'/'.join(map(str, ch))} channels without changing what it "
            "computes (`widen.py`, Net2WiderNet: every doubled channel appears twice, so GroupNorm groups and attention "
            "heads hold their old channels; a layer reading the copies splits each weight between them at a random "
            "ratio; `widen.py --check` agrees to 1e-6), then trains on with the same recipe (`train.py --stage unet5`).")


def main(unet_ckpt):
    index = read_json(os.path.join(MODEL_DIR, "model_index.json"))["lob"]
    sched = read_json(os.path.join(MODEL_DIR, "scheduler", "scheduler_config.json"))["_class_name"]
    m = read_json(os.path.join(DOCS, "metrics.json"))
    speed = read_json(os.path.join(DOCS, "speed.json"), {})
    ck = torch.load(unet_ckpt)
    ch = tuple(ck.get("ch", UNET_CH))
    sizes = {g: os.path.getsize(os.path.join(MODEL_DIR, g, "model.onnx")) / 1e6 for g in GRAPHS}
    history = read_json(os.path.join(DOCS, "history.json"))
    history_md = "".join(f"| {h['version']} | {h.get('tag', '')} | {h.get('commit', 'this commit')} | {h['note']} |\n"
                         for h in history)
    obs_path = os.path.join(DOCS, "observations.md")
    observations = open(obs_path).read().strip() + "\n" if os.path.exists(obs_path) else ""
    shipped = {"sampler": sched.replace("Scheduler", ""), "steps": index["default_steps"],
               "guidance": index["guidance_scale"], "best_of": index.get("search_best_of", 1),
               "preview": ({"afterSteps": index["search_preview"]["after_steps"], "keep": index["search_preview"]["keep"]}
                           if "search_preview" in index else None),
               "ranking": EV.ranking_of(MODEL_DIR, None)}
    card = f"""# emoji-ldm {index['version']} — the embedded default model

A small text-to-image latent diffusion model in the Stable Diffusion family (text encoder, autoencoder, UNet with
cross-attention), trained on this project's 2-core CPU and exported in the diffusers ONNX layout
(docs/contracts.md). Output: 64×64 RGB emoji-style pictures. Keys: `emoji-{read_json(os.path.join(MODEL_DIR, 'keyspace.json'))['version']}.`

Editions (each tagged in git; a key names an image of one edition, and a key of an earlier one is refused with the
tag that draws it):

| version | tag | commit | notes |
|---|---|---|---|
{history_md}
## Data and licences
{data_md()}
## Architecture (float32 ONNX, opset 17, dynamic batch; {sum(sizes.values()):.1f} MB in all)
| part | what | ONNX size |
|---|---|---|
| tokenizer | lowercase WordPiece, 3000 tokens learned from the captions, `[CLS] … [SEP]`, pad/truncate to T = 16 | – |
| text_encoder | 4-layer transformer (width 128) → `last_hidden_state` [B,16,64] (goes into the key), `text_embeds` [B,64] | {sizes['text_encoder']:.1f} MB |
| image_encoder | 4-stage CNN → `image_embeds` [B,64], CLIP-style with the text encoder (ranks search's candidates) | {sizes['image_encoder']:.1f} MB |
| vae_encoder / vae_decoder | conv autoencoder 64×64×3 ↔ 4×16×16, latent mean/std folded in (`scaling_factor` 1.0) | {sizes['vae_encoder']:.1f} + {sizes['vae_decoder']:.1f} MB |
| unet | 3 levels ({'/'.join(map(str, ch))} channels at 16/8/4), cross-attention at every level, self-attention at 8×8 and 4×4, {n_params(UNet(ch=ch)):,} parameters | {sizes['unet']:.1f} MB |

Diffusion: SD scaled-linear β schedule (0.00085–0.012, 1000 steps), v-prediction, min-SNR-5 loss weighting, EMA,
10 % empty-prompt dropout for classifier-free guidance; half the prompts are conditioned on their 4-bit key-quantised
embedding{" (in the last cool-down, all of them)" if ck.get("key_codes_only") else ""} and 5 % on random keys' embeddings (as unconditional), so keys render faithfully and random keys draw
emoji. Shipped sampler: {sched}, `timestep_spacing` "trailing", {index['default_steps']} steps, guidance
{index['guidance_scale']:g}.

## Training recipe and time
- The text encoder and autoencoder are emoji-ldm 2.0.1's (trained here on Noto and Twemoji: 8 + 9
  minutes, decoder fine-tune 6; reconstruction on the new styles measured before reuse: L1 0.024–0.044 per style).
{ranker_md()}
- The UNet starts from 2.0.1's (5,301 steps, 113 minutes) and continues as model 3's phase (`train.py --stage unet3`):
  **concept-balanced batches** (an emoji uniformly, then one of its pictures in any of six styles, its plain
  version half the time), the plain name as the caption half the time, **bfloat16 autocast** on the CPU's AMX units
  (GroupNorm and LayerNorm in float32; 3.9× fp32's samples/s, loss within 1e-4 of fp32 over 30 steps from the same
  start), batch 64, AdamW at a constant 3e-4 after warmup, EMA 0.999.{unet_recipe_md(ch)}
{unet_time_md(ck, ch)}

## Metrics
{metrics_md(m)}
{sweep_md(read_json(os.path.join(DOCS, 'sweep.json'), []), shipped)}## Speed
One image, {speed.get('steps', '?')} steps with guidance (UNet batch 2) + decoder, onnxruntime-node at 2 threads: median
**{speed.get('median_ms', float('nan')):.0f} ms** (min {speed.get('min_ms', float('nan')):.0f}, max {speed.get('max_ms', float('nan')):.0f}, {speed.get('runs', '?')} runs;
`node pipeline/train/bench_speed.mjs`; target ≤ 500 ms). {speed.get('conditions', '')} The ratio against PyTorch eager on
the same weights at 1 and 2 threads is `npm run bench -- pipeline` (docs/benchmarks.md).

## What it draws, and what still fails
Contact sheet: `docs/model/contact_sheet.png` (the ten everyday prompts and 32 standard ones × seeds 0 and 1, and
32 random keys, all through the key path).

{observations}
## Retrain
`/usr/bin/python3 pipeline/train/run_all.py --resume` (see its docstring): data, every stage (time-budgeted,
checkpointed every 3 minutes, resumable), the judge, export, evaluation and this card. Requires Debian's
python3-torch 1.13, python3-onnx, python3-numpy, python3-pil and libopenblas0-pthread. On a machine without the
checkpoints, `pipeline/train/from_shipped.py` rebuilds them from the shipped ONNX files first.
"""
    with open(os.path.join(MODEL_DIR, "MODEL_CARD.md"), "w") as f:
        f.write(card)
    print("wrote", os.path.join(MODEL_DIR, "MODEL_CARD.md"))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--unet", default=TR.ckpt_path("unet3_cool"), help="the UNet checkpoint that was exported")
    main(ap.parse_args().unet)
