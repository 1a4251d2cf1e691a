"""Lloyd's algorithm and k-means++ seeding: the map -> reduce -> update loop over the kernels.

Inputs here are already validated: ``X`` is a C-ordered float32/float64 array or a CSR
matrix with int32 indices, ``sample_weight`` has X's dtype, centres are ``(k, d)`` of X's dtype.
"""

import logging

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


def _blas_single_thread():
    """BLAS limited to one thread (the GEMM kernel calls it from every Numba thread).

    The controller is built once: building one scans the loaded libraries (milliseconds).
    """
    global _blas_controller
    if _blas_controller is None:
        import scipy.linalg.cython_blas  # noqa: F401  the BLAS Numba's np.dot calls

        _blas_controller = ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")


class Rows:
    """Dense or CSR rows with the kernel calls that depend on the storage.

    Keeps the Lloyd and seeding loops free of ``if sparse`` branches.
    """

    def __init__(self, X):
        self.sparse = sp.issparse(X)
        self.X = X
        self.n, self.d = X.shape
        self.dtype = X.dtype
        self.bounds = slot_bounds(self.n)
        self._mean = None

    @property
    def mean(self):
        if self._mean is None:
            self._mean = np.asarray(self.X.mean(axis=0), dtype=self.dtype).reshape(-1)
        return self._mean

    def csr(self):
        return self.X.data, self.X.indices, self.X.indptr

    def row(self, i):
        if self.sparse:
            return self.X[[i]].toarray()[0]
        return self.X[i]

    def assign(self, sample_weight, centres, labels, update=True):
        """Map and reduce: new labels in place.

        Returns (sums (k, d) float64, weights (k,) float64, inertia, number of labels changed).
        """
        k, d = centres.shape
        n_slots = self.bounds.shape[0] - 1
        sums = np.empty((n_slots, k, d) if update else (n_slots, 0, 0))
        weights = np.empty((n_slots, k) if update else (n_slots, 0))
        inertia = np.empty(n_slots)
        changed = np.empty(n_slots, dtype=np.int64)
        stats = (labels, sums, weights, inertia, changed, update)
        if self.sparse:
            _lk.assign_sparse(*self.csr(), sample_weight, centres, self.bounds, *stats)
        elif use_gemm(d, k, self.dtype):
            with _blas_single_thread():
                _lk.assign_gemm(self.X, sample_weight, centres, self.mean, self.bounds, *stats)
        else:
            _lk.assign_fused(self.X, sample_weight, centres, self.bounds, *stats)
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
            _lk.sq_distances_to_assigned(self.X, centres, labels, out)
        return out


def inertia(rows, sample_weight, centres, labels):
    """Weighted SSE of ``labels`` against ``centres`` (float)."""
    return float(rows.sq_distances_to_assigned(centres, labels) @ sample_weight.astype(np.float64))


def relocate_empty_clusters(rows, sample_weight, centres_old, labels, sums, weights):
    """Give each empty cluster the farthest point from its centre, as scikit-learn does.

    ``sums`` and ``weights`` (float64 totals) are updated in place; labels are left as they are.
    """
    empty = np.flatnonzero(weights == 0)
    if empty.size == 0:
        return
    distances = rows.sq_distances_to_assigned(centres_old, labels)
    far = np.argpartition(distances, -empty.size)[: -empty.size - 1 : -1]
    for new_id, idx in zip(empty, far):
        x = rows.row(idx).astype(np.float64)
        w = float(sample_weight[idx])
        old_id = labels[idx]
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


def lloyd(rows, sample_weight, centres_init, max_iter, tol, verbose=False):
    """One run of Lloyd's algorithm with scikit-learn's stopping rules.

    Stops when no label changes (strict convergence) or when the squared centre shift is
    ``<= tol`` (already scaled to the data). Without strict convergence a last assignment
    makes ``labels`` agree with the returned centres.

    Returns (labels int32, inertia float, centres, n_iter).
    """
    centres = np.array(centres_init, dtype=rows.dtype, order="C")
    labels = np.full(rows.n, -1, dtype=np.int32)
    strict = False
    for it in range(max_iter):
        sums, weights, inertia_old, n_changed = rows.assign(sample_weight, centres, labels)
        relocate_empty_clusters(rows, sample_weight, centres, labels, sums, weights)
        centres_new = update_centres(sums, weights, centres)
        shift = float(np.sum((centres_new.astype(np.float64) - centres) ** 2))
        if verbose:
            logger.info("Iteration %d, inertia %s.", it, inertia_old)
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
    if not strict:
        _, _, final_inertia, _ = rows.assign(sample_weight, centres, labels, update=False)
    elif np.array_equal(centres, centres_prev):
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
    p = sample_weight / sample_weight.sum()
    first = int(random_state.choice(rows.n, p=p))
    uniforms = random_state.uniform(size=(n_clusters - 1, n_local_trials))
    if rows.sparse:
        indices = _kmeans_plusplus_sparse(rows, sample_weight, first, uniforms)
    else:
        indices = np.empty(n_clusters, dtype=np.int64)
        _sk.kmeans_plusplus(rows.X, sample_weight, first, uniforms, rows.bounds, indices)
    centres = np.vstack([rows.row(i) for i in indices]).astype(rows.dtype, copy=False)
    return np.ascontiguousarray(centres), indices


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
