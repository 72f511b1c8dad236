"""Noise schedule (SD scaled-linear, 1000 steps), v-prediction helpers and the DDIM sampler (eta 0, CFG).

The sampler mirrors diffusers' DDIMScheduler with timestep_spacing "trailing", set_alpha_to_one false,
steps_offset 0, clip_sample false: exactly what scheduler_config.json declares for the TypeScript pipeline.
"""
import numpy as np
import torch

NUM_TRAIN_TIMESTEPS = 1000
BETA_START = 0.00085
BETA_END = 0.012


def alphas_cumprod():
    betas = np.linspace(BETA_START ** 0.5, BETA_END ** 0.5, NUM_TRAIN_TIMESTEPS, dtype=np.float64) ** 2
    return torch.tensor(np.cumprod(1.0 - betas), dtype=torch.float32)


ALPHAS_CUMPROD = alphas_cumprod()


def add_noise(x0, noise, t):
    a = ALPHAS_CUMPROD[t].view(-1, 1, 1, 1)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def v_target(x0, noise, t):
    a = ALPHAS_CUMPROD[t].view(-1, 1, 1, 1)
    return a.sqrt() * noise - (1 - a).sqrt() * x0


def min_snr_weight(t, gamma=5.0):
    """Min-SNR-gamma weighting for a v-prediction loss: min(snr, gamma) / (snr + 1)."""
    a = ALPHAS_CUMPROD[t]
    snr = a / (1 - a)
    return torch.clamp(snr, max=gamma) / (snr + 1)


def ddim_timesteps(steps):
    """diffusers 'trailing' spacing: round(arange(T, 0, -T/steps)) - 1."""
    ts = np.round(np.arange(NUM_TRAIN_TIMESTEPS, 0, -NUM_TRAIN_TIMESTEPS / steps)).astype(np.int64) - 1
    return [int(t) for t in ts]


@torch.no_grad()
def ddim_sample(unet, cond, uncond, latents, steps, guidance):
    """cond/uncond: [B,T,D] text states; latents: initial noise [B,4,16,16]. Returns final latents."""
    ts = ddim_timesteps(steps)
    step = NUM_TRAIN_TIMESTEPS // steps
    x = latents
    b = x.shape[0]
    ctx = torch.cat([uncond, cond], 0)
    for t in ts:
        tt = torch.full((2 * b,), t, dtype=torch.int64)
        v_u, v_c = unet(torch.cat([x, x], 0), tt, ctx).chunk(2)
        v = v_u + guidance * (v_c - v_u)
        a_t = ALPHAS_CUMPROD[t]
        prev = t - step
        a_prev = ALPHAS_CUMPROD[prev] if prev >= 0 else ALPHAS_CUMPROD[0]
        x0 = a_t.sqrt() * x - (1 - a_t).sqrt() * v
        eps = a_t.sqrt() * v + (1 - a_t).sqrt() * x
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    return x
