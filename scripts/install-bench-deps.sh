#!/bin/sh
# Installs what the Python references of `npm run bench` need, from Debian (run as root, or prefix sudo):
#   pipeline: PyTorch eager reference (bench/python/pipeline_ref.py) reads the shipped ONNX weights with onnx;
#             libopenblas0-pthread is the BLAS torch's CPU kernels load.
#   gen5:     gen5 0.1.0 (GEN5_SRC, a checkout) imports numpy, zstandard, jsonschema and PIL.
set -eu
apt-get update
apt-get install -y python3-torch python3-onnx libopenblas0-pthread python3-numpy python3-zstandard \
  python3-jsonschema python3-pil
