#!/usr/bin/env bash
# After a cool-down finishes: a candidate edition measured end to end while nobody watches, so a session loses no
# time between training and shipping. Waits for train.py to exit, copies runs/unet5_cool.pt aside, exports the
# candidate with the next edition's settings (search keeps the best of BEST_OF candidates, default 8), then the
# paired probe, the sweep's points on 100 prompts, the issue's full protocol and the speed bench. Everything goes to
# OUT (default /tmp/candidate); nothing in the checkout changes.
#   setsid nohup pipeline/train/candidate.sh 9.0.0 9 [OUT] [BEST_OF] > /tmp/candidate.log 2>&1 &
set -eux
version=$1 key_version=$2 out=${3:-/tmp/candidate} best_of=${4:-8}
cd "$(dirname "$0")/../.."
py=/usr/bin/python3 runs=pipeline/train/runs
while pgrep -f 'train.py --stage unet5-cool' >/dev/null; do sleep 20; done
step=$($py -c "import torch; print(torch.load('$runs/unet5_cool.pt', map_location='cpu')['step'])")
ckpt=$runs/unet5_cool_$step.pt
cp $runs/unet5_cool.pt "$ckpt"
rm -rf "$out" && mkdir -p "$out"
$py pipeline/train/export.py --out "$out/model" --unet "$ckpt" --version "$version" --key-version "$key_version" \
  --steps 8 --search-best-of "$best_of"
$py pipeline/train/probe.py $runs/shipped_unet.pt "$ckpt" > "$out/probe.txt"
sweep="$py pipeline/train/evaluate.py --model $out/model --quick 100 --out $out/sweep-renders --sweep-out $out/sweep.json"
# best-of 8 and 16 first: the points earlier editions' sweeps have, to compare like with like before the full run
for n in 8 16; do $sweep --best-of $n; done
# the same best-of 16 ranked as 9.0.0 did (the names' text embeddings): the ranking's gain, pair by pair
$sweep --best-of 16 --ranking text
$py pipeline/train/evaluate.py --model "$out/model" --out "$out/eval"
$sweep --best-of 1
$sweep --steps 16 --best-of 4
$sweep --steps 16 --best-of 1
node pipeline/train/bench_speed.mjs "$out/model" 8 > "$out/speed.json"
node pipeline/train/bench_speed.mjs "$out/model" 16 > "$out/speed-16.json"
echo "candidate $version from $ckpt measured in $out"
