"""bfloat16 autocast against float32 on the same UNet weights and batches: samples/s and the loss curve (the
numbers behind amp.py and the model card: 237 vs 61 samples/s at batch 64, losses equal to 1e-4 over 30 steps).
Needs runs/ (from_shipped.py). Usage: /usr/bin/python3 pipeline/train/bench_amp.py [BATCH] [STEPS]
"""
import copy
import os
import sys
import time

import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as TR, diffusion as DF
from models import UNet
from amp import bf16
torch.set_num_threads(2)
base = UNet(); base.load_state_dict(TR.load_ckpt("shipped_unet")["ema"])
ae, clip = TR.load_frozen()
x, meta = TR.images_tensor()
import tokenizer as TK
tok = TK.Tokenizer.from_file(os.path.join(TR.TOKENIZER_DIR, "tokenizer.json"))
caps, ids, per_image = TR.caption_table(meta, tok)
lat, states = TR.encode_all(ae, clip, x[:4096], ids[:4096])
B = int(sys.argv[1]) if len(sys.argv) > 1 else 64; N = int(sys.argv[2]) if len(sys.argv) > 2 else 30
for mode in ["bf16", "fp32"]:
    unet = copy.deepcopy(base).train()
    opt = torch.optim.AdamW(unet.parameters(), lr=3e-4)
    g = torch.Generator().manual_seed(0)
    losses = []; t0 = None
    for step in range(N):
        if step == 3: t0 = time.time()
        idx = torch.randint(0, lat.shape[0], (B,), generator=g)
        x0 = lat[idx]; ctx = states[torch.randint(0, states.shape[0], (B,), generator=g)]
        noise = torch.randn(x0.shape, generator=g); t = torch.randint(0, 1000, (B,), generator=g)
        with bf16(mode == "bf16"):
            pred = unet(DF.add_noise(x0, noise, t), t, ctx)
        w = DF.min_snr_weight(t)
        loss = (w * (pred.float() - DF.v_target(x0, noise, t)).pow(2).mean(dim=(1, 2, 3))).mean()
        opt.zero_grad(); loss.backward(); opt.step(); losses.append(loss.item())
    dt = time.time() - t0
    print(mode, "B", B, "samples/s %.1f" % ((N - 3) * B / dt), "mean loss %.4f" % (sum(losses) / N), [round(l, 4) for l in losses[::max(1, N // 8)]])
