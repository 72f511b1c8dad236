#!/bin/sh
# Interop with gen5 0.1.0 (Python), both ways:
#   1. files lob writes (a real render with provenance; f16/f32; zstd/raw; with/without image; one via `lob gen5 pack`)
#      must decode with 0.1.0's Gen5FileHandler().file_decoder, match their chunk tables and pass its schema;
#   2. files 0.1.0's file_encoder writes must decode and verify with lob and match what 0.1.0 was given.
# Needs GEN5_SRC = a checkout of github.com/AnuroopVJ/gen5 at df68df3 (0.1.0) and Debian's /usr/bin/python3
# (numpy, zstandard, jsonschema, PIL, torch); skips with a message without the checkout, so CI needs no network.
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
if [ -z "${GEN5_SRC:-}" ] || [ ! -f "$GEN5_SRC/gen5/__init__.py" ]; then
  echo "gen5-interop: SKIPPED: set GEN5_SRC to a checkout of github.com/AnuroopVJ/gen5 at df68df3 (gen5 0.1.0)"
  exit 0
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== lob writes, gen5 0.1.0 reads"
node --import tsx scripts/gen5-interop.ts write "$WORK/ours"
node bin/lob.mjs gen5 extract "$WORK/ours/ours-render-f32-zstd.gen5" --out "$WORK/x" >/dev/null
node bin/lob.mjs gen5 pack --meta "$WORK/x/metadata.json" \
  --latent "initial_noise=$WORK/x/latents/initial_noise.npy" --latent "final_latent=$WORK/x/latents/final_latent.npy" \
  --latent "embedding=$WORK/x/latents/embedding.npy" --image "$WORK/x/image.png" -o "$WORK/ours/ours-cli-pack.gen5"
cp "$WORK/ours/ours-render-f32-zstd.expect.json" "$WORK/ours/ours-cli-pack.expect.json"
$PY scripts/gen5-interop.py decode "$WORK/ours"

echo "== gen5 0.1.0 writes, lob reads"
$PY scripts/gen5-interop.py write "$WORK/theirs"
node --import tsx scripts/gen5-interop.ts check "$WORK/theirs"
