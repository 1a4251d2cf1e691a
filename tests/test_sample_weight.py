"""A weight of w equals w repeated rows where scikit-learn's does: in Lloyd's sums, in EM and in
the random starts when the copies sit in place (the draws follow the order of the rows)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
    check_sample_weight_equivalence_on_sparse_data,
)

from fastseg import GaussianMixture, KMeans, kmeans_plusplus


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(40, 4)) + c for c in (0, 5, 10)])
    return X, rng.integers(0, 5, size=len(X))  # zeros included: a weight of 0 drops the row


def outputs(model, X):
    if isinstance(model, GaussianMixture):
        return model.predict(X), model.predict_proba(X), model.score_samples(X)
    return model.predict(X), model.transform(X)


def assert_same_outputs(a, b, X):
    for ours, theirs in zip(outputs(a, X), outputs(b, X)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)


KMEANS = [lambda s: KMeans(3, random_state=s), lambda s: KMeans(6, random_state=s, algorithm="yinyang")]
MIXTURES = [
    lambda s: GaussianMixture(3, random_state=s),
    lambda s: GaussianMixture(2, covariance_type="diag", max_iter=5, random_state=s),
    lambda s: GaussianMixture(3, covariance_type="tied", init_params="k-means++", random_state=s),
]


@pytest.mark.parametrize(
    "make, sparse",
    [(KMEANS[0], False), (KMEANS[0], True), (KMEANS[1], False)] + [(m, False) for m in MIXTURES],
    ids=[
        "kmeans",
        "kmeans-sparse",
        "kmeans-yinyang",
        "mixture",
        "diag",
        "tied-k-means++",
    ],
)
def test_weights_equal_repeated_rows_in_place(data, make, sparse):
    # k-means++ draws are weight-equivalent: the first row by cumulative weight, candidates by
    # the running sums of w * d^2, potentials summed with the weights.
    X, w = data
    Xw, Xr = X, X.repeat(w, axis=0)
    if sparse:
        Xw, Xr = sp.csr_matrix(Xw), sp.csr_matrix(Xr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seed in range(2):
            assert_same_outputs(make(seed).fit(Xw, sample_weight=w), make(seed).fit(Xr), X)


def _check_data_features():
    # scikit-learn's equivalence check fits 15 rows of 30 features.
    return 30


@pytest.mark.parametrize(
    "check, algorithm",
    [
        (check_sample_weight_equivalence_on_dense_data, "lloyd"),
        (check_sample_weight_equivalence_on_dense_data, "yinyang"),
        (check_sample_weight_equivalence_on_sparse_data, "lloyd"),
    ],
)
def test_sklearn_equivalence_check_with_an_order_free_init(check, algorithm):
    # The check shuffles the weighted rows, so only an initialisation that does not depend on the
    # order of the rows can pass it; with explicit centres KMeans does, dense and sparse.
    init = np.random.default_rng(1).random((3, _check_data_features()))
    check("KMeans", KMeans(3, init=init, algorithm=algorithm))


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_sklearn_equivalence_check_mixture_with_explicit_start(covariance_type):
    d = _check_data_features()
    rng = np.random.default_rng(2)
    precisions = {
        "full": np.stack([np.eye(d) * 4.0] * 2),
        "tied": np.eye(d) * 4.0,
        "diag": np.full((2, d), 4.0),
        "spherical": np.full(2, 4.0),
    }[covariance_type]
    model = GaussianMixture(
        2,
        covariance_type=covariance_type,
        weights_init=[0.5, 0.5],
        means_init=rng.random((2, d)),
        precisions_init=precisions,
        reg_covar=1e-2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_sample_weight_equivalence_on_dense_data("GaussianMixture", model)


def repeated_data():
    rng = np.random.default_rng(6)
    X = np.vstack([rng.normal(size=(30, 3)) + c for c in (0, 4, 8)])
    return X, rng.integers(0, 4, size=len(X))


def test_kmeans_plusplus_centres_equal_for_repeated_rows_in_place():
    X, w = repeated_data()
    a, ia = kmeans_plusplus(X.repeat(w, axis=0), 5, random_state=0)
    b, ib = kmeans_plusplus(X, 5, sample_weight=w, random_state=0)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(X.repeat(w, axis=0)[ia], X[ib])  # indices into the caller's rows
