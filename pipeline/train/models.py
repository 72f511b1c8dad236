"""The five networks of the emoji latent diffusion model (all small enough for a 2-core CPU).

Everything is written with plain ops (no fused attention, no data-dependent control flow) so it exports to ONNX
opset 17 with dynamic batch.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

T_TOKENS = 16
D_TEXT = 64
E_EMBED = 64
LATENT_C = 4


# ---------------------------------------------------------------- autoencoder (64x64x3 <-> 4x16x16)
class ConvRes(nn.Module):
    """Norm-free residual block: cheap on CPU, and enough for a small autoencoder."""

    def __init__(self, c):
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, padding=1)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.c2(F.silu(self.c1(F.silu(x))))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.PixelUnshuffle(2), nn.Conv2d(12, 48, 3, padding=1), ConvRes(48),
            nn.Conv2d(48, 96, 3, stride=2, padding=1), ConvRes(96),
            nn.SiLU(), nn.Conv2d(96, LATENT_C, 3, padding=1))

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(LATENT_C, 96, 3, padding=1), ConvRes(96), ConvRes(96),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(96, 48, 3, padding=1), ConvRes(48),
            nn.SiLU(), nn.Conv2d(48, 12, 3, padding=1), nn.PixelShuffle(2))

    def forward(self, z):
        return self.net(z)


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()
        # per-channel latent statistics, filled after training; exported graphs fold them in
        self.register_buffer("lat_mean", torch.zeros(LATENT_C))
        self.register_buffer("lat_std", torch.ones(LATENT_C))

    def encode_norm(self, x):
        z = self.encoder(x)
        return (z - self.lat_mean.view(1, -1, 1, 1)) / self.lat_std.view(1, -1, 1, 1)

    def decode_norm(self, zn):
        z = zn * self.lat_std.view(1, -1, 1, 1) + self.lat_mean.view(1, -1, 1, 1)
        return self.decoder(z).clamp(-1, 1)


# ---------------------------------------------------------------- CLIP-style encoders
class MHA(nn.Module):
    def __init__(self, dim, heads, ctx_dim=None):
        super().__init__()
        ctx_dim = ctx_dim or dim
        self.h = heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(ctx_dim, dim, bias=False)
        self.v = nn.Linear(ctx_dim, dim, bias=False)
        self.o = nn.Linear(dim, dim)

    def forward(self, x, ctx=None, bias=None):
        ctx = x if ctx is None else ctx
        b, n, d = x.shape
        m = ctx.shape[1]
        hd = d // self.h
        q = self.q(x).reshape(b, n, self.h, hd).transpose(1, 2)
        k = self.k(ctx).reshape(b, m, self.h, hd).transpose(1, 2)
        v = self.v(ctx).reshape(b, m, self.h, hd).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
        if bias is not None:
            att = att + bias
        out = torch.matmul(att.softmax(-1), v).transpose(1, 2).reshape(b, n, d)
        return self.o(out)


class TextBlock(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.n1 = nn.LayerNorm(dim)
        self.att = MHA(dim, heads)
        self.n2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 2), nn.GELU(), nn.Linear(dim * 2, dim))

    def forward(self, x, bias):
        x = x + self.att(self.n1(x), bias=bias)
        return x + self.mlp(self.n2(x))


class TextEncoder(nn.Module):
    """input_ids [B,T] -> last_hidden_state [B,T,64] (per-token, layer-normed), text_embeds [B,64] (unit norm)."""

    def __init__(self, vocab_size, width=128, layers=4, heads=4, pad_id=0):
        super().__init__()
        self.pad_id = pad_id
        self.tok = nn.Embedding(vocab_size, width)
        self.pos = nn.Parameter(torch.randn(T_TOKENS, width) * 0.02)
        self.blocks = nn.ModuleList([TextBlock(width, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(width)
        self.out = nn.Linear(width, D_TEXT)
        self.out_norm = nn.LayerNorm(D_TEXT)
        self.proj = nn.Linear(D_TEXT, E_EMBED, bias=False)

    def forward(self, ids):
        keep = (ids != self.pad_id).float()  # [B,T]
        bias = ((1.0 - keep) * -1e4)[:, None, None, :]
        x = self.tok(ids) + self.pos[None]
        for blk in self.blocks:
            x = blk(x, bias)
        h = self.out_norm(self.out(self.norm(x)))
        pooled = (h * keep[..., None]).sum(1) / keep.sum(1, keepdim=True).clamp(min=1.0)
        emb = self.proj(pooled)
        return h, emb / emb.norm(dim=-1, keepdim=True).clamp(min=1e-6)


class ImageEncoder(nn.Module):
    """pixel_values [B,3,64,64] in [-1,1] -> image_embeds [B,64] (unit norm)."""

    def __init__(self):
        super().__init__()
        def blk(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, stride=2, padding=1), nn.GroupNorm(8, o), nn.SiLU(),
                                 nn.Conv2d(o, o, 3, padding=1), nn.GroupNorm(8, o), nn.SiLU())
        self.net = nn.Sequential(blk(3, 32), blk(32, 64), blk(64, 128), blk(128, 192))  # -> 4x4
        self.head = nn.Linear(192 * 16, E_EMBED)

    def forward(self, x):
        e = self.head(self.net(x).flatten(1))
        return e / e.norm(dim=-1, keepdim=True).clamp(min=1e-6)


class Clip(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.text = TextEncoder(vocab_size)
        self.image = ImageEncoder()
        self.logit_scale = nn.Parameter(torch.tensor(math.log(10.0)))


# ---------------------------------------------------------------- UNet with cross-attention
def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.n1 = nn.GroupNorm(8, cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.t = nn.Linear(temb, cout * 2)
        self.n2 = nn.GroupNorm(8, cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.c1(F.silu(self.n1(x)))
        scale, shift = self.t(F.silu(temb))[:, :, None, None].chunk(2, dim=1)
        h = self.n2(h) * (1 + scale) + shift
        h = self.c2(F.silu(h))
        return self.skip(x) + h


class AttnBlock(nn.Module):
    """Spatial transformer: optional self-attention, cross-attention on the text states, MLP."""

    def __init__(self, c, ctx_dim, heads=4, self_attn=True):
        super().__init__()
        self.norm = nn.GroupNorm(8, c)
        self.proj_in = nn.Linear(c, c)
        self.self_attn = self_attn
        if self_attn:
            self.n1 = nn.LayerNorm(c)
            self.a1 = MHA(c, heads)
        self.n2 = nn.LayerNorm(c)
        self.a2 = MHA(c, heads, ctx_dim)
        self.n3 = nn.LayerNorm(c)
        self.mlp = nn.Sequential(nn.Linear(c, c * 2), nn.GELU(), nn.Linear(c * 2, c))
        self.proj_out = nn.Linear(c, c)

    def forward(self, x, ctx):
        b, c, hh, ww = x.shape
        h = self.proj_in(self.norm(x).reshape(b, c, hh * ww).transpose(1, 2))
        if self.self_attn:
            h = h + self.a1(self.n1(h))
        h = h + self.a2(self.n2(h), ctx)
        h = h + self.mlp(self.n3(h))
        return x + self.proj_out(h).transpose(1, 2).reshape(b, c, hh, ww)


UNET_CH = (48, 96, 144)  # channels per level up to model 4; checkpoints record their own ("ch")


class UNet(nn.Module):
    def __init__(self, ch=UNET_CH, temb=256, ctx=D_TEXT):
        super().__init__()
        c1, c2, c3 = ch
        self.temb_dim = temb
        self.t_mlp = nn.Sequential(nn.Linear(128, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.ctx_pool = nn.Linear(ctx, temb)  # global text vector (mean over tokens) joins the time embedding
        self.conv_in = nn.Conv2d(LATENT_C, c1, 3, padding=1)
        self.d1 = ResBlock(c1, c1, temb)
        self.d1a = AttnBlock(c1, ctx, self_attn=False)
        self.down1 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.d2 = ResBlock(c2, c2, temb)
        self.d2a = AttnBlock(c2, ctx)
        self.down2 = nn.Conv2d(c2, c3, 3, stride=2, padding=1)
        self.d3 = ResBlock(c3, c3, temb)
        self.d3a = AttnBlock(c3, ctx)
        self.m1 = ResBlock(c3, c3, temb)
        self.ma = AttnBlock(c3, ctx)
        self.m2 = ResBlock(c3, c3, temb)
        self.u3 = ResBlock(c3 + c3, c3, temb)
        self.u3a = AttnBlock(c3, ctx)
        self.up2 = nn.Conv2d(c3, c2, 3, padding=1)
        self.u2 = ResBlock(c2 + c2, c2, temb)
        self.u2a = AttnBlock(c2, ctx)
        self.up1 = nn.Conv2d(c2, c1, 3, padding=1)
        self.u1 = ResBlock(c1 + c1, c1, temb)
        self.u1a = AttnBlock(c1, ctx, self_attn=False)
        self.out = nn.Sequential(nn.GroupNorm(8, c1), nn.SiLU(), nn.Conv2d(c1, LATENT_C, 3, padding=1))

    def forward(self, x, t, ctx):
        temb = self.t_mlp(timestep_embedding(t, 128)) + self.ctx_pool(ctx.mean(1))
        h = self.conv_in(x)
        h1 = self.d1a(self.d1(h, temb), ctx)
        h = self.down1(h1)
        h2 = self.d2a(self.d2(h, temb), ctx)
        h = self.down2(h2)
        h3 = self.d3a(self.d3(h, temb), ctx)
        h = self.m2(self.ma(self.m1(h3, temb), ctx), temb)
        h = self.u3a(self.u3(torch.cat([h, h3], 1), temb), ctx)
        h = self.up2(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = self.u2a(self.u2(torch.cat([h, h2], 1), temb), ctx)
        h = self.up1(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = self.u1a(self.u1(torch.cat([h, h1], 1), temb), ctx)
        return self.out(h)


def unet_from_checkpoint(ck):
    """The EMA UNet of a training checkpoint, at the channels it records (model 4's when it records none)."""
    unet = UNet(ch=tuple(ck.get("ch", UNET_CH)))
    unet.load_state_dict(ck["ema"])
    return unet.eval()


def n_params(m):
    return sum(p.numel() for p in m.parameters())
