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


def numba_avx512():
    """True when Numba compiles AVX-512 code (the host's features, or ``NUMBA_CPU_FEATURES``)."""
    from numba import config

    features = config.CPU_FEATURES
    if features is None:
        import llvmlite.binding as llvm

        features = llvm.get_host_cpu_features().flatten()
    return "+avx512f" in features


# The dot kernel scores up to this many (padded) features. With AVX2 code it beats OpenBLAS's
# Haswell GEMM on (k, d) x (d, 256) chunks up to there (at larger d BLAS wins); with AVX-512 code
# the two are about even, so BLAS stays. The crossover: ``python -m benchmarks.crossover``,
# natively and with AVX2 code.
DOT_MAX_FEATURES = 0 if numba_avx512() else 32


def score_kernel(n_features, n_clusters, dtype):
    """The Lloyd kernel that scores rows of this shape: ``lloyd.FUSED``, ``DOT`` or ``GEMM``."""
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
