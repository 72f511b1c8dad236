"""Interop with gen5 0.1.0 itself (Python), both ways.

  gen5-interop.py decode DIR   decode every DIR/*.gen5 (written by us) with 0.1.0's Gen5FileHandler().file_decoder
                               and check what it returns against the chunk table, the schema and DIR/NAME.expect.json
  gen5-interop.py write DIR    write a matrix of files with 0.1.0's file_encoder (+ NAME.expect.json) for our decoder

Needs GEN5_SRC = a checkout of github.com/AnuroopVJ/gen5 at df68df3 (0.1.0); run through scripts/gen5-interop.sh.
"""
import contextlib
import hashlib
import io
import json
import os
import sys
import warnings
from pathlib import Path

SRC = os.environ.get("GEN5_SRC", "")
if not SRC or not (Path(SRC) / "gen5" / "__init__.py").is_file():
    print(f"gen5-interop: SKIPPED: no gen5 0.1.0 checkout at GEN5_SRC={SRC!r}")
    sys.exit(0)
sys.path.insert(0, str(Path(__file__).resolve().parent / "stubs"))
sys.path.insert(0, SRC)

import jsonschema  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from gen5 import Gen5FileHandler  # noqa: E402
from gen5.core.constants import JSON_SCHEMA  # noqa: E402


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def decode(folder: Path) -> int:
    failures = 0
    files = sorted(folder.glob("*.gen5"))
    if not files:
        print(f"gen5-interop: no .gen5 files in {folder}")
        return 1
    for path in files:
        problems = []
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("always")
            try:
                out = Gen5FileHandler().file_decoder(str(path))
            except Exception as e:  # the whole point: 0.1.0 must not raise on our files
                out = None
                problems.append(f"file_decoder raised {type(e).__name__}: {e}")
        if out is not None:
            meta = out["metadata"]
            try:
                jsonschema.validate(instance=meta, schema=json.loads(JSON_SCHEMA))
            except jsonschema.ValidationError as e:
                problems.append(f"META fails 0.1.0's schema: {e.message}")
            records = meta["gen5_metadata"]["chunks"]
            latn = [r for r in records if r["type"] == "LATN"]
            arrays = out["chunks"]["latent"]
            if len(arrays) != len(latn):
                problems.append(f"{len(arrays)} latents decoded, {len(latn)} LATN records")
            for rec, arr in zip(latn, arrays):
                name = rec["extra"]["key"]
                if list(arr.shape) != rec["extra"]["shape"] or str(arr.dtype) != rec["extra"]["dtype"]:
                    problems.append(f"latent {name}: decoded {arr.dtype}{list(arr.shape)}, table says {rec['extra']}")
                if sha(np.ascontiguousarray(arr).tobytes()) != rec["hash"]:
                    problems.append(f"latent {name}: SHA-256 differs from the table")
            data = [r for r in records if r["type"] == "DATA"]
            image = out["chunks"].get("image")
            if data and (image is None or sha(image) != data[0]["hash"]):
                problems.append("image bytes differ from the DATA record's hash")
            if "env" not in out["chunks"]:
                problems.append("no ENVC decoded")
            expect_path = path.with_suffix(".expect.json")
            if expect_path.is_file():
                expect = json.loads(expect_path.read_text())
                got = {r["extra"]["key"]: {"shape": list(a.shape), "dtype": str(a.dtype), "sha256": sha(a.tobytes())} for r, a in zip(latn, arrays)}
                if got != expect["latents"]:
                    problems.append(f"latents differ from {expect_path.name}: {got} != {expect['latents']}")
                if (sha(image) if image is not None else None) != expect["image_sha256"]:
                    problems.append(f"image differs from {expect_path.name}")
                prov = meta["gen5_metadata"].get("lob_provenance")
                if expect.get("key_sha256") and (not prov or sha(prov["key"]["text"].encode()) != expect["key_sha256"]):
                    problems.append("lob_provenance.key.text did not survive")
        drift = [str(w.message).split("\n")[0] for w in caught if "Environment component" in str(w.message)]
        status = "ok  " if not problems else "FAIL"
        print(f"{status} {path.name}: " + ("; ".join(problems) if problems else f"{len(out['chunks']['latent'])} latents, image={'image' in out['chunks']}, {len(drift)} drift warnings from 0.1.0"))
        failures += bool(problems)
    print(f"gen5-interop: gen5 0.1.0 decoded {len(files) - failures}/{len(files)} of our files")
    return 1 if failures else 0


def write(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261122)
    png = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(png, format="PNG")
    matrix = [
        ("py-f32-zstd-image", dict(should_compress=True, convert_float16=False), True),
        ("py-f16-raw-image", dict(should_compress=False, convert_float16=True), True),
        ("py-f32-raw-noimage", dict(should_compress=False, convert_float16=False), False),
        ("py-f16cast-zstd-noimage", dict(should_compress=True, convert_float16=True), False),
    ]
    for name, opts, with_image in matrix:
        latents = {
            "initial_noise": rng.standard_normal((1, 4, 8, 8)).astype(np.float32),
            "final_latent": rng.standard_normal((2, 4, 4, 4)).astype(np.float32),
        }
        with contextlib.redirect_stdout(io.StringIO()):
            Gen5FileHandler().file_encoder(
                filename=str(folder / f"{name}.gen5"), latent=latents, chunk_records=[], model_name="Py Model",
                model_version="0.1", prompt=f"interop {name} \u2713", tags=["interop"],
                img_binary=png.getvalue() if with_image else None,
                generation_settings={"seed": 3, "steps": 10, "sampler": "ddim", "cfg_scale": 5.0},
                hardware_info={"os": "linux", "cpu_cores": 2}, **opts)
        stored = {k: (v.astype(np.float16) if opts["convert_float16"] else v) for k, v in latents.items()}
        expect = {
            "latents": {k: {"shape": list(v.shape), "dtype": str(v.dtype), "sha256": sha(v.tobytes())} for k, v in stored.items()},
            "image_sha256": sha(png.getvalue()) if with_image else None,
            "prompt": f"interop {name} \u2713",
            "cfg_scale_text": '"cfg_scale": 5.0',
        }
        (folder / f"{name}.expect.json").write_text(json.dumps(expect, indent=1))
        print(f"wrote {name}.gen5 with gen5 0.1.0")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("decode", "write"):
        print(__doc__)
        sys.exit(2)
    sys.exit((decode if sys.argv[1] == "decode" else write)(Path(sys.argv[2])))
