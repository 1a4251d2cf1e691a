"""What the centre-based estimators (``KMeans``, ``GeneticKMeans``) share: the base class with
validation, predict/transform/score and fitted attributes; ``tol`` scaled to the data; the
missing-clusters warning; the one check of explicit initial centres (also used by ``fastseg.dask``).
"""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import (
    _assert_all_finite,
    _is_arraylike_not_scalar,
    check_is_fitted,
    validate_data,
)

from . import _seeding
from ._rows import Rows
from ._validation import (
    check_finite_magnitude,
    check_magnitude,
    check_weights,
    streamable,
    unit_rows,
    unit_weights,
)


def tolerance(rows, tol):
    """``tol`` scaled by the mean feature variance, as scikit-learn does.

    The variances come from a blocked float64 pass (no temporary the size of X).
    """
    if tol == 0:
        return 0.0
    return float(np.mean(rows.moments()[1]) * tol)


def is_same_clustering(labels1, labels2, n_clusters):
    """True when every cluster of ``labels1`` is one cluster of ``labels2`` (scikit-learn's test)."""
    mapping = np.full(n_clusters, -1, dtype=np.int64)
    mapping[labels1] = labels2  # any member's label; the check below fails if members disagree
    return bool(np.array_equal(mapping[labels1], labels2))


def warn_if_clusters_missing(counts, stacklevel):
    """scikit-learn's ConvergenceWarning when some of the clusters got no row."""
    distinct = int(np.count_nonzero(counts))
    if distinct < counts.shape[0]:
        warnings.warn(
            f"Number of distinct clusters ({distinct}) found smaller than n_clusters "
            f"({counts.shape[0]}). Possibly due to duplicate points in X.",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )


def check_centres(centres, n_clusters, n_features, what):
    """Refuse centres of the wrong shape or with non-finite values (``what``: "initial", ...)."""
    # scikit-learn's wording: code that calls either library matches on it.
    if centres.shape[0] != n_clusters:
        raise ValueError(
            f"The shape of the {what} centers {centres.shape} does not match the number of clusters {n_clusters}."
        )
    if centres.shape[1] != n_features:
        raise ValueError(
            f"The shape of the {what} centers {centres.shape} does not match the number of features "
            f"of the data {n_features}."
        )
    if not np.all(np.isfinite(centres)):
        raise ValueError(f"The {what} centers contain NaN or infinity.")
    check_magnitude(centres, f"The {what} centers")


def explicit_init(init, n_clusters, n_features, dtype):
    """``init`` as a checked C-ordered copy of ``dtype`` when it is an array of centres, else None."""
    if not _is_arraylike_not_scalar(init):
        return None
    centres = np.array(init, dtype=dtype, order="C", copy=True)
    if centres.ndim != 2:
        raise ValueError(f"init must be a 2-D array of centers, got {centres.ndim} dimension(s).")
    check_centres(centres, n_clusters, n_features, "initial")
    return centres


def initial_centres(rows, sample_weight, init, n_clusters, random_state, centred=False):
    """``n_clusters`` starting centres drawn as scikit-learn draws them: greedy k-means++
    (``centred``: on ``X - X.mean(axis=0)``, as ``KMeans.fit`` seeds), ``'random'`` rows, or
    ``init(X, n_clusters, random_state=...)``; None for explicit centres (the caller has them)."""
    if isinstance(init, str) and init == "k-means++":
        return _seeding.kmeans_plusplus(rows, sample_weight, n_clusters, random_state, centred=centred)[0]
    if isinstance(init, str) and init == "random":
        seeds = _seeding.draw_rows(rows, sample_weight, n_clusters, random_state)
        return np.ascontiguousarray(np.vstack([rows.row(i) for i in seeds]), dtype=rows.dtype)
    if callable(init):
        centres = init(rows.source, n_clusters, random_state=random_state)
        if sp.issparse(centres):
            centres = centres.toarray()
        centres = np.array(centres, dtype=rows.dtype, order="C")
        check_centres(centres, n_clusters, rows.d, "initial")
        return centres
    return None


# From this many values on, the rows a model predicts are checked in one kernel pass (NaN, infinity
# and overflow together: ``Rows.check_values``) instead of two (NumPy's max and min). Below, the two
# NumPy passes cost less than the first run's compilation of that pass's kernel.
ONE_PASS_CHECK = 1 << 20


def _taken_as_is(model, X):
    """A plain C-ordered 2-D float32/float64 array with the fitted number of features (and a model
    fitted without feature names): validation would return it unchanged."""
    return (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype in (np.float32, np.float64)
        and X.flags.c_contiguous
        and X.shape[0] >= 1
        and X.shape[1] == getattr(model, "n_features_in_", -1)
        and not hasattr(model, "feature_names_in_")
    )


class _CentresModel(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """What every centre-based model shares: validation, predict/transform/score, fitted attributes."""

    _accept_sparse = "csr"

    def _validate_X(self, X, reset, values=True):
        """X as the kernels take it. ``values=False`` leaves the values of dense rows unchecked
        (no pass over them): the caller checks them in one pass (``Rows.check``)."""
        if values is False and sp.issparse(X):
            values = True
        if not reset and _taken_as_is(self, X):
            # Already as the kernels take it: scikit-learn's checks that can fail on such an array
            # (non-finite values, with its message), without the conversions (a third of a small
            # predict or partial_fit).
            if values:
                _assert_all_finite(X, allow_nan=False, estimator_name=type(self).__name__, input_name="X")
                check_magnitude(X)
            return X
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse=self._accept_sparse,
            dtype=[np.float64, np.float32],
            order="C",
            accept_large_sparse=False,
            ensure_all_finite=values,
        )
        if values and not streamable(X):  # a streamed memmap is checked in its first pass (Rows.moments)
            check_magnitude(X)
        return X

    def _n_init_for_fit(self, default, stacklevel=3):
        """scikit-learn's number of starts: ``n_init``, or for 'auto' 1 with 'k-means++' and
        explicit centres, ``default`` otherwise; explicit centres run once, with its warning."""
        explicit = _is_arraylike_not_scalar(self.init)
        if self.n_init not in ("auto", "warn"):
            n_init = self.n_init
        else:
            n_init = 1 if explicit or (isinstance(self.init, str) and self.init == "k-means++") else default
        if explicit and n_init != 1:
            warnings.warn(
                "Explicit initial center position passed: performing only one init in "
                f"{self.__class__.__name__} instead of n_init={n_init}.",
                RuntimeWarning,
                stacklevel=stacklevel,
            )
            n_init = 1
        return n_init

    def _validate_fit_input(self, X, sample_weight, unit_if_none=False, values=True, streamed=True):
        """Validated (X, sample_weight) for ``fit``: at least ``n_clusters`` rows.

        With ``unit_if_none`` a dense C-ordered float memmap is passed through as it is, to be
        streamed: only its first row is checked here, its values in the first streamed pass.
        ``values=False``: the caller checks dense values in one pass (see ``_validate_X``).
        ``streamed=False``: a memmap is validated as any array (a fit that does not stream it).
        """
        if streamed and unit_if_none and streamable(X) and X.shape[0] > 0:
            self._validate_X(X[:1], reset=True)
        else:
            X = self._validate_X(X, reset=True, values=values)
        if X.shape[0] < self.n_clusters:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}.")
        return X, check_weights(sample_weight, X, unit_if_none)

    def _set_fitted(self, labels, inertia, centres, n_iter, rows=None):
        counts = np.zeros(self.n_clusters, dtype=np.int64)
        # bincount copies its input to int64: in blocks of 2^16 labels that copy is 0.5 MiB
        for start in range(0, labels.shape[0], 1 << 16):
            counts += np.bincount(labels[start : start + (1 << 16)], minlength=self.n_clusters)
        warn_if_clusters_missing(counts, stacklevel=4)
        self.cluster_centers_ = centres
        self._n_features_out = centres.shape[0]
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        # The mean the fit's GEMM and dot scores subtracted from its rows: predict subtracts it
        # too, so it needs no pass for a mean of its own and labels the fit's rows as labels_.
        self._fit_shift = None if rows is None else rows.known_shift(self.n_clusters)

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit and return ``labels_``."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit and return the distances of ``X`` to the centres."""
        return self.fit(X, sample_weight=sample_weight)._transform(X)

    def _rows_and_centres(self, X, assign=True):
        """Validated rows, their values checked, and the centres in their dtype. ``assign``: the
        rows go to an assignment pass (predict, score), whose GEMM and dot kernels subtract the
        fit's mean, or the rows' own when the model has none (then computed with the checks)."""
        check_is_fitted(self)
        stream = streamable(X)  # its values are checked with the input
        X = self._unit_rows(self._validate_X(X, reset=False, values=stream))
        shift = getattr(self, "_fit_shift", None)
        rows = Rows(X, shift=None if shift is None else shift.astype(X.dtype))
        if not (rows.sparse or stream):
            k = self.cluster_centers_.shape[0] if assign else None
            if X.size >= ONE_PASS_CHECK or rows.needs_mean(k):
                rows.check(k)
            else:
                check_finite_magnitude(X)
        return rows, np.ascontiguousarray(self.cluster_centers_, dtype=X.dtype)

    def predict(self, X):
        """Index of the nearest centre for each row of ``X`` (int32)."""
        rows, centres = self._rows_and_centres(X)
        labels = np.full(rows.n, -1, dtype=np.int32)
        rows.assign(unit_weights(rows.dtype), centres, labels, update=False, inertia=False)
        return labels

    def transform(self, X):
        """Euclidean distances of ``X`` to every centre, shape (n_samples, n_clusters)."""
        return self._transform(X)

    @property
    def _cosine(self):
        return getattr(self, "metric", "euclidean") == "cosine"

    def _unit_rows(self, X):
        """Validated ``X``; with ``metric='cosine'`` its rows scaled to unit length (dense values
        checked first: the scaling would hide an overflow)."""
        if not self._cosine:
            return X
        if not sp.issparse(X):
            check_finite_magnitude(X)
        return unit_rows(X)

    def _transform(self, X):
        """Euclidean distances; with ``metric='cosine'``, cosine distances (1 - cos)."""
        rows, centres = self._rows_and_centres(X, assign=False)
        sq = rows.sq_distances(centres)
        return sq / 2 if self._cosine else np.sqrt(sq)

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the (weighted) inertia of ``X`` against the fitted centres."""
        rows, centres = self._rows_and_centres(X)
        sample_weight = check_weights(sample_weight, rows.X, unit_if_none=True)
        labels = np.full(rows.n, -1, dtype=np.int32)
        _, _, inertia, _ = rows.assign(sample_weight, centres, labels, update=False)
        return -inertia / 2 if self._cosine else -inertia

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self._accept_sparse is not False
        return tags
