"""PyTorch side of bench/unet-overhead.bench.ts: one batch-2 UNet call of the default model at 1 thread, on its
16x16 latent and on a 4x4 one (whose arithmetic is negligible, so its time is the per-operation overhead).

    /usr/bin/python3 bench/python/unet_overhead.py --model models/emoji --out DIR

Fills the model helper's UNet from the shipped unet/model.onnx (as pipeline_ref.py does), writes DIR/unet_hw.onnx
(the same UNet exported with dynamic height and width, for the onnxruntime side) and DIR/sgemm.onnx (four chained
1024x1024 MatMuls, to time onnxruntime's single-thread SGEMM) and prints one JSON object:
{"torch": version, "ms": {"16": median, "4": median}, "cpu_per_wall": {...}, "mflop": {...},
 "torch_sgemm_gflops": x, "unet_from_onnx": n, "unet_not_in_onnx": [...]}.
"""
import argparse
import json
import os
import time

import pipeline_ref as REF  # first: it puts pipeline/train on sys.path and keeps the real torch first
import numpy as np  # noqa: E402
import torch  # noqa: E402
from models import MHA  # noqa: E402


def median_ms(unet, hw, reps=60):
    x, t, c = torch.randn(2, 4, hw, hw), torch.tensor([500, 500]), torch.randn(2, 16, 64)
    with torch.no_grad():
        for _ in range(5):
            unet(x, t, c)
        ts = []
        with REF.CpuClock() as cpu:
            for _ in range(reps):
                t0 = time.perf_counter()
                unet(x, t, c)
                ts.append((time.perf_counter() - t0) * 1000)
    return sorted(ts)[reps // 2], cpu.ratio


SGEMM_N = 1024
SGEMM_CHAIN = 4  # products per run, so copying the input and output in and out of the session is a small part


def unet_mflop(unet, hw):
    """Multiply-adds ×2 of one batch-2 call, by layer kind: the arithmetic any float32 implementation must do."""
    macs = {"conv": 0, "linear": 0, "attention": 0}

    def conv(m, _, out):
        macs["conv"] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear(m, _, out):
        macs["linear"] += out.numel() * m.in_features

    def attention(_, args, out):  # q·kᵀ and att·v over all heads
        ctx = args[1] if len(args) > 1 and args[1] is not None else args[0]
        macs["attention"] += 2 * out.shape[0] * out.shape[1] * ctx.shape[1] * out.shape[2]

    hooks = []
    for m in unet.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(conv))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(linear))
        elif isinstance(m, MHA):
            hooks.append(m.register_forward_hook(attention))
    with torch.no_grad():
        unet(torch.zeros(2, 4, hw, hw), torch.tensor([500, 500]), torch.zeros(2, 16, 64))
    for h in hooks:
        h.remove()
    return {k: 2 * v / 1e6 for k, v in macs.items()}


def sgemm(out):
    """Writes a one-MatMul graph for the onnxruntime side; returns PyTorch's (OpenBLAS) single-thread GFLOP/s."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    scaled = np.random.default_rng(0).random((SGEMM_N, SGEMM_N), dtype=np.float32) * np.float32(2 / SGEMM_N)
    w = numpy_helper.from_array(scaled, "w")  # scaled so the chained products stay near 1
    io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [SGEMM_N, SGEMM_N]) for n in ("x", "y")]
    names = ["x"] + [f"p{i}" for i in range(1, SGEMM_CHAIN)] + ["y"]
    nodes = [helper.make_node("MatMul", [a, "w"], [b]) for a, b in zip(names, names[1:])]
    graph = helper.make_graph(nodes, "sgemm", io[:1], io[1:], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", REF.EX.OPSET)]), out)
    a, b = torch.rand(SGEMM_N, SGEMM_N), torch.rand(SGEMM_N, SGEMM_N)
    ts = []
    for _ in range(25):
        t0 = time.perf_counter()
        a @ b
        ts.append(time.perf_counter() - t0)
    return 2 * SGEMM_N ** 3 / sorted(ts[5:])[10] / 1e9


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    REF.pin_threads(1)
    unet = REF.UNet(ch=REF.unet_channels(os.path.join(args.model, "unet", "model.onnx"))).eval()
    loaded, unmatched = REF.load_via_probe(unet, os.path.join(args.model, "unet", "model.onnx"), REF.export_unet)
    names = REF.EX.UNET_IO
    axes = {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
            "encoder_hidden_states": {0: "batch"}, "out_sample": {0: "batch", 2: "height", 3: "width"}}
    inputs = (torch.zeros(2, 4, 16, 16), torch.tensor([999, 500]), torch.zeros(2, 16, 64))
    torch.onnx.export(REF.EX.UNetGraph(unet).eval(), inputs, os.path.join(args.out, "unet_hw.onnx"),
                      input_names=names[0], output_names=names[1], dynamic_axes=axes, opset_version=REF.EX.OPSET,
                      do_constant_folding=True)
    REF.EX.per_sample_means(os.path.join(args.out, "unet_hw.onnx"))
    timed = {str(hw): median_ms(unet, hw) for hw in (16, 4)}
    gflops = sgemm(os.path.join(args.out, "sgemm.onnx"))
    print(json.dumps({"torch": torch.__version__, "ms": {hw: ms for hw, (ms, _) in timed.items()},
                      "cpu_per_wall": {hw: ratio for hw, (_, ratio) in timed.items()},
                      "mflop": unet_mflop(unet, 16), "torch_sgemm_gflops": gflops,
                      "sgemm": {"n": SGEMM_N, "chain": SGEMM_CHAIN},
                      "unet_from_onnx": len(loaded), "unet_not_in_onnx": unmatched}))


if __name__ == "__main__":
    main()
