"""``fastseg.dask.KMeans``: Lloyd's kernels mapped over row blocks, the per-block statistics
tree-reduced, the small update done on the client (``Fit`` holds the distributed passes)."""

import logging
from numbers import Integral, Real

import dask
import dask.array as da
import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .. import _lloyd
from .._centres import explicit_init, warn_if_clusters_missing
from .._validation import check_magnitude, verbose_logging
from ..kmeans import KMeans as _InMemoryKMeans
from ..kmeans import kmeans_plusplus as _kmeans_plusplus
from .blocks import (
    TreeTop,
    add,
    block_bernoulli,
    block_candidate_weights,
    block_check,
    block_distances,
    block_farthest,
    block_final,
    block_labels,
    block_min_sq_distances,
    block_oversample,
    block_stats,
    block_unit_rows,
    block_weighted_keys,
    column_variances,
    tree_sum,
    weighted_sum,
)
from .input import as_dask_rows, as_dask_weights, fitted_rows

logger = logging.getLogger("fastseg")

# Rows sampled for init='k-means++' (at least this many, or 100 per cluster; all rows when fewer).
KMEANS_PLUSPLUS_SAMPLE = 10_000


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
    metric : {'euclidean', 'cosine'}, default='euclidean'
        'cosine' is spherical k-means, as ``fastseg.KMeans(metric='cosine')``: the blocks' rows
        scaled to unit length (a row of zeros is a ValueError naming it), each updated centre
        scaled to unit length, ``inertia_``, ``score`` and ``transform`` in cosine distance.

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
        "metric": [StrOptions({"euclidean", "cosine"})],
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
        metric="euclidean",
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
        self.metric = metric

    @property
    def _cosine(self):
        return self.metric == "cosine"

    def _rows(self, X):
        """Validated dask rows; unit rows (lazily, block by block) with ``metric='cosine'``."""
        return X.map_blocks(block_unit_rows, dtype=X.dtype) if self._cosine else X

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
        X = as_dask_rows(X)
        n, d = X.shape
        if n < self.n_clusters:
            raise ValueError(f"n_samples={n} should be >= n_clusters={self.n_clusters}.")
        init_array = explicit_init(self.init, self.n_clusters, d, X.dtype)
        W = as_dask_weights(sample_weight, X)
        X = self._rows(X)
        lazy_X = X
        if self.persist:
            X, W = dask.persist(X, W) if W is not None else (X.persist(), None)
        # The input checks run in the same graph as the first pass (one round trip fewer).
        fit = Fit(X, W, self.num_threads)
        random_state = check_random_state(self.random_state)

        with verbose_logging(self.verbose):
            centres = init_array if init_array is not None else self._init_centres(fit, random_state)
            if self._cosine:  # spherical k-means starts on the unit sphere
                centres = _lloyd.unit_centres(centres)
            if self.verbose:
                logger.info("Initialization complete")
            centres, n_iter = fit.lloyd(
                centres, self.max_iter, self.tol, self.verbose, spherical=self._cosine
            )
            inertia, counts = fit.final(centres)
            if self._cosine:  # sum of w * (1 - cos): half the squared distance of unit vectors
                inertia /= 2

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
        return self._rows(fitted_rows(self, X))

    def _labels(self, X):
        centres = np.ascontiguousarray(self.cluster_centers_, dtype=X.dtype)
        return X.map_blocks(
            block_labels, centres, self.num_threads, dtype=np.int32, drop_axis=1, meta=np.empty(0, np.int32)
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
        """Euclidean distances to every centre (cosine distances with ``metric='cosine'``), shape
        (n_samples, n_clusters), lazy for dask input."""
        Xd = self._validate_predict_input(X)
        centres = np.ascontiguousarray(self.cluster_centers_, dtype=Xd.dtype)
        out = Xd.map_blocks(
            block_distances,
            centres,
            self.num_threads,
            self._cosine,
            dtype=Xd.dtype,
            chunks=(Xd.chunks[0], (self.n_clusters,)),
        )
        return out if isinstance(X, da.Array) else out.compute(scheduler="synchronous")

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the (weighted) inertia of ``X`` against the fitted centres."""
        Xd = self._validate_predict_input(X)
        fit = Fit(Xd, as_dask_weights(sample_weight, Xd), self.num_threads)
        inertia, _ = fit.final(np.ascontiguousarray(self.cluster_centers_, dtype=Xd.dtype))
        return -inertia / 2 if self._cosine else -inertia


class Fit:
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

    def map(self, fn, *args):
        return [dask.delayed(fn, pure=True)(xb, wb, *args) for xb, wb in zip(self.x_blocks, self.w_blocks)]

    def compute(self, *graphs):
        """``dask.compute(*graphs)``, with each ``tree_sum`` tree's total; the first call also runs the
        input checks, in the same graph, and raises before returning anything if they fail."""
        tops = [isinstance(g, TreeTop) for g in graphs]
        graphs = [list(g) if top else g for g, top in zip(graphs, tops)]
        if self.mean_variance is None:
            checks, *results = dask.compute(self.map(block_check), *graphs)
            self._validate(checks)
        else:
            results = dask.compute(*graphs)
        return tuple(add(*r) if top else r for r, top in zip(results, tops))

    def tolerance(self, tol):
        """``tol`` times the mean column variance (float64, from the checks' per-block moments)."""
        if self.mean_variance is None:
            self.compute()
        return float(self.mean_variance * tol)

    def _validate(self, checks):
        """Refuse non-finite values and bad weights, naming the block."""
        for b, (x_ok, w_ok, w_min, _, _, _) in enumerate(checks):
            rows = f"rows {self.offsets[b]} to {self.offsets[b + 1] - 1}"
            if not x_ok:
                raise ValueError(f"Input X contains NaN or infinity in block {b} ({rows}).")
            if not w_ok:
                raise ValueError(f"sample_weight contains NaN or infinity in block {b} ({rows}).")
            if w_min < 0:
                raise ValueError(f"Negative values in sample_weight in block {b} ({rows}).")
        if sum(c[3] for c in checks) <= 0:
            raise ValueError("The sum of sample_weight must be positive.")
        check_magnitude(self.X, n_rows=self.n, largest=max(c[5] for c in checks))
        self.mean_variance = float(np.mean(column_variances([c[4] for c in checks if c[4] is not None])))

    # -- Lloyd -----------------------------------------------------------------------------------------
    def lloyd(self, centres, max_iter, tol, verbose, spherical=False):
        """Lloyd iterations; stop when the squared centre shift is ``<= tol`` x the mean column variance.
        ``spherical``: each updated centre is scaled to unit length.

        In-memory ``_lloyd.lloyd`` also stops when no label changed; then the sums, hence the
        centres, are bitwise those of the previous iteration and the shift is 0 <= tol, so this
        single rule gives the same ``n_iter``. No per-row labels are kept between iterations.
        """
        centres = np.array(centres, dtype=self.dtype, order="C")
        for it in range(max_iter):
            (stats,) = self.compute(tree_sum(self.map(block_stats, centres, self.num_threads)))
            if it == 0:
                tol = self.tolerance(tol)
            sums, weights, inertia = stats
            if np.any(weights == 0):
                self._relocate_empty_clusters(centres, sums, weights)
            centres_new = _lloyd.update_centres(sums, weights, centres)
            if spherical:
                centres_new = _lloyd.unit_centres(centres_new)
            shift = float(np.sum((centres_new.astype(np.float64) - centres) ** 2))
            if verbose:
                logger.info("Iteration %d, inertia %s.", it, inertia)
            centres = centres_new
            after_iteration(self, it, centres)
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
            dask.delayed(block_farthest, pure=True)(xb, wb, centres_old, m, int(off), self.num_threads)
            for xb, wb, off in zip(self.x_blocks, self.w_blocks, self.offsets[:-1])
        ]
        (parts,) = self.compute(parts)
        dist = np.concatenate([p[0] for p in parts])
        index = np.concatenate([p[1] for p in parts])
        rows = np.concatenate([p[2] for p in parts])
        w = np.concatenate([p[3] for p in parts])
        labels = np.concatenate([p[4] for p in parts])
        far = np.lexsort((index, -dist))[:m]
        if not np.any(dist[far] > 0):  # every row on its centre: nothing to relocate (as in memory)
            return
        _lloyd.move_to_empty_clusters(sums, weights, empty, rows[far], w[far].astype(np.float64), labels[far])

    def final(self, centres):
        """(inertia, label counts) against ``centres``."""
        (total,) = self.compute(tree_sum(self.map(block_final, centres, self.num_threads)))
        inertia, counts = total
        return float(inertia), counts

    # -- initialisation ----------------------------------------------------------------------------
    def weighted_rows(self, k, entropy):
        """``k`` distinct rows drawn with probability proportional to the weights."""
        parts = [
            dask.delayed(block_weighted_keys, pure=True)(xb, wb, k, entropy, b)
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
                dask.delayed(block_bernoulli, pure=True)(xb, wb, p, entropy, attempt, b)
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
        min_sq = self.map(block_min_sq_distances, candidates, None, self.num_threads)
        min_sq = list(dask.persist(*min_sq))
        phi = self.compute(
            tree_sum([dask.delayed(weighted_sum, pure=True)(wb, m) for wb, m in zip(self.w_blocks, min_sq)])
        )[0]
        ell = oversampling_factor * k
        for r in range(rounds):
            if phi <= 0:
                break  # every row sits on a candidate
            new = [
                dask.delayed(block_oversample, pure=True)(xb, wb, m, phi, ell, entropy, r, b)
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
                        dask.delayed(block_min_sq_distances, pure=True)(xb, wb, new, m, self.num_threads)
                        for xb, wb, m in zip(self.x_blocks, self.w_blocks, min_sq)
                    ]
                )
            )
            phi = self.compute(
                tree_sum(
                    [dask.delayed(weighted_sum, pure=True)(wb, m) for wb, m in zip(self.w_blocks, min_sq)]
                )
            )[0]
            logger.debug("k-means|| round %d: %d candidates, cost %s.", r, candidates.shape[0], phi)
        del min_sq
        if candidates.shape[0] < k:
            extra = self.weighted_rows(k - candidates.shape[0], entropy + 1)
            candidates = np.concatenate([candidates, extra])
        candidates = np.ascontiguousarray(candidates, dtype=self.dtype)
        (weights,) = self.compute(tree_sum(self.map(block_candidate_weights, candidates, self.num_threads)))
        local = _InMemoryKMeans(n_clusters=k, init="k-means++", n_init=1, random_state=random_state)
        local.fit(candidates, sample_weight=weights.astype(self.dtype))
        return np.ascontiguousarray(local.cluster_centers_, dtype=self.dtype)


def after_iteration(fit, iteration, centres):
    """Called after every Lloyd iteration (a seam for tests: e.g. to lose a worker mid-fit)."""
