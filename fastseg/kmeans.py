"""``fastseg.KMeans``: scikit-learn's KMeans API over the Numba Lloyd and k-means++ kernels."""

import logging
import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array

from . import _lloyd, _rows, _seeding, _yinyang
from ._centres import _CentresModel, explicit_init, initial_centres, is_same_clustering, tolerance
from ._validation import check_magnitude, check_weights, verbose_logging

logger = logging.getLogger("fastseg")


def kmeans_plusplus(
    X, n_clusters, *, sample_weight=None, x_squared_norms=None, random_state=None, n_local_trials=None
):
    """Greedy k-means++ seeding; a drop-in for ``sklearn.cluster.kmeans_plusplus``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_clusters : int
    sample_weight : array-like of shape (n_samples,), default=None
    x_squared_norms : array-like of shape (n_samples,), default=None
        Checked for its length, as scikit-learn checks it, then unused: distances are
        computed directly.
    random_state : int, RandomState instance or None
        The same seed picks the same rows as scikit-learn.
    n_local_trials : int, default=None
        Candidates tried per centre; ``2 + int(log(n_clusters))`` when None.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features), X's dtype
    indices : ndarray of shape (n_clusters,)
    """
    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32], accept_large_sparse=False)
    check_magnitude(X)
    if not (isinstance(n_clusters, Integral) and n_clusters >= 1):
        raise ValueError(f"n_clusters must be a positive integer, got {n_clusters!r}.")
    if X.shape[0] < n_clusters:
        raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={n_clusters}.")
    if x_squared_norms is not None:
        n_norms = check_array(x_squared_norms, dtype=X.dtype, ensure_2d=False).shape[0]
        if n_norms != X.shape[0]:
            raise ValueError(
                f"The length of x_squared_norms {n_norms} should be equal to the length of n_samples "
                f"{X.shape[0]}."
            )
    if n_local_trials is not None and not (isinstance(n_local_trials, Integral) and n_local_trials >= 1):
        raise ValueError(f"n_local_trials must be a positive integer or None, got {n_local_trials!r}.")
    sample_weight = check_weights(sample_weight, X, unit_if_none=True)
    return _seeding.kmeans_plusplus(
        _rows.Rows(X), sample_weight, n_clusters, check_random_state(random_state), n_local_trials
    )


class KMeans(_CentresModel):
    """K-Means clustering with Numba kernels; a drop-in for ``sklearn.cluster.KMeans``.

    Parameters, attributes and methods mean what they mean in scikit-learn. Given the same
    ``random_state`` the k-means++ and 'random' initialisations draw the same rows as
    scikit-learn, whatever the data (repeated rows, ties, weights, CSR), and the same initial
    centres give the same labels and ``n_iter_``. As in scikit-learn, a weight of w equals w
    repeated rows in Lloyd's sums and in the k-means++ draws when the copies sit in place, not
    when they are shuffled: the random draws follow the order of the rows.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    init : {'k-means++', 'random'}, callable or array-like of shape (n_clusters, n_features)
        Initialisation: greedy k-means++, ``n_clusters`` rows drawn at random (weighted by
        ``sample_weight``), ``init(X, n_clusters, random_state=...)``, or explicit centres.
    n_init : 'auto' or int, default='auto'
        Number of runs with different seeds; the one with the lowest inertia is kept.
        'auto' is 1 for 'k-means++' and explicit centres, 10 for 'random' and callables.
    max_iter : int, default=300
        Maximum number of Lloyd iterations per run.
    tol : float, default=1e-4
        Convergence threshold on the squared centre shift, relative to the mean feature
        variance. Runs also stop as soon as no label changes.
    verbose : int, default=0
        When non-zero, print scikit-learn's progress lines to stdout (records of the ``logging``
        logger ``'fastseg'``; a handler attached to it receives them instead).
    random_state : int, RandomState instance or None, default=None
        Seed for the initialisation.
    copy_x : bool, default=True
        Kept for compatibility. fastseg never centres, casts or otherwise writes to ``X`` in
        place, so the caller's array is untouched either way and no full copy is made when
        ``X`` is already C-ordered float32/float64 (or CSR): a fit then needs X plus the
        ``(n,)`` int32 labels and O(k * d) statistics. Other layouts and dtypes are copied
        once, as scikit-learn does.
    algorithm : {'auto', 'lloyd', 'elkan', 'yinyang'}, default='auto'
        All give the same labels, centres and ``n_iter_`` from the same init ('elkan' with one
        cluster warns and runs Lloyd, as scikit-learn does). 'lloyd' computes
        every distance each iteration; 'yinyang' (and 'elkan', scikit-learn's name for a
        bound-based exact method) keeps per-row bounds and skips the distances they rule out
        (dense input; memory 8 * (k/10 + 2) bytes per row). 'auto' picks Yinyang where it was
        measured faster (k >= 64, 8 <= d <= 256, enough rows; see ``fastseg._yinyang``) and Lloyd
        elsewhere, for sparse input and for streamed memmaps.

    metric : {'euclidean', 'cosine'}, default='euclidean'
        'cosine' is spherical k-means: rows are scaled to unit length (a copy; a row of zeros is a
        ValueError), assigned to the nearest of unit-length centres (the largest cosine), and
        each updated centre is scaled back to unit length. ``inertia_`` and ``score`` are then
        sums of ``w * (1 - cos)`` and ``transform`` gives ``1 - cos``. ``algorithm`` as for
        Euclidean rows: Yinyang's bounds hold on unit rows as they are (same result as Lloyd's).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features), X's dtype
    labels_ : ndarray of shape (n_samples,), int32
    inertia_ : float
    n_iter_ : int
        Lloyd iterations run; after ``partial_fit``, the number of passes ended.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    n_rows_seen_ : int
        ``partial_fit`` only: rows added in the current pass.

    Memory and streaming
    --------------------
    Without ``sample_weight`` no weight array is built. A dense C-ordered float32/float64
    ``numpy.memmap`` is streamed: every pass (column moments, k-means++ seeding, Lloyd) walks
    it in batches of row slots and unmaps each batch after use, so a file larger than RAM fits
    with resident memory of about one batch plus the labels. The result is identical to the
    fit of the same rows in memory. ``init='random'`` builds one ``(n,)`` probability array.

    Data in batches
    ---------------
    ``partial_fit(X_batch)`` adds the exact Lloyd statistics (per-cluster weighted sums and
    weights) of a batch, assigned to the centres the current pass started from; after each
    call ``cluster_centers_`` is the Lloyd update of everything seen in this pass. ``end_pass()``
    makes those centres the ones the next pass assigns to. Feeding every batch once per pass
    and calling ``end_pass()`` after each pass reproduces ``fit`` with the same initial centres
    and ``max_iter`` equal to the number of passes (a cluster that gets no row keeps its centre,
    where ``fit`` would move it to a far point). This is not MiniBatchKMeans's stochastic
    update: rows seen in a pass all count, once, with their weight. The first call
    initialises the centres from its batch (``init``, one run), or starts from the centres of
    an earlier ``fit``.
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "random"}), callable, "array-like"],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "copy_x": ["boolean"],
        "algorithm": [StrOptions({"auto", "lloyd", "elkan", "yinyang"})],
        "metric": [StrOptions({"euclidean", "cosine"})],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_init="auto",
        max_iter=300,
        tol=1e-4,
        verbose=0,
        random_state=None,
        copy_x=True,
        algorithm="auto",
        metric="euclidean",
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.metric = metric

    def _init_centres(self, rows, sample_weight, random_state, init_array):
        # k-means++ is seeded on X - X.mean(axis=0) in X's dtype, the rounding of scikit-learn's
        # centred copy (computed on the fly: X itself is left alone), so float32 draws its rows too.
        centres = initial_centres(
            rows, sample_weight, self.init, self.n_clusters, random_state, centred=not rows.sparse
        )
        centres = init_array if centres is None else centres
        # spherical k-means starts on the unit sphere (drawn rows already are, up to rounding)
        return _lloyd.unit_centres(centres) if self.metric == "cosine" else centres

    def _iterations(self, rows):
        """The function that runs one K-means from initial centres (all give the same result)."""
        if self.algorithm == "elkan" and self.n_clusters == 1:
            warnings.warn(
                "algorithm='elkan' doesn't make sense for a single cluster. Using 'lloyd' instead.",
                RuntimeWarning,
                stacklevel=4,
            )
            return _lloyd.lloyd
        spherical = self.metric == "cosine"
        lloyd = partial(_lloyd.lloyd, spherical=True) if spherical else _lloyd.lloyd
        if rows.sparse or rows.stream or self.algorithm == "lloyd":
            return lloyd
        if self.algorithm == "auto":
            if _yinyang.choose_algorithm(rows.n, rows.d, self.n_clusters, self.max_iter) == "lloyd":
                return lloyd
        return partial(_yinyang.yinyang, spherical=True) if spherical else _yinyang.yinyang

    # -- fitting ----------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute k-means clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; not used for initialisation when ``init`` is an array or
            a callable.

        Returns
        -------
        self
        """
        # Dense values (finite, no overflow) are checked in one pass (``Rows.check``).
        X, sample_weight = self._validate_fit_input(X, sample_weight, unit_if_none=True, values=False)
        self.__dict__.pop("_pass_centres", None)  # a later partial_fit starts from this fit
        X = self._unit_rows(X)
        rows = _rows.Rows(X)
        run = self._iterations(rows)
        if _lloyd.lloyd in (run, getattr(run, "func", None)):
            rows.compile_ahead(self.n_clusters)
        try:
            if not rows.sparse:  # (sparse values are checked with the input)
                rows.check(self.n_clusters, variances=self.tol > 0)
            init_array = explicit_init(self.init, self.n_clusters, X.shape[1], X.dtype)
            n_init = self._n_init_for_fit(10)
            random_state = check_random_state(self.random_state)
            tol = tolerance(rows, self.tol)

            best = None
            with verbose_logging(self.verbose):
                for _ in range(n_init):
                    centres_init = self._init_centres(rows, sample_weight, random_state, init_array)
                    if self.verbose:
                        logger.info("Initialization complete")
                    labels, inertia, centres, n_iter = run(
                        rows, sample_weight, centres_init, self.max_iter, tol, self.verbose
                    )
                    if best is None or (
                        inertia < best[1] and not is_same_clustering(labels, best[0], self.n_clusters)
                    ):
                        best = (labels, inertia, centres, n_iter)
        finally:
            rows.stop_ahead()

        labels, inertia, centres, n_iter = best
        if self.metric == "cosine":  # sum of w * (1 - cos): half the squared distance of unit vectors
            inertia = inertia / 2
        self._set_fitted(labels, inertia, centres, n_iter, rows=rows)
        return self

    # -- data in batches -------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Add the exact Lloyd statistics of one batch of rows (see "Data in batches").

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        if not hasattr(self, "_pass_centres") and hasattr(self, "cluster_centers_"):
            # Fitted by ``fit``: the passes start from its centres.
            X = self._validate_X(X, reset=False)
            sample_weight = check_weights(sample_weight, X, unit_if_none=True)
            self.n_iter_ = 0
            self._start_pass(self.cluster_centers_)
        elif not hasattr(self, "_pass_centres"):
            X, sample_weight = self._validate_fit_input(X, sample_weight)
            init_array = explicit_init(self.init, self.n_clusters, X.shape[1], X.dtype)
            self._random_state = check_random_state(self.random_state)
            with verbose_logging(self.verbose):
                centres = self._init_centres(_rows.Rows(X), sample_weight, self._random_state, init_array)
            self.n_iter_ = 0
            self._start_pass(centres)
        else:
            X = self._validate_X(X, reset=False)
            sample_weight = check_weights(sample_weight, X, unit_if_none=True)
        rows = _rows.Rows(X)
        centres = self._pass_centres.astype(X.dtype, copy=False)
        labels = np.full(rows.n, -1, dtype=np.int32)
        sums, weights, inertia, _ = rows.assign(sample_weight, centres, labels)
        self._pass_sums += sums
        self._pass_weights += weights
        self._pass_inertia += inertia
        self.n_rows_seen_ += rows.n
        self.cluster_centers_ = _lloyd.update_centres(self._pass_sums, self._pass_weights, self._pass_centres)
        self._n_features_out = self.n_clusters
        self.labels_ = labels
        self.inertia_ = self._pass_inertia
        self._fit_shift = None  # predict subtracts the mean of the rows it gets
        return self

    def end_pass(self):
        """End a pass over the batches: the centres it computed become the next pass's centres.

        Returns the squared centre shift of the pass (compare it with ``tol`` times the mean
        feature variance to decide when to stop).
        """
        if not hasattr(self, "_pass_centres"):
            raise ValueError("end_pass() needs at least one partial_fit() call first.")
        shift = float(np.sum((self.cluster_centers_.astype(np.float64) - self._pass_centres) ** 2))
        self.n_iter_ += 1
        self._start_pass(self.cluster_centers_)
        return shift

    def _start_pass(self, centres):
        self._pass_centres = np.array(centres, order="C")
        self._pass_sums = np.zeros(centres.shape)
        self._pass_weights = np.zeros(centres.shape[0])
        self._pass_inertia = 0.0
        self.n_rows_seen_ = 0
        self.cluster_centers_ = self._pass_centres.copy()


@validate_params(
    {"X": ["array-like", "sparse matrix"], "sample_weight": ["array-like", None], "return_n_iter": [bool]},
    prefer_skip_nested_validation=False,
)
def k_means(
    X,
    n_clusters,
    *,
    sample_weight=None,
    init="k-means++",
    n_init="auto",
    max_iter=300,
    verbose=False,
    tol=1e-4,
    random_state=None,
    copy_x=True,
    algorithm="lloyd",
    return_n_iter=False,
):
    """K-means in one call; a drop-in for ``sklearn.cluster.k_means`` (a ``KMeans`` fit).

    Returns (centres, labels, inertia), and ``n_iter`` last with ``return_n_iter``.
    """
    est = KMeans(
        n_clusters=n_clusters, init=init, n_init=n_init, max_iter=max_iter, verbose=verbose, tol=tol,
        random_state=random_state, copy_x=copy_x, algorithm=algorithm,
    ).fit(X, sample_weight=sample_weight)  # fmt: skip
    if return_n_iter:
        return est.cluster_centers_, est.labels_, est.inertia_, est.n_iter_
    return est.cluster_centers_, est.labels_, est.inertia_
