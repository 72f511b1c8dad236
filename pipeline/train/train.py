"""Trains the emoji LDM in stages: vae -> clip -> unet (each time-budgeted, checkpointed, resumable).

Usage: /usr/bin/python3 pipeline/train/train.py --stage all [--resume] [--vae-min 7 --clip-min 5 --unet-min 75]
Checkpoints and sample grids go to pipeline/train/runs/ (git-ignored).
"""
import argparse
import contextlib
import copy
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import diffusion as DF  # noqa: E402
from amp import bf16  # noqa: E402
from models import UNET_CH, AutoEncoder, Clip, UNet, n_params  # noqa: E402
from paths import RUNS  # noqa: E402
SEED = 1234
SAMPLE_PROMPTS = ["red heart", "pizza", "rocket", "dog", "sun", "tree", "snowman", "keycap: 7", "flag: france",
                  "cat with sunglasses", "grinning face", "thumbs up", "ghost", "green apple", "birthday cake",
                  "soccer ball"]


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def seed_all(s):
    random.seed(s)
    np.random.seed(s)
    torch.manual_seed(s)


def images_tensor():
    imgs, meta = D.load()
    x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    return x, meta


PAUSE_DIR = os.environ.get("LOB_TRAIN_PAUSE_DIR", "/tmp/lob-train-pause.d")


def _pausers():
    """PIDs of live processes that asked training to pause (scripts/cpu-exclusive.sh); stale files are removed."""
    try:
        names = os.listdir(PAUSE_DIR)
    except FileNotFoundError:
        return []
    alive = []
    for name in names:
        try:
            os.kill(int(name), 0)
            alive.append(name)
        except (ValueError, ProcessLookupError):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(PAUSE_DIR, name))
        except PermissionError:
            alive.append(name)
    return alive


def wait_while_paused():
    """On a 2-core machine two multi-threaded jobs slow each other far more than 2x (OpenMP threads fight over the
    cores), so training yields the CPU entirely while any process holds a pause file. Returns seconds waited."""
    start = time.time()
    announced = False
    while _pausers():
        if not announced:
            log("paused: another job holds the CPU")
            announced = True
        time.sleep(1.0)
    waited = time.time() - start
    if announced:
        log(f"resumed after {waited:.0f} s")
    return waited


def nice_for_whole_session():
    """`nice -n 10 train.py` should leave the CPU to other work, but with autogroup scheduling (Linux's default) nice
    only ranks processes inside one session, and each shell or setsid is its own group competing as an equal. So
    the process's nice value is copied to its autogroup, where the kernel allows it."""
    n = os.nice(0)
    if n > 0:
        with contextlib.suppress(OSError):
            with open("/proc/self/autogroup", "w") as f:
                f.write(str(n))


class Budget:
    """Time-budgeted training with resumable elapsed time and a warmup + cosine learning-rate schedule."""

    def __init__(self, minutes, elapsed=0.0):
        self.total = minutes * 60.0
        self.elapsed = elapsed
        self.t0 = time.time() - elapsed

    def tick(self):
        paused = wait_while_paused()
        self.t0 += paused  # time spent paused is not training time
        self.elapsed = time.time() - self.t0
        return self.elapsed < self.total

    def constant_lr(self, base, warm_minutes=3.0):
        """Linear warmup over the first minutes, then constant: for runs whose end is not known in advance."""
        return base * min(1.0, 0.1 + 0.9 * self.elapsed / (warm_minutes * 60.0))

    def decay_lr(self, base, floor=0.02, warm_minutes=0.0):
        """Linear decay from `base` to `floor`·base over the budget: the cool-down that ends a constant-rate run.
        With `warm_minutes`, a linear warmup first (a fresh optimiser's first steps are as large as the rate)."""
        warm = min(1.0, 0.1 + 0.9 * self.elapsed / (warm_minutes * 60.0)) if warm_minutes > 0 else 1.0
        return warm * base * (floor + (1 - floor) * max(0.0, 1 - self.elapsed / self.total))

    def lr(self, base, floor=0.05, warm=0.03):
        f = min(self.elapsed / self.total, 1.0)
        if f < warm:
            return base * (0.1 + 0.9 * f / warm)
        c = (f - warm) / (1 - warm)
        return base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * c)))


def ckpt_path(name):
    return os.path.join(RUNS, f"{name}.pt")


def load_ckpt(name):
    p = ckpt_path(name)
    return torch.load(p) if os.path.exists(p) else None


def save_ckpt(name, obj):
    tmp = ckpt_path(name) + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, ckpt_path(name))


# ------------------------------------------------------------------ stage a: autoencoder
def train_vae(minutes, resume):
    seed_all(SEED)
    x, _ = images_tensor()
    ae = AutoEncoder()
    opt = torch.optim.AdamW(ae.parameters(), lr=2e-3, weight_decay=0.0)
    ck = load_ckpt("vae") if resume else None
    if ck and ck.get("done"):
        log("vae: already done")
        return
    elapsed, step = 0.0, 0
    if ck:
        ae.load_state_dict(ck["model"]), opt.load_state_dict(ck["opt"])
        elapsed, step = ck["elapsed"], ck["step"]
        torch.set_rng_state(ck["rng"])
        log(f"vae: resumed at step {step}, {elapsed / 60:.1f} min")
    log(f"vae: {n_params(ae)} params")
    bud = Budget(minutes, elapsed)
    last_save = time.time()
    g = torch.Generator().manual_seed(SEED + step)
    while bud.tick():
        for pg in opt.param_groups:
            pg["lr"] = bud.lr(2e-3)
        idx = torch.randint(0, x.shape[0], (32,), generator=g)
        xb = x[idx]
        z = ae.encoder(xb)
        zn = z + 0.05 * torch.randn_like(z)  # latent noise: the decoder must tolerate small UNet errors
        rec = ae.decoder(zn)
        loss = (rec - xb).abs().mean() + 0.5 * (rec - xb).pow(2).mean() + 1e-4 * z.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            log(f"vae step {step} loss {loss.item():.4f} lr {opt.param_groups[0]['lr']:.2e}")
        if time.time() - last_save > 180:
            save_ckpt("vae", {"model": ae.state_dict(), "opt": opt.state_dict(), "elapsed": bud.elapsed,
                              "step": step, "rng": torch.get_rng_state()})
            last_save = time.time()
    # per-channel latent statistics so the UNet sees ~unit-variance latents
    ae.eval()
    with torch.no_grad():
        zs = torch.cat([ae.encoder(x[i:i + 256]) for i in range(0, x.shape[0], 256)])
        ae.lat_mean.copy_(zs.mean(dim=(0, 2, 3)))
        ae.lat_std.copy_(zs.std(dim=(0, 2, 3)))
        rec = torch.cat([ae.decode_norm(ae.encode_norm(x[i:i + 256])) for i in range(0, x.shape[0], 256)])
        l1 = (rec - x).abs().mean().item()
    log(f"vae: done, step {step}, recon L1 {l1:.4f}, lat_mean {ae.lat_mean.tolist()}, lat_std {ae.lat_std.tolist()}")
    save_ckpt("vae", {"model": ae.state_dict(), "elapsed": bud.elapsed, "step": step, "done": True,
                      "recon_l1": l1})
    save_grid(torch.cat([x[:16], rec[:16]]), os.path.join(RUNS, "samples", "vae_recon.png"), 16)


# ------------------------------------------------------------------ stage b: CLIP-style text + image encoders
TOKENIZER_DIR = os.path.join(D.DATA_DIR, "tokenizer")


def caption_table(meta, tok):
    """Unique captions (index 0 = empty prompt), their ids, and per-image caption indices."""
    caps = [""]
    index = {"": 0}
    per_image = []
    for m in meta:
        row = []
        for c in m["captions"]:
            if c not in index:
                index[c] = len(caps)
                caps.append(c)
            row.append(index[c])
        per_image.append(row)
    ids = torch.tensor([tok.encode(c) for c in caps], dtype=torch.int64)
    return caps, ids, per_image


def sample_captions(per_image, idx, rnd):
    return torch.tensor([rnd.choice(per_image[i]) for i in idx.tolist()], dtype=torch.int64)


def train_clip(minutes, resume):
    import tokenizer as TK
    seed_all(SEED + 1)
    x, meta = images_tensor()
    if not os.path.exists(os.path.join(TOKENIZER_DIR, "tokenizer.json")):
        TK.build(meta, TOKENIZER_DIR)
    tok = TK.Tokenizer.from_file(os.path.join(TOKENIZER_DIR, "tokenizer.json"))
    caps, ids, per_image = caption_table(meta, tok)
    clip = Clip(len(tok.vocab))
    opt = torch.optim.AdamW(clip.parameters(), lr=1e-3, weight_decay=0.05)
    ck = load_ckpt("clip") if resume else None
    if ck and ck.get("done"):
        log("clip: already done")
        return
    elapsed, step = 0.0, 0
    if ck:
        clip.load_state_dict(ck["model"]), opt.load_state_dict(ck["opt"])
        elapsed, step = ck["elapsed"], ck["step"]
        log(f"clip: resumed at step {step}")
    log(f"clip: text {n_params(clip.text)} image {n_params(clip.image)} params, {len(caps)} captions")
    bud = Budget(minutes, elapsed)
    rnd = random.Random(SEED + step)
    g = torch.Generator().manual_seed(SEED + 7 + step)
    last_save = time.time()
    while bud.tick():
        for pg in opt.param_groups:
            pg["lr"] = bud.lr(1e-3)
        idx = torch.randperm(x.shape[0], generator=g)[:256]
        ci = sample_captions(per_image, idx, rnd)
        _, te = clip.text(ids[ci])
        ie = clip.image(x[idx])
        # identical caption strings (e.g. the Noto and Twemoji versions of one emoji) are all positives
        same = (ci[:, None] == ci[None, :]).float()
        tgt = same / same.sum(1, keepdim=True)
        logits = clip.logit_scale.exp().clamp(max=100) * ie @ te.t()
        loss = 0.5 * (-(tgt * logits.log_softmax(1)).sum(1).mean() - (tgt * logits.t().log_softmax(1)).sum(1).mean())
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 25 == 0:
            acc = (logits.argmax(1) == torch.arange(len(idx))).float().mean().item()
            log(f"clip step {step} loss {loss.item():.3f} acc {acc:.2f} scale {clip.logit_scale.exp().item():.1f}")
        if time.time() - last_save > 180:
            save_ckpt("clip", {"model": clip.state_dict(), "opt": opt.state_dict(), "elapsed": bud.elapsed,
                               "step": step, "vocab_size": len(tok.vocab)})
            last_save = time.time()
    save_ckpt("clip", {"model": clip.state_dict(), "elapsed": bud.elapsed, "step": step, "done": True,
                       "vocab_size": len(tok.vocab)})
    log(f"clip: done, step {step}")


def load_frozen():
    """The trained autoencoder and CLIP (eval mode), for the UNet stage, export and evaluation."""
    ae = AutoEncoder()
    ae.load_state_dict(load_ckpt("vae")["model"])
    ck = load_ckpt("clip")
    clip = Clip(ck["vocab_size"])
    clip.load_state_dict(ck["model"])
    return ae.eval(), clip.eval()


# ------------------------------------------------------------------ stage c: UNet (v-prediction, min-SNR, EMA, CFG dropout)
@torch.no_grad()
def encode_all(ae, clip, x, ids):
    lat = torch.cat([ae.encode_norm(x[i:i + 256]) for i in range(0, x.shape[0], 256)])
    states = torch.cat([clip.text(ids[i:i + 512])[0] for i in range(0, ids.shape[0], 512)])
    return lat, states


def sample_grid(unet, ae, clip, tok, path, steps=16, guidance=4.0, seed=0):
    ids = torch.tensor([tok.encode(p) for p in SAMPLE_PROMPTS + [""]], dtype=torch.int64)
    with torch.no_grad():
        st = clip.text(ids)[0]
        cond, uncond = st[:-1], st[-1:].expand(len(SAMPLE_PROMPTS), -1, -1)
        noise = torch.randn(len(SAMPLE_PROMPTS), 4, 16, 16, generator=torch.Generator().manual_seed(seed))
        lat = DF.ddim_sample(unet, cond, uncond, noise, steps, guidance)
        save_grid(ae.decode_norm(lat), path, 8)


class ConceptSampler:
    """Draws training images concept-first: a concept (the base emoji, skin tones folded in) uniformly, then one of
    its pictures: half the time its plain (toneless) version in any style, else any variant in any style. Sampling
    images uniformly instead gives ~60 % people and hands, and two pictures per concept for everything else."""

    def __init__(self, meta, plain_share=0.5):
        self.plain_share = plain_share
        every, plain = {}, {}
        for i, m in enumerate(meta):
            every.setdefault(m["concept"], []).append(i)
            if m["unified"] == m["concept"]:
                plain.setdefault(m["concept"], []).append(i)
        self.concepts = sorted(every)
        self.every = [every[c] for c in self.concepts]
        self.plain = [plain.get(c) or every[c] for c in self.concepts]

    def sample(self, n, g, rnd):
        picks = torch.randint(0, len(self.concepts), (n,), generator=g).tolist()
        return torch.tensor([rnd.choice(self.plain[c] if rnd.random() < self.plain_share else self.every[c])
                             for c in picks], dtype=torch.int64)


def sample_captions_weighted(per_image, idx, rnd, canonical_share):
    """The canonical caption (the plain name a person types: 'pizza', 'flag: france') with `canonical_share`,
    else any of the image's caption variants."""
    return torch.tensor([row[0] if rnd.random() < canonical_share else rnd.choice(row)
                         for row in (per_image[i] for i in idx.tolist())], dtype=torch.int64)


def train_unet(minutes, resume, batch=64, lr=1e-3, name="unet", init_from=None, balanced=False, amp=False,
               schedule="cosine", ema_decay=0.998, canonical_share=None, branch=False, ch=UNET_CH,
               fresh_start=False, key_codes_only=False):
    """Trains the UNet for `minutes` of wall-clock time into checkpoint `name`. With `init_from` (a finished
    checkpoint), it continues from that checkpoint's EMA weights with a fresh optimiser and a new warmup + cosine
    schedule peaking at `lr`: the second phase of the shipped model's recipe (stage `unet-more`).

    Model 3's recipe (stage `unet3`) adds: concept-balanced sampling over all six styles (`balanced`), bfloat16
    autocast (`amp`), the canonical caption half the time (`canonical_share`), and a constant learning rate after
    warmup (`schedule="constant"`), so that the EMA weights are a finished model whenever training stops and the
    run can go on across sessions.

    With `branch` (stage `unet3-cool`), `init_from` is a running checkpoint whose weights, EMA and optimiser are all
    carried over, and `schedule="decay"` cools its learning rate down to near zero into checkpoint `name`. The
    constant-rate run is left as it was and can go on; each cool-down is a candidate for export.

    With `ch` wider than `init_from`'s channels (stage `unet5`), the start is that checkpoint's EMA weights widened
    without changing what they compute (widen.py), so the wider model begins at the narrow one's quality.

    With `fresh_start` (stage `unet5-recool`), a branch takes only `init_from`'s EMA weights, as a cool-down of a
    shipped UNet does: a finished cool-down cooled down again after a warm restart (8.0.0's recipe).

    With `key_codes_only` (9.0.0's cool-down), every captioned prompt is seen as a key stores it (4-bit codes), never
    as the text encoder's exact states: a key is all a render ever gets, and the probe measured exact states drawing
    ~4 points better than their codes (56.3 % against 52.4 % on 8.0.0), the gap this aims to close."""
    import tokenizer as TK
    seed_all(SEED + 2)
    x, meta = images_tensor()
    tok = TK.Tokenizer.from_file(os.path.join(TOKENIZER_DIR, "tokenizer.json"))
    caps, ids, per_image = caption_table(meta, tok)
    ae, clip = load_frozen()
    lat, states = encode_all(ae, clip, x, ids)
    log(f"unet: latents {tuple(lat.shape)} mean {lat.mean().item():.3f} std {lat.std().item():.3f}")
    ck = load_ckpt(name) if resume else None
    ch = tuple(ck.get("ch", UNET_CH)) if ck else tuple(ch)
    unet = UNet(ch=ch)
    ema = copy.deepcopy(unet).eval()
    opt = torch.optim.AdamW(unet.parameters(), lr=lr, weight_decay=0.0)
    if ck and ck.get("done"):
        log(f"{name}: already done")
        return
    elapsed, step, fresh_opt = 0.0, 0, False
    # a branch remembers where it left its run: the model card counts the run's minutes and the cool-down's
    branch_of = ck.get("branch_of") if ck else None
    if init_from and not ck:
        init = load_ckpt(init_from)
        init_ch = tuple(init.get("ch", UNET_CH))
        # a branch carries its run's optimiser, so it keeps the run's channels
        assert not branch or init_ch == ch, f"{name} branches {init_from} of {init_ch} channels, not {ch}"
        if init_ch != ch:
            import widen
            init = {"ema": widen.widen_unet(init["ema"], init_ch, ch).state_dict(), "step": init["step"]}
            log(f"{name}: {init_from}'s UNet widened from {init_ch} to {ch} channels (same function)")
        if branch and "opt" in init and not fresh_start:
            branch_of = {"name": init_from, "step": init["step"], "elapsed": init["elapsed"]}
            unet.load_state_dict(init["model"]), ema.load_state_dict(init["ema"]), opt.load_state_dict(init["opt"])
        elif branch:
            # a finished or shipped UNet keeps only its EMA weights: the cool-down starts from them with a fresh
            # optimiser and warms its rate up first (a fresh machine: runs/ lost, from_shipped.py rebuilt the start)
            branch_of = {"name": init_from, "step": init["step"], "elapsed": init.get("elapsed", 0.0),
                         "from_shipped": init.get("from_shipped")}
            unet.load_state_dict(init["ema"]), ema.load_state_dict(init["ema"])
            fresh_opt = True
        else:
            unet.load_state_dict(init["ema"]), ema.load_state_dict(init["ema"])
        step = init["step"]  # keeps the data order moving on rather than replaying the first phase's batches
        log(f"{name}: starting from {init_from} "
            f"({'weights, EMA and optimiser' if branch and not fresh_opt else 'EMA weights'}, step {step})")
    if ck:
        unet.load_state_dict(ck["model"]), ema.load_state_dict(ck["ema"]), opt.load_state_dict(ck["opt"])
        elapsed, step, fresh_opt = ck["elapsed"], ck["step"], ck.get("fresh_opt", False)
        log(f"unet: resumed at step {step}, {elapsed / 60:.1f} min")
    log(f"unet: {n_params(unet)} params, budget {minutes} min")
    bud = Budget(minutes, elapsed)
    g = torch.Generator().manual_seed(SEED + 11 + step)
    rnd = random.Random(SEED + 13 + step)
    import keyspace_stats as KS
    levels = torch.tensor(KS.code_levels(KS.quantile_table(states[1:])), dtype=torch.float32)
    sampler = ConceptSampler(meta) if balanced else None
    last_save, last_sample = time.time(), time.time()
    while bud.tick():
        for pg in opt.param_groups:
            pg["lr"] = (bud.decay_lr(lr, warm_minutes=3.0 if fresh_opt else 0.0) if schedule == "decay" else
                        {"cosine": bud.lr, "constant": bud.constant_lr}[schedule](lr))
        idx = sampler.sample(batch, g, rnd) if sampler else torch.randint(0, x.shape[0], (batch,), generator=g)
        ci = (sample_captions_weighted(per_image, idx, rnd, canonical_share) if canonical_share is not None
              else sample_captions(per_image, idx, rnd))
        u = torch.rand(batch, generator=g)
        ci[u < 0.10] = 0  # caption dropout -> empty prompt, for classifier-free guidance
        ctx = states[ci].clone()
        # keys store 4-bit quantile codes: half the prompts (or all) are seen key-quantised so rendering a key is
        # faithful
        qmask = (u >= 0.15) & (u < (1.0 if key_codes_only else 0.60))
        ctx[qmask] = KS.quantize(ctx[qmask], levels)
        # ~5%: random keys' embeddings (a random code per coordinate) -> trained like the empty prompt, so a
        # random key renders an unconditional emoji rather than fog
        rk = (u >= 0.10) & (u < 0.15)
        ctx[rk] = KS.random_codes(levels, int(rk.sum()), g).view(-1, *ctx.shape[1:])
        x0 = lat[idx]
        noise = torch.randn(x0.shape, generator=g)
        t = torch.randint(0, DF.NUM_TRAIN_TIMESTEPS, (batch,), generator=g)
        with bf16(amp):
            pred = unet(DF.add_noise(x0, noise, t), t, ctx)
        w = DF.min_snr_weight(t)
        loss = (w * (pred.float() - DF.v_target(x0, noise, t)).pow(2).mean(dim=(1, 2, 3))).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        step += 1
        decay = min(ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), unet.parameters()):
                pe.mul_(decay).add_(pm, alpha=1 - decay)
        if step % 50 == 0:
            log(f"{name} step {step} loss {loss.item():.4f} lr {opt.param_groups[0]['lr']:.2e} "
                f"{bud.elapsed / 60:.1f}/{minutes} min")
        if time.time() - last_save > 180:
            save_ckpt(name, {"model": unet.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                               "elapsed": bud.elapsed, "step": step, "branch_of": branch_of, "ch": list(ch),
                               "fresh_opt": fresh_opt, "key_codes_only": key_codes_only})
            last_save = time.time()
        if time.time() - last_sample > 600:
            sample_grid(ema, ae, clip, tok, os.path.join(RUNS, "samples", f"{name}_{step:06d}.png"))
            last_sample = time.time()
    save_ckpt(name, {"ema": ema.state_dict(), "elapsed": bud.elapsed, "step": step, "lr": lr, "done": True,
                     "branch_of": branch_of, "ch": list(ch), "key_codes_only": key_codes_only})
    sample_grid(ema, ae, clip, tok, os.path.join(RUNS, "samples", f"{name}_{step:06d}_final.png"))
    log(f"{name}: done, step {step}")



def finetune_decoder(minutes, resume):
    """Decoder-only fine-tuning after the UNet: the encoder (hence the latent space the UNet learned) stays
    frozen, so this only sharpens the pictures. Decodes normalised latents exactly as the exported graph does."""
    seed_all(SEED + 3)
    x, _ = images_tensor()
    ck = load_ckpt("vae")
    if resume and ck.get("decoder_done"):
        log("decoder: already fine-tuned")
        return
    ae = AutoEncoder()
    ae.load_state_dict(ck["model"])
    with torch.no_grad():
        lat = torch.cat([ae.encode_norm(x[i:i + 256]) for i in range(0, x.shape[0], 256)])
    opt = torch.optim.AdamW(ae.decoder.parameters(), lr=5e-4, weight_decay=0.0)
    bud = Budget(minutes)
    g = torch.Generator().manual_seed(SEED + 17)
    step = 0
    while bud.tick():
        for pg in opt.param_groups:
            pg["lr"] = bud.lr(5e-4)
        idx = torch.randint(0, x.shape[0], (32,), generator=g)
        zn = lat[idx] + 0.05 * torch.randn(lat[idx].shape, generator=g) / ae.lat_std.view(1, -1, 1, 1)
        rec = ae.decode_norm(zn)
        loss = (rec - x[idx]).abs().mean() + 0.5 * (rec - x[idx]).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            log(f"decoder step {step} loss {loss.item():.4f}")
    ae.eval()
    with torch.no_grad():
        rec = torch.cat([ae.decode_norm(lat[i:i + 256]) for i in range(0, x.shape[0], 256)])
        l1 = (rec - x).abs().mean().item()
    log(f"decoder: done, {step} steps, recon L1 {ck.get('recon_l1', float('nan')):.4f} -> {l1:.4f}")
    ck.update({"model": ae.state_dict(), "decoder_done": True, "decoder_steps": step,
               "decoder_elapsed": bud.elapsed, "recon_l1_before_finetune": ck.get("recon_l1"), "recon_l1": l1})
    save_ckpt("vae", ck)
    save_grid(torch.cat([x[:16], rec[:16]]), os.path.join(RUNS, "samples", "vae_recon_finetuned.png"), 16)


def save_grid(imgs, path, ncol):
    from PIL import Image
    os.makedirs(os.path.dirname(path), exist_ok=True)
    a = ((imgs.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    n = a.shape[0]
    nrow = (n + ncol - 1) // ncol
    grid = np.full((nrow * 64, ncol * 64, 3), 255, np.uint8)
    for i in range(n):
        r, c = divmod(i, ncol)
        grid[r * 64:(r + 1) * 64, c * 64:(c + 1) * 64] = a[i]
    Image.fromarray(grid).save(path)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage", default="all", choices=["vae", "clip", "unet", "decoder", "unet-more", "all", "unet3",
                                                     "unet3-cool", "unet5", "unet5-cool", "unet5-recool",
                                                     "unet5-codes-cool"])
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--vae-min", type=float, default=7)
    ap.add_argument("--clip-min", type=float, default=5)
    ap.add_argument("--unet-min", type=float, default=75)
    ap.add_argument("--decoder-min", type=float, default=6)
    ap.add_argument("--more-min", type=float, default=60, help="second UNet phase (0 skips it)")
    ap.add_argument("--more-lr", type=float, default=5e-4)
    ap.add_argument("--unet3-min", type=float, default=900,
                    help="model 3: wall-clock minutes in all, across sessions (resume with --resume)")
    ap.add_argument("--unet3-lr", type=float, default=3e-4)
    ap.add_argument("--unet3-from", default="unet_more",
                    help="checkpoint to start from; shipped_unet (from_shipped.py) when runs/ is gone")
    ap.add_argument("--cool-min", type=float, default=25,
                    help="unet3-cool: minutes of learning-rate decay, branched from runs/unet3.pt into unet3_cool.pt")
    ap.add_argument("--unet5-min", type=float, default=900,
                    help="model 5: a wider UNet grown from model 4's (widen.py), minutes in all across sessions")
    ap.add_argument("--unet5-ch", default="96,192,144", help="model 5's channels per level (each kept or doubled)")
    ap.add_argument("--cool-from", default="unet5",
                    help="unet5-cool: the run to branch off; shipped_unet (from_shipped.py) cools the shipped UNet "
                         "down again after a warmup, with a fresh optimiser")
    ap.add_argument("--key-codes-only", action="store_true",
                    help="unet5-cool/recool: train on key-quantised text states only (9.0.0), not half exact")
    ap.add_argument("--unet5-from", default="unet3_cool",
                    help="checkpoint to widen; shipped_unet (from_shipped.py) when runs/ is gone")
    args = ap.parse_args()
    torch.set_num_threads(2)
    nice_for_whole_session()
    os.makedirs(RUNS, exist_ok=True)
    if args.stage in ("vae", "all"):
        train_vae(args.vae_min, args.resume)
    if args.stage in ("clip", "all"):
        train_clip(args.clip_min, args.resume)
    if args.stage in ("unet", "all"):
        train_unet(args.unet_min, args.resume)
    if args.stage in ("decoder", "all"):
        finetune_decoder(args.decoder_min, args.resume)
    if args.stage in ("unet-more", "all") and args.more_min > 0:
        train_unet(args.more_min, args.resume, lr=args.more_lr, name="unet_more", init_from="unet")
    if args.stage == "unet3":
        start = args.unet3_from if load_ckpt(args.unet3_from) else "shipped_unet"
        train_unet(args.unet3_min, args.resume, lr=args.unet3_lr, name="unet3", init_from=start, balanced=True,
                   amp=True, schedule="constant", ema_decay=0.999, canonical_share=0.5)
    if args.stage == "unet3-cool":
        train_unet(args.cool_min, args.resume, lr=args.unet3_lr, name="unet3_cool", init_from="unet3", balanced=True,
                   amp=True, schedule="decay", ema_decay=0.999, canonical_share=0.5, branch=True)
    if args.stage == "unet5":
        start = args.unet5_from if load_ckpt(args.unet5_from) else "shipped_unet"
        train_unet(args.unet5_min, args.resume, lr=args.unet3_lr, name="unet5", init_from=start, balanced=True,
                   amp=True, schedule="constant", ema_decay=0.999, canonical_share=0.5,
                   ch=tuple(int(c) for c in args.unet5_ch.split(",")))
    if args.stage in ("unet5-cool", "unet5-recool", "unet5-codes-cool"):
        # unet5-recool: the finished cool-down's EMA weights, warmed up and cooled down again (what 8.0.0 did to
        # 7.0.0's shipped UNet); unet5-codes-cool: that once more on key codes only (what 9.0.0 did to 8.0.0's)
        name, start = {"unet5-cool": ("unet5_cool", args.cool_from), "unet5-recool": ("unet5_recool", "unet5_cool"),
                       "unet5-codes-cool": ("unet5_codes_cool", "unet5_recool")}[args.stage]
        train_unet(args.cool_min, args.resume, lr=args.unet3_lr, name=name, init_from=start, balanced=True, amp=True,
                   schedule="decay", ema_decay=0.999, canonical_share=0.5, branch=True,
                   ch=tuple(int(c) for c in args.unet5_ch.split(",")), fresh_start=args.stage != "unet5-cool",
                   key_codes_only=args.key_codes_only or args.stage == "unet5-codes-cool")
