#!/usr/bin/env bash
# Runs a command while background training (pipeline/train/train.py) pauses. On this 2-core machine a training run
# and a test suite side by side each run several times slower than alone: training yields while this runs.
#   scripts/cpu-exclusive.sh npm test
set -u
dir="${LOB_TRAIN_PAUSE_DIR:-/tmp/lob-train-pause.d}"
mkdir -p "$dir"
touch "$dir/$$"
trap 'rm -f "$dir/$$"' EXIT
"$@"
