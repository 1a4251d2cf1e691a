"""``MiniBatchKMeans``: the generator kernels draw exactly what NumPy's ``RandomState`` draws, and
for the same ``random_state`` a fit gives scikit-learn's centres, steps and labels on its real data
sets and on customer-like tables with repeated rows, with weights (zeros included) and CSR;
``partial_fit`` step by step; bad input."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import cluster
from sklearn.utils._param_validation import InvalidParameterError

from fastseg import MiniBatchKMeans
from fastseg._kernels import minibatch as mb
from fastseg.minibatch import _generator_state

from .test_real_data import customers, real_data, weights_for


def _state(seed):
    rs = np.random.RandomState(seed)
    return rs, *_generator_state(rs)


@pytest.mark.parametrize("seed", [0, 7, 2**31])
def test_generator_kernels_draw_what_randomstate_draws(seed):
    rs, key, pos = _state(seed)
    out = np.empty(3000, np.int64)
    for high in (1, 2, 7, 1000, 1_000_003, 2**31):
        mb.randint(key, pos, high, out)
        np.testing.assert_array_equal(out, rs.randint(0, high, 3000))
    perm = np.empty(1024, np.int64)
    mb.permutation(key, pos, 1024, perm)
    np.testing.assert_array_equal(perm, rs.permutation(1024))
    p = np.random.default_rng(seed % 2**32).uniform(0, 1, 500) ** 3
    p /= p.sum()
    cdf = p.cumsum()
    cdf /= cdf[-1]
    mb.choice(key, pos, cdf, out)
    np.testing.assert_array_equal(out, rs.choice(500, 3000, p=p, replace=True))
    assert mb.uniform(key, pos) == rs.random_sample()
    state = rs.get_state()
    np.testing.assert_array_equal(key, state[1])
    assert pos[0] == state[2]


@pytest.mark.parametrize("n", [1, 7, 8, 9, 64, 127, 128, 129, 255, 1000, 4099])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pairwise_sum_is_numpy_s(n, dtype):
    a = (np.random.default_rng(n).normal(size=n) * 1e3).astype(dtype)
    assert mb.pairwise_sum(a) == a.sum()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
def test_batch_labels_kernel_is_a_numpy_twin_s(dtype, weighted):
    # Each distance summed over the features in order, in X's dtype, as the twin sums it.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(1500, 7)).astype(dtype)
    X[700:710] = X[:10]  # repeated rows
    centres = X[[0, 100, 200, 300, 400]].copy()
    centres[4] = centres[3]  # two equal centres: ties go to the first
    w = rng.uniform(0.5, 2, len(X)).astype(dtype) if weighted else np.empty(0, dtype)
    labels = np.empty(len(X), np.int32)
    inertia = mb.labels_inertia(X, w, not weighted, centres, labels)
    sq = np.zeros((len(X), len(centres)), dtype)
    for f in range(X.shape[1]):
        sq += (X[:, f, None] - centres[None, :, f]) ** 2
    np.testing.assert_array_equal(labels, sq.argmin(axis=1))
    best = sq.min(axis=1).astype(np.float64)
    want = float(best @ (w.astype(np.float64) if weighted else np.ones(len(X))))
    np.testing.assert_allclose(inertia, want, rtol=1e-12)


def assert_same_minibatch(ours, theirs):
    assert ours.n_steps_ == theirs.n_steps_ and ours.n_iter_ == theirs.n_iter_
    np.testing.assert_array_equal(ours.cluster_centers_, theirs.cluster_centers_)
    assert ours.cluster_centers_.dtype == theirs.cluster_centers_.dtype
    if hasattr(theirs, "labels_"):
        np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    rtol = 1e-5 if theirs.cluster_centers_.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(ours.inertia_, theirs.inertia_, rtol=rtol)


def _fits(X, w=None, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the same warnings from both (e.g. too few distinct rows)
        return (
            MiniBatchKMeans(**params).fit(X, sample_weight=w),
            cluster.MiniBatchKMeans(**params).fit(X, sample_weight=w),
        )


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "digits", "customers"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_same_as_scikit_learn_on_real_data(name, dtype, init):
    X = (customers(0) if name == "customers" else real_data(name)).astype(dtype)
    assert_same_minibatch(*_fits(X, n_clusters=6, init=init, batch_size=64, random_state=2))


@pytest.mark.parametrize("kind", ["integer", "real"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_as_scikit_learn_with_weights(kind, dtype):
    X = customers(1).astype(dtype)
    w = weights_for(kind, X.shape[0], dtype, 1)
    assert_same_minibatch(*_fits(X, w, n_clusters=5, batch_size=100, random_state=0))


@pytest.mark.parametrize(
    "params",
    [
        dict(tol=1e-3, max_no_improvement=None),  # stops on the centre shift (NumPy's pairwise sum)
        dict(max_no_improvement=None, max_iter=3),  # every step
        dict(compute_labels=False),  # inertia_ from the smoothed batch inertia
        dict(reassignment_ratio=0.3, n_clusters=20),  # many clusters moved to random rows
        dict(init_size=30, n_init=4, init="random"),
        dict(batch_size=2000),  # larger than the data
        dict(init="explicit"),  # the start's rows are drawn (and unused) for explicit centres too
    ],
)
def test_same_as_scikit_learn_for_each_stopping_rule_and_option(params):
    X = customers(2)
    if params.get("init") == "explicit":
        params = {"init": X[::250][:6].copy()}
    assert_same_minibatch(*_fits(X, **{"n_clusters": 6, "batch_size": 50, "random_state": 4, **params}))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_as_scikit_learn_on_csr(dtype):
    X = sp.random(2000, 40, density=0.1, format="csr", random_state=0, dtype=dtype)
    ours, theirs = _fits(X, n_clusters=5, batch_size=100, random_state=0)
    assert_same_minibatch(ours, theirs)
    assert X.has_sorted_indices


def test_partial_fit_step_by_step_is_scikit_learn_s():
    X = customers(3).astype(np.float32)
    w = weights_for("real", X.shape[0], np.float32, 3)
    ours, theirs = MiniBatchKMeans(6, random_state=0), cluster.MiniBatchKMeans(6, random_state=0)
    for start in range(0, 1500, 100):
        ours.partial_fit(X[start : start + 100], sample_weight=w[start : start + 100])
        theirs.partial_fit(X[start : start + 100], sample_weight=w[start : start + 100])
        np.testing.assert_array_equal(ours.cluster_centers_, theirs.cluster_centers_)
    assert ours.n_steps_ == theirs.n_steps_ == 15
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    # a RandomState of the caller's is advanced as scikit-learn advances it, call by call
    rs_ours, rs_theirs = np.random.RandomState(5), np.random.RandomState(5)
    ours = MiniBatchKMeans(20, random_state=rs_ours, reassignment_ratio=0.5)
    theirs = cluster.MiniBatchKMeans(20, random_state=rs_theirs, reassignment_ratio=0.5)
    for start in range(0, 1500, 100):
        ours.partial_fit(X[start : start + 100])
        theirs.partial_fit(X[start : start + 100])
        assert rs_ours.randint(1000) == rs_theirs.randint(1000)
    np.testing.assert_array_equal(ours.cluster_centers_, theirs.cluster_centers_)
    # after a fit, partial_fit goes on from its centres
    ours, theirs = _fits(X, n_clusters=4, random_state=1, batch_size=128)
    ours.partial_fit(X[:300])
    theirs.partial_fit(X[:300])
    np.testing.assert_array_equal(ours.cluster_centers_, theirs.cluster_centers_)


def test_caller_arrays_are_left_alone():
    X = customers(4)
    X.setflags(write=False)
    w = np.ones(X.shape[0])
    w.setflags(write=False)
    before = X.copy()
    MiniBatchKMeans(4, random_state=0, batch_size=64).fit(X, sample_weight=w).partial_fit(X[:100])
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize(
    "params, X, error, match",
    [
        ({"n_clusters": 5}, np.zeros((3, 2)), ValueError, "n_samples=3 should be >= n_clusters=5"),
        ({"batch_size": 0}, np.zeros((10, 2)), InvalidParameterError, "'batch_size' parameter"),
        ({"reassignment_ratio": -1.0}, np.zeros((10, 2)), InvalidParameterError, "reassignment_ratio"),
        ({}, np.array([[1.0, np.nan]] * 10), ValueError, "NaN"),
        ({"init": np.zeros((3, 2)), "n_clusters": 2}, np.zeros((10, 2)), ValueError, "does not match"),
    ],
)
def test_bad_input_is_refused_as_scikit_learn_refuses_it(params, X, error, match):
    with pytest.raises(error, match=match):
        cluster.MiniBatchKMeans(**params).fit(X)
    with pytest.raises(error, match=match):
        MiniBatchKMeans(**params).fit(X)


@pytest.mark.parametrize("estimator", ["MiniBatchKMeans", "BisectingKMeans"])
def test_a_memmap_with_nan_is_refused(estimator, tmp_path):
    import fastseg

    X = np.memmap(tmp_path / "x.f64", dtype=np.float64, mode="w+", shape=(500, 3))
    X[:] = np.random.default_rng(0).normal(size=(500, 3))
    X[7, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        getattr(fastseg, estimator)(3, random_state=0).fit(X)
