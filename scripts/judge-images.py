"""Names images with the judge (pipeline/train/judge.py, an evaluation-only CLIP-style pair; never shipped).

  /usr/bin/python3 scripts/judge-images.py IMAGES.u8 COUNT  ->  JSON on stdout: {"names", "top5", "embeds"}

IMAGES.u8 holds COUNT 64x64 RGB images, uint8, HWC, back to back (scripts/measure-strides.ts writes it). "names" is
each image's best-ranked base emoji name, "top5" its five best, "embeds" its image embedding (L2-normalised). The weights are
pipeline/train/judge.pt, or $LOB_JUDGE. Exit 3 when they are missing (the caller then reports the shipped image
encoder's measure only).
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(ROOT, "pipeline", "train")


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    weights = os.environ.get("LOB_JUDGE") or os.path.join(TRAIN, "judge.pt")
    if not os.path.exists(weights):
        print(f"judge-images: {weights} is missing", file=sys.stderr)
        return 3
    import numpy as np
    import torch
    sys.path.insert(0, TRAIN)
    import judge as J
    import tokenizer as TK

    torch.set_num_threads(2)
    J.WEIGHTS = weights
    judge, ck = J.load()
    tok = TK.Tokenizer.from_file(os.path.join(ROOT, "models", "emoji", "tokenizer", "tokenizer.json"))
    if len(tok.vocab) != ck["vocab"]:
        print(f"judge-images: the judge was trained with {ck['vocab']} tokens, models/emoji has {len(tok.vocab)}",
              file=sys.stderr)
        return 3
    rgb = np.fromfile(path, dtype=np.uint8).reshape(count, 64, 64, 3)
    img = J.embed_images(judge, J.to_tensor(rgb))
    names = J.embed_names(judge, tok, ck["names"])
    top = (img @ names.t()).topk(5, dim=1).indices.tolist()
    json.dump({"names": [ck["names"][t[0]] for t in top], "top5": [[ck["names"][i] for i in t] for t in top],
               "embeds": [[round(v, 5) for v in e] for e in img.tolist()]}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
