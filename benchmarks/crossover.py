"""Which kernel scores a shape fastest: ``python -m benchmarks.crossover``.

Prints, for one assignment pass over 2e5 rows on one thread (Numba and BLAS), the time of the
fused kernel and of the BLAS GEMM kernel over that of the dot kernel (above 1: the dot kernel is
faster), interleaved, median of 5, and the kernel ``fastseg._blas.score_kernel`` picks. Run it
natively and with AVX2 code (``NUMBA_CPU_NAME=haswell NUMBA_CPU_FEATURES= OPENBLAS_CORETYPE=Haswell``).
"""

import argparse
import sys
import time

import numpy as np

from fastseg._blas import blas_single_thread, score_kernel
from fastseg._kernels import lloyd, scores
from fastseg._kernels._config import BLOCK_ROWS, slot_bounds, threads

SHAPES = [
    (2, 64),
    (4, 16),
    (4, 64),
    (8, 8),
    (8, 16),
    (8, 32),
    (8, 64),
    (8, 256),
    (12, 16),
    (16, 8),
    (16, 16),
    (16, 64),
    (32, 16),
    (32, 64),
    (32, 256),
    (48, 64),
    (64, 64),
    (128, 16),
]
NAMES = {lloyd.FUSED: "fused", lloyd.DOT: "dot", lloyd.GEMM: "GEMM"}


def times_over_dot(X, k, repeats):
    """(median fused time, median GEMM time) / median dot time, one pass of ``X`` against ``k`` rows."""
    n, d = X.shape
    w = np.ones(n, X.dtype)
    C = X[:k].copy()
    bounds = slot_bounds(n)
    s = bounds.size - 1
    stats = (
        np.full(n, -1, np.int32),
        np.empty((s, k, d)),
        np.empty((s, k)),
        np.empty((s, k), np.int64),
        np.empty(s),
        np.empty(s, np.int64),
        lloyd.FRESH,  # every row's statistics: the cost of an early pass (a late one moves few rows)
    )
    mean = X.mean(0).astype(X.dtype)
    # The fused kernel reads the rows transposed, written by the first pass of a fit (``_rows.Rows``).
    xb = np.zeros((-(-n // BLOCK_ROWS), lloyd.padded_features(d), BLOCK_ROWS), dtype=X.dtype)
    lloyd.transpose_blocks(X, xb)
    kernels = [
        lambda: lloyd.assign_fused(X, xb, w, C, bounds, *stats, False),
        lambda: scores.assign_gemm(X, w, C, mean, bounds, *stats, True),  # with the inertia, as the fused
        lambda: scores.assign_dot(X, w, C, mean, bounds, *stats, True),
    ]
    times = [[] for _ in kernels]
    with threads(1), blas_single_thread():
        for run in kernels:
            run()
        for _ in range(repeats):
            for run, t in zip(kernels, times):
                t0 = time.perf_counter()
                run()
                t.append(time.perf_counter() - t0)
    fused, gemm, dot = (np.median(t) for t in times)
    return fused / dot, gemm / dot


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    n, repeats = args.rows, args.repeats
    rng = np.random.default_rng(0)
    print("| dtype | d | k | fused / dot time | GEMM / dot time | chosen |")
    print("|---|---:|---:|---:|---:|---|")
    for dtype in ("float32", "float64"):
        for d, k in SHAPES:
            fused, gemm = times_over_dot(rng.normal(size=(n, d)).astype(dtype), k, repeats)
            chosen = NAMES[score_kernel(d, k, np.dtype(dtype))]
            print(f"| {dtype} | {d} | {k} | {fused:.2f} | {gemm:.2f} | {chosen} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
