"""One command: rebuild the dataset, train every stage, export, evaluate, time, write the model card.

Usage: /usr/bin/python3 pipeline/train/run_all.py [--resume] [--vae-min 8 --clip-min 9 --unet-min 58
       --decoder-min 6 --more-min 55]
       [--version 2.0.1 --key-version 2] [--steps 16] [--guidance 6]
"""
import argparse
import json
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


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--vae-min", default="8")
    ap.add_argument("--clip-min", default="9")
    ap.add_argument("--unet-min", default="58")
    ap.add_argument("--decoder-min", default="6")
    ap.add_argument("--more-min", default="55", help="the UNet's second phase (train.py --stage unet-more)")
    ap.add_argument("--version", default="2.0.1")
    ap.add_argument("--key-version", default="2", help="the keyspace profile version: bump it with new weights")
    ap.add_argument("--steps", default="16")
    ap.add_argument("--guidance", default="6")
    a = ap.parse_args()
    run(PY, os.path.join(HERE, "data.py"), *([] if a.resume else ["--force"]))
    run(PY, os.path.join(HERE, "train.py"), "--stage", "all", "--vae-min", a.vae_min, "--clip-min", a.clip_min,
        "--unet-min", a.unet_min, "--decoder-min", a.decoder_min, "--more-min", a.more_min,
        *(["--resume"] if a.resume else []))
    unet = os.path.join(RUNS, "unet_more.pt" if float(a.more_min) > 0 else "unet.pt")
    run(PY, os.path.join(HERE, "export.py"), "--unet", unet, "--version", a.version, "--key-version",
        a.key_version, "--steps", a.steps, "--guidance", a.guidance)
    run(PY, os.path.join(HERE, "evaluate.py"), "--unet", unet, "--steps", a.steps, "--guidance", a.guidance)
    speed = subprocess.run(["node", os.path.join(HERE, "bench_speed.mjs"), "models/emoji", a.steps], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(ROOT, "docs", "model", "speed.json"), "w") as f:
        json.dump(json.loads(speed), f, indent=1)
        f.write("\n")
    run(PY, os.path.join(HERE, "write_card.py"), "--unet", unet)
