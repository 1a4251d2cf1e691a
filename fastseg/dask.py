"""``fastseg.dask``: K-means on ``dask.array`` -- the Lloyd kernels mapped over row blocks, the
per-block statistics tree-reduced, the small update done on the client.

Import it as ``import fastseg.dask`` (needs the ``dask`` extra); ``import fastseg`` never imports dask.
"""

import functools
import logging
from numbers import Integral, Real

import dask
import dask.array as da
import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _lloyd
from ._centres import explicit_init, warn_if_clusters_missing
from ._kernels._config import threads
from ._rows import Rows, block_moments, merge_moments, unit_weights
from ._validation import verbose_logging
from .kmeans import KMeans as _InMemoryKMeans
from .kmeans import kmeans_plusplus as _kmeans_plusplus
from .mixture import GaussianMixture as _InMemoryMixture
from .mixture import _Stats

logger = logging.getLogger("fastseg")

# Statistics of this many blocks are added by one task of the reduction tree.
SPLIT_EVERY = 8
# Rows sampled for init='k-means++' (at least this many, or 100 per cluster; all rows when fewer).
KMEANS_PLUSPLUS_SAMPLE = 10_000
# NumPy input is cut into blocks of at most this many bytes, and into at least 8 blocks.
NUMPY_BLOCK_BYTES = 64 * 2**20


# -- block functions (run on the workers; module level so that they pickle) ------------------------
def _rows(block):
    # Blocks that arrived over the network are often read-only: that is a distinct Numba signature
    # (compiled once per process, then cached); copying every block would cost a pass over memory.
    return Rows(np.ascontiguousarray(block))


def _writeable(a):
    """Small per-task arguments (centres, weights) as writeable arrays, so that only X's flag adds
    signatures."""
    return a if a.flags.writeable and a.flags.c_contiguous else np.array(a, order="C")


def _weights(weights, block):
    """The block's sample weights; ``None`` (no ``sample_weight`` given) means ones, made on the worker."""
    return np.ones(block.shape[0], dtype=block.dtype) if weights is None else _writeable(weights)


def _kernel_weights(weights, block):
    """Weights for the kernels only: no weights are ``_rows.unit_weights`` (nothing allocated)."""
    return unit_weights(block.dtype) if weights is None else _writeable(weights)


def _nearest(rows, weights, centres):
    """Labels (int32) of the nearest centre for every row of ``rows``, and the weighted SSE."""
    labels = np.full(rows.n, -1, dtype=np.int32)
    _, _, inertia, _ = rows.assign(weights, centres, labels, update=False)
    return labels, inertia


def _block_check(block, weights):
    """(X finite, weights finite, smallest weight, summed weight, (rows, column means, column sums
    of squared deviations)) of one block; the moments are float64 and only taken when X is finite."""
    x_ok = bool(np.isfinite(block).all())
    weights = _weights(weights, block)
    w_min = float(weights.min()) if weights.size else np.inf
    moments = block_moments(block.astype(np.float64)) if x_ok and block.shape[0] else None
    return x_ok, bool(np.isfinite(weights).all()), w_min, float(weights.sum()), moments


def _column_variances(moments):
    """Population variances of the columns from per-block (count, mean, M2), merged in block order."""
    n, _, m2 = functools.reduce(merge_moments, moments, (0, 0.0, 0.0))
    return m2 / n


def _block_stats(block, weights, centres, num_threads):
    """Lloyd's map on one block: (sums (k, d) float64, weights (k,) float64, inertia)."""
    weights, centres = _kernel_weights(weights, block), _writeable(centres)
    with threads(num_threads):
        rows = _rows(block)
        labels = np.full(rows.n, -1, dtype=np.int32)
        sums, totals, inertia, _ = rows.assign(weights, centres, labels, update=True)
    return sums, totals, inertia


def _block_farthest(block, weights, centres, m, offset, num_threads):
    """The ``m`` rows of one block farthest from their nearest centre.

    Returns (distances, global row indices, rows as float64, weights, labels) of those rows.
    """
    weights, centres = _weights(weights, block), _writeable(centres)
    with threads(num_threads):
        rows = _rows(block)
        labels, _ = _nearest(rows, weights, centres)
        idx, dist = (
            rows.farthest(centres, labels, min(m, rows.n)) if m and rows.n else (np.empty(0, np.int64),) * 2
        )
    return dist, idx + offset, rows.X[idx].astype(np.float64), weights[idx], labels[idx]


def _block_final(block, weights, centres, num_threads):
    """(inertia, unweighted label counts (k,) int64) of one block against the final centres."""
    weights, centres = _kernel_weights(weights, block), _writeable(centres)
    with threads(num_threads):
        labels, inertia = _nearest(_rows(block), weights, centres)
    return inertia, np.bincount(labels, minlength=centres.shape[0]).astype(np.int64)


def _block_labels(block, centres, num_threads):
    centres = _writeable(centres)
    with threads(num_threads):
        rows = _rows(block)
        labels, _ = _nearest(rows, unit_weights(rows.dtype), centres)
    return labels


def _block_distances(block, centres, num_threads):
    centres = _writeable(centres)
    with threads(num_threads):
        return np.sqrt(_rows(block).sq_distances(centres))


def _block_min_sq_distances(block, weights, candidates, previous, num_threads):
    """Squared distance (float64) of each row to its nearest candidate, folded into ``previous``.

    Only the new candidates are visited, so a k-means|| round costs O(n_b * |new| * d) and keeps
    O(n_b) memory per block whatever the number of candidates.
    """
    candidates = _writeable(candidates)
    with threads(num_threads):
        rows = _rows(block)
        labels, _ = _nearest(rows, unit_weights(rows.dtype), candidates)  # labels only
        dist = rows.sq_distances_to_assigned(candidates, labels)
    return dist if previous is None else np.minimum(previous, dist)


def _weighted_sum(weights, values):
    return float(values.sum() if weights is None else weights.astype(np.float64) @ values)


def _block_rng(entropy, *key):
    # One stream per (purpose, round, block): results do not depend on where or when a task runs.
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=tuple(int(k) for k in key)))


def _block_oversample(block, weights, min_sq, phi, oversampling, entropy, round_, b):
    """Rows of one block kept independently with probability min(1, l * w * d^2 / phi)."""
    u = _block_rng(entropy, 1, round_, b).random(min_sq.shape[0])
    weights = _weights(weights, block)
    keep = u < oversampling * weights.astype(np.float64) * min_sq / phi
    return np.ascontiguousarray(block[np.flatnonzero(keep)])


def _block_candidate_weights(block, weights, candidates, num_threads):
    """Summed sample weight of the rows closest to each candidate (float64 (|C|,)).

    ``bincount`` over the labels rather than ``assign(update=True)``: that would allocate
    per-slot (|C|, d) sums, which is large at large k.
    """
    weights, candidates = _weights(weights, block), _writeable(candidates)
    with threads(num_threads):
        labels, _ = _nearest(_rows(block), weights, candidates)
    return np.bincount(labels, weights=weights.astype(np.float64), minlength=candidates.shape[0])


def _block_weighted_keys(block, weights, k, entropy, b):
    """Efraimidis-Spirakis keys: the ``k`` largest of ``log(u) / w`` are a weighted sample without
    replacement. Returns (keys, rows) of the block's ``k`` best."""
    w = _weights(weights, block).astype(np.float64)
    u = _block_rng(entropy, 2, 0, b).random(w.shape[0])
    with np.errstate(divide="ignore"):
        keys = np.where(w > 0, np.log(u) / np.where(w > 0, w, 1.0), -np.inf)
    top = np.sort(np.argsort(-keys, kind="stable")[:k])
    return keys[top], np.ascontiguousarray(block[top])


def _block_bernoulli(block, weights, p, entropy, round_, b):
    weights = _weights(weights, block)
    keep = _block_rng(entropy, 3, round_, b).random(weights.shape[0]) < p
    idx = np.flatnonzero(keep)
    return np.ascontiguousarray(block[idx]), weights[idx]


def _add(*parts):
    """Element-wise sum of statistic tuples (or arrays/scalars), in the order given."""
    first = parts[0]
    if isinstance(first, tuple):
        return tuple(_add(*fields) for fields in zip(*parts))
    total = first.copy() if isinstance(first, np.ndarray) else first
    for p in parts[1:]:
        total = total + p
    return total


class _TreeTop(list):
    """The top level of a reduction tree: at most ``SPLIT_EVERY`` delayed parts, which
    ``_Fit.compute`` brings to the client and adds there, in order (one task hop fewer per pass)."""


def _tree_sum(parts, split_every=SPLIT_EVERY):
    """A fixed reduction tree of delayed ``_add`` calls; ``_Fit.compute`` turns it into the total.

    The order of additions depends only on the number of blocks, never on scheduling.
    """
    parts = list(parts)
    while len(parts) > split_every:
        parts = [
            dask.delayed(_add, pure=True)(*parts[i : i + split_every])
            for i in range(0, len(parts), split_every)
        ]
    return _TreeTop(parts)


# -- input ------------------------------------------------------------------------------------------
def _as_dask_rows(X):
    """``X`` as a float32/float64 dask array with one block along the columns."""
    if not isinstance(X, da.Array):
        if hasattr(X, "toarray") or hasattr(X, "tocsr"):
            raise TypeError("fastseg.dask.KMeans takes dense arrays; sparse input is not supported.")
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"Expected a 2-D array, got {X.ndim} dimension(s).")
        if X.dtype.kind not in "biuf":
            raise TypeError(f"X must hold numbers, got dtype {X.dtype}.")
        n, d = X.shape
        row_bytes = max(1, d * X.dtype.itemsize)
        rows = max(1, min(-(-n // 8), NUMPY_BLOCK_BYTES // row_bytes))
        X = da.from_array(X, chunks=(rows, d))
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D array, got {X.ndim} dimension(s).")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must hold numbers, got dtype {X.dtype}.")
    if any(np.isnan(c) for c in X.chunks[0]) or np.isnan(X.shape[1]):
        raise ValueError("X has unknown chunk sizes; call X.compute_chunk_sizes() first.")
    if X.shape[1] == 0:
        raise ValueError("X has 0 features; at least one is required.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if X.numblocks[1] > 1:
        # The kernels need whole rows: one block along the columns.
        X = X.rechunk({1: -1})
    return X


def _fitted_rows(estimator, X):
    """``X`` as dask rows for a fitted estimator, with its feature count checked."""
    check_is_fitted(estimator)
    X = _as_dask_rows(X)
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {estimator.__class__.__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    return X


def _as_dask_weights(sample_weight, X):
    """``sample_weight`` as a dask array with X's row blocks and dtype; None stays None (unit weights,
    made inside each task)."""
    if sample_weight is None:
        return None
    if not isinstance(sample_weight, da.Array):
        sample_weight = np.asarray(sample_weight)
        if sample_weight.ndim == 0:
            return da.full(X.shape[0], sample_weight.astype(X.dtype), chunks=(X.chunks[0],))
        if sample_weight.dtype.kind not in "biuf":
            raise TypeError(f"sample_weight must hold numbers, got dtype {sample_weight.dtype}.")
        if sample_weight.shape != (X.shape[0],):
            raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected ({X.shape[0]},).")
        return da.from_array(sample_weight.astype(X.dtype), chunks=(X.chunks[0],))
    if sample_weight.shape != (X.shape[0],):
        raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected ({X.shape[0]},).")
    if sample_weight.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold numbers, got dtype {sample_weight.dtype}.")
    return sample_weight.astype(X.dtype).rechunk((X.chunks[0],))


class KMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """K-Means on a ``dask.array``: fastseg's Lloyd kernels mapped over row blocks.

    Each iteration maps the assignment kernel over the blocks, tree-reduces the per-block
    statistics (per-cluster float64 sums and weights, inertia) and updates the k x d centres on
    the client; only those statistics travel. Given the same initial centres the result is the
    in-memory ``fastseg.KMeans(init=centres, n_init=1)``'s: same labels and ``n_iter_``, centres
    and inertia equal up to the order of float64 additions.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {'k-means||', 'k-means++', 'random'} or array-like of shape (n_clusters, n_features)
        'k-means||' (default): scalable k-means++ (Bahmani et al., 2012): ``init_max_iter``
        distributed oversampling rounds, then the weighted candidates are reclustered in memory
        with ``fastseg.KMeans(init='k-means++')``. 'k-means++': greedy k-means++ on a Bernoulli
        sample of about ``max(10_000, 100 * n_clusters)`` rows (all rows when there are fewer),
        collected on the client -- not the exact k-means++ of the whole data. 'random':
        ``n_clusters`` distinct rows drawn with probability proportional to ``sample_weight``.
    max_iter : int, default=300
    tol : float, default=1e-4
        Stop when the squared centre shift is <= ``tol`` times the mean feature variance (computed
        with dask). With ``tol=0`` the run stops when no label changes (then the shift is 0).
    random_state : int, RandomState instance or None, default=None
        Every random draw on a block comes from a stream derived from (random_state, round,
        block index), so the result does not depend on the scheduler or the number of workers.
    oversampling_factor : float, default=2
        k-means|| samples about ``oversampling_factor * n_clusters`` rows per round.
    init_max_iter : int, default=5
        Number of k-means|| rounds.
    num_threads : int or None, default=1
        Numba threads per dask task. Dask already runs one task per worker thread, so 1 keeps
        ``workers x threads per worker`` kernel threads on as many cores; raise it when the
        scheduler runs fewer tasks than there are cores (one big block, one worker thread).
        None leaves Numba's setting alone (all cores per task: oversubscribes).
    persist : bool, default=True
        Persist the (validated) input for the duration of ``fit``, so that each iteration reads
        it from (distributed) memory rather than recomputing or re-sending it. Turn it off for
        data that does not fit in the cluster's memory; each iteration then recomputes ``X``.
    verbose : int, default=0

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features), X's dtype (float32 or float64)
    labels_ : dask array of shape (n_samples,), int32 -- lazy, computed from the input on demand
    inertia_ : float
    n_iter_ : int
    n_features_in_ : int

    NumPy input is wrapped with ``da.from_array`` (at least 8 blocks, at most 64 MB each).
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means||", "k-means++", "random"}), "array-like"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "oversampling_factor": [Interval(Real, 0, None, closed="neither")],
        "init_max_iter": [Interval(Integral, 1, None, closed="left")],
        "num_threads": [Interval(Integral, 1, None, closed="left"), None],
        "persist": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means||",
        max_iter=300,
        tol=1e-4,
        random_state=None,
        oversampling_factor=2,
        init_max_iter=5,
        num_threads=1,
        persist=True,
        verbose=0,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.oversampling_factor = oversampling_factor
        self.init_max_iter = init_max_iter
        self.num_threads = num_threads
        self.persist = persist
        self.verbose = verbose

    # -- fitting -------------------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute k-means clustering of a dask (or NumPy) array.

        Parameters
        ----------
        X : dask.array.Array or array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : dask.array.Array or array-like of shape (n_samples,), default=None
            Non-negative weights.

        Returns
        -------
        self
        """
        X = _as_dask_rows(X)
        n, d = X.shape
        if n < self.n_clusters:
            raise ValueError(f"n_samples={n} should be >= n_clusters={self.n_clusters}.")
        init_array = explicit_init(self.init, self.n_clusters, d, X.dtype)
        W = _as_dask_weights(sample_weight, X)
        lazy_X = X
        if self.persist:
            X, W = dask.persist(X, W) if W is not None else (X.persist(), None)
        # The input checks run in the same graph as the first pass (one round trip fewer).
        fit = _Fit(X, W, self.num_threads)
        random_state = check_random_state(self.random_state)

        with verbose_logging(self.verbose):
            centres = init_array if init_array is not None else self._init_centres(fit, random_state)
            if self.verbose:
                logger.info("Initialization complete")
            centres, n_iter = fit.lloyd(centres, self.max_iter, self.tol, self.verbose)
            inertia, counts = fit.final(centres)

        warn_if_clusters_missing(counts, stacklevel=3)
        self.n_features_in_ = d
        self.cluster_centers_ = centres
        self._n_features_out = self.n_clusters
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        # Built on the input before it was persisted: the model does not pin the persisted copy.
        self.labels_ = self._labels(lazy_X)
        return self

    def _init_centres(self, fit, random_state):
        entropy = int(random_state.randint(np.iinfo(np.int32).max))
        if self.init == "random":
            return fit.weighted_rows(self.n_clusters, entropy)
        if self.init == "k-means++":
            return fit.kmeans_plusplus_on_sample(self.n_clusters, entropy, random_state)
        return fit.kmeans_parallel(
            self.n_clusters, self.oversampling_factor, self.init_max_iter, entropy, random_state
        )

    # -- prediction ----------------------------------------------------------------------------------
    def _validate_predict_input(self, X):
        return _fitted_rows(self, X)

    def _labels(self, X):
        centres = np.ascontiguousarray(self.cluster_centers_, dtype=X.dtype)
        return X.map_blocks(
            _block_labels, centres, self.num_threads, dtype=np.int32, drop_axis=1, meta=np.empty(0, np.int32)
        )

    def predict(self, X):
        """Index of the nearest centre of each row: a lazy int32 dask array for dask input, a NumPy
        array for NumPy input."""
        labels = self._labels(self._validate_predict_input(X))
        return labels if isinstance(X, da.Array) else labels.compute(scheduler="synchronous")

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit and return ``labels_`` (lazy)."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def transform(self, X):
        """Euclidean distances to every centre, shape (n_samples, n_clusters), lazy for dask input."""
        Xd = self._validate_predict_input(X)
        centres = np.ascontiguousarray(self.cluster_centers_, dtype=Xd.dtype)
        out = Xd.map_blocks(
            _block_distances,
            centres,
            self.num_threads,
            dtype=Xd.dtype,
            chunks=(Xd.chunks[0], (self.n_clusters,)),
        )
        return out if isinstance(X, da.Array) else out.compute(scheduler="synchronous")

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the (weighted) inertia of ``X`` against the fitted centres."""
        Xd = self._validate_predict_input(X)
        fit = _Fit(Xd, _as_dask_weights(sample_weight, Xd), self.num_threads)
        inertia, _ = fit.final(np.ascontiguousarray(self.cluster_centers_, dtype=Xd.dtype))
        return -inertia


class _Fit:
    """The distributed passes of one fit over fixed (X, weights) blocks."""

    def __init__(self, X, W, num_threads):
        self.X, self.W = X, W
        self.dtype = X.dtype
        self.num_threads = num_threads
        self.x_blocks = list(X.to_delayed().ravel())
        self.w_blocks = [None] * len(self.x_blocks) if W is None else list(W.to_delayed().ravel())
        self.mean_variance = None  # set by the input checks, which run with the first compute
        self.offsets = np.concatenate([[0], np.cumsum(X.chunks[0])]).astype(np.int64)
        self.n = int(X.shape[0])

    def _map(self, fn, *args):
        return [dask.delayed(fn, pure=True)(xb, wb, *args) for xb, wb in zip(self.x_blocks, self.w_blocks)]

    def compute(self, *graphs):
        """``dask.compute(*graphs)``, with each ``_tree_sum`` tree's total; the first call also runs the
        input checks, in the same graph, and raises before returning anything if they fail."""
        tops = [isinstance(g, _TreeTop) for g in graphs]
        graphs = [list(g) if top else g for g, top in zip(graphs, tops)]
        if self.mean_variance is None:
            checks, *results = dask.compute(self._map(_block_check), *graphs)
            self._validate(checks)
        else:
            results = dask.compute(*graphs)
        return tuple(_add(*r) if top else r for r, top in zip(results, tops))

    def tolerance(self, tol):
        """``tol`` times the mean column variance (float64, from the checks' per-block moments)."""
        if self.mean_variance is None:
            self.compute()
        return float(self.mean_variance * tol)

    def _validate(self, checks):
        """Refuse non-finite values and bad weights, naming the block."""
        for b, (x_ok, w_ok, w_min, _, _) in enumerate(checks):
            rows = f"rows {self.offsets[b]} to {self.offsets[b + 1] - 1}"
            if not x_ok:
                raise ValueError(f"Input X contains NaN or infinity in block {b} ({rows}).")
            if not w_ok:
                raise ValueError(f"sample_weight contains NaN or infinity in block {b} ({rows}).")
            if w_min < 0:
                raise ValueError(f"Negative values in sample_weight in block {b} ({rows}).")
        if sum(c[3] for c in checks) <= 0:
            raise ValueError("The sum of sample_weight must be positive.")
        self.mean_variance = float(np.mean(_column_variances([c[4] for c in checks if c[4] is not None])))

    # -- Lloyd -----------------------------------------------------------------------------------------
    def lloyd(self, centres, max_iter, tol, verbose):
        """Lloyd iterations; stop when the squared centre shift is ``<= tol`` x the mean column variance.

        In-memory ``_lloyd.lloyd`` also stops when no label changed; then the sums, hence the
        centres, are bitwise those of the previous iteration and the shift is 0 <= tol, so this
        single rule gives the same ``n_iter``. No per-row labels are kept between iterations.
        """
        centres = np.array(centres, dtype=self.dtype, order="C")
        for it in range(max_iter):
            (stats,) = self.compute(_tree_sum(self._map(_block_stats, centres, self.num_threads)))
            if it == 0:
                tol = self.tolerance(tol)
            sums, weights, inertia = stats
            if np.any(weights == 0):
                self._relocate_empty_clusters(centres, sums, weights)
            centres_new = _lloyd.update_centres(sums, weights, centres)
            shift = float(np.sum((centres_new.astype(np.float64) - centres) ** 2))
            if verbose:
                logger.info("Iteration %d, inertia %s.", it, inertia)
            centres = centres_new
            _after_iteration(self, it, centres)
            if shift <= tol:
                if verbose:
                    logger.info(
                        "Converged at iteration %d: center shift %s within tolerance %s.", it, shift, tol
                    )
                break
        return centres, it + 1

    def _relocate_empty_clusters(self, centres_old, sums, weights):
        """``_lloyd.relocate_empty_clusters`` over blocks: each block offers its ``m`` farthest rows,
        the client keeps the ``m`` farthest overall (ties: lower row first)."""
        empty = np.flatnonzero(weights == 0)
        m = empty.size
        parts = [
            dask.delayed(_block_farthest, pure=True)(xb, wb, centres_old, m, int(off), self.num_threads)
            for xb, wb, off in zip(self.x_blocks, self.w_blocks, self.offsets[:-1])
        ]
        (parts,) = self.compute(parts)
        dist = np.concatenate([p[0] for p in parts])
        index = np.concatenate([p[1] for p in parts])
        rows = np.concatenate([p[2] for p in parts])
        w = np.concatenate([p[3] for p in parts])
        labels = np.concatenate([p[4] for p in parts])
        far = np.lexsort((index, -dist))[:m]
        _lloyd.move_to_empty_clusters(sums, weights, empty, rows[far], w[far].astype(np.float64), labels[far])

    def final(self, centres):
        """(inertia, label counts) against ``centres``."""
        (total,) = self.compute(_tree_sum(self._map(_block_final, centres, self.num_threads)))
        inertia, counts = total
        return float(inertia), counts

    # -- initialisation ----------------------------------------------------------------------------
    def weighted_rows(self, k, entropy):
        """``k`` distinct rows drawn with probability proportional to the weights."""
        parts = [
            dask.delayed(_block_weighted_keys, pure=True)(xb, wb, k, entropy, b)
            for b, (xb, wb) in enumerate(zip(self.x_blocks, self.w_blocks))
        ]
        (parts,) = self.compute(parts)
        keys = np.concatenate([p[0] for p in parts])
        rows = np.concatenate([p[1] for p in parts])
        best = np.argsort(-keys, kind="stable")[:k]
        return np.ascontiguousarray(rows[best], dtype=self.dtype)

    def kmeans_plusplus_on_sample(self, k, entropy, random_state):
        size = max(KMEANS_PLUSPLUS_SAMPLE, 100 * k)
        p = min(1.0, size / self.n)
        for attempt in range(10):
            parts = [
                dask.delayed(_block_bernoulli, pure=True)(xb, wb, p, entropy, attempt, b)
                for b, (xb, wb) in enumerate(zip(self.x_blocks, self.w_blocks))
            ]
            (parts,) = self.compute(parts)
            sample = np.concatenate([q[0] for q in parts])
            weights = np.concatenate([q[1] for q in parts])
            if sample.shape[0] >= k and np.count_nonzero(weights) >= 1:
                centres, _ = _kmeans_plusplus(sample, k, sample_weight=weights, random_state=random_state)
                return np.ascontiguousarray(centres, dtype=self.dtype)
        raise ValueError(f"Could not draw a sample of {k} rows with positive weight for k-means++.")

    def kmeans_parallel(self, k, oversampling_factor, rounds, entropy, random_state):
        """k-means|| (Bahmani et al., 2012) with a per-block running minimum of d^2."""
        candidates = self.weighted_rows(1, entropy)
        min_sq = self._map(_block_min_sq_distances, candidates, None, self.num_threads)
        min_sq = list(dask.persist(*min_sq))
        phi = self.compute(
            _tree_sum([dask.delayed(_weighted_sum, pure=True)(wb, m) for wb, m in zip(self.w_blocks, min_sq)])
        )[0]
        ell = oversampling_factor * k
        for r in range(rounds):
            if phi <= 0:
                break  # every row sits on a candidate
            new = [
                dask.delayed(_block_oversample, pure=True)(xb, wb, m, phi, ell, entropy, r, b)
                for b, (xb, wb, m) in enumerate(zip(self.x_blocks, self.w_blocks, min_sq))
            ]
            (new,) = self.compute(new)
            new = np.concatenate(new).astype(self.dtype, copy=False)
            if new.shape[0] == 0:
                continue
            candidates = np.concatenate([candidates, new])
            min_sq = list(
                dask.persist(
                    *[
                        dask.delayed(_block_min_sq_distances, pure=True)(xb, wb, new, m, self.num_threads)
                        for xb, wb, m in zip(self.x_blocks, self.w_blocks, min_sq)
                    ]
                )
            )
            phi = self.compute(
                _tree_sum(
                    [dask.delayed(_weighted_sum, pure=True)(wb, m) for wb, m in zip(self.w_blocks, min_sq)]
                )
            )[0]
            logger.debug("k-means|| round %d: %d candidates, cost %s.", r, candidates.shape[0], phi)
        del min_sq
        if candidates.shape[0] < k:
            extra = self.weighted_rows(k - candidates.shape[0], entropy + 1)
            candidates = np.concatenate([candidates, extra])
        candidates = np.ascontiguousarray(candidates, dtype=self.dtype)
        (weights,) = self.compute(
            _tree_sum(self._map(_block_candidate_weights, candidates, self.num_threads))
        )
        local = _InMemoryKMeans(n_clusters=k, init="k-means++", n_init=1, random_state=random_state)
        local.fit(candidates, sample_weight=weights.astype(self.dtype))
        return np.ascontiguousarray(local.cluster_centers_, dtype=self.dtype)


# -- Gaussian mixture ------------------------------------------------------------------------------
def _mixture_on_worker(params):
    """A bare ``fastseg.GaussianMixture`` holding the parameters the EM kernels read."""
    n_components, covariance_type, weights, means, precisions_cholesky = params
    model = _InMemoryMixture(n_components, covariance_type=covariance_type)
    model.weights_, model.means_, model.precisions_cholesky_ = weights, means, precisions_cholesky
    return model


def _block_em(block, weights, params, shift, num_threads):
    """The EM map on one block: (N_k, sum r w x, sum r w x x^T, weighted log-likelihood), float64,
    in the frame shifted by ``shift``; ``GaussianMixture._e_stats`` on the block's rows."""
    weights = _weights(weights, block)
    with threads(num_threads):
        stats = _mixture_on_worker(params)._e_stats(_rows(block), weights, shift)
    return stats.nk, stats.sx, stats.sxx, stats.loglik


def _block_moments(block, weights):
    """(sum w, sum w x) of one block, float64."""
    w = _weights(weights, block).astype(np.float64)
    return w.sum(), w @ block


def _block_tied_moment(block, weights, shift):
    w = _weights(weights, block).astype(np.float64)
    xs = block - shift
    return (xs * w[:, None]).T @ xs


def _block_hard_stats(block, weights, centres, shift, covariance_type, num_threads):
    """Statistics of hard (nearest-centre) responsibilities, as ``GaussianMixture._initialize``
    builds them from k-means labels: (N_k, sum w x, sum w x x^T or its diagonal, 0)."""
    weights = _weights(weights, block)
    with threads(num_threads):
        labels, _ = _nearest(_rows(block), weights, _writeable(centres))
    k, d = centres.shape
    rw = np.zeros((block.shape[0], k))
    rw[np.arange(block.shape[0]), labels] = weights
    xs = block - shift
    sxx = None
    if covariance_type == "full":
        sxx = np.einsum("nk,nf,ng->kfg", rw, xs, xs)
    elif covariance_type in ("diag", "spherical"):
        sxx = np.zeros((k, d, d))
        idx = np.arange(d)
        sxx[:, idx, idx] = rw.T @ (xs * xs)
    return rw.sum(0), rw.T @ xs, sxx, 0.0


def _block_log_prob(block, params):
    return _mixture_on_worker(params)._log_prob_rows(np.ascontiguousarray(block))


def _block_predict(block, params):
    return _block_log_prob(block, params).argmax(axis=1)


def _block_score_samples(block, params):
    return logsumexp(_block_log_prob(block, params), axis=1).astype(block.dtype, copy=False)


def _block_predict_proba(block, params):
    wlp = _block_log_prob(block, params)
    return np.exp(wlp - logsumexp(wlp, axis=1)[:, None]).astype(block.dtype, copy=False)


class GaussianMixture(_InMemoryMixture):
    """``fastseg.GaussianMixture`` on a ``dask.array``: the fused EM kernel mapped over row blocks.

    Each EM iteration maps ``GaussianMixture._e_stats`` (N_k, sum r w x, sum r w x x^T and the
    log-likelihood, float64) over the blocks, tree-reduces those statistics and runs the in-memory
    M-step on the totals. Given ``weights_init``, ``means_init`` and ``precisions_init`` the fit
    follows the in-memory EM path (same ``n_iter_`` and ``converged_``; parameters equal up to the
    order of float64 additions). ``init_params='kmeans'`` (the only one offered) starts from
    ``fastseg.dask.KMeans`` (k-means||), so it does not reproduce the in-memory start.

    Parameters are those of ``fastseg.GaussianMixture`` plus ``num_threads`` and ``persist``
    (see ``fastseg.dask.KMeans``). ``fit_predict``, ``predict``, ``predict_proba`` and
    ``score_samples`` return lazy dask arrays for dask input, NumPy arrays for NumPy input.
    """

    _parameter_constraints: dict = {
        **_InMemoryMixture._parameter_constraints,
        "init_params": [StrOptions({"kmeans"})],
        "num_threads": [Interval(Integral, 1, None, closed="left"), None],
        "persist": ["boolean"],
    }

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        num_threads=1,
        persist=True,
    ):
        super().__init__(
            n_components,
            covariance_type=covariance_type,
            tol=tol,
            reg_covar=reg_covar,
            max_iter=max_iter,
            n_init=n_init,
            init_params=init_params,
            weights_init=weights_init,
            means_init=means_init,
            precisions_init=precisions_init,
            random_state=random_state,
            warm_start=warm_start,
            verbose=verbose,
            verbose_interval=verbose_interval,
        )
        self.num_threads = num_threads
        self.persist = persist

    def _params(self):
        f64 = np.float64
        return (
            self.n_components,
            self.covariance_type,
            np.asarray(self.weights_, dtype=f64),
            np.asarray(self.means_, dtype=f64),
            np.asarray(self.precisions_cholesky_, dtype=f64),
        )

    def fit(self, X, y=None, sample_weight=None):
        """Estimate the parameters with EM on a dask (or NumPy) array; see ``fastseg.GaussianMixture.fit``."""
        self._fit(X, sample_weight)
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return the most probable component of each row (lazy for dask input)."""
        return self._rowwise(X, self._fit(X, sample_weight), _block_predict, np.int64)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X, sample_weight):
        X = _as_dask_rows(X)
        n, d = X.shape
        if n < max(2, self.n_components):
            raise ValueError(
                "Expected n_samples >= n_components (and >= 2) but got "
                f"n_components = {self.n_components}, n_samples = {n}"
            )
        self._check_initial_parameters(X)
        W = _as_dask_weights(sample_weight, X)
        lazy_X = X
        if self.persist:
            X, W = dask.persist(X, W) if W is not None else (X.persist(), None)
        fit = _Fit(X, W, self.num_threads)
        ((total_weight, wx),) = fit.compute(_tree_sum(fit._map(_block_moments)))
        shift = wx / total_weight
        tied_moment = None
        if self.covariance_type == "tied":
            (tied_moment,) = fit.compute(_tree_sum(fit._map(_block_tied_moment, shift)))

        def e_stats():
            (totals,) = fit.compute(_tree_sum(fit._map(_block_em, self._params(), shift, self.num_threads)))
            return _Stats(*totals)

        self._run_em(
            lambda random_state: self._initialize_from_blocks(
                fit, random_state, shift, tied_moment, total_weight
            ),
            e_stats,
            shift,
            tied_moment,
            total_weight,
            X.dtype,
        )
        self.n_features_in_ = d
        return lazy_X

    def _initialize_from_blocks(self, fit, random_state, shift, tied_moment, total_weight):
        """``GaussianMixture._initialize`` for init_params='kmeans': hard responsibilities from
        ``fastseg.dask.KMeans``; explicit ``*_init`` parameters override, as in memory."""
        if self._weights_init is None or self._means_init is None or self._precisions_init is None:
            km = KMeans(
                self.n_components, random_state=random_state, num_threads=self.num_threads, persist=False
            )
            centres = km.fit(fit.X, sample_weight=fit.W).cluster_centers_
            (totals,) = fit.compute(
                _tree_sum(fit._map(_block_hard_stats, centres, shift, self.covariance_type, self.num_threads))
            )
            stats = _Stats(*totals)
            self._m_step(stats, shift, tied_moment)
            if self._weights_init is None:
                self.weights_ = (stats.nk + 10 * np.finfo(np.float64).eps) / total_weight
        if self._weights_init is not None:
            self.weights_ = np.asarray(self._weights_init, dtype=np.float64)
        if self._means_init is not None:
            self.means_ = np.asarray(self._means_init, dtype=np.float64)
        if self._precisions_init is not None:
            self.precisions_cholesky_ = self._precision_cholesky_from_precisions(self._precisions_init)

    # -- using a fitted model ------------------------------------------------------------------------
    def _rowwise(self, X, Xd, fn, dtype, per_component=False):
        """``fn(block, params)`` over the row blocks of ``Xd``: lazy for dask ``X``, NumPy otherwise."""
        params = self._params()
        if per_component:
            out = Xd.map_blocks(fn, params, dtype=dtype, chunks=(Xd.chunks[0], (self.n_components,)))
        else:
            out = Xd.map_blocks(fn, params, dtype=dtype, drop_axis=1, meta=np.empty(0, dtype))
        return out if isinstance(X, da.Array) else out.compute(scheduler="synchronous")

    def _dask_rows(self, X):
        return _fitted_rows(self, X)

    def predict(self, X):
        """Most probable component of each row."""
        return self._rowwise(X, self._dask_rows(X), _block_predict, np.int64)

    def predict_proba(self, X):
        """Responsibilities: probability of each component for each row."""
        Xd = self._dask_rows(X)
        return self._rowwise(X, Xd, _block_predict_proba, Xd.dtype, per_component=True)

    def score_samples(self, X):
        """Log-likelihood of each row under the mixture."""
        Xd = self._dask_rows(X)
        return self._rowwise(X, Xd, _block_score_samples, Xd.dtype)

    def score(self, X, y=None):
        """Mean log-likelihood of the rows of ``X`` (computed)."""
        out = self.score_samples(X)
        return float(out.mean().compute() if isinstance(out, da.Array) else out.mean())


def _after_iteration(fit, iteration, centres):
    """Called after every Lloyd iteration (a seam for tests: e.g. to lose a worker mid-fit)."""


__all__ = ["GaussianMixture", "KMeans"]
