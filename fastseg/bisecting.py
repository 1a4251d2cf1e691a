"""``fastseg.BisectingKMeans``: scikit-learn's BisectingKMeans over the Numba Lloyd and seeding
kernels, with scikit-learn's tree, draws and stopping rules."""

import logging
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _lloyd, _rows
from ._centres import _CentresModel, initial_centres
from ._validation import unit_weights, verbose_logging, weights_of
from .kmeans import KMeans

logger = logging.getLogger("fastseg")


class _Node:
    """A cluster of the tree: its centre (in the centred coordinates of the fit), its rows
    (until it is split or the fit ends), its score and its two halves once split."""

    def __init__(self, centre, indices, score):
        self.centre, self.indices, self.score = centre, indices, score
        self.left = self.right = None
        self.label = None

    def split(self, labels, centres, scores):
        self.left = _Node(centres[0], self.indices[labels == 0], scores[0])
        self.right = _Node(centres[1], self.indices[labels == 1], scores[1])
        self.indices = None

    def leaves(self):
        if self.left is None:
            yield self
        else:
            yield from self.left.leaves()
            yield from self.right.leaves()

    def to_bisect(self):
        """The leaf of the highest score; the first in tree order on a tie."""
        best = None
        for leaf in self.leaves():
            if best is None or leaf.score > best.score:
                best = leaf
        return best


class BisectingKMeans(_CentresModel):
    """Bisecting K-Means; a drop-in for ``sklearn.cluster.BisectingKMeans``.

    Starting from one cluster of every row, the cluster of the largest inertia
    (``bisecting_strategy='biggest_inertia'``) or with the most rows ('largest_cluster') is split
    in two by a 2-means, ``n_clusters - 1`` times. As in scikit-learn, dense rows are clustered
    as ``X - X.mean(axis=0)`` (one copy of X, in X's dtype), each split runs on a copy of its
    cluster's rows with ``tol`` unscaled (scikit-learn passes it to every split as it is), and
    ``predict`` walks down the tree (the nearest of two centres at each split), which may give
    another label than the nearest of ``cluster_centers_``. Given the same ``random_state`` the
    splits draw the same rows as scikit-learn's and give the same labels and centres.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {'k-means++', 'random'} or callable, default='random'
        The start of each split's 2-means; a callable gets ``(X, 2, random_state=...)``.
    n_init : int, default=1
        2-means runs per split; the lowest inertia is kept (by more than a relative 1e-6).
    random_state : int, RandomState instance or None, default=None
    max_iter : int, default=300
    verbose : int, default=0
    tol : float, default=1e-4
        Squared centre shift that ends a split's 2-means (not scaled to the data).
    copy_x : bool, default=True
        Kept for compatibility: the caller's array is never modified either way.
    algorithm : {'lloyd', 'elkan'}, default='lloyd'
        Both give the same result (each split runs Lloyd).
    bisecting_strategy : {'biggest_inertia', 'largest_cluster'}, default='biggest_inertia'

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features), X's dtype
    labels_ : ndarray of shape (n_samples,), int32
    inertia_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    """

    _parameter_constraints: dict = {
        **KMeans._parameter_constraints,
        "init": [StrOptions({"k-means++", "random"}), callable],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "algorithm": [StrOptions({"lloyd", "elkan"})],
        "bisecting_strategy": [StrOptions({"biggest_inertia", "largest_cluster"})],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        init="random",
        n_init=1,
        random_state=None,
        max_iter=300,
        verbose=0,
        tol=1e-4,
        copy_x=True,
        algorithm="lloyd",
        bisecting_strategy="biggest_inertia",
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.random_state = random_state
        self.max_iter = max_iter
        self.verbose = verbose
        self.tol = tol
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.bisecting_strategy = bisecting_strategy

    def _bisect(self, X, sample_weight, node, random_state):
        X = X[node.indices]
        w = weights_of(sample_weight, node.indices)
        rows = _rows.Rows(X)
        best = None
        for _ in range(self.n_init):
            centres = initial_centres(rows, w, self.init, 2, random_state)
            labels, inertia, centres, _ = _lloyd.lloyd(
                rows, w, centres, self.max_iter, self.tol, self.verbose
            )
            if best is None or inertia < best[1] * (1 - 1e-6):
                best = labels, inertia, centres
        labels, _, centres = best
        if self.verbose:
            logger.info("New centroids from bisection: %s", centres)
        if self.bisecting_strategy == "biggest_inertia":
            distances = rows.sq_distances_to_assigned(centres, labels)
            if w.shape[0]:
                distances = distances * w
            scores = np.bincount(labels, weights=distances, minlength=2)
        else:
            scores = np.bincount(labels, minlength=2)
        node.split(labels, centres, scores)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute bisecting k-means clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; not used to start a split when ``init`` is a callable.

        Returns
        -------
        self
        """
        X, sample_weight = self._validate_fit_input(X, sample_weight, unit_if_none=True, streamed=False)
        random_state = check_random_state(self.random_state)
        # scikit-learn's centred copy of dense rows, rounded as it rounds it
        self._mean = None if sp.issparse(X) else X.mean(axis=0)
        Xc = X if self._mean is None else X - self._mean
        self._tree = _Node(np.asarray(Xc.mean(axis=0)).ravel(), np.arange(X.shape[0]), 0)
        with verbose_logging(self.verbose):
            for _ in range(self.n_clusters - 1):
                self._bisect(Xc, sample_weight, self._tree.to_bisect(), random_state)
        labels = np.full(X.shape[0], -1, dtype=np.int32)
        centres = np.empty((self.n_clusters, X.shape[1]), dtype=X.dtype)
        for i, leaf in enumerate(self._tree.leaves()):
            labels[leaf.indices] = i
            centres[i] = leaf.centre
            leaf.label, leaf.indices = i, None
        if self._mean is not None:
            centres += self._mean
        self.cluster_centers_, self.labels_ = centres, labels
        self.inertia_ = _lloyd.inertia(_rows.Rows(X), sample_weight, centres, labels)
        self._n_features_out = self.n_clusters
        self._fit_shift = None
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit and return ``labels_``."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def predict(self, X):
        """The leaf each row reaches going down the tree (int32)."""
        check_is_fitted(self)
        rows, _ = self._rows_and_centres(X)
        labels = np.full(rows.n, -1, dtype=np.int32)
        self._descend(rows.X, np.arange(rows.n), self._tree, labels)
        return labels

    def _descend(self, X, indices, node, labels):
        if node.left is None:
            labels[indices] = node.label
            return
        centres = np.vstack((node.left.centre, node.right.centre)).astype(X.dtype)
        if self._mean is not None:
            centres += self._mean
        side = np.full(indices.shape[0], -1, dtype=np.int32)
        _rows.Rows(X[indices]).assign(unit_weights(X.dtype), centres, side, update=False, inertia=False)
        self._descend(X, indices[side == 0], node.left, labels)
        self._descend(X, indices[side == 1], node.right, labels)
