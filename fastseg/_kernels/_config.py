"""Shared Numba settings, the fixed row partition every kernel reduces over, and the threads
that run a kernel over parts of that partition."""

import os
import threading

import numba
import numpy as np

# fastmath without nnan/ninf: NaN and inf checks keep working inside kernels.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
JIT = {"cache": True, "nogil": True, "fastmath": FASTMATH}
# Fused multiply-adds only, no ``reassoc``: each distance is summed in feature order, so the
# fused Lloyd kernel (SIMD lanes over rows), the GA fitness and Yinyang's exact distances compute
# the same numbers.
FEATURE_ORDER = {"cache": True, "nogil": True, "fastmath": {"contract"}}
# No fastmath at all: sums added in order and rounded as NumPy rounds them (k-means++'s running
# sums, which must pick scikit-learn's rows), and integer kernels.
NO_FASTMATH = {"cache": True, "nogil": True}


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


# Below this much work (multiply-adds, or values read) a kernel runs on the calling thread alone:
# handing a part to another thread and waiting for it costs more than a small part saves (small
# fits, and predict on a few thousand rows). The crossover is measured by ``python -m
# benchmarks.assign --rows N`` (predict) and ``python -m benchmarks.compare --quick`` (small fits).
PARALLEL_WORK = 1 << 21


def in_parallel(n_tasks, run, work=None):
    """Call ``run(lo, hi)`` on contiguous parts of ``range(n_tasks)``, one part per Numba thread
    (one part when ``work`` is below ``PARALLEL_WORK``).

    The kernels are serial loops over slots (or rows, or blocks) that release the GIL, so the parts
    run at once on plain threads. This keeps ``parallel=True`` out of the kernels: Numba's parallel
    lowering adds compilation to each kernel and dtype, paid by every first run (``python -m
    benchmarks.compile_times``). Each slot's result is written to its own place and added in slot
    order by the caller, so the split never changes a result. ``numba.set_num_threads`` (or
    ``threads``) sets the number of parts for the calling thread, as it does for a ``prange`` loop.
    """
    n_parts = min(numba.get_num_threads(), n_tasks)
    if n_parts <= 1 or (work is not None and work < PARALLEL_WORK):
        run(0, n_tasks)
        return
    edges = [(n_tasks * p) // n_parts for p in range(n_parts + 1)]
    pool = _pool()
    futures = [pool.submit(run, edges[p], edges[p + 1]) for p in range(1, n_parts)]
    try:
        run(edges[0], edges[1])
    finally:
        for future in futures:
            future.result()


_POOL = None
_POOL_LOCK = threading.Lock()


def _forget_pool():
    # A forked child has none of the parent's threads: it starts its own pool when it needs one.
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def _pool():
    """The worker threads of ``in_parallel``, started once (as many as Numba may use)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            from concurrent.futures import ThreadPoolExecutor

            _POOL = ThreadPoolExecutor(numba.config.NUMBA_NUM_THREADS, thread_name_prefix="fastseg")
    return _POOL


class threads:
    """Run Numba kernels on ``n`` threads inside the block; restore the old count after.

    ``n=None`` leaves the current setting alone.
    """

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        self._old = numba.get_num_threads()
        if self.n is not None:
            numba.set_num_threads(int(self.n))
        return self

    def __exit__(self, *exc):
        numba.set_num_threads(self._old)
        return False


__all__ = [
    "BLOCK_ROWS",
    "CHUNK_ROWS",
    "FASTMATH",
    "FEATURE_ORDER",
    "JIT",
    "MAX_SLOTS",
    "NO_FASTMATH",
    "in_parallel",
    "slot_bounds",
    "threads",
]
