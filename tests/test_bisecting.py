"""``BisectingKMeans`` and ``k_means``: scikit-learn's results for the same ``random_state`` on its
real data sets and on customer-like tables with repeated rows, with weights and CSR; the tree,
the split choice and predict checked against a plain NumPy twin; bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import cluster
from sklearn.utils._param_validation import InvalidParameterError

from fastseg import BisectingKMeans, k_means

from .test_real_data import customers, real_data, weights_for

CASES = [
    (name, init, strategy)
    for name in ("iris", "wine", "breast_cancer", "customers")
    for init in ("random", "k-means++")
    for strategy in ("biggest_inertia", "largest_cluster")
]


def _data(name):
    return customers(0) if name == "customers" else real_data(name)


def assert_same_bisection(ours, theirs, X):
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    rtol = 1e-5 if X.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=rtol, atol=rtol)
    assert ours.cluster_centers_.dtype == X.dtype
    np.testing.assert_allclose(ours.inertia_, theirs.inertia_, rtol=1e-5 if X.dtype == np.float32 else 1e-10)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("name, init, strategy", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_as_scikit_learn_on_real_data(name, init, strategy, dtype):
    X = _data(name).astype(dtype)
    params = dict(n_clusters=6, init=init, bisecting_strategy=strategy, n_init=2, random_state=3)
    ours = BisectingKMeans(**params).fit(X)
    theirs = cluster.BisectingKMeans(**params).fit(X)
    assert_same_bisection(ours, theirs, X)


@pytest.mark.parametrize("kind", ["integer", "real", "skewed"])
@pytest.mark.parametrize("strategy", ["biggest_inertia", "largest_cluster"])
@pytest.mark.parametrize("name", ["customers", "wine"])
def test_same_as_scikit_learn_with_weights(name, kind, strategy):
    X = _data(name)
    if kind == "skewed":  # a few rows weigh most: the weighted inertia picks other splits
        w = np.random.default_rng(7).uniform(0.2, 3.0, X.shape[0]) ** 4
    else:
        w = weights_for(kind, X.shape[0], X.dtype, 1)
    params = dict(n_clusters=8, bisecting_strategy=strategy, random_state=0)
    ours = BisectingKMeans(**params).fit(X, sample_weight=w)
    assert_same_bisection(ours, cluster.BisectingKMeans(**params).fit(X, sample_weight=w), X)


@pytest.mark.parametrize("init", ["random", "k-means++"])
def test_same_as_scikit_learn_on_csr(init):
    X = sp.random(400, 30, density=0.15, format="csr", random_state=0)
    params = dict(n_clusters=5, init=init, random_state=0)
    ours = BisectingKMeans(**params).fit(X)
    assert_same_bisection(ours, cluster.BisectingKMeans(**params).fit(X), X)
    assert sp.isspmatrix_csr(X) and X.has_sorted_indices


def _twin(X, n_clusters, strategy, seed):
    """Plain NumPy bisection, scikit-learn's algorithm: centred rows; split the leaf of the highest
    score (the first on a tie) by a 2-means from two distinct rows drawn uniformly ('random'),
    run until no label changes; score by inertia or by size."""
    rs = np.random.RandomState(seed)
    mean = X.mean(axis=0)
    Xc = X - mean
    leaves = [(np.arange(X.shape[0]), Xc.mean(axis=0), 0.0)]
    for _ in range(n_clusters - 1):
        i = max(range(len(leaves)), key=lambda j: (leaves[j][2], -j))
        idx = leaves[i][0]
        sub = Xc[idx]
        centres = sub[
            rs.choice(idx.shape[0], size=2, replace=False, p=np.full(idx.shape[0], 1 / idx.shape[0]))
        ]
        previous = None
        while True:
            labels = ((sub[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
            if previous is not None and np.array_equal(labels, previous):
                break
            centres, previous = np.array([sub[labels == c].mean(0) for c in (0, 1)]), labels
        if strategy == "biggest_inertia":
            scores = [((sub[labels == c] - centres[c]) ** 2).sum() for c in (0, 1)]
        else:
            scores = [np.sum(labels == c) for c in (0, 1)]
        leaves[i : i + 1] = [(idx[labels == c], centres[c], scores[c]) for c in (0, 1)]
    labels = np.empty(X.shape[0], dtype=int)
    for c, (idx, _, _) in enumerate(leaves):
        labels[idx] = c
    return labels, np.array([centre for _, centre, _ in leaves]) + mean


@pytest.mark.parametrize("strategy", ["biggest_inertia", "largest_cluster"])
@pytest.mark.parametrize("name", ["wine", "customers"])
def test_tree_and_split_choice_match_a_numpy_twin(name, strategy):
    X = _data(name)
    fit = BisectingKMeans(5, bisecting_strategy=strategy, random_state=5, tol=0).fit(X)
    labels, centres = _twin(X, 5, strategy, seed=5)
    np.testing.assert_array_equal(fit.labels_, labels)
    np.testing.assert_allclose(fit.cluster_centers_, centres, rtol=1e-10)


def test_predict_walks_down_the_tree():
    X = real_data("iris")
    fit = BisectingKMeans(5, random_state=0).fit(X)
    rng = np.random.default_rng(0)
    new = X[rng.integers(0, X.shape[0], 300)] + rng.normal(scale=0.8, size=(300, X.shape[1]))
    got = fit.predict(new)
    np.testing.assert_array_equal(got, cluster.BisectingKMeans(5, random_state=0).fit(X).predict(new))
    # some rows reach a leaf whose centre is not their nearest: the tree, not the flat argmin
    nearest = ((new[:, None, :] - fit.cluster_centers_[None]) ** 2).sum(-1).argmin(1)
    assert np.any(got != nearest)


def test_caller_arrays_are_left_alone():
    X = customers(2)
    X.setflags(write=False)
    w = np.ones(X.shape[0])
    w.setflags(write=False)
    before = X.copy()
    BisectingKMeans(4, random_state=0).fit(X, sample_weight=w).predict(X)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize(
    "params, X, error, match",
    [
        ({"n_clusters": 5}, np.zeros((3, 2)), ValueError, "n_samples=3 should be >= n_clusters=5"),
        ({"init": np.zeros((2, 2))}, np.zeros((10, 2)), InvalidParameterError, "'init' parameter"),
        ({"bisecting_strategy": "x"}, np.zeros((10, 2)), InvalidParameterError, "bisecting_strategy"),
        ({}, np.array([[1.0, np.nan]] * 10), ValueError, "NaN"),
        ({"n_init": 0}, np.zeros((10, 2)), InvalidParameterError, "'n_init' parameter"),
    ],
)
def test_bad_input_is_refused_as_scikit_learn_refuses_it(params, X, error, match):
    with pytest.raises(error, match=match):
        cluster.BisectingKMeans(**params).fit(X)
    with pytest.raises(error, match=match):
        BisectingKMeans(**params).fit(X)


@pytest.mark.parametrize("name", ["iris", "customers"])
def test_k_means_function_is_scikit_learn_s(name):
    X = _data(name)
    ours = k_means(X, 4, random_state=1, n_init=3, return_n_iter=True)
    theirs = cluster.k_means(X, 4, random_state=1, n_init=3, return_n_iter=True)
    np.testing.assert_array_equal(ours[1], theirs[1])
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-10)
    assert ours[3] == theirs[3]
    assert len(k_means(X, 4, random_state=1)) == 3
