"""Proves a PyTorch module holds exactly the weights of an ONNX export, tensor by tensor.

torch.onnx.export renames many weights (a Linear on a 3-D input becomes MatMul with a transposed, renamed
initializer; GroupNorm's affine becomes [C, 1, 1] Mul/Add constants), so names do not map back. Instead every
state_dict tensor is looked up by value among the initializers (as is, reshaped, or transposed for 2-D) and, when
found, the initializer's bytes are copied into the module. Tensors the export folded into others (no initializer
equals them) keep the checkpoint's values and are reported, so the benchmark can say exactly what it verified.
"""
import numpy as np
import onnx
import torch
from onnx import numpy_helper


def load_from_onnx(module, onnx_path):
    """Returns (loaded, unmatched): names copied from initializers, names kept from the module's own values."""
    inits = [numpy_helper.to_array(i) for i in onnx.load(onnx_path).graph.initializer]
    by_size = {}
    for arr in inits:
        by_size.setdefault(arr.size, []).append(arr.astype(np.float32) if arr.dtype == np.float32 else arr)
    state = module.state_dict()
    new_state = dict(state)
    loaded, unmatched = [], []
    for name, tensor in state.items():
        want = tensor.detach().cpu().numpy()
        hit = None
        for arr in by_size.get(want.size, []):
            if arr.dtype != want.dtype:
                continue
            for cand in ([arr.reshape(want.shape)] if arr.ndim != 2 or want.ndim != 2 else [arr.reshape(want.shape), arr.T]):
                if cand.shape == want.shape and np.array_equal(cand, want):
                    hit = cand
                    break
            if hit is not None:
                break
        if hit is None:
            unmatched.append(name)
        else:
            new_state[name] = torch.from_numpy(np.ascontiguousarray(hit))
            loaded.append(name)
    module.load_state_dict(new_state)
    return loaded, unmatched
