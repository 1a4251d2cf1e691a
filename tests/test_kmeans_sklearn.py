"""fastseg.KMeans against sklearn.cluster.KMeans: same init => same result."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans as SkKMeans
from sklearn.exceptions import ConvergenceWarning

from fastseg import KMeans

from .conftest import make_data

RTOL = {np.float64: 1e-6, np.float32: 1e-4}


def assert_same_fit(ours, theirs, dtype):
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    assert ours.n_iter_ == theirs.n_iter_
    scale = np.abs(theirs.cluster_centers_).max()
    np.testing.assert_allclose(
        ours.cluster_centers_, theirs.cluster_centers_, rtol=RTOL[dtype], atol=RTOL[dtype] * scale
    )
    np.testing.assert_allclose(ours.inertia_, theirs.inertia_, rtol=RTOL[dtype])
    assert ours.cluster_centers_.dtype == theirs.cluster_centers_.dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n,d,k", [(300, 2, 3), (1000, 8, 8), (600, 40, 30)])
@pytest.mark.parametrize("seed", [0, 1])
def test_same_explicit_init_same_result(dtype, n, d, k, seed):
    rng = np.random.default_rng(seed)
    X = make_data(rng, n, d, k=k, dtype=dtype, offset=10.0)
    w = rng.uniform(0.5, 2, n)
    init = X[rng.choice(n, k, replace=False)]
    for sample_weight in (None, w):
        ours = KMeans(k, init=init, n_init=1).fit(X, sample_weight=sample_weight)
        theirs = SkKMeans(k, init=init, n_init=1).fit(X, sample_weight=sample_weight)
        assert_same_fit(ours, theirs, dtype)


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_same_random_state_draws_the_same_initial_rows(init):
    rng = np.random.default_rng(3)
    X = make_data(rng, 2000, 6, k=6)
    for seed in range(3):
        ours = KMeans(6, init=init, n_init=2, random_state=seed).fit(X)
        theirs = SkKMeans(6, init=init, n_init=2, random_state=seed).fit(X)
        assert_same_fit(ours, theirs, np.float64)


@pytest.mark.parametrize("dtype, weighted", [(np.float32, False), (np.float32, True), (np.float64, False)])
def test_kmeans_plusplus_draws_sklearns_rows_at_scale(dtype, weighted):
    # 5e4 x 16, k=64: a shape where float32 picks used to leave scikit-learn's after a few
    # dozen centres (its distances are float64 sums rounded to float32, its running sums and
    # potentials float32). The data sits away from the origin, as customer features do.
    from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus

    from fastseg import kmeans_plusplus

    rng = np.random.default_rng(11)
    X = make_data(rng, 50_000, 16, k=64, dtype=dtype, offset=3.0)
    w = rng.uniform(0.5, 2.0, X.shape[0]).astype(dtype) if weighted else None
    for seed in range(2):
        _, ours = kmeans_plusplus(X, 64, sample_weight=w, random_state=seed)
        _, theirs = sk_kmeans_plusplus(X, 64, sample_weight=w, random_state=seed)
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kmeans_fit_seeds_on_sklearns_rows_at_scale(dtype):
    # KMeans.fit seeds on the centred rows, as scikit-learn's does: one iteration from the same
    # 64 rows, and the whole fit, give the same labels (all 50,000), n_iter_ and centres.
    rng = np.random.default_rng(12)
    X = make_data(rng, 50_000, 16, k=64, dtype=dtype, offset=3.0)
    for max_iter in (1, 300):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ours = KMeans(64, max_iter=max_iter, random_state=5).fit(X)
            theirs = SkKMeans(64, max_iter=max_iter, random_state=5).fit(X)
        assert_same_fit(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_default_fit_is_sklearns_for_every_seed(dtype):
    # n_init=1 k-means++ (scikit-learn's default), ten seeds: each the same fit.
    rng = np.random.default_rng(7)
    X = make_data(rng, 3000, 5, k=12, dtype=dtype)
    for seed in range(10):
        assert_same_fit(KMeans(10, random_state=seed).fit(X), SkKMeans(10, random_state=seed).fit(X), dtype)


def test_kmeans_plusplus_seeding_distribution_matches_sklearn():
    # Independent seeds on each side: the seeding potential has the same mean (200 draws,
    # standard error about 1%, so 4% is a 3-sigma bound).
    from sklearn.cluster import kmeans_plusplus

    from fastseg import _rows, _seeding

    rng = np.random.default_rng(7)
    X = make_data(rng, 3000, 5, k=12)
    rows = _rows.Rows(X)
    w = np.ones(len(X))

    def potential(C):
        return ((X[:, None] - C[None]) ** 2).sum(-1).min(1).sum()

    ours = [
        potential(_seeding.kmeans_plusplus(rows, w, 10, np.random.RandomState(10_000 + s))[0])
        for s in range(200)
    ]
    theirs = [potential(kmeans_plusplus(X, 10, random_state=s)[0]) for s in range(200)]
    assert abs(np.mean(ours) / np.mean(theirs) - 1) < 0.04


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_input_agrees(fmt, dtype):
    rng = np.random.default_rng(11)
    X = make_data(rng, 500, 12, k=4, dtype=dtype)
    X[rng.random(X.shape) < 0.6] = 0
    S = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    init = X[:4].copy()
    ours = KMeans(4, init=init, n_init=1).fit(S)
    theirs = SkKMeans(4, init=init, n_init=1).fit(S)
    assert_same_fit(ours, theirs, dtype)
    dense = KMeans(4, init=init, n_init=1).fit(X)
    np.testing.assert_array_equal(ours.labels_, dense.labels_)
    np.testing.assert_allclose(ours.transform(S), dense.transform(X), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(ours.predict(S), dense.predict(X))
    np.testing.assert_allclose(ours.score(S), dense.score(X), rtol=1e-4)
    for seed in range(2):  # sparse k-means++ draws the same rows as scikit-learn too
        a = KMeans(4, random_state=seed).fit(S)
        b = SkKMeans(4, random_state=seed).fit(S)
        np.testing.assert_array_equal(a.labels_, b.labels_)


def test_empty_cluster_relocated_like_sklearn():
    rng = np.random.default_rng(0)
    X = make_data(rng, 200, 2, k=2)
    # The third centre is far from every point: its cluster is empty after the first step.
    init = np.vstack([X[:2], [[1e3, 1e3]]])
    ours = KMeans(3, init=init, n_init=1).fit(X)
    theirs = SkKMeans(3, init=init, n_init=1).fit(X)
    assert_same_fit(ours, theirs, np.float64)
    assert len(np.unique(ours.labels_)) == 3


def test_fewer_distinct_points_than_clusters_warns_like_sklearn():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]), 4, axis=0)
    with pytest.warns(ConvergenceWarning, match="Number of distinct clusters \\(3\\)") as ours_w:
        ours = KMeans(4, random_state=0).fit(X)
    with pytest.warns(ConvergenceWarning):
        theirs = SkKMeans(4, random_state=0).fit(X)
    assert len(ours_w) >= 1
    assert ours.inertia_ == pytest.approx(theirs.inertia_, abs=1e-12)
    assert len(np.unique(ours.labels_)) == len(np.unique(theirs.labels_)) == 3


@pytest.mark.parametrize("max_iter", [1, 2, 5])
def test_labels_match_predict_after_max_iter(max_iter):
    rng = np.random.default_rng(5)
    X = make_data(rng, 1500, 3, k=7)
    init = X[:7].copy()
    ours = KMeans(7, init=init, n_init=1, max_iter=max_iter, tol=0).fit(X)
    theirs = SkKMeans(7, init=init, n_init=1, max_iter=max_iter, tol=0).fit(X)
    assert_same_fit(ours, theirs, np.float64)
    np.testing.assert_array_equal(ours.labels_, ours.predict(X))


def test_tol_stops_like_sklearn():
    rng = np.random.default_rng(9)
    X = make_data(rng, 3000, 4, k=3)
    init = X[:6].copy()
    for tol in (1e-1, 1e-2, 1e-4, 0.0):
        ours = KMeans(6, init=init, n_init=1, tol=tol).fit(X)
        theirs = SkKMeans(6, init=init, n_init=1, tol=tol).fit(X)
        assert_same_fit(ours, theirs, np.float64)


def test_transform_score_predict_agree():
    rng = np.random.default_rng(2)
    X = make_data(rng, 800, 5, k=4)
    Y = make_data(rng, 100, 5, k=4)
    ours = KMeans(4, random_state=0).fit(X)
    theirs = SkKMeans(4, random_state=0).fit(X)
    np.testing.assert_allclose(ours.transform(Y), theirs.transform(Y), rtol=1e-9)
    np.testing.assert_array_equal(ours.predict(Y), theirs.predict(Y))
    w = rng.uniform(0, 3, 100)
    np.testing.assert_allclose(ours.score(Y, sample_weight=w), theirs.score(Y, sample_weight=w), rtol=1e-9)
    np.testing.assert_allclose(ours.fit_transform(X), theirs.fit_transform(X), rtol=1e-9)


def test_n_init_auto_rules_and_explicit_init_warning():
    rng = np.random.default_rng(1)
    X = make_data(rng, 200, 2)
    with pytest.warns(RuntimeWarning, match="performing only one init"):
        KMeans(3, init=X[:3], n_init=5).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KMeans(3, init=X[:3]).fit(X)  # 'auto' => one init, no warning
    calls = []

    def init(X, k, random_state):
        calls.append(1)
        return X[random_state.choice(len(X), k, replace=False)]

    KMeans(3, init=init, random_state=0).fit(X)
    assert len(calls) == 10  # 'auto' => 10 runs for a callable, like 'random'


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_public_kmeans_plusplus_matches_sklearn(dtype):
    from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus

    from fastseg import kmeans_plusplus

    rng = np.random.default_rng(4)
    X = make_data(rng, 1500, 7, k=9, dtype=dtype)
    w = rng.uniform(0.2, 3, len(X)).astype(dtype)
    for seed in range(3):
        for sample_weight in (None, w):
            ours, ours_idx = kmeans_plusplus(X, 9, sample_weight=sample_weight, random_state=seed)
            theirs, theirs_idx = sk_kmeans_plusplus(X, 9, sample_weight=sample_weight, random_state=seed)
            np.testing.assert_array_equal(ours_idx, theirs_idx)
            np.testing.assert_array_equal(ours, theirs)
            assert ours.dtype == dtype
    with pytest.raises(ValueError, match="n_samples=3 should be >= n_clusters=9"):
        kmeans_plusplus(X[:3], 9)
