"""Times the seed project's own Python key codec (alexn11/stable-diffusion-image-archive-lob) on key files.

Usage: python3 sd_lob_codec.py SD_LOB_SRC REPEATS KEY_FILE...
Prints one JSON object: per key, the median and minimum decode (unpack_key) and encode (pack_data_into_key) time in ms, and
whether the codec reproduced the key (encode(decode(key)) == key), so the comparison is on work that round-trips.
Run with Debian's /usr/bin/python3 (numpy); our stand-in torch module sits next to this file.
"""
import json
import os
import statistics
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
src, repeats, keys = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
sys.path.insert(0, here)  # the stand-in torch
sys.path.insert(1, src)

from key_to_embedding import pack_data_into_key, unpack_key  # noqa: E402

results = []
for path in keys:
    with open(path) as f:
        key = f.read().strip()
    decode_ms, encode_ms = [], []
    same = True
    for _ in range(repeats):
        t0 = time.perf_counter()
        steps, embedding, latents = unpack_key(key)
        t1 = time.perf_counter()
        text = pack_data_into_key(steps, embedding, latents)
        t2 = time.perf_counter()
        decode_ms.append((t1 - t0) * 1000)
        encode_ms.append((t2 - t1) * 1000)
        same = same and text == key
    results.append({
        "key": os.path.basename(path),
        "decode_ms": statistics.median(decode_ms),
        "encode_ms": statistics.median(encode_ms),
        "decode_min_ms": min(decode_ms),
        "encode_min_ms": min(encode_ms),
        "roundtrip": same,
        "steps": steps,
    })
print(json.dumps({"python": sys.version.split()[0], "repeats": repeats, "results": results}))
