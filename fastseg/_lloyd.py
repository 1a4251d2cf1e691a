"""Lloyd's algorithm and k-means++ seeding: the map -> reduce -> update loop over the kernels.

Inputs here are already validated: ``X`` is a C-ordered float32/float64 array or a CSR
matrix with int32 indices, ``sample_weight`` has X's dtype, centres are ``(k, d)`` of X's dtype.
"""

import logging
import mmap

import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from ._kernels import lloyd as _lk
from ._kernels import seeding as _sk
from ._kernels._config import slot_bounds

logger = logging.getLogger("fastseg")


def use_gemm(n_features, n_clusters, dtype):
    """True where the per-chunk GEMM kernel beats the fused one (``python -m benchmarks.crossover``).

    The fused kernel wins at few features: up to 8 (float32) or below 8 (float64), and
    while d * k < 256 (float32) or < 128 (float64, half the SIMD lanes).
    """
    work = n_features * n_clusters
    if dtype == np.float32:
        return n_features > 8 and work >= 256
    return n_features >= 8 and work >= 128


_blas_controller = None


def _controller():
    """The threadpool controller, built once: building one scans the loaded libraries."""
    global _blas_controller
    if _blas_controller is None:
        import scipy.linalg.cython_blas  # noqa: F401  the BLAS Numba's np.dot calls

        _blas_controller = ThreadpoolController()
    return _blas_controller


def _blas_single_thread():
    """BLAS limited to one thread (the GEMM kernel calls it from every Numba thread)."""
    return _controller().limit(limits=1, user_api="blas")


# Slots per batch when a memmap is streamed: at 1e8 rows a slot is 1.6e6 rows, so a batch
# keeps a few hundred MB resident while two threads still share its slots.
STREAM_SLOTS = 4
# Rows per block of the column-moment pass (bounded float64 temporaries).
MOMENT_ROWS = 1 << 16
# Above this many rows, empty clusters are relocated from per-block candidates (no (n,) float64
# distance array); below, exactly as scikit-learn picks the farthest rows.
RELOCATE_ROWS = 1 << 22


def unit_weights(dtype):
    """The length-0 weight array that tells the kernels "every row has weight 1"."""
    return np.empty(0, dtype=dtype)


def _drop_pages(X, r0, r1):
    """Unmap the pages of rows ``r0:r1`` of a memmap once a pass is done with them.

    The file keeps its contents (shared mappings only; a copy-on-write memmap is left
    alone), the process's resident memory stays at about one batch.
    """
    mm = getattr(X, "_mmap", None)
    if mm is None or getattr(X, "mode", "c") not in ("r", "r+") or not hasattr(mm, "madvise"):
        return
    base = np.frombuffer(mm, dtype=np.uint8)
    start = X[r0:r1].ctypes.data - base.ctypes.data
    del base
    page = mmap.PAGESIZE
    lo = (start // page) * page
    hi = min(len(mm), start + (r1 - r0) * X.strides[0])
    if hi > lo:
        mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)


def blas_is_openblas():
    """True when every BLAS loaded in the process is OpenBLAS, whose dot products add in
    feature order (what ``fastseg._accel`` relies on to reproduce the GEMM kernel's scores)."""
    apis = {lib.internal_api for lib in _controller().select(user_api="blas").lib_controllers}
    return apis == {"openblas"}


def block_moments(block):
    """(rows, column means, column sums of squared deviations) of a float64 block, float64."""
    mean = block.mean(axis=0)
    centred = block - mean
    return block.shape[0], mean, np.einsum("ij,ij->j", centred, centred)


def merge_moments(a, b):
    """Chan et al.'s update: the (rows, means, sums of squared deviations) of two parts together."""
    (na, mean_a, m2_a), (nb, mean_b, m2_b) = a, b
    total = na + nb
    if total == 0:
        return a
    delta = mean_b - mean_a
    return total, mean_a + delta * (nb / total), m2_a + m2_b + delta**2 * (na * nb / total)


class Rows:
    """Dense or CSR rows with the kernel calls that depend on the storage.

    Keeps the Lloyd and seeding loops free of ``if sparse`` branches. A dense C-ordered
    ``numpy.memmap`` is streamed: every pass walks it in batches of ``STREAM_SLOTS`` slots and
    unmaps each batch after use. Batches are whole slots of the same partition, so the
    statistics, and the fit, are identical to those of the same rows in memory.
    """

    def __init__(self, X):
        self.sparse = sp.issparse(X)
        self.X = X
        self.n, self.d = X.shape
        self.dtype = X.dtype
        self.bounds = slot_bounds(self.n)
        self.stream = isinstance(X, np.memmap)
        self._moments = None

    def batches(self):
        """``(first slot, end slot, first row, end row, slot edges within the batch)`` per batch."""
        n_slots = self.bounds.shape[0] - 1
        step = STREAM_SLOTS if self.stream else n_slots
        for a in range(0, n_slots, step):
            b = min(a + step, n_slots)
            r0, r1 = int(self.bounds[a]), int(self.bounds[b])
            yield a, b, r0, r1, self.bounds[a : b + 1] - r0
            if self.stream:
                _drop_pages(self.X, r0, r1)

    def moments(self):
        """Column means and variances, float64, in one blocked pass (Chan's update).

        Raises ValueError if a value is NaN or infinite (the only finiteness check a streamed
        memmap gets).
        """
        if self._moments is not None:
            return self._moments
        if self.sparse:
            X = self.X
            mean = np.asarray(X.mean(axis=0), dtype=np.float64).ravel()
            var = np.asarray(X.multiply(X).mean(axis=0), dtype=np.float64).ravel() - mean**2
        else:
            count, mean, m2 = 0, np.zeros(self.d), np.zeros(self.d)
            for _, _, r0, r1, _ in self.batches():
                for start in range(r0, r1, MOMENT_ROWS):
                    block = np.array(self.X[start : min(start + MOMENT_ROWS, r1)], dtype=np.float64)
                    if not np.isfinite(block).all():
                        raise ValueError("Input X contains NaN or infinity.")
                    count, mean, m2 = merge_moments((count, mean, m2), block_moments(block))
            var = m2 / max(count, 1)
        self._moments = (mean, var)
        return self._moments

    @property
    def mean(self):
        return self.moments()[0].astype(self.dtype)

    def csr(self):
        return self.X.data, self.X.indices, self.X.indptr

    def row(self, i):
        if self.sparse:
            return self.X[[i]].toarray()[0]
        return np.array(self.X[i])

    def _weights(self, sample_weight, r0, r1):
        return sample_weight[r0:r1] if sample_weight.shape[0] else sample_weight

    def assign(self, sample_weight, centres, labels, update=True):
        """Map and reduce: new labels in place. ``sample_weight`` may be ``unit_weights``.

        Returns (sums (k, d) float64, weights (k,) float64, inertia, number of labels changed).
        """
        k, d = centres.shape
        n_slots = self.bounds.shape[0] - 1
        sums = np.empty((n_slots, k, d) if update else (n_slots, 0, 0))
        weights = np.empty((n_slots, k) if update else (n_slots, 0))
        inertia = np.empty(n_slots)
        changed = np.empty(n_slots, dtype=np.int64)
        if self.sparse:
            stats = (labels, sums, weights, inertia, changed, update)
            _lk.assign_sparse(*self.csr(), sample_weight, centres, self.bounds, *stats)
        elif use_gemm(d, k, self.dtype):
            shift = self.mean
            with _blas_single_thread():
                for a, b, r0, r1, local in self.batches():
                    stats = (labels[r0:r1], sums[a:b], weights[a:b], inertia[a:b], changed[a:b], update)
                    w = self._weights(sample_weight, r0, r1)
                    _lk.assign_gemm(self.X[r0:r1], w, centres, shift, local, *stats)
        else:
            for a, b, r0, r1, local in self.batches():
                stats = (labels[r0:r1], sums[a:b], weights[a:b], inertia[a:b], changed[a:b], update)
                _lk.assign_fused(self.X[r0:r1], self._weights(sample_weight, r0, r1), centres, local, *stats)
        # Slot statistics are added in slot order: the result does not depend on threads.
        return sums.sum(axis=0), weights.sum(axis=0), float(inertia.sum()), int(changed.sum())

    def sq_distances(self, centres):
        out = np.empty((self.n, centres.shape[0]), dtype=self.dtype)
        if self.sparse:
            _lk.sq_distances_sparse(*self.csr(), centres, out)
        else:
            _lk.sq_distances(self.X, centres, out)
        return out

    def sq_distances_to_assigned(self, centres, labels):
        out = np.empty(self.n)
        if self.sparse:
            _lk.sq_distances_to_assigned_sparse(*self.csr(), centres, labels, out)
        else:
            for _, _, r0, r1, _ in self.batches():
                _lk.sq_distances_to_assigned(self.X[r0:r1], centres, labels[r0:r1], out[r0:r1])
        return out

    def farthest(self, centres, labels, m):
        """The ``m`` rows farthest from their centres (farthest first, ties by row), in blocks.

        Returns (row indices int64, squared distances float64).
        """
        cand_dist, cand_rows = [], []
        block = np.empty(min(self.n, MOMENT_ROWS * 16))
        for _, _, r0, r1, _ in self.batches():
            for start in range(r0, r1, block.shape[0]):
                stop = min(start + block.shape[0], r1)
                out = block[: stop - start]
                _lk.sq_distances_to_assigned(self.X[start:stop], centres, labels[start:stop], out)
                top = np.argpartition(out, -min(m, out.size))[-min(m, out.size) :]
                cand_dist.append(out[top].copy())
                cand_rows.append(top + start)
        dist, idx = np.concatenate(cand_dist), np.concatenate(cand_rows)
        order = np.lexsort((idx, -dist))[:m]
        return idx[order], dist[order]

    def closer(self, sample_weight, centre, closest, slot_pot):
        """Seeding pass: lower ``closest`` towards ``centre``, refresh the slot potentials."""
        for a, b, r0, r1, local in self.batches():
            w = self._weights(sample_weight, r0, r1)
            _sk.closer(self.X[r0:r1], w, centre, local, closest[r0:r1], slot_pot[a:b])

    def candidate_potentials(self, sample_weight, closest, cand_rows):
        """Seeding pass: potential of each candidate, per slot ``(n_slots, L)``."""
        cand_pot = np.empty((self.bounds.shape[0] - 1, cand_rows.shape[0]))
        for a, b, r0, r1, local in self.batches():
            w = self._weights(sample_weight, r0, r1)
            _sk.candidate_potentials(self.X[r0:r1], w, closest[r0:r1], cand_rows, local, cand_pot[a:b])
        return cand_pot


def inertia(rows, sample_weight, centres, labels):
    """Weighted SSE of ``labels`` against ``centres`` (float)."""
    distances = rows.sq_distances_to_assigned(centres, labels)
    if sample_weight.shape[0] == 0:
        return float(distances.sum())
    return float(distances @ sample_weight.astype(np.float64))


def relocate_empty_clusters(rows, sample_weight, centres_old, labels, sums, weights):
    """Give each empty cluster the farthest point from its centre, as scikit-learn does.

    ``sums`` and ``weights`` (float64 totals) are updated in place; labels are left as they are.
    """
    empty = np.flatnonzero(weights == 0)
    if empty.size == 0:
        return
    if rows.sparse or rows.n <= RELOCATE_ROWS:
        distances = rows.sq_distances_to_assigned(centres_old, labels)
        far = np.argpartition(distances, -empty.size)[: -empty.size - 1 : -1]
    else:
        far, _ = rows.farthest(centres_old, labels, empty.size)
    xs = [rows.row(idx) for idx in far]
    ws = [float(sample_weight[idx]) if sample_weight.shape[0] else 1.0 for idx in far]
    move_to_empty_clusters(sums, weights, empty, xs, ws, labels[far])


def move_to_empty_clusters(sums, weights, empty, xs, ws, old_ids):
    """Move row ``xs[i]`` (weight ``ws[i]``, in cluster ``old_ids[i]``) to empty cluster
    ``empty[i]``: ``sums`` and ``weights`` (float64 totals) are updated in place."""
    for new_id, x, w, old_id in zip(empty, xs, ws, old_ids):
        x = np.asarray(x, dtype=np.float64)
        sums[old_id] -= x * w
        sums[new_id] = x * w
        weights[new_id] = w
        weights[old_id] -= w


def update_centres(sums, weights, centres_old):
    """Means of the clusters (float64 totals -> centres of the old centres' dtype)."""
    new = centres_old.copy()
    nonzero = weights > 0
    new[nonzero] = sums[nonzero] / weights[nonzero, None]
    return new


def lloyd(rows, sample_weight, centres_init, max_iter, tol, verbose=False, assign=None, moved=None):
    """One run of Lloyd's algorithm with scikit-learn's stopping rules.

    Stops when no label changes (strict convergence) or when the squared centre shift is
    ``<= tol`` (already scaled to the data). Without strict convergence a last assignment
    makes ``labels`` agree with the returned centres.

    ``assign(sample_weight, centres, labels)`` replaces the assignment step (``rows.assign``'s
    results, the inertia may be None) and ``moved(old, new)`` hears of every centre update: the
    bound-based variants in ``fastseg._accel`` run this same loop.

    Returns (labels int32, inertia float, centres, n_iter).
    """
    if assign is None:
        assign = rows.assign
    centres = np.array(centres_init, dtype=rows.dtype, order="C")
    labels = np.full(rows.n, -1, dtype=np.int32)
    strict = False
    for it in range(max_iter):
        sums, weights, inertia_old, n_changed = assign(sample_weight, centres, labels)
        relocate_empty_clusters(rows, sample_weight, centres, labels, sums, weights)
        centres_new = update_centres(sums, weights, centres)
        shift = float(np.sum((centres_new.astype(np.float64) - centres) ** 2))
        if verbose:
            logger.info("Iteration %d, inertia %s, %d labels changed.", it, inertia_old, n_changed)
        if moved is not None:
            moved(centres, centres_new)
        centres_prev, centres = centres, centres_new
        if n_changed == 0:
            strict = True
            if verbose:
                logger.info("Converged at iteration %d: strict convergence.", it)
            break
        if shift <= tol:
            if verbose:
                logger.info("Converged at iteration %d: center shift %s within tolerance %s.", it, shift, tol)
            break
    same_centres = np.array_equal(centres, centres_prev)
    if not strict or (same_centres and inertia_old is None):
        _, _, final_inertia, _ = rows.assign(sample_weight, centres, labels, update=False)
    elif same_centres:
        final_inertia = inertia_old
    else:
        final_inertia = inertia(rows, sample_weight, centres, labels)
    return labels, final_inertia, centres, it + 1


def kmeans_plusplus(rows, sample_weight, n_clusters, random_state, n_local_trials=None):
    """Greedy k-means++ with scikit-learn's draws: the same ``RandomState`` picks the same rows.

    Returns (centres (k, d) of rows.dtype, indices (k,) int64).
    """
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    if sample_weight.shape[0] == 0:
        first = _first_draw_unit_weights(rows.n, rows.dtype, random_state)
    else:
        first = int(random_state.choice(rows.n, p=sample_weight / sample_weight.sum()))
    uniforms = random_state.uniform(size=(n_clusters - 1, n_local_trials))
    if rows.sparse:
        if sample_weight.shape[0] == 0:
            sample_weight = np.ones(rows.n, dtype=rows.dtype)
        indices = _kmeans_plusplus_sparse(rows, sample_weight, first, uniforms)
    else:
        indices = seed_indices(rows, sample_weight, first, uniforms)
    centres = np.vstack([rows.row(i) for i in indices]).astype(rows.dtype, copy=False)
    return np.ascontiguousarray(centres), indices


def seed_indices(rows, sample_weight, first, uniforms):
    """Rows chosen by greedy k-means++ from the given draws (dense rows).

    ``first`` is the first centre's row; row ``c - 1`` of ``uniforms`` (k - 1, L) holds the
    draws of centre ``c``'s L candidates. Memory: one ``(n,)`` array of X's dtype.
    """
    n_slots = rows.bounds.shape[0] - 1
    indices = np.empty(uniforms.shape[0] + 1, dtype=np.int64)
    indices[0] = first
    closest = np.full(rows.n, np.inf, dtype=rows.dtype)
    slot_pot = np.empty(n_slots)
    rows.closer(sample_weight, rows.row(first), closest, slot_pot)
    for c in range(1, indices.size):
        current_pot = 0.0
        for pot in slot_pot.tolist():  # in slot order, as every reduction here
            current_pot += pot
        cand = np.array(
            [
                _sk.sample_row(closest, sample_weight, slot_pot, rows.bounds, u * current_pot)
                for u in uniforms[c - 1]
            ]
        )
        cand_rows = np.ascontiguousarray(np.vstack([rows.row(i) for i in cand]))
        # Adding the slots of each column in slot order (numpy reduces axis 0 row by row).
        best = int(np.argmin(rows.candidate_potentials(sample_weight, closest, cand_rows).sum(axis=0)))
        indices[c] = cand[best]
        rows.closer(sample_weight, cand_rows[best], closest, slot_pot)
    return indices


def _pairwise_ones(n, dtype):
    """``np.ones(n, dtype).sum()`` without the array: numpy's pairwise summation of ones.

    Pairwise sums depend on n only (blocks of up to 128 summed in 8 lanes, halves at a
    multiple of 8 above that); tests check this against numpy.
    """
    one = dtype.type(1)
    memo = {}

    def pairwise(m):
        if m in memo:
            return memo[m]
        if m < 8:
            res = dtype.type(0)
            for _ in range(m):
                res = dtype.type(res + one)
        elif m <= 128:
            lane = dtype.type(m // 8)  # each lane adds m // 8 ones: exact below 2**24
            res = dtype.type(dtype.type(lane + lane) + dtype.type(lane + lane))
            res = dtype.type(res + res)
            for _ in range(m % 8):
                res = dtype.type(res + one)
        else:
            half = m // 2
            half -= half % 8
            res = dtype.type(pairwise(half) + pairwise(m - half))
        memo[m] = res
        return res

    return pairwise(n)


def _first_draw_unit_weights(n, dtype, random_state):
    """``random_state.choice(n, p=w / w.sum())`` for unit weights ``w`` of ``dtype``, without
    the three (n,) arrays ``choice`` builds: the same draw, the same row."""
    dtype = np.dtype(dtype)
    p = np.float64(dtype.type(1) / _pairwise_ones(n, dtype))
    u = random_state.random_sample()
    block = 1 << 20
    total = 0.0
    for start in range(0, n, block):  # cdf[-1]: numpy's cumsum adds in order
        m = min(block, n - start)
        ramp = np.full(m, p)
        ramp[0] += total
        total = float(np.cumsum(ramp)[-1])
    running = 0.0
    for start in range(0, n, block):
        m = min(block, n - start)
        ramp = np.full(m, p)
        ramp[0] += running
        cdf = np.cumsum(ramp)
        above = np.flatnonzero(cdf / total > u)
        if above.size:
            return start + int(above[0])
        running = float(cdf[-1])
    return n - 1


def _kmeans_plusplus_sparse(rows, sample_weight, first, uniforms):
    """k-means++ on CSR rows: candidate distances from the sparse distance kernel."""
    w = sample_weight.astype(np.float64)
    indices = np.empty(uniforms.shape[0] + 1, dtype=np.int64)
    indices[0] = first
    closest = rows.sq_distances(rows.row(first)[None, :]).astype(np.float64)[:, 0]
    for c in range(1, indices.size):
        cumulative = np.cumsum(w * closest)
        cand = np.searchsorted(cumulative, uniforms[c - 1] * cumulative[-1])
        np.clip(cand, None, rows.n - 1, out=cand)
        cand_rows = np.vstack([rows.row(i) for i in cand])
        dist = np.minimum(closest[:, None], rows.sq_distances(cand_rows).astype(np.float64))
        best = int(np.argmin(w @ dist))
        indices[c] = cand[best]
        closest = dist[:, best]
    return indices
