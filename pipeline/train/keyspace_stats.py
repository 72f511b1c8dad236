"""Empirical per-coordinate quantiles of prompt embeddings and the 4-bit quantile codebook they induce.

Shared by training (the UNet is conditioned on key-quantised embeddings, and on random keys, part of the time)
and export (keyspace.json), so both use exactly the same statistics. Decoding follows docs/contracts.md: code c of
b bits decodes to Q((c + 0.5) / 2^b), Q interpolated linearly in probability and clamped to the table's ends.
"""
import numpy as np
import torch

N_PROBS = 64
BITS = 4


def probabilities():
    return (np.arange(N_PROBS) + 0.5) / N_PROBS


def quantile_table(states):
    """states [N, T, D] -> [T*D, N_PROBS] float64 quantiles at probabilities()."""
    flat = states.reshape(states.shape[0], -1).double().numpy()
    return np.quantile(flat, probabilities(), axis=0).T.copy()


def code_levels(table, bits=BITS):
    """[T*D, 2^bits] decoded value of every code of every coordinate."""
    p = (np.arange(2 ** bits) + 0.5) / 2 ** bits
    probs = probabilities()
    return np.stack([np.interp(p, probs, row) for row in table])


def quantize(x, levels):
    """x [B, T, D] -> nearest code level per coordinate (what a key stores and decodes)."""
    flat = x.reshape(x.shape[0], -1, 1)
    idx = (flat - levels[None]).abs().argmin(-1, keepdim=True)
    return levels[None].expand(x.shape[0], -1, -1).gather(2, idx).view_as(x)


def random_codes(levels, n, generator):
    """Embeddings of n random keys: a uniformly random code per coordinate."""
    idx = torch.randint(0, levels.shape[1], (n, levels.shape[0], 1), generator=generator)
    return levels[None].expand(n, -1, -1).gather(2, idx).squeeze(-1)
