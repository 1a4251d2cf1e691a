"""A weight of w equals w repeated rows, in place and in any order: the random starts draw from
the weighted set of distinct rows whenever rows repeat or carry weights, and from the caller's
rows, as scikit-learn does, when every weight is 1 and no row repeats."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
    check_sample_weight_equivalence_on_sparse_data,
)

from fastseg import GaussianMixture, GeneticKMeans, KMeans, _rows, _seeding, kmeans_plusplus


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


def weighted_set(X, w):
    """The distinct rows of positive weight and their summed weights, in lexicographic order
    (written with np.unique: independent of the hash table it checks)."""
    X = X.toarray() if sp.issparse(X) else X
    kept = w > 0
    values, inverse = np.unique(X[kept] + 0.0, axis=0, return_inverse=True)  # + 0.0: -0.0 is 0.0
    return values, np.bincount(inverse.ravel(), weights=w[kept])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparse", [False, True])
def test_start_set_is_the_weighted_set_of_distinct_rows(dtype, sparse):
    rng = np.random.default_rng(3)
    base = rng.integers(0, 3, size=(60, 3)).astype(dtype)  # small integers: many equal rows
    base[rng.random(base.shape) < 0.3] = 0.0
    base[0, 0], base[1] = -0.0, base[0]  # -0.0 equals 0.0
    base[1, 0] = 0.0
    w = rng.integers(0, 4, size=len(base)).astype(dtype)
    expected_rows, expected_weights = weighted_set(base, w)
    first = None
    for trial in range(3):
        order = rng.permutation(len(base)) if trial else np.arange(len(base))
        X = sp.csr_matrix(base[order]) if sparse else base[order]
        start = _seeding.start_set(_rows.Rows(X), w[order])
        dense = start.rows.X.toarray() if sparse else start.rows.X
        assert start.weights.dtype == dtype
        # the same multiset as np.unique's ...
        got = np.lexsort(dense.T[::-1])
        np.testing.assert_array_equal(dense[got] + 0.0, expected_rows)
        np.testing.assert_array_equal(start.weights[got], expected_weights)
        # ... in the same order whatever the order of the caller's rows
        if first is None:
            first = (dense, start.weights)
        np.testing.assert_array_equal(dense, first[0])
        np.testing.assert_array_equal(start.weights, first[1])
        # each caller row points at its distinct row (-1: weight 0), each distinct row at a caller row
        Xd = X.toarray() if sparse else X
        kept = w[order] > 0
        np.testing.assert_array_equal(dense[start.group[kept]], Xd[kept])
        assert np.all(start.group[~kept] == -1)
        np.testing.assert_array_equal(Xd[start.index], dense)


def test_no_false_merges():
    # Rows one unit in the last place apart, and rows with hashes forced equal, stay apart.
    rng = np.random.default_rng(4)
    X = rng.random((50, 4))
    X[1] = X[0]
    X[1, 3] = np.nextafter(X[0, 3], 2.0)
    start = _seeding.start_set(_rows.Rows(X), np.full(len(X), 2.0))
    assert start.index.shape[0] == len(X)
    # every hash equal: each pair of rows goes to the value-by-value comparison
    from fastseg._kernels import seeding as kernels

    for dtype, ubits in ((np.float64, np.uint64), (np.float32, np.uint32)):
        Y = X.astype(dtype)
        Y[1, 3] = np.nextafter(Y[0, 3], dtype(2))
        Y[2] = Y[0]
        Y[3] = Y[0]
        Y[3, 1] = np.nextafter(Y[0, 1], dtype(2))
        Y[4] = -0.0
        Y[5] = 0.0
        first = np.empty(len(Y), dtype=np.int64)
        negzero = np.array(-0.0, dtype=dtype).view(ubits)[()]
        same_hash = np.zeros(len(Y), dtype=np.uint64)
        buckets = _seeding.bucket_rows(same_hash, np.empty(0, dtype), n_buckets=1)
        distinct = kernels.group_rows(Y.view(ubits), negzero, *buckets, first)
        expected = np.arange(len(Y))
        expected[[2, 5]] = [0, 4]
        np.testing.assert_array_equal(first, expected)
        assert distinct == len(Y) - 2
        Ys = sp.csr_matrix(Y)
        distinct = kernels.group_rows_csr(
            Ys.data.view(ubits),
            Ys.indices,
            Ys.indptr,
            np.zeros(Y.shape[1], dtype=ubits),
            negzero,
            *buckets,
            first,
        )
        np.testing.assert_array_equal(first, expected)
    index = np.arange(6)
    _seeding._sort_equal_hashes(X, index, np.array([1, 7, 7, 7, 9, 9], dtype=np.uint64))
    np.testing.assert_array_equal(index[1:4], 1 + np.lexsort(X[1:4].T[::-1]))
    np.testing.assert_array_equal(index[4:], 4 + np.lexsort(X[4:6].T[::-1]))


def test_sparse_rows_with_explicit_zeros_and_unsorted_indices():
    dense = np.array([[0.0, 2.0, 0.0], [0.0, 2.0, 0.0], [1.0, 0.0, 3.0], [3.0, 0.0, 1.0]])
    # row 1 stores an explicit zero; row 2 its columns in reverse order
    X = sp.csr_matrix(
        (
            np.array([2.0, 0.0, 2.0, 3.0, 1.0, 3.0, 1.0]),
            np.array([1, 0, 1, 2, 0, 0, 2]),
            np.array([0, 1, 3, 5, 7]),
        ),
        shape=(4, 3),
    )
    before = (X.data.copy(), X.indices.copy())
    start = _seeding.start_set(_rows.Rows(X), np.ones(4))
    assert start.index.shape[0] == 3
    np.testing.assert_array_equal(start.weights[start.group], [2.0, 2.0, 1.0, 1.0])
    np.testing.assert_array_equal(start.rows.X.toarray()[start.group], dense)
    np.testing.assert_array_equal(X.data, before[0])  # the caller's matrix is left alone
    np.testing.assert_array_equal(X.indices, before[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_distinct_unit_rows_draw_sklearns_rows(dtype):
    # No repeated row and unit weights (None or ones): exactly scikit-learn's draws.
    from sklearn.cluster import KMeans as SkKMeans
    from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus

    X = np.random.default_rng(5).normal(size=(3000, 6)).astype(dtype) + 4
    assert _seeding.start_set(_rows.Rows(X), np.ones(len(X), dtype=dtype)) is None
    for seed in range(3):
        for w in (None, np.ones(len(X), dtype=dtype)):
            np.testing.assert_array_equal(
                kmeans_plusplus(X, 12, sample_weight=w, random_state=seed)[1],
                sk_kmeans_plusplus(X, 12, sample_weight=w, random_state=seed)[1],
            )
        for init in ("k-means++", "random"):
            ours = KMeans(12, init=init, n_init=1, max_iter=1, random_state=seed).fit(X)
            theirs = SkKMeans(12, init=init, n_init=1, max_iter=1, random_state=seed).fit(X)
            np.testing.assert_array_equal(ours.labels_, theirs.labels_)  # the same 12 starting rows


def repeated_data():
    rng = np.random.default_rng(6)
    X = np.vstack([rng.normal(size=(30, 3)) + c for c in (0, 4, 8)])
    return X, rng.integers(0, 4, size=len(X))


ORDER_FREE = [
    lambda s: KMeans(3, random_state=s),
    lambda s: KMeans(3, init="random", n_init=3, random_state=s),
    lambda s: GaussianMixture(3, random_state=s),
    lambda s: GaussianMixture(3, init_params="k-means++", random_state=s),
    lambda s: GaussianMixture(3, init_params="random", max_iter=5, random_state=s),
    lambda s: GaussianMixture(3, init_params="random_from_data", random_state=s),
    lambda s: GeneticKMeans(3, population_size=6, n_generations=3, max_iter=5, random_state=s),
    lambda s: GeneticKMeans(
        3, population_size=6, n_generations=3, init_population="k-means++", random_state=s
    ),
]


@pytest.mark.parametrize(
    "make",
    ORDER_FREE,
    ids=[
        "kmeans",
        "random",
        "mixture",
        "mixture-k-means++",
        "mixture-random",
        "random_from_data",
        "ga",
        "ga-k-means++",
    ],
)
@pytest.mark.parametrize("sparse", [False, True])
def test_repeated_rows_equal_weights_in_any_order(make, sparse):
    X, w = repeated_data()
    if sparse and not isinstance(make(0), KMeans):
        pytest.skip("dense input only")
    rng = np.random.default_rng(7)
    repeated = X.repeat(w, axis=0)  # unit weights, repeated rows
    collapsed, counts = weighted_set(X, w)
    fits = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for data, weights in [
            (repeated, None),
            (repeated[rng.permutation(len(repeated))], None),
            (collapsed, counts),
            (X[(perm := rng.permutation(len(X)))], w[perm]),
        ]:
            fits.append(make(0).fit(sp.csr_matrix(data) if sparse else data, sample_weight=weights))
    for fit in fits[1:]:
        assert_same_outputs(fits[0], fit, X)


def test_kmeans_plusplus_centres_equal_for_repeated_and_weighted_rows():
    X, w = repeated_data()
    order = np.random.default_rng(8).permutation(len(X))
    a, ia = kmeans_plusplus(X.repeat(w, axis=0), 5, random_state=0)
    b, ib = kmeans_plusplus(X[order], 5, sample_weight=w[order], random_state=0)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(X.repeat(w, axis=0)[ia], X[order][ib])  # indices into the caller's rows


def test_memmap_is_not_checked_for_repeated_rows(tmp_path):
    """A streamed memmap is not checked for repeated rows (that would need memory in proportion to
    the rows); the same rows in memory are."""
    from fastseg import _seeding
    from fastseg._rows import Rows

    rng = np.random.default_rng(3)
    X = rng.standard_normal((600, 3)).round(1)
    X = np.concatenate([X, X[:200]])  # repeated rows
    mm = np.memmap(tmp_path / "rows.f8", dtype=np.float64, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    mm = np.memmap(tmp_path / "rows.f8", dtype=np.float64, mode="r", shape=X.shape)
    unit = np.ones(X.shape[0])
    assert _seeding.start_set(Rows(mm), unit) is None
    assert _seeding.start_set(Rows(X), unit) is not None
