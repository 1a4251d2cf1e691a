"""The basket kernels compiled ahead of their first use: ``fastseg segment``'s plotting process
compiles them on a first run (an empty kernel cache) while this process clusters."""

import os

import numpy as np
import scipy.sparse as sp

from .recommendations import top_n
from .rules import pair_counts


def kernels_cached():
    """Whether Numba's kernel cache holds the pair and recommendation kernels (their index
    files exist); None when this Numba does not say where it keeps them."""
    from .._kernels import basket as _bk
    from .._kernels._numba import cache_index_paths

    paths = cache_index_paths([_bk.pair_counts, _bk.user_based_topn])
    return None if paths is None else all(os.path.exists(p) for p in paths)


def compile_kernels():
    """Pairs and user-based recommendations within groups on a tiny basket matrix: Numba compiles
    and caches the kernels ``fastseg segment`` calls, with the types it calls them with."""
    B = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]], dtype=np.int32))
    pair_counts(B, 1)
    top_n(B, n=2, n_neighbours=2, groups=np.zeros(3, dtype=np.int64))
