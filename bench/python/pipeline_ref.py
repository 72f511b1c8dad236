"""PyTorch eager reference for bench/pipeline.bench.ts: the default model's render loop on the same weights.

Run with Debian's python (torch 1.13):
    /usr/bin/python3 bench/python/pipeline_ref.py --model models/emoji --inputs DIR --steps 12 --guidance 3 \
        --threads 2 --repeat 5

Weights: the model helper's module classes (pipeline/train/models.py) filled from the shipped ONNX files themselves
(pipeline/train/onnx_weights.py: a probe export maps each tensor to its initializer), so no training checkpoint is
needed; the report lists any tensor the export folded away. The probe exports are not counted in the start-up time. Inputs (written by the TypeScript side, raw little-endian float32): cond.f32
and uncond.f32 [T, D] text states, latent.f32 [1, 4, H, W]. The loop is diffusers' DDIM (eta 0) as the model's
scheduler_config.json sets it, guidance batched like the TypeScript pipeline (uncond and cond as one batch of 2),
then the VAE decode and diffusers' 8-bit postprocess. Prints one JSON object.
"""
import argparse
import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# bench/python holds a stand-in `torch` package for the seed codec: this folder goes last on the path, so the real
# torch wins while its sibling modules (onnx_weights, threads) still import (onnx_weights from pipeline/train)
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != HERE] + [HERE]
sys.path.insert(0, os.path.join(ROOT, "pipeline", "train"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import export as EX  # noqa: E402
from models import AutoEncoder, UNet  # noqa: E402

from onnx_weights import load_via_probe, unet_channels  # noqa: E402
from threads import CpuClock, pin_threads  # noqa: E402


def ddim(config, steps):
    """Timesteps, alphas_cumprod and final alpha as diffusers' DDIMScheduler builds them (float32 torch)."""
    n = config["num_train_timesteps"]
    if config.get("beta_schedule", "linear") == "scaled_linear":
        betas = torch.linspace(config["beta_start"] ** 0.5, config["beta_end"] ** 0.5, n, dtype=torch.float32) ** 2
    else:
        betas = torch.linspace(config["beta_start"], config["beta_end"], n, dtype=torch.float32)
    ac = torch.cumprod(1.0 - betas, dim=0)
    spacing = config.get("timestep_spacing", "leading")
    if spacing == "trailing":
        ts = (np.round(np.arange(n, 0, -n / steps)).astype(np.int64) - 1).tolist()
    elif spacing == "leading":
        ratio = n // steps
        ts = ((np.arange(0, steps) * ratio).round()[::-1].astype(np.int64) + config.get("steps_offset", 0)).tolist()
    else:
        ts = np.linspace(0, n - 1, steps).round()[::-1].astype(np.int64).tolist()
    final = torch.tensor(1.0) if config.get("set_alpha_to_one", True) else ac[0]
    return ts, ac, final, n // steps


@torch.no_grad()
def render(unet, ae, config, cond, uncond, latent, steps, guidance):
    ts, ac, final, stride = ddim(config, steps)
    v_pred = config.get("prediction_type", "epsilon") == "v_prediction"
    x = latent
    ctx = torch.cat([uncond, cond], 0)
    for t in ts:
        if guidance > 1:
            out_u, out_c = unet(torch.cat([x, x], 0), torch.full((2,), t, dtype=torch.int64), ctx).chunk(2)
            out = out_u + guidance * (out_c - out_u)
        else:
            out = unet(x, torch.full((1,), t, dtype=torch.int64), cond)
        a = ac[t]
        a_prev = ac[t - stride] if t - stride >= 0 else final
        if v_pred:
            x0 = a.sqrt() * x - (1 - a).sqrt() * out
            eps = a.sqrt() * out + (1 - a).sqrt() * x
        else:
            x0 = (x - (1 - a).sqrt() * out) / a.sqrt()
            eps = out
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    img = ae.decode_norm(x)
    img = (img / 2 + 0.5).clamp(0, 1)[0].permute(1, 2, 0).numpy()
    return x, np.round(img * 255).astype(np.uint8)


def export_unet(unet, path):
    """As pipeline/train/export.py writes unet/model.onnx (same graph wrapper, input shapes, names, opset)."""
    inputs = (torch.zeros(2, 4, 16, 16), torch.tensor([999, 500], dtype=torch.int64), torch.zeros(2, 16, 64))
    EX.export_unet(unet, inputs, path)


def export_decoder(ae, path):
    """As pipeline/train/export.py writes vae_decoder/model.onnx."""
    EX.export_graph(EX.DecoderGraph(ae).eval(), (torch.zeros(2, 4, 16, 16),), *EX.DECODER_IO, path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--guidance", type=float, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    t_start = time.perf_counter()
    pin_threads(args.threads)

    t_probe = time.perf_counter()
    unet = UNet(ch=unet_channels(os.path.join(args.model, "unet", "model.onnx"))).eval()
    unet_loaded, unet_unmatched = load_via_probe(unet, os.path.join(args.model, "unet", "model.onnx"), export_unet)
    ae = AutoEncoder().eval()
    vae_loaded, vae_unmatched = load_via_probe(ae, os.path.join(args.model, "vae_decoder", "model.onnx"),
                                               export_decoder)
    # the encoder is not in the decoder's graph: only the decoder's tensors and the latent statistics count
    vae_unmatched = [n for n in vae_unmatched if not n.startswith("encoder.")]
    vae_loaded = [n for n in vae_loaded if not n.startswith("encoder.")]
    t_start += time.perf_counter() - t_probe

    with open(os.path.join(args.model, "scheduler", "scheduler_config.json")) as f:
        config = json.load(f)
    cond = torch.from_numpy(np.fromfile(os.path.join(args.inputs, "cond.f32"), dtype="<f4"))
    uncond = torch.from_numpy(np.fromfile(os.path.join(args.inputs, "uncond.f32"), dtype="<f4"))
    latent = torch.from_numpy(np.fromfile(os.path.join(args.inputs, "latent.f32"), dtype="<f4"))
    d = 64
    cond, uncond = cond.view(1, -1, d), uncond.view(1, -1, d)
    latent = latent.view(1, 4, 16, 16)

    first_start = time.perf_counter()
    final, rgb = render(unet, ae, config, cond, uncond, latent, args.steps, args.guidance)
    first_ms = (time.perf_counter() - first_start) * 1000
    times = []
    with CpuClock() as cpu:
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            render(unet, ae, config, cond, uncond, latent, args.steps, args.guidance)
            times.append((time.perf_counter() - t0) * 1000)
    rgb.tofile(os.path.join(args.inputs, "torch_rgb.u8"))
    final.numpy().astype("<f4").tofile(os.path.join(args.inputs, "torch_final.f32"))
    print(json.dumps({
        "torch": torch.__version__,
        "threads": args.threads,
        "ms": times,
        "cpu_per_wall": cpu.ratio,
        "first_ms": first_ms,
        "startup_to_first_image_ms": (time.perf_counter() - t_start) * 1000 - sum(times),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "weights": {
            "unet_from_onnx": len(unet_loaded), "unet_not_in_onnx": unet_unmatched,
            "vae_decoder_from_onnx": len(vae_loaded), "vae_decoder_not_in_onnx": vae_unmatched,
        },
    }))


if __name__ == "__main__":
    main()
