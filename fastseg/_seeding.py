"""k-means++ seeding: the greedy driver over the seeding kernels, with scikit-learn's draws
(including an emulation of NumPy's pairwise sum, so unit weights need no (n,) array for the
first draw), and the weighted set of distinct rows the random starts draw from when the rows
repeat or carry weights.
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ._blas import blas_single_thread
from ._kernels import seeding as _sk

# The candidates' distances are kept as one (L, n) array of X's dtype, as scikit-learn keeps
# them, while it takes at most this many bytes: its potentials then come from the same NumPy
# product, bit for bit, so float32 draws are scikit-learn's too. Above, the potentials are
# float64 sums per slot (memory O(n) whatever L) and float32 draws may leave scikit-learn's
# where a rounding moves a draw across a row boundary.
SEED_MATRIX_BYTES = 1 << 28


class StartSet(NamedTuple):
    """The rows of positive weight as a weighted set: equal rows merged, weights summed, in an
    order that depends on the values only (not on the order of the caller's rows)."""

    rows: object  # the distinct rows, a ``_rows.Rows``
    weights: np.ndarray  # (n_distinct,) X.dtype: the summed weights
    index: np.ndarray  # (n_distinct,) int64: each distinct row's first place in the caller's rows
    group: np.ndarray  # (n,) int64: each caller row's place in the set, -1 for weight 0


def start_set(rows, sample_weight):
    """None when every weight is 1 and no row repeats (the usual case for measurements): the
    random starts then draw scikit-learn's rows, in the caller's order. Otherwise the
    ``StartSet`` they draw from, so that a weight of w and w repeated rows, in any order, give
    the same start.

    A pass that hashes the rows, then a hash table per bucket of about 1024 rows (memory: about
    32 bytes per row); every hash match is confirmed value by value. A streamed memmap is not
    checked (None): the check would hold memory in proportion to the rows, which a file larger
    than memory cannot give, so a memmap's random starts follow its row order.
    """
    from ._kernels._config import in_parallel
    from ._rows import Rows  # (it imports this module)

    if rows.stream:
        return None
    n, dtype = rows.n, rows.dtype
    unit = sample_weight.shape[0] == 0 or bool(np.all(sample_weight == 1))
    ubits = np.uint32 if dtype == np.float32 else np.uint64
    negzero = np.array(-0.0, dtype=dtype).view(ubits)[()]
    X = rows.X
    kernel_weights = sample_weight[:0] if unit else sample_weight
    hashes = np.empty(n, dtype=np.uint64)
    group = np.empty(n, dtype=np.int64)
    n_slots = rows.bounds.shape[0] - 1
    if rows.sparse:
        if not X.has_canonical_format:  # duplicate column entries summed, on a copy
            X = X.copy()
            X.sum_duplicates()
        data = X.data.view(ubits)
        csr = (data, X.indices, X.indptr, rows.d, negzero)
        in_parallel(n_slots, lambda p, q: _sk.row_hashes_csr(*csr, rows.bounds[p : q + 1], hashes))
        dense = np.zeros(rows.d, dtype=ubits)
        distinct = _sk.group_rows_csr(
            data, X.indices, X.indptr, dense, negzero, *bucket_rows(hashes, kernel_weights), group
        )
    else:
        bits = np.asarray(X).view(ubits)
        in_parallel(
            n_slots,
            lambda p, q: _sk.row_hashes(bits, negzero, rows.bounds[p : q + 1], hashes),
            work=bits.size,
        )
        distinct = _sk.group_rows(bits, negzero, *bucket_rows(hashes, kernel_weights), group)
    if unit and distinct == n:
        return None
    index = np.flatnonzero(group == np.arange(n))
    index = index[np.argsort(hashes[index], kind="stable")]
    _sort_equal_hashes(X, index, hashes[index])
    place = np.empty(n, dtype=np.int64)
    place[index] = np.arange(index.shape[0])
    kept = group >= 0
    group[kept] = place[group[kept]]
    del place
    w = np.ones(n) if unit else sample_weight.astype(np.float64)
    weights = np.bincount(group[kept], weights=w[kept], minlength=index.shape[0]).astype(dtype)
    distinct_rows = X[index] if rows.sparse else np.ascontiguousarray(X[index])
    return StartSet(Rows(distinct_rows), weights, index, group)


def bucket_rows(hashes, sample_weight, n_buckets=None):
    """The rows of positive weight (every row for ``sample_weight`` of length 0) put in buckets
    by the low bits of their hash, rows ascending within a bucket, and the scratch hash table of
    the grouping kernels: ``(order, sorted_hashes, starts, table, table_hash)`` as
    ``_kernels.seeding.group_rows`` takes them.

    ``n_buckets`` (a power of two, at most 2**16): by default buckets of about 1024 rows, so
    each bucket's hash table stays in cache.
    """
    n = hashes.shape[0]
    if n_buckets is None:
        n_buckets = 1 << min(16, max(0, (n // 1024).bit_length()))
    order = np.empty(n, dtype=np.int64)
    sorted_hashes = np.empty(n, dtype=np.uint64)
    starts = np.empty(n_buckets + 1, dtype=np.int64)
    # A mask, not the weights: one kernel for float32 and float64 weights.
    positive = sample_weight > 0 if sample_weight.shape[0] else np.empty(0, dtype=bool)
    _sk.bucket_rows(hashes, positive, order, sorted_hashes, starts)
    # Scratch arrays are made here, not in the kernels: each allocation inside a kernel adds to
    # its compile time on a first run.
    largest = int(np.max(starts[1:] - starts[:-1]))
    size = 1 << max(0, 2 * largest - 1).bit_length()  # a power of two >= twice the largest bucket
    return order, sorted_hashes, starts, np.empty(size, dtype=np.int64), np.empty(size, dtype=np.uint64)


def _sort_equal_hashes(X, index, hashes):
    """Put runs of distinct rows with equal hashes (rare) in lexicographic order of their values."""
    ties = np.flatnonzero(hashes[1:] == hashes[:-1])
    if ties.size == 0:
        return
    starts = ties[np.r_[True, np.diff(ties) > 1]]
    for a in starts.tolist():
        b = a + 1
        while b < hashes.shape[0] and hashes[b] == hashes[a]:
            b += 1
        run = index[a:b].copy()
        values = X[run].toarray() if sp.issparse(X) else np.asarray(X[run])
        index[a:b] = run[np.lexsort(values.T[::-1])]


def draw_kmeans_plusplus(
    rows, sample_weight, start, n_clusters, random_state, n_local_trials=None, centred=False
):
    """k-means++ on the caller's rows (``start`` None: scikit-learn's draws) or on the
    ``StartSet``; returns (centres, indices into the caller's rows)."""
    if start is None:
        return kmeans_plusplus(rows, sample_weight, n_clusters, random_state, n_local_trials, centred)
    centres, indices = kmeans_plusplus(start.rows, start.weights, n_clusters, random_state, n_local_trials)
    return centres, start.index[indices]


def draw_rows(rows, sample_weight, start, size, random_state):
    """``size`` rows drawn without replacement with probability proportional to the weight, as
    scikit-learn's 'random' start draws them (``start`` None), or from the ``StartSet``: where it
    has fewer than ``size`` rows, all of them, then the same again. Indices into the caller's rows."""
    if start is None:
        w = sample_weight if sample_weight.shape[0] else np.ones(rows.n, dtype=rows.dtype)
        return random_state.choice(rows.n, size=size, replace=False, p=w / w.sum())
    m = min(size, start.index.shape[0])
    drawn = random_state.choice(
        start.index.shape[0], size=m, replace=False, p=start.weights / start.weights.sum()
    )
    return start.index[np.resize(drawn, size)]


def kmeans_plusplus(rows, sample_weight, n_clusters, random_state, n_local_trials=None, centred=False):
    """Greedy k-means++ with scikit-learn's draws: the same ``RandomState`` picks the same rows.

    ``centred``: distances between rows of ``X - X.mean(axis=0)`` rounded to X's dtype, as
    scikit-learn's ``KMeans.fit`` seeds on its centred copy (``sklearn.cluster.kmeans_plusplus``
    does not centre). Dense rows only; the caller's rows are never modified.

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
        shift = rows.numpy_mean() if centred else np.zeros(rows.d, dtype=rows.dtype)
        if n_local_trials * rows.n * rows.dtype.itemsize <= SEED_MATRIX_BYTES:
            # One BLAS thread: the same bits (OpenBLAS's product does not depend on its thread
            # count), and no BLAS threads spinning on the cores the Numba kernels need next.
            with blas_single_thread():
                indices = seed_indices(rows, sample_weight, first, uniforms, shift)
        else:
            indices = seed_indices_by_slot(rows, sample_weight, first, uniforms, shift)
    centres = np.vstack([rows.row(i) for i in indices]).astype(rows.dtype, copy=False)
    return np.ascontiguousarray(centres), indices


def _shifted(rows, indices, shift):
    return np.ascontiguousarray(np.vstack([rows.row(i) for i in indices]) - shift, dtype=rows.dtype)


def seed_indices(rows, sample_weight, first, uniforms, shift=None):
    """Rows chosen by greedy k-means++ from the given draws (dense rows), scikit-learn's way.

    ``first`` is the first centre's row; row ``c - 1`` of ``uniforms`` (k - 1, L) holds the
    draws of centre ``c``'s L candidates. The same steps as ``sklearn.cluster.kmeans_plusplus``
    in X's dtype: running sums of ``w * closest`` (added in order, as ``np.cumsum`` adds them,
    without keeping them), the potentials as the product of the (L, n) candidate distances with
    the weights, the argmin of those. Memory: the (L, n) distances, one (n,) array of X's dtype
    and, for unit weights, an (n,) array of ones.
    """
    if shift is None:
        shift = np.zeros(rows.d, dtype=rows.dtype)
    n, dtype = rows.n, rows.dtype
    w = sample_weight if sample_weight.shape[0] else np.ones(n, dtype=dtype)
    indices = np.empty(uniforms.shape[0] + 1, dtype=np.int64)
    indices[0] = first
    closest = np.full(n, np.inf, dtype=dtype)
    rows.candidate_distances(shift, closest, _shifted(rows, [first], shift), closest[None, :])
    current_pot = closest[None, :] @ w  # (1,): the product scikit-learn computes
    distances = np.empty((uniforms.shape[1], n), dtype=dtype)
    for c in range(1, indices.size):
        targets = uniforms[c - 1] * current_pot
        cand = np.empty(targets.shape[0], dtype=np.int64)
        _sk.draw_candidates(closest, sample_weight, targets, np.argsort(targets), cand)
        np.clip(cand, None, n - 1, out=cand)
        rows.candidate_distances(shift, closest, _shifted(rows, cand, shift), distances)
        candidate_pots = distances @ w.reshape(-1, 1)
        best = int(np.argmin(candidate_pots))
        current_pot = candidate_pots[best]
        closest[:] = distances[best]
        indices[c] = cand[best]
    return indices


def seed_indices_by_slot(rows, sample_weight, first, uniforms, shift=None):
    """``seed_indices`` in O(n) memory whatever L: potentials are float64 sums per slot, added
    in slot order. Memory: one ``(n,)`` array of X's dtype."""
    if shift is None:
        shift = np.zeros(rows.d, dtype=rows.dtype)
    n_slots = rows.bounds.shape[0] - 1
    indices = np.empty(uniforms.shape[0] + 1, dtype=np.int64)
    indices[0] = first
    closest = np.full(rows.n, np.inf, dtype=rows.dtype)
    slot_pot = np.empty(n_slots)
    rows.closer(sample_weight, shift, _shifted(rows, [first], shift)[0], closest, slot_pot)
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
        cand_rows = _shifted(rows, cand, shift)
        # Adding the slots of each column in slot order (numpy reduces axis 0 row by row).
        pots = rows.candidate_potentials(sample_weight, shift, closest, cand_rows).sum(axis=0)
        best = int(np.argmin(pots))
        indices[c] = cand[best]
        rows.closer(sample_weight, shift, cand_rows[best], closest, slot_pot)
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
