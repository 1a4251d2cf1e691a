"""Shared Numba settings and the fixed row partition every kernel reduces over."""

import numpy as np
from numba import njit

# fastmath without nnan/ninf: NaN and inf checks keep working inside kernels.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
JIT = {"cache": True, "nogil": True, "fastmath": FASTMATH}

# Rows per chunk: the unit of work of the GEMM path (a (CHUNK_ROWS, d) buffer).
CHUNK_ROWS = 256
# Rows transposed together by the fused small-d kernel (SIMD lanes run over rows).
BLOCK_ROWS = 64
# Upper bound on the number of per-slot statistic buffers. A slot is a run of
# consecutive chunks; slots are filled in parallel and added in slot order, so
# results never depend on the thread count and extra memory stays
# O(MAX_SLOTS * k * d) whatever n is.
MAX_SLOTS = 64


def slot_bounds(n_rows, chunk_rows=CHUNK_ROWS, max_slots=MAX_SLOTS):
    """Row boundaries ``(n_slots + 1,) int64`` of the fixed partition of ``n_rows``.

    Depends on ``n_rows`` only; slot edges fall on chunk edges.
    """
    n_chunks = max(1, -(-n_rows // chunk_rows))
    n_slots = min(n_chunks, max_slots)
    chunk_edges = (np.arange(n_slots + 1, dtype=np.int64) * n_chunks) // n_slots
    return np.minimum(chunk_edges * chunk_rows, n_rows).astype(np.int64)


class threads:
    """Run Numba kernels on ``n`` threads inside the block; restore the old count after.

    ``n=None`` leaves the current setting alone.
    """

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        import numba

        self._old = numba.get_num_threads()
        if self.n is not None:
            numba.set_num_threads(int(self.n))
        return self

    def __exit__(self, *exc):
        import numba

        numba.set_num_threads(self._old)
        return False


__all__ = ["BLOCK_ROWS", "CHUNK_ROWS", "FASTMATH", "JIT", "MAX_SLOTS", "njit", "slot_bounds", "threads"]
