"""Holds a PyTorch reference to the thread count it is asked for, and measures whether it did.

Debian's torch does its convolutions with OpenMP (torch.set_num_threads reaches it) but its Linear layers and
matmuls with OpenBLAS's own pthread pool, which torch.set_num_threads does not reach: at "1 thread" a 1024²
matmul ran at 173–187 GFLOP/s with CPU time 2.0× wall on this 2-core machine, 96 GFLOP/s and 1.0× once OpenBLAS was
told too. So OpenBLAS is set through its C API in every copy of the library the process has loaded.
"""
import ctypes
import resource
import time

import torch


def pin_threads(n):
    """torch (OpenMP, intra-op) and OpenBLAS to n threads, inter-op to 1. Returns the OpenBLAS files pinned."""
    torch.set_num_threads(n)
    torch.set_num_interop_threads(1)
    with open("/proc/self/maps") as maps:
        libs = sorted({line.split()[-1] for line in maps if "libopenblas" in line})
    for lib in libs:
        ctypes.CDLL(lib).openblas_set_num_threads(n)
    return libs


class CpuClock:
    """CPU time (user + system, all threads) over wall time for a stretch of work: ≈ the cores it kept busy."""

    def __enter__(self):
        self._cpu, self._wall = _cpu_s(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.ratio = (_cpu_s() - self._cpu) / (time.perf_counter() - self._wall)


def _cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
