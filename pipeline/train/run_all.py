"""One command: rebuild the dataset, train every stage, export, evaluate, write the model card.

Usage: /usr/bin/python3 pipeline/train/run_all.py [--resume] [--from-shipped] [--vae-min 8 --clip-min 9 --unet-min 58
       --decoder-min 6 --more-min 55 --unet3-min 256 --cool-min 45 --unet5-min 288 --cool5-min 50 --recool5-min 80
       --codes-cool5-min 65] [--version 9.0.0 --key-version 9] [--steps 8] [--guidance 6] [--scheduler DDIM]
       [--search-best-of 16] [--search-preview STEPS,KEEP]

The stages are time-budgeted and checkpointed in runs/ (every 3 minutes), so after an interruption (a session that
ends, a reboot) the same command with --resume continues where it stopped; a finished stage is skipped. Model 3's
stage (unet3) runs for --unet3-min minutes of training in all, across as many sessions as that takes. On a machine
that has lost runs/, `from_shipped.py` rebuilds the checkpoints from the shipped ONNX files and unet3 continues from
the shipped UNet (`train.py --stage unet3 --unet3-from shipped_unet`).

4.0.0's UNet is a cool-down branched off model 3's run (`train.py --stage unet3-cool`: the learning rate decays to
near zero over --cool-min minutes into runs/unet3_cool.pt). Model 5 (`unet5`) widens that UNet (widen.py) and trains
on with the same recipe for --unet5-min minutes; the edition exported is its own cool-down (`unet5-cool`,
runs/unet5_cool.pt), with the image tower retrained as search's ranker (`ranker.py`). To cool down a later point of
a run, move its cool-down checkpoint away first.

The defaults rebuild 9.0.0: model 5's run for 288 minutes since widening, a 50-minute cool-down (6.0.0's and 7.0.0's
UNet), that cool-down warmed up and cooled down again for 80 minutes (`unet5-recool`, 8.0.0's UNet), and that once
more for 65 minutes on key codes only (`unet5-codes-cool`, runs/unet5_codes_cool.pt), searched at 8 steps with
best-of 16, ranked by p(prompt | image) (export.py writes search_ranking/). A machine without runs/ (each session may
get a fresh one) trains on from the shipped edition instead: `run_all.py --from-shipped --resume --cool5-min 65
--version 10.0.0 --key-version 10` rebuilds the checkpoints from the shipped ONNX files and cools the shipped UNet down
again from a warm restart on key codes only (a candidate for the next edition, pipeline/train/README.md).
"""
import argparse
import os
import subprocess
import sys

from paths import RUNS

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PY = sys.executable


def run(*args):
    print("+", " ".join(args), flush=True)
    subprocess.run(list(args), cwd=ROOT, check=True)


def export_evaluate_card(a, unet, image_encoder):
    run(PY, os.path.join(HERE, "export.py"), "--unet", unet, "--version", a.version, "--key-version", a.key_version,
        "--steps", a.steps, "--guidance", a.guidance, "--scheduler", a.scheduler,
        *(["--image-encoder", image_encoder] if image_encoder else []), "--search-best-of", a.search_best_of,
        *(["--search-preview", a.search_preview] if a.search_preview else []))
    run(PY, os.path.join(HERE, "evaluate.py"), "--model", os.path.join(ROOT, "models", "emoji"))
    run(PY, os.path.join(HERE, "write_card.py"), "--unet", unet)


def train_on_from_shipped(a, resume):
    """Training on from the shipped edition on a fresh machine: its UNet (rebuilt from its ONNX file) cooled down
    again; the shipped image encoder stays search's ranker (clip.pt holds it), the text encoder and so the codebook
    stay."""
    if not os.path.exists(os.path.join(RUNS, "shipped_unet.pt")):
        run(PY, os.path.join(HERE, "from_shipped.py"))
    run(PY, os.path.join(HERE, "train.py"), "--stage", "unet5-cool", "--cool-from", "shipped_unet",
        "--cool-min", a.cool5_min, "--key-codes-only", *resume)
    export_evaluate_card(a, os.path.join(RUNS, "unet5_cool.pt"), None)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--from-shipped", action="store_true",
                    help="train on from the shipped edition instead of from scratch (a machine without runs/): "
                         "from_shipped.py, then a cool-down of the shipped UNet (--cool5-min), export, evaluation, card")
    ap.add_argument("--vae-min", default="8")
    ap.add_argument("--clip-min", default="9")
    ap.add_argument("--unet-min", default="58")
    ap.add_argument("--decoder-min", default="6")
    ap.add_argument("--more-min", default="55", help="the UNet's second phase (train.py --stage unet-more)")
    ap.add_argument("--unet3-min", default="256", help="model 3's phase (train.py --stage unet3)")
    ap.add_argument("--cool-min", default="45", help="model 3's learning-rate cool-down, 4.0.0's UNet (unet3-cool)")
    ap.add_argument("--unet5-min", default="288", help="model 5's phase, the widened UNet (train.py --stage unet5)")
    ap.add_argument("--cool5-min", default="50", help="model 5's cool-down (unet5-cool)")
    ap.add_argument("--recool5-min", default="80",
                    help="that cool-down warmed up and cooled down again (unet5-recool, 8.0.0's recipe)")
    ap.add_argument("--codes-cool5-min", default="65",
                    help="and once more on key codes only before export (unet5-codes-cool, 9.0.0's recipe)")
    ap.add_argument("--ranker-steps", default="1200", help="search's best-of ranker (ranker.py)")
    ap.add_argument("--judge-steps", default="1500", help="the evaluation-only judge (judge.py)")
    ap.add_argument("--version", default="9.0.0")
    ap.add_argument("--key-version", default="9", help="the keyspace profile version: bump it with new weights")
    ap.add_argument("--search-best-of", default="16", help="candidates a search ranks when none is named")
    ap.add_argument("--search-preview", metavar="STEPS,KEEP",
                    help="search ranks its candidates after STEPS steps and finishes the KEEP best (default: all finish)")
    ap.add_argument("--steps", default="8")
    ap.add_argument("--guidance", default="6")
    ap.add_argument("--scheduler", default="DDIM", choices=["DDIM", "DPM", "Euler"])
    a = ap.parse_args()
    resume = ["--resume"] if a.resume else []
    run(PY, os.path.join(HERE, "data.py"), *([] if a.resume else ["--force"]))
    if a.from_shipped:
        train_on_from_shipped(a, resume)
        sys.exit(0)
    run(PY, os.path.join(HERE, "train.py"), "--stage", "all", "--vae-min", a.vae_min, "--clip-min", a.clip_min,
        "--unet-min", a.unet_min, "--decoder-min", a.decoder_min, "--more-min", a.more_min, *resume)
    run(PY, os.path.join(HERE, "train.py"), "--stage", "unet3", "--unet3-min", a.unet3_min, *resume)
    run(PY, os.path.join(HERE, "train.py"), "--stage", "unet3-cool", "--cool-min", a.cool_min, *resume)
    run(PY, os.path.join(HERE, "train.py"), "--stage", "unet5", "--unet5-min", a.unet5_min, *resume)
    run(PY, os.path.join(HERE, "train.py"), "--stage", "unet5-cool", "--cool-min", a.cool5_min, *resume)
    run(PY, os.path.join(HERE, "train.py"), "--stage", "unet5-recool", "--cool-min", a.recool5_min, *resume)
    run(PY, os.path.join(HERE, "train.py"), "--stage", "unet5-codes-cool", "--cool-min", a.codes_cool5_min, *resume)
    if not os.path.exists(os.path.join(HERE, "judge.pt")):
        run(PY, os.path.join(HERE, "judge.py"), "train", "--steps", a.judge_steps)
    run(PY, os.path.join(HERE, "ranker.py"), "--steps", a.ranker_steps)
    export_evaluate_card(a, os.path.join(RUNS, "unet5_codes_cool.pt"), os.path.join(RUNS, "ranker.pt"))
