"""gen5 0.1.0 side of bench/gen5.bench.ts: encode + decode of the same inputs (latent.npy, image.png) with
Gen5FileHandler (file_encoder with should_compress=True, convert_float16=False; file_decoder), timed per call.
Usage: GEN5_SRC=... /usr/bin/python3 gen5_bench.py INPUT_DIR ROUNDS  -> one JSON line of per-round wall and CPU times"""
import contextlib
import io
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

# bench/python/ holds other benches' helpers (a `torch` stand-in among them): 0.1.0 must import the real torch.
HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parents[1] / "scripts" / "stubs"))
sys.path.insert(0, os.environ["GEN5_SRC"])
import numpy as np  # noqa: E402

from gen5 import Gen5FileHandler  # noqa: E402

inputs, rounds = Path(sys.argv[1]), int(sys.argv[2])
latent = np.load(inputs / "latent.npy")
png = (inputs / "image.png").read_bytes()
out = Path(tempfile.mkdtemp()) / "bench.gen5"
handler = Gen5FileHandler()
encode_ms, decode_ms, encode_cpu_ms, decode_cpu_ms = [], [], [], []
warnings.simplefilter("ignore")
with contextlib.redirect_stdout(io.StringIO()):  # 0.1.0 prints from inside its encoder and decoder
    for i in range(rounds + 2):  # two warm-up rounds (imports, first ENVC probe)
        t, tc = time.perf_counter(), time.process_time()
        handler.file_encoder(filename=str(out), latent={"initial_noise": latent}, chunk_records=[], model_name="bench",
                             model_version="1", prompt="bench", tags=[], img_binary=png, should_compress=True,
                             convert_float16=False,
                             generation_settings={"seed": 1, "steps": 8, "sampler": "ddim"},
                             hardware_info={"os": "linux"})
        e, ec = time.perf_counter(), time.process_time()
        decoded = handler.file_decoder(str(out))
        d, dc = time.perf_counter(), time.process_time()
        assert decoded["chunks"]["latent"][0].shape == latent.shape
        if i >= 2:
            encode_ms.append((e - t) * 1000)
            decode_ms.append((d - e) * 1000)
            encode_cpu_ms.append((ec - tc) * 1000)
            decode_cpu_ms.append((dc - ec) * 1000)
print(json.dumps({"encode_ms": encode_ms, "decode_ms": decode_ms, "encode_cpu_ms": encode_cpu_ms,
                  "decode_cpu_ms": decode_cpu_ms, "bytes": out.stat().st_size}))
