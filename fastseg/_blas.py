"""BLAS policy: which kernel scores a shape (fused, own dot kernel or BLAS GEMM), and BLAS threads
around Numba's threads."""

import numpy as np
from threadpoolctl import ThreadpoolController

from ._kernels import lloyd


def use_gemm(n_features, n_clusters, dtype):
    """True where scores on shifted rows (``score_kernel``: the dot or GEMM kernel) beat the fused
    kernel (``python -m benchmarks.crossover``).

    The fused kernel wins while d * k <= 256 (float32) or <= 128 (float64, half the SIMD lanes)
    and, in float64, k < 64; the same rule held with native (AVX-512) and AVX2 code.
    """
    work = n_features * n_clusters
    if dtype == np.float32:
        return work > 256
    return work > 128 or n_clusters >= 64


# The dot kernel scores up to this many (padded) features; above, its transposed block no longer
# stays in the L1 cache and BLAS is faster (``python -m benchmarks.crossover``).
DOT_MAX_FEATURES = 32


def score_kernel(n_features, n_clusters, dtype):
    """The Lloyd kernel that scores rows of this shape: ``lloyd.FUSED``, ``DOT`` or ``GEMM``.

    The dot kernel (own register-blocked code, each score a feature-order chain of fused
    multiply-adds) beats OpenBLAS's GEMM on (k, d) x (d, 256) chunks up to 32 features, in float32
    and float64, with native (AVX-512) and AVX2 code alike.
    """
    if not use_gemm(n_features, n_clusters, dtype):
        return lloyd.FUSED
    return lloyd.DOT if lloyd.padded_features(n_features) <= DOT_MAX_FEATURES else lloyd.GEMM


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
