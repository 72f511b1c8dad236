"""Exports the trained model to models/emoji/ in the diffusers ONNX layout of docs/contracts.md.

Writes the five ONNX graphs (opset 17, float32, dynamic batch), model_index.json, scheduler config, VAE config,
tokenizer, keyspace.json (empirical quantiles of the prompt embeddings of all training captions), then checks
every graph in onnxruntime-node against PyTorch (max abs diff) via check_onnx.mjs.
Usage: /usr/bin/python3 pipeline/train/export.py [--out models/emoji] [--version 1.0.0] [--steps 16] [--guidance 6]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data as D  # noqa: E402
import diffusion as DF  # noqa: E402
import keyspace_stats as KS  # noqa: E402
import tokenizer as TK  # noqa: E402
import train as TR  # noqa: E402
from models import D_TEXT, T_TOKENS, unet_from_checkpoint  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OPSET = 17
STEP_VALUES = [8, 12, 16, 24]


class TextEncoderGraph(nn.Module):
    def __init__(self, text):
        super().__init__()
        self.text = text

    def forward(self, input_ids):
        return self.text(input_ids)


class UNetGraph(nn.Module):
    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states):
        return self.unet(sample, timestep, encoder_hidden_states)


class DecoderGraph(nn.Module):
    def __init__(self, ae):
        super().__init__()
        self.ae = ae

    def forward(self, latent_sample):
        return self.ae.decode_norm(latent_sample)


class EncoderGraph(nn.Module):
    def __init__(self, ae):
        super().__init__()
        self.ae = ae

    def forward(self, sample):
        return self.ae.encode_norm(sample)


# input and output names of the graphs the pipeline drives (diffusers' ONNX names); bench/python/pipeline_ref.py
# re-exports with the same names to map weights back
UNET_IO = (["sample", "timestep", "encoder_hidden_states"], ["out_sample"])
DECODER_IO = (["latent_sample"], ["sample"])


def load_unet(path):
    return unet_from_checkpoint(torch.load(path))


def export_graph(module, inputs, in_names, out_names, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    axes = {n: {0: "batch"} for n in in_names + out_names}
    torch.onnx.export(module, inputs, path, input_names=in_names, output_names=out_names, dynamic_axes=axes,
                      opset_version=OPSET, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))


def per_sample_means(path):
    """Rewrites the UNet's mean over text tokens (ReduceMean, axis 1) as a MatMul with a constant averaging row.

    onnxruntime's ReduceMean sums in another order for a batch of 1 than for a batch of 2 (a leading 1 is collapsed
    and another kernel runs), so a guided step's two branches run as two batch-1 calls (one per thread, see
    pipeline/unet/guided.ts) would not reproduce the bits of one batch-2 call. MatMul([1, T] of 1/T, [B, T, D]) is
    computed sample by sample: every batch size gives the same bits. Same function, same weights.
    """
    model = onnx.load(path)
    graph = model.graph
    dims = {i.name: [d.dim_value or None for d in i.type.tensor_type.shape.dim] for i in graph.input}
    for idx, node in enumerate(list(graph.node)):
        if node.op_type != "ReduceMean":
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        shape = dims.get(node.input[0])
        if list(attrs.get("axes", [])) != [1] or attrs.get("keepdims", 1) != 0 or not shape or None in shape[1:]:
            raise SystemExit(f"per_sample_means: cannot rewrite {node.name} ({attrs}, input {shape})")
        _, tokens, width = shape
        avg, flat = f"{node.name}/per_sample_weights", f"{node.name}/per_sample_shape"
        graph.initializer.extend([numpy_helper.from_array(np.full((1, tokens), 1 / tokens, np.float32), avg),
                                  numpy_helper.from_array(np.array([-1, width], np.int64), flat)])
        graph.node.remove(node)
        graph.node.insert(idx, helper.make_node("Reshape", [f"{node.name}/per_sample", flat], [node.output[0]],
                                                name=f"{node.name}/per_sample_reshape"))
        graph.node.insert(idx, helper.make_node("MatMul", [avg, node.input[0]], [f"{node.name}/per_sample"],
                                                name=f"{node.name}/per_sample_matmul"))
    onnx.checker.check_model(model)
    onnx.save(model, path)


def export_unet(unet, inputs, path):
    export_graph(UNetGraph(unet).eval(), inputs, *UNET_IO, path)
    per_sample_means(path)


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def editions():
    """Earlier key versions of the "emoji" profile and the tagged edition that draws each (keys name images of one
    edition): the last edition docs/model/history.json lists for each key version, with its tag and commit."""
    with open(os.path.join(ROOT, "docs", "model", "history.json")) as f:
        history = json.load(f)
    latest = {}
    for h in history:
        version = int(h["keys"].rsplit("-", 1)[1])
        latest[version] = {"version": version, "model": f"emoji-ldm {h['version']}", "tag": h["tag"],
                           **({"commit": h["commit"]} if "commit" in h else {})}
    return [latest[v] for v in sorted(latest)]


# the samplers export can write (evaluate.py --scheduler sweeps the same ones)
SCHEDULER_CLASSES = {
    "DDIM": {"_class_name": "DDIMScheduler"},
    "DPM": {"_class_name": "DPMSolverMultistepScheduler", "algorithm_type": "dpmsolver++", "solver_order": 2,
            "solver_type": "midpoint", "lower_order_final": True, "final_sigmas_type": "zero"},
    "Euler": {"_class_name": "EulerDiscreteScheduler"},
}


def keyspace_profile(states, version):
    table = KS.quantile_table(states)
    span = table[:, -1] - table[:, 0]
    constants = [{"section": "embedding", "index": int(i), "value": float(table[i, 0])}
                 for i in np.nonzero(span < 1e-6)[0]]
    return {
        "format": "lob-keyspace-profile/1",
        "id": "emoji",
        "version": version,
        "model": "emoji-ldm",
        "sections": [
            {"name": "steps", "kind": "steps", "values": STEP_VALUES},
            {"name": "embedding", "kind": "embedding", "shape": [T_TOKENS, D_TEXT],
             "coding": {"type": "quantile", "bits": KS.BITS,
                        "distribution": {"type": "empirical",
                                         "probabilities": [float(p) for p in KS.probabilities()],
                                         "quantiles": [[round(float(v), 6) for v in row] for row in table]}}},
            {"name": "latent", "kind": "latent", "shape": [1, 4, 16, 16],
             "coding": {"type": "quantile", "bits": 4, "distribution": {"type": "standard-normal"}}},
        ],
        "constants": constants,
        "editions": [e for e in editions() if e["version"] < int(version)],
        # from emoji-3 on, next/prev move the whole picture a visible step (docs/strides.md); emoji-1/2 keep 'tiles';
        # from emoji-7 on, next moves half the latent (a quadrant moved searched keys' pictures by under 12/255)
        **({"order": "halves"} if int(version) >= 7 else {"order": "nested"} if int(version) >= 3 else {}),
    }


@torch.no_grad()
def picture_prototypes(clip, pix, rows, count):
    """[count, dim] unit rows: the mean image embedding of the pictures (float [N, 3, 64, 64] in [-1, 1]) with each
    row index."""
    emb = torch.cat([clip.image(pix[i:i + 512]) for i in range(0, len(pix), 512)]).float()
    sums = torch.zeros(count, emb.shape[1]).index_add_(0, torch.tensor(rows), emb)
    return torch.nn.functional.normalize(sums, dim=1)


THUMBNAIL_SIDE, THUMBNAIL_TEMPERATURE = 8, 0.03


def thumbnails(pictures, side=THUMBNAIL_SIDE):
    """[N, side·side·3] (HWC) values in [-1, 1]: float [N, 3, H, W] pictures in [-1, 1] averaged over side × side
    cells (ranking.ts's `thumbnail` cuts the same cells)."""
    return torch.nn.functional.adaptive_avg_pool2d(pictures, side).permute(0, 2, 3, 1).flatten(1)


def name_thumbnails(pix, rows, count, side=THUMBNAIL_SIDE):
    """[count, side·side·3]: the mean thumbnail of the pictures (float [N, 3, H, W] in [-1, 1]) with each row index."""
    sums = torch.zeros(count, side * side * 3).index_add_(0, torch.tensor(rows), thumbnails(pix, side))
    return sums / torch.bincount(torch.tensor(rows), minlength=count).clamp(min=1)[:, None].float()


def write_search_ranking(out, clip, tok, x, meta, scale, target_temperature):
    """search_ranking/: every base emoji name, so search ranks a candidate by how surely it is the prompt among all of
    them rather than by its raw cosine (a picture near many names, such as a generic flag, no longer wins).
    embeds.f32: the names' text_embeds. With target_temperature > 0 (format 2), prototypes.f32 too: each name's mean
    image embedding over its training pictures, and the share is taken among pictures (p(target | image), the prompt's
    target mixing the prototypes of the names its words are near), plus the share by pixels (thumbnails.f32: each
    name's mean picture at 8 × 8); else (format 1) among the names' text_embeds, p(prompt | image). Names and
    pictures come from the training styles, never from the evaluation's held-out ones."""
    base = [i for i, m in enumerate(meta) if m["unified"] == m["concept"] and m["category"] != "Component"]
    names = sorted({meta[i]["name"] for i in base})
    ids = torch.tensor([tok.encode(n) for n in names], dtype=torch.int64)
    with torch.no_grad():
        emb = torch.cat([clip.text(ids[i:i + 512])[1] for i in range(0, len(names), 512)]).float()
    folder = os.path.join(out, "search_ranking")
    os.makedirs(folder, exist_ok=True)
    emb.numpy().astype("<f4").tofile(os.path.join(folder, "embeds.f32"))
    config = {"format": "lob-search-ranking/1", "scale": scale, "dim": emb.shape[1], "names": names}
    if target_temperature > 0:
        row = {n: k for k, n in enumerate(names)}
        rows = [row[meta[i]["name"]] for i in base]
        pix = torch.from_numpy(x[base]).permute(0, 3, 1, 2).float() / 127.5 - 1  # as image-encoder.ts feeds them
        picture_prototypes(clip, pix, rows, len(names)).numpy().astype("<f4").tofile(
            os.path.join(folder, "prototypes.f32"))
        thumbs = name_thumbnails(pix, rows, len(names))
        thumbs.numpy().astype("<f4").tofile(os.path.join(folder, "thumbnails.f32"))
        config.update(format="lob-search-ranking/2", target_temperature=target_temperature,
                      thumbnails={"side": THUMBNAIL_SIDE, "temperature": THUMBNAIL_TEMPERATURE})
    write_json(os.path.join(folder, "config.json"), config)


def export(out, unet_ckpt, version, steps, guidance, key_version, scheduler="DDIM", image_encoder=None,
           search_best_of=1, search_preview=None, search_ranking_scale=10.0, target_temperature=100.0):
    torch.manual_seed(0)
    ae, clip = TR.load_frozen()
    if image_encoder:  # ranker.py's retrained image tower; the text tower (and so every key) is unchanged
        clip.image.load_state_dict(torch.load(image_encoder)["image"])
    unet = load_unet(unet_ckpt)
    tok = TK.Tokenizer.from_file(os.path.join(TR.TOKENIZER_DIR, "tokenizer.json"))
    os.makedirs(out, exist_ok=True)
    b = 2
    ids = torch.tensor([tok.encode("grinning face"), tok.encode("")], dtype=torch.int64)
    sample = torch.randn(b, 4, 16, 16)
    timestep = torch.tensor([999, 500], dtype=torch.int64)
    ehs = clip.text(ids)[0].detach()
    pix = torch.rand(b, 3, 64, 64) * 2 - 1
    graphs = {
        "text_encoder": (TextEncoderGraph(clip.text), (ids,), ["input_ids"], ["last_hidden_state", "text_embeds"]),
        "unet": (UNetGraph(unet), (sample, timestep, ehs), *UNET_IO),  # exported by export_unet
        "vae_decoder": (DecoderGraph(ae), (sample,), *DECODER_IO),
        "vae_encoder": (EncoderGraph(ae), (pix,), ["sample"], ["latent_sample"]),
        "image_encoder": (clip.image, (pix,), ["pixel_values"], ["image_embeds"]),
    }
    ref = {}
    for name, (mod, inputs, ins, outs) in graphs.items():
        mod.eval()
        path = os.path.join(out, name, "model.onnx")
        if name == "unet":
            export_unet(unet, inputs, path)
        else:
            export_graph(mod, inputs, ins, outs, path)
        with torch.no_grad():
            res = mod(*inputs)
        res = res if isinstance(res, tuple) else (res,)
        ref[name] = {"inputs": {n: {"dtype": "int64" if x.dtype == torch.int64 else "float32",
                                    "shape": list(x.shape), "data": x.flatten().tolist()}
                                for n, x in zip(ins, inputs)},
                     "outputs": {n: {"shape": list(y.shape), "data": y.flatten().tolist()} for n, y in zip(outs, res)}}
    tok.save(os.path.join(out, "tokenizer"))
    write_json(os.path.join(out, "model_index.json"), {
        "_class_name": "OnnxStableDiffusionPipeline",
        "_diffusers_version": "0.30.0",
        "feature_extractor": [None, None],
        "image_encoder": ["diffusers", "OnnxRuntimeModel"],
        "requires_safety_checker": False,
        "safety_checker": [None, None],
        "scheduler": ["diffusers", "DDIMScheduler"],
        "text_encoder": ["diffusers", "OnnxRuntimeModel"],
        "tokenizer": ["transformers", "BertTokenizerFast"],
        "unet": ["diffusers", "OnnxRuntimeModel"],
        "vae_decoder": ["diffusers", "OnnxRuntimeModel"],
        "vae_encoder": ["diffusers", "OnnxRuntimeModel"],
        "lob": {"name": "emoji-ldm", "version": version, "default_steps": steps, "guidance_scale": guidance,
                "image_size": 64, **({"search_best_of": search_best_of} if search_best_of > 1 else {}),
                **({"search_preview": {"after_steps": search_preview[0], "keep": search_preview[1]}}
                   if search_preview else {})},
    })
    write_json(os.path.join(out, "scheduler", "scheduler_config.json"), {
        **SCHEDULER_CLASSES[scheduler],
        "_diffusers_version": "0.30.0",
        "num_train_timesteps": DF.NUM_TRAIN_TIMESTEPS,
        "beta_start": DF.BETA_START,
        "beta_end": DF.BETA_END,
        "beta_schedule": "scaled_linear",
        "trained_betas": None,
        "prediction_type": "v_prediction",
        "steps_offset": 0,
        "set_alpha_to_one": False,
        "timestep_spacing": "trailing",
        "clip_sample": False,
        "thresholding": False,
        "rescale_betas_zero_snr": False,
    })
    write_json(os.path.join(out, "vae_decoder", "config.json"), {
        "_class_name": "AutoencoderKL", "in_channels": 3, "out_channels": 3, "latent_channels": 4,
        "sample_size": 64, "scaling_factor": 1.0,
        "lob_note": "per-channel latent normalisation is folded into the ONNX graphs"})
    # keyspace statistics: real prompt embeddings of every distinct training caption
    x, meta = D.load()
    caps = sorted(set(TK.all_captions(meta)))
    cid = torch.tensor([tok.encode(c) for c in caps], dtype=torch.int64)
    with torch.no_grad():
        states = torch.cat([clip.text(cid[i:i + 512])[0] for i in range(0, len(caps), 512)])
    write_json(os.path.join(out, "keyspace.json"), keyspace_profile(states, key_version))
    if search_ranking_scale > 0:
        write_search_ranking(out, clip, tok, x, meta, search_ranking_scale, target_temperature)
    if os.path.abspath(out) == os.path.join(ROOT, "models", "emoji"):
        write_fixture(clip, unet, tok)  # the tests compare the shipped folder with it; a candidate leaves it alone
    check_onnx(out, ref)


FIXTURE = os.path.join(ROOT, "test", "fixtures", "model", "reference.json")
FIXTURE_CAPTIONS = ["grinning face", "Face With Tears of Joy: medium skin tone", "smiley, happy fcae!!", "",
                    "Côte d’Ivoire flag", "a very long prompt with many many words that will surely be truncated",
                    "thumbs up +1", "piñata party 🎉", "red heart"]


def deterministic_inputs(b=2):
    """Inputs the TypeScript test can rebuild exactly: sin/cos patterns, not random numbers."""
    n = b * 4 * 16 * 16
    sample = torch.sin(torch.arange(n, dtype=torch.float32) * 0.37).view(b, 4, 16, 16)
    ehs = torch.cos(torch.arange(b * 16 * 64, dtype=torch.float32) * 0.11).view(b, 16, 64)
    return sample, torch.tensor([999, 250][:b], dtype=torch.int64), ehs


def write_fixture(clip, unet, tok):
    """Python tokenizer ids and PyTorch outputs that test/model compares with the shipped files."""
    ids = torch.tensor([tok.encode(c) for c in FIXTURE_CAPTIONS], dtype=torch.int64)
    sample, t, ehs = deterministic_inputs()
    with torch.no_grad():
        h, e = clip.text(ids)
        out = unet(sample, t, ehs)
    fixture = {
        "captions": FIXTURE_CAPTIONS,
        "input_ids": ids.tolist(),
        "text_encoder": {"last_hidden_state_first_token": h[:, 0, :].tolist(), "text_embeds": e.tolist()},
        "unet": {"timestep": t.tolist(), "out_sample_mean": float(out.mean()),
                 "out_sample_first": out.flatten()[:64].tolist()},
    }
    write_json(FIXTURE, fixture)


def check_onnx(out, ref):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(ref, f)
    try:
        res = subprocess.run(["node", os.path.join(HERE, "check_onnx.mjs"), out, f.name], cwd=ROOT,
                             capture_output=True, text=True, check=False)
    finally:
        os.unlink(f.name)
    print(res.stdout.strip())
    if res.returncode != 0:
        raise SystemExit(f"onnxruntime-node check failed:\n{res.stderr}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "emoji"))
    ap.add_argument("--unet", default=os.path.join(TR.RUNS, "unet.pt"))
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--guidance", type=float, default=6.0)
    ap.add_argument("--key-version", type=int, default=1)
    ap.add_argument("--scheduler", choices=sorted(SCHEDULER_CLASSES), default="DDIM")
    ap.add_argument("--image-encoder", help="image tower from ranker.py (default: the CLIP stage's own)")
    ap.add_argument("--search-best-of", type=int, default=1,
                    help="candidates a search ranks when its caller names no number (model_index lob.search_best_of)")
    ap.add_argument("--search-preview", metavar="STEPS,KEEP",
                    type=lambda v: tuple(int(x) for x in v.split(",")),
                    help="rank search candidates after STEPS steps and finish the KEEP best (lob.search_preview)")
    ap.add_argument("--search-ranking-scale", type=float, default=10.0,
                    help="rank search candidates by their softmax share among every base name at this scale "
                         "(search_ranking/); 0: by the raw cosine, as editions before 9.0.0")
    ap.add_argument("--search-target-temperature", type=float, default=100.0,
                    help="> 0: rank among the names' picture prototypes, the prompt's target mixing those of the "
                         "names its words are near at this temperature, and by 8 × 8 thumbnails (format 2, from 9.1.0); 0: among the names' "
                         "text embeddings (format 1, as 9.0.0, whose scale was 30)")
    args = ap.parse_args()
    if args.search_preview and (len(args.search_preview) != 2 or min(args.search_preview) < 1):
        ap.error("--search-preview takes STEPS,KEEP, two integers ≥ 1")
    torch.set_num_threads(2)
    export(args.out, args.unet, args.version, args.steps, args.guidance, args.key_version, args.scheduler,
           args.image_encoder, args.search_best_of, args.search_preview, args.search_ranking_scale,
           args.search_target_temperature)
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(args.out) for fn in fns
                if fn.endswith(".onnx"))
    print(f"exported to {args.out}: ONNX total {total / 1e6:.2f} MB")
