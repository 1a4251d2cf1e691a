"""Random starts with scikit-learn's draws: greedy k-means++ over the seeding kernels (including
an emulation of NumPy's pairwise sum, so unit weights need no (n,) array for the first draw) and
the 'random' start's rows. The same ``RandomState`` picks the same rows as scikit-learn whatever
the data: repeated rows, ties, weights, CSR.
"""

import numpy as np

from ._blas import blas_single_thread
from ._kernels import seeding as _sk

# The candidates' distances are kept as one (L, n) array of X's dtype, as scikit-learn keeps
# them, while it takes at most this many bytes: its potentials then come from the same NumPy
# product, bit for bit, so float32 draws are scikit-learn's too. Above, the potentials are
# float64 sums per slot (memory O(n) whatever L) and float32 draws may leave scikit-learn's
# where a rounding moves a draw across a row boundary.
SEED_MATRIX_BYTES = 1 << 28


def draw_rows(rows, sample_weight, size, random_state):
    """``size`` distinct rows drawn with probability proportional to the weight, as scikit-learn's
    'random' start draws them (unit weights: a ``p`` of ones, which consumes the generator as
    scikit-learn's does). Indices into the caller's rows."""
    w = sample_weight if sample_weight.shape[0] else np.ones(rows.n, dtype=rows.dtype)
    return random_state.choice(rows.n, size=size, replace=False, p=w / w.sum())


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
    block = 1 << 16  # two float64 arrays of this many values at a time
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
