"""Where the per-chunk GEMM kernel beats the fused one: ``python -m benchmarks.crossover``.

Prints fused time / GEMM time for one assignment pass over 2e5 rows (above 1: GEMM is faster),
interleaved, median of 5. ``fastseg._blas.use_gemm`` encodes the result.
"""

import time

import numpy as np

from fastseg._blas import blas_single_thread, use_gemm
from fastseg._kernels import lloyd
from fastseg._kernels._config import BLOCK_ROWS, slot_bounds

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
    (64, 64),
    (128, 16),
]


def fused_over_gemm(X, k, repeats):
    """Median fused time / median GEMM time for one assignment pass of ``X`` against ``k`` rows."""
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

    def fused():
        lloyd.assign_fused(X, xb, w, C, bounds, *stats, False)

    def gemm():
        with blas_single_thread():
            lloyd.assign_gemm(X, w, C, mean, bounds, *stats)

    fused(), gemm()
    tf, tg = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fused()
        tf.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        gemm()
        tg.append(time.perf_counter() - t0)
    return np.median(tf) / np.median(tg)


def main(n=200_000, repeats=5):
    rng = np.random.default_rng(0)
    print("| dtype | d | k | fused / GEMM time | chosen |")
    print("|---|---:|---:|---:|---|")
    for dtype in ("float32", "float64"):
        for d, k in SHAPES:
            ratio = fused_over_gemm(rng.normal(size=(n, d)).astype(dtype), k, repeats)
            chosen = "GEMM" if use_gemm(d, k, np.dtype(dtype)) else "fused"
            print(f"| {dtype} | {d} | {k} | {ratio:.2f} | {chosen} |")


if __name__ == "__main__":
    main()
