"""Fills a PyTorch module with exactly the weights of an ONNX export, without the training checkpoints.

torch.onnx.export renames many weights (a Linear on a 3-D input becomes MatMul with a transposed, renamed
initializer; GroupNorm's affine becomes [C, 1, 1] Mul/Add constants), so names in the shipped file do not map back
to the module's parameters. But the export is deterministic: exporting the same module class the same way again
gives initializers with the same names and shapes. So the module is given distinct random values, exported to a
probe file, every state_dict tensor is found by value among the probe's initializers (as is, reshaped, or
transposed for 2-D), and the shipped file's initializer of the same name supplies the tensor's bytes. Tensors
that no initializer holds (the export folded them away) keep their random values and are reported, so the
benchmark can say exactly what it verified.
"""
import os
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper


def _initializers(path):
    return {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}


def unet_channels(path):
    """The UNet's channels per level, read from an export: conv_in's and the two stride-2 convs' output channels."""
    graph = onnx.load(path).graph
    shapes = {i.name: tuple(i.dims) for i in graph.initializer}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    first = next(n for n in convs if n.input[0] == "sample")
    down = [n for n in convs if any(a.name == "strides" and list(a.ints) == [2, 2] for a in n.attribute)]
    return tuple(shapes[n.input[1]][0] for n in [first, *down[:2]])


def _find(want, inits):
    """(name, transposed) of the initializer equal to `want`, as is or reshaped (or transposed for 2-D)."""
    for name, arr in inits.items():
        if arr.size != want.size or arr.dtype != want.dtype:
            continue
        if np.array_equal(arr.reshape(want.shape), want):
            return name, False
        if arr.ndim == 2 and want.ndim == 2 and arr.T.shape == want.shape and np.array_equal(arr.T, want):
            return name, True
    return None


def load_via_probe(module, onnx_path, export):
    """`export(module, path)` writes the module the way the shipped file was written. Returns (loaded, unmatched):
    state_dict names copied from the shipped file, and names it does not hold."""
    gen = torch.Generator().manual_seed(20261122)
    state = {k: v for k, v in module.state_dict().items() if v.dtype == torch.float32}
    with torch.no_grad():
        for v in state.values():  # distinct values, so every tensor is found by value in exactly one place
            v.copy_(torch.rand(v.shape, generator=gen) + 0.5)
    with tempfile.TemporaryDirectory() as tmp:
        probe_path = os.path.join(tmp, "probe.onnx")
        export(module, probe_path)
        probe = _initializers(probe_path)
    shipped = _initializers(onnx_path)
    new_state = dict(module.state_dict())
    loaded, unmatched = [], []
    for name, tensor in state.items():
        hit = _find(tensor.numpy(), probe)
        arr = shipped.get(hit[0]) if hit else None
        if arr is None or arr.size != tensor.numel():
            unmatched.append(name)
            continue
        arr = arr.T if hit[1] else arr.reshape(tensor.shape)
        new_state[name] = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
        loaded.append(name)
    module.load_state_dict(new_state)
    return loaded, unmatched
