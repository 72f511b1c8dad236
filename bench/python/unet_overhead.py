"""PyTorch side of bench/unet-overhead.bench.ts: one batch-2 UNet call of the default model at 1 thread, on its
16x16 latent and on a 4x4 one (whose arithmetic is negligible, so its time is the per-operation overhead).

    /usr/bin/python3 bench/python/unet_overhead.py --model models/emoji --out DIR

Fills the model helper's UNet from the shipped unet/model.onnx (as pipeline_ref.py does), writes DIR/unet_hw.onnx
(the same UNet exported with dynamic height and width, for the onnxruntime side) and prints one JSON object:
{"torch": version, "ms": {"16": median, "4": median}, "unet_from_onnx": n, "unet_not_in_onnx": [...]}.
"""
import argparse
import importlib.util
import json
import os
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("pipeline_ref", os.path.join(HERE, "pipeline_ref.py"))
REF = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REF)  # also puts pipeline/train on sys.path and keeps the real torch first
import torch  # noqa: E402


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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    REF.pin_threads(1)
    unet = REF.UNet().eval()
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
    print(json.dumps({"torch": torch.__version__, "ms": {hw: ms for hw, (ms, _) in timed.items()},
                      "cpu_per_wall": {hw: ratio for hw, (_, ratio) in timed.items()},
                      "unet_from_onnx": len(loaded), "unet_not_in_onnx": unmatched}))


if __name__ == "__main__":
    main()
