"""BLAS policy: where the GEMM kernel beats the fused one, and BLAS threads around Numba's threads."""

import numpy as np
from threadpoolctl import ThreadpoolController


def use_gemm(n_features, n_clusters, dtype):
    """True where the per-chunk GEMM kernel beats the fused one (``python -m benchmarks.crossover``).

    The fused kernel wins while d * k <= 256 (float32) or <= 128 (float64, half the SIMD lanes)
    and, in float64, k < 64; the same rule held with native (AVX-512) and AVX2 code.
    """
    work = n_features * n_clusters
    if dtype == np.float32:
        return work > 256
    return work > 128 or n_clusters >= 64


_blas_controller = None


def _controller():
    """The threadpool controller, built once: building one scans the loaded libraries."""
    global _blas_controller
    if _blas_controller is None:
        import scipy.linalg.cython_blas  # noqa: F401  the BLAS Numba's np.dot calls

        _blas_controller = ThreadpoolController()
    return _blas_controller


def blas_single_thread():
    """BLAS limited to one thread (the GEMM kernel calls it from every Numba thread)."""
    return _controller().limit(limits=1, user_api="blas")
