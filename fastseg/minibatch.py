"""``fastseg.MiniBatchKMeans``: scikit-learn's MiniBatchKMeans with the steps of a whole fit in one
compiled call (``fastseg._kernels.minibatch``), drawing scikit-learn's mini-batches."""

import logging
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.fixes import parse_version

from . import _rows
from ._centres import _CentresModel, explicit_init, initial_centres, tolerance
from ._lloyd import unit_centres
from ._validation import check_weights, verbose_logging, weights_of

logger = logging.getLogger("fastseg")

# ``partial_fit`` labels a batch of at most this many rows on one thread.
SMALL_BATCH = 16_384

# How the installed scikit-learn draws a fit's mini-batches (see ``fit``).
WEIGHTED_DRAWS = parse_version(sklearn.__version__).release >= (1, 9)


def _generator_state(random_state):
    """The MT19937 state of a ``RandomState`` as the kernels take it: (key, pos), copies."""
    state = random_state.get_state()
    return np.array(state[1], dtype=np.uint32), np.array([state[2]], dtype=np.int64)


def _set_generator_state(random_state, key, pos):
    name, _, _, has_gauss, gauss = random_state.get_state()
    random_state.set_state((name, key, int(pos[0]), has_gauss, gauss))


class MiniBatchKMeans(_CentresModel):
    """Mini-batch K-means; a drop-in for ``sklearn.cluster.MiniBatchKMeans``.

    Parameters, attributes and methods mean what they mean in scikit-learn, and given the same
    ``random_state`` a fit draws the same validation rows, starts and mini-batches (NumPy's
    generator is replayed in compiled code; the mini-batches in proportion to the weights with
    scikit-learn 1.9, uniformly and then weighted with 1.8, as the installed release does) and updates the centres with scikit-learn's float
    arithmetic, in X's dtype: the centres, ``n_steps_`` and labels are scikit-learn's unless a row
    of a mini-batch sits at a near tie between two centres (scikit-learn's distances are computed
    through a matrix product, fastseg's directly, so each rounds its own way). The steps of a
    ``fit`` run in one compiled call; CSR mini-batches are made dense (``batch_size`` x
    n_features) as they are drawn. ``verbose`` logs the starts and scikit-learn's line on convergence, not every step.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {'k-means++', 'random'}, callable or array-like of shape (n_clusters, n_features)
    max_iter : int, default=100
        Passes over the data: the fit runs at most ``max_iter * n_samples // batch_size`` steps.
    batch_size : int, default=1024
    verbose : int, default=0
    compute_labels : bool, default=True
        Label every row and compute ``inertia_`` after the fit (else ``inertia_`` is the smoothed
        batch inertia times ``n_samples``, as in scikit-learn).
    random_state : int, RandomState instance or None, default=None
    tol : float, default=0.0
        Squared centre shift of one step, relative to the mean feature variance, that ends a fit.
    max_no_improvement : int or None, default=10
        Steps without a better smoothed batch inertia that end a fit.
    init_size : int or None, default=None
        Rows drawn to start the centres from (``3 * batch_size`` when None).
    n_init : 'auto' or int, default='auto'
        Starts tried (1 for 'k-means++' and explicit centres, else 3); the one of the lowest
        inertia on ``init_size`` validation rows is kept.
    reassignment_ratio : float, default=0.01
        Clusters whose count falls below this fraction of the largest move to random rows.
    metric : {'euclidean', 'cosine'}, default='euclidean'
        'cosine' is spherical mini-batch k-means, as ``KMeans(metric='cosine')``: rows scaled to
        unit length (a copy; a row of zeros is a ValueError), each updated centre scaled to unit
        length after every step, ``inertia_``, ``score`` and ``transform`` in cosine distance
        ``1 - cos``. Not in scikit-learn.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features), X's dtype
    labels_ : ndarray of shape (n_samples,), int32 (with ``compute_labels``)
    inertia_ : float
    n_iter_ : int
    n_steps_ : int
    counts_ : ndarray of shape (n_clusters,), X's dtype
        The weight each centre has gathered (its learning rate is ``1 / counts_``).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "random"}), callable, "array-like"],
        "n_init": [
            StrOptions({"auto"}),
            Hidden(StrOptions({"warn"})),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "compute_labels": ["boolean"],
        "max_no_improvement": [Interval(Integral, 0, None, closed="left"), None],
        "init_size": [Interval(Integral, 1, None, closed="left"), None],
        "reassignment_ratio": [Interval(Real, 0, None, closed="left")],
        "metric": [StrOptions({"euclidean", "cosine"})],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        max_iter=100,
        batch_size=1024,
        verbose=0,
        compute_labels=True,
        random_state=None,
        tol=0.0,
        max_no_improvement=10,
        init_size=None,
        n_init="auto",
        reassignment_ratio=0.01,
        metric="euclidean",
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.verbose = verbose
        self.compute_labels = compute_labels
        self.random_state = random_state
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.init_size = init_size
        self.n_init = n_init
        self.reassignment_ratio = reassignment_ratio
        self.metric = metric

    def _sizes(self, n_samples):
        """scikit-learn's batch size, init size and number of starts for ``n_samples`` rows."""
        batch = min(self.batch_size, n_samples)
        init_size = self.init_size
        if init_size is None:
            init_size = 3 * batch if 3 * batch >= self.n_clusters else 3 * self.n_clusters
        elif init_size < self.n_clusters:
            warnings.warn(
                f"init_size={init_size} should be larger than n_clusters={self.n_clusters}. Setting it to "
                "min(3*n_clusters, n_samples)",
                RuntimeWarning,
                stacklevel=3,
            )
            init_size = 3 * self.n_clusters
        init_size = min(init_size, n_samples)
        n_init = self._n_init_for_fit(3, stacklevel=4)
        return batch, init_size, n_init

    def _start(self, X, sample_weight, random_state, init_size, init_array):
        """scikit-learn's ``_init_centroids`` with ``init_size``: the start drawn from
        ``init_size`` rows taken at random (all rows when there are no more)."""
        if init_size < X.shape[0]:  # drawn for explicit centres too, as scikit-learn draws them
            rows = random_state.randint(0, X.shape[0], init_size)
            X = X[rows]
            sample_weight = weights_of(sample_weight, rows)
        if init_array is None:
            centres = initial_centres(_rows.Rows(X), sample_weight, self.init, self.n_clusters, random_state)
        else:
            centres = init_array.copy()
        # spherical k-means starts on the unit sphere (drawn rows already are, up to rounding)
        return unit_centres(centres) if self._cosine else centres

    def _labels_inertia(self, X, sample_weight, centres):
        """Labels and inertia of rows (unit rows for cosine: then in 1 - cos, half the squared
        distance)."""
        labels = np.full(X.shape[0], -1, dtype=np.int32)
        _, _, inertia, _ = _rows.Rows(X).assign(sample_weight, centres, labels, update=False)
        return labels, inertia / 2 if self._cosine else inertia

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute the centroids on X by chunking it into mini-batches.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        from ._kernels import minibatch as _mb

        X, sample_weight = self._validate_fit_input(X, sample_weight, unit_if_none=True, streamed=False)
        X = self._unit_rows(X)
        n = X.shape[0]
        batch, init_size, n_init = self._sizes(n)
        tol = tolerance(_rows.Rows(X), self.tol)
        random_state = check_random_state(self.random_state)
        init_array = explicit_init(self.init, self.n_clusters, X.shape[1], X.dtype)
        valid = random_state.randint(0, n, init_size)
        X_valid = X[valid]
        w_valid = weights_of(sample_weight, valid)
        best = None
        with verbose_logging(self.verbose):
            for i in range(n_init):
                if self.verbose:
                    logger.info("Init %d/%d with method %s", i + 1, n_init, self.init)
                centres = self._start(X, sample_weight, random_state, init_size, init_array)
                _, inertia = self._labels_inertia(X_valid, w_valid, centres)
                if self.verbose:
                    logger.info("Inertia for init %d/%d: %s", i + 1, n_init, inertia)
                if best is None or inertia < best[1]:
                    best = centres, inertia
            centres = np.ascontiguousarray(best[0], dtype=X.dtype)
            counts = np.zeros(self.n_clusters, dtype=X.dtype)
            key, pos = _generator_state(random_state)
            since = np.zeros(1, np.int64)
            if sp.issparse(X):
                dense, data, indices, indptr = np.empty((0, X.shape[1]), X.dtype), X.data, X.indices, X.indptr
            else:
                dense, data, indices, indptr = X, X[:0, 0], np.empty(0, np.int32), np.empty(0, np.int32)
            # scikit-learn 1.9 draws the mini-batches in proportion to the weights (``choice(n,
            # batch, p=w / w.sum())``: its cdf, computed as NumPy computes it) and counts each row
            # once; 1.8 draws them uniformly and counts each row with its weight.
            weights = np.ones(n, X.dtype) if sample_weight.shape[0] == 0 else sample_weight
            total = float(np.sum(weights)) if WEIGHTED_DRAWS else float(n)
            if WEIGHTED_DRAWS:
                cdf = (weights / np.sum(weights)).astype(np.float64).cumsum()
                cdf /= cdf[-1]
            else:
                cdf = np.empty(0)
            n_steps, ewa, centres, stop = _mb.fit(
                dense, data, indices, indptr, sp.issparse(X), n, cdf, sample_weight, sample_weight.shape[0] == 0,
                centres, counts, (self.max_iter * n) // batch, batch, np.array([self.reassignment_ratio], X.dtype),
                tol, -1 if self.max_no_improvement is None else self.max_no_improvement,
                key, pos, since, np.ones(1, X.dtype), self._cosine,
            )  # fmt: skip
            _set_generator_state(random_state, key, pos)
            if self.verbose and stop:
                why = "small centers change" if stop == 1 else "lack of improvement in inertia"
                logger.info("Converged (%s) at step %d/%d", why, n_steps, (self.max_iter * n) // batch)
        self.cluster_centers_ = centres
        self.counts_ = counts
        self._batch_size, self._init_size, self._n_since_last_reassign = batch, init_size, int(since[0])
        self._n_features_out = self.n_clusters
        self._fit_shift = None
        self.n_steps_ = n_steps
        self.n_iter_ = int(np.ceil((n_steps * batch) / n))
        if self.compute_labels:
            self.labels_, self.inertia_ = self._labels_inertia(X, sample_weight, centres)
        else:
            self.inertia_ = ewa * total / (2 if self._cosine else 1)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """One mini-batch step on X (the centres start from X on the first call).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        from ._kernels import minibatch as _mb

        started = hasattr(self, "cluster_centers_")
        if started:
            X = self._validate_X(X, reset=False)
            sample_weight = check_weights(sample_weight, X, unit_if_none=True)
        else:
            X, sample_weight = self._validate_fit_input(X, sample_weight, unit_if_none=True, streamed=False)
        X = self._unit_rows(X)
        if not hasattr(self, "_random_state"):
            self._random_state = check_random_state(self.random_state)
        self.n_steps_ = getattr(self, "n_steps_", 0)
        if not started:
            batch, init_size, _ = self._sizes(X.shape[0])
            self._batch_size, self._init_size = batch, init_size
            init_array = explicit_init(self.init, self.n_clusters, X.shape[1], X.dtype)
            with verbose_logging(self.verbose):
                centres = self._start(X, sample_weight, self._random_state, init_size, init_array)
            self.cluster_centers_ = np.ascontiguousarray(centres, dtype=X.dtype)
            self.counts_ = np.zeros(self.n_clusters, dtype=X.dtype)
            self._n_since_last_reassign = 0
            self._generator = None
            self._n_features_out = self.n_clusters
            self._fit_shift = None
        self._n_since_last_reassign += self._batch_size
        reassign = bool(np.any(self.counts_ == 0)) or self._n_since_last_reassign >= 10 * self.n_clusters
        if reassign:
            self._n_since_last_reassign = 0
        Xb = np.ascontiguousarray(X.toarray() if sp.issparse(X) else X)
        centres = self.cluster_centers_
        # The generator's state lives in the kernels' arrays between calls; it goes back into the
        # RandomState each call only when that is the caller's own (they may draw from it too).
        shared = self._random_state is self.random_state
        if shared or getattr(self, "_generator", None) is None:
            self._generator = _generator_state(self._random_state)
        key, pos = self._generator
        _mb.step(
            Xb, sample_weight, sample_weight.shape[0] == 0, centres, centres, self.counts_, reassign,
            np.array([self.reassignment_ratio], X.dtype), key, pos, np.empty(Xb.shape[0], np.int32),
            np.empty(Xb.shape[0], np.int64), np.ones(1, X.dtype), self._cosine,
        )  # fmt: skip
        if shared:
            _set_generator_state(self._random_state, key, pos)
        if self.compute_labels:
            if Xb.shape[0] <= SMALL_BATCH:  # one thread: a hand-off to a second costs more
                self.labels_ = np.empty(Xb.shape[0], np.int32)
                inertia = _mb.labels_inertia(
                    Xb, sample_weight, sample_weight.shape[0] == 0, centres, self.labels_
                )
                self.inertia_ = inertia / 2 if self._cosine else inertia
            else:
                self.labels_, self.inertia_ = self._labels_inertia(X, sample_weight, centres)
        self.n_steps_ += 1
        return self
