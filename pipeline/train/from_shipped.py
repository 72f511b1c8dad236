"""Rebuilds the training checkpoints from the shipped ONNX files, so training can continue on a machine that has
lost runs/ (a fresh clone): runs/vae.pt, runs/clip.pt and runs/shipped_unet.pt, plus data/tokenizer/.

Each module is filled from its graph by onnx_weights.load_via_probe (a probe export maps every tensor to the
shipped initializer that holds it); a tensor the export folded away is an error, not a silent random weight.

Usage: /usr/bin/python3 pipeline/train/from_shipped.py [--model models/emoji]
"""
import argparse
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export as EX  # noqa: E402
import train as TR  # noqa: E402
from models import AutoEncoder, Clip, UNet  # noqa: E402
from onnx_weights import load_via_probe, unet_channels  # noqa: E402
from paths import RUNS  # noqa: E402


def fill(module, path, export, allow_missing=()):
    loaded, unmatched = load_via_probe(module, path, export)
    missing = [n for n in unmatched if not n.startswith(allow_missing)]
    if missing:
        raise SystemExit(f"{path}: no initializer holds {missing}")
    return loaded


def shipped_version(model):
    import json
    with open(os.path.join(model, "model_index.json")) as f:
        return json.load(f)["lob"]["version"]


def shipped_steps(model):
    """The shipped UNet's training step (docs/model/history.json), so training on moves the data order on; the
    ONNX file does not hold it."""
    import json
    with open(os.path.join(EX.ROOT, "docs", "model", "history.json")) as f:
        steps = {h["version"]: h.get("unet_steps", 0) for h in json.load(f)}
    return steps.get(shipped_version(model), 0)


def main(model):
    os.makedirs(RUNS, exist_ok=True)
    tok_dir = TR.TOKENIZER_DIR
    os.makedirs(tok_dir, exist_ok=True)
    shutil.copy(os.path.join(model, "tokenizer", "tokenizer.json"), os.path.join(tok_dir, "tokenizer.json"))
    ids = torch.zeros(2, 16, dtype=torch.int64)
    pix = torch.zeros(2, 3, 64, 64)
    lat = torch.zeros(2, 4, 16, 16)

    ae = AutoEncoder().eval()
    enc = fill(ae, os.path.join(model, "vae_encoder", "model.onnx"),
               lambda m, p: EX.export_graph(EX.EncoderGraph(m).eval(), (pix,), ["sample"], ["latent_sample"], p),
               allow_missing=("decoder.",))
    dec_ae = AutoEncoder().eval()
    fill(dec_ae, os.path.join(model, "vae_decoder", "model.onnx"),
         lambda m, p: EX.export_graph(EX.DecoderGraph(m).eval(), (lat,), *EX.DECODER_IO, p),
         allow_missing=("encoder.",))
    state = ae.state_dict()
    state.update({k: v for k, v in dec_ae.state_dict().items() if k.startswith("decoder.")})
    for k in ("lat_mean", "lat_std"):  # both graphs fold them in: they must agree
        if not torch.equal(ae.state_dict()[k], dec_ae.state_dict()[k]):
            raise SystemExit(f"{k} differs between the shipped encoder and decoder")
    ae.load_state_dict(state)
    TR.save_ckpt("vae", {"model": ae.state_dict(), "done": True, "decoder_done": True,
                         "from_shipped": shipped_version(model), "step": 0, "elapsed": 0.0})

    import tokenizer as TK
    vocab = len(TK.Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json")).vocab)
    clip = Clip(vocab).eval()
    fill(clip.text, os.path.join(model, "text_encoder", "model.onnx"),
         lambda m, p: EX.export_graph(EX.TextEncoderGraph(m).eval(), (ids,), ["input_ids"],
                                      ["last_hidden_state", "text_embeds"], p))
    fill(clip.image, os.path.join(model, "image_encoder", "model.onnx"),
         lambda m, p: EX.export_graph(m.eval(), (pix,), ["pixel_values"], ["image_embeds"], p))
    TR.save_ckpt("clip", {"model": clip.state_dict(), "done": True, "vocab_size": vocab,
                          "from_shipped": shipped_version(model), "step": 0, "elapsed": 0.0})

    ch = unet_channels(os.path.join(model, "unet", "model.onnx"))
    unet = UNet(ch=ch).eval()
    fill(unet, os.path.join(model, "unet", "model.onnx"),
         lambda m, p: EX.export_unet(m, (lat, torch.tensor([999, 500], dtype=torch.int64), torch.zeros(2, 16, 64)),
                                     p))
    TR.save_ckpt("shipped_unet", {"ema": unet.state_dict(), "done": True, "step": shipped_steps(model), "ch": list(ch),
                                  "from_shipped": shipped_version(model)})
    print(f"rebuilt vae, clip and shipped_unet checkpoints in {RUNS} from {model} ({shipped_version(model)})")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(EX.ROOT, "models", "emoji"))
    torch.set_num_threads(2)
    main(ap.parse_args().model)
