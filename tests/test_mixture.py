"""fastseg.GaussianMixture: kernel twins, agreement with scikit-learn, weighted EM, invariants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SkGMM

from fastseg import GaussianMixture
from fastseg._kernels import em
from fastseg._kernels._config import BLOCK_ROWS, CHUNK_ROWS, slot_bounds, threads

from . import reference
from .conftest import make_data

TYPES = ["full", "tied", "diag", "spherical"]


def random_params(rng, k, d, diag):
    means = rng.normal(size=(k, d))
    U = np.triu(rng.normal(scale=0.3, size=(k, d, d)))
    U[:, np.arange(d), np.arange(d)] = rng.uniform(0.5, 1.5, size=(k, d))
    if diag:
        U = U * np.eye(d)
    log_const = rng.normal(size=k)
    return means, U, log_const


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, BLOCK_ROWS - 1, BLOCK_ROWS + 1, CHUNK_ROWS * 70 + 5])
@pytest.mark.parametrize("moments,diag", [(0, False), (1, True), (2, False)])
def test_em_stats_matches_reference(rng, dtype, n, moments, diag):
    k, d = 3, 4
    X = make_data(rng, n, d, k=3, dtype=dtype)
    w = rng.uniform(0.2, 2, n).astype(dtype)
    shift = X.mean(0).astype(np.float64)
    means, U, log_const = random_params(rng, k, d, diag)
    bounds = slot_bounds(n)
    s = bounds.size - 1
    out = (np.empty((s, k)), np.empty((s, k, d)), np.empty((s, k, d, d)), np.empty(s), np.empty(s))
    em.em_stats(X, w, shift, means, U, diag, log_const, moments, bounds, *out)
    got = (out[0].sum(0), out[1].sum(0), out[2].sum(0), out[3].sum(), out[4].sum())
    want = reference.em_stats(X, w, shift, means, U, diag, log_const, moments)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-9 * max(1.0, np.abs(b).max()))
    wlp = np.empty((n, k))
    em.weighted_log_prob(X, shift, means, U, diag, log_const, wlp)
    np.testing.assert_allclose(
        wlp, reference.weighted_log_prob(X, shift, means, U, diag, log_const), rtol=1e-12
    )


@pytest.mark.usefixtures("split_every_pass")
def test_em_stats_thread_count_independent(rng):
    X = make_data(rng, CHUNK_ROWS * 9 + 3, 5)
    w = np.ones(len(X))
    means, U, lc = random_params(rng, 4, 5, False)
    bounds = slot_bounds(len(X))
    s = bounds.size - 1
    results = []
    for n_threads in (1, 2):
        out = (np.empty((s, 4)), np.empty((s, 4, 5)), np.empty((s, 4, 5, 5)), np.empty(s), np.empty(s))
        with threads(n_threads):
            em.em_stats(X, w, X.mean(0), means, U, False, lc, 2, bounds, *out)
        results.append(out)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.usefixtures("split_every_pass")
@pytest.mark.parametrize(
    "covariance_type, dtype",
    [("full", np.float64), ("tied", np.float64), ("diag", np.float64), ("spherical", np.float64),
     ("full", np.float32)],
)  # fmt: skip
def test_fit_is_identical_on_one_and_two_threads_and_every_run(rng, covariance_type, dtype):
    # one skewed cloud for three components: EM takes many iterations to settle
    X = (np.exp(rng.normal(size=(CHUNK_ROWS * 9 + 3, 4)) / 2) + 5.0).astype(dtype)
    fits = []
    for n_threads in (1, 2, 1, 2):
        with threads(n_threads):
            fits.append(
                GaussianMixture(3, covariance_type=covariance_type, random_state=4, n_init=2, tol=1e-8).fit(X)
            )
    assert fits[0].n_iter_ > 2
    for other in fits[1:]:
        for name in ("weights_", "means_", "covariances_", "precisions_cholesky_", "lower_bound_", "n_iter_"):
            np.testing.assert_array_equal(getattr(other, name), getattr(fits[0], name), err_msg=name)
        np.testing.assert_array_equal(other.predict_proba(X), fits[0].predict_proba(X))


def _data(seed=0, n=1500, d=3, offset=10.0):
    rng = np.random.default_rng(seed)
    return make_data(rng, n, d, k=4, offset=offset)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_same_init_same_em_path_as_sklearn(covariance_type):
    X = _data()
    ref = SkGMM(4, covariance_type=covariance_type, random_state=0).fit(X)
    init = dict(weights_init=np.full(4, 0.25), means_init=X[:4] + 0.1, precisions_init=ref.precisions_)
    for tol, max_iter in ((1e-3, 100), (1e-8, 25)):
        with pytest.warns(ConvergenceWarning) if max_iter == 25 else _no_warning():
            ours = GaussianMixture(
                4, covariance_type=covariance_type, tol=tol, max_iter=max_iter, **init
            ).fit(X)
        with pytest.warns(ConvergenceWarning) if max_iter == 25 else _no_warning():
            theirs = SkGMM(4, covariance_type=covariance_type, tol=tol, max_iter=max_iter, **init).fit(X)
        assert ours.n_iter_ == theirs.n_iter_ and ours.converged_ == theirs.converged_
        for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
            np.testing.assert_allclose(
                getattr(ours, name), getattr(theirs, name), rtol=1e-6, atol=1e-9, err_msg=name
            )
        np.testing.assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=1e-6)
        np.testing.assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=1e-6)
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)
        np.testing.assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=1e-6)
        np.testing.assert_allclose(ours.bic(X), theirs.bic(X), rtol=1e-6)
        np.testing.assert_allclose(ours.aic(X), theirs.aic(X), rtol=1e-6)


class _no_warning:
    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("error", ConvergenceWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_same_random_state_same_fit_as_sklearn(init_params):
    X = _data(1)
    ours = GaussianMixture(3, init_params=init_params, random_state=2, n_init=2).fit(X)
    theirs = SkGMM(3, init_params=init_params, random_state=2, n_init=2).fit(X)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-6)
    np.testing.assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=1e-6)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_weight_two_equals_duplicating_the_row(covariance_type):
    X = _data(2, n=400)
    w = np.ones(len(X))
    w[::3] = 2.0
    dup = np.vstack([X, X[::3]])
    precisions = SkGMM(3, covariance_type=covariance_type, random_state=0).fit(X).precisions_
    init = dict(weights_init=np.full(3, 1 / 3), means_init=X[:3] + 0.05, precisions_init=precisions)
    a = GaussianMixture(3, covariance_type=covariance_type, tol=1e-10, max_iter=50, **init)
    b = GaussianMixture(3, covariance_type=covariance_type, tol=1e-10, max_iter=50, **init)
    a.fit(X, sample_weight=w)
    b.fit(dup)
    assert a.n_iter_ == b.n_iter_
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.lower_bound_, b.lower_bound_, rtol=1e-10)


def test_float32_is_kept():
    X = _data(3).astype(np.float32)
    g = GaussianMixture(3, random_state=0).fit(X)
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert getattr(g, name).dtype == np.float32, name
    assert g.predict_proba(X).dtype == np.float32 and g.score_samples(X).dtype == np.float32
    ref = SkGMM(3, random_state=0).fit(X)
    np.testing.assert_allclose(g.means_, ref.means_, rtol=1e-3, atol=1e-3)


def test_singular_covariance_is_a_clear_error():
    X = np.repeat([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], 10, axis=0)  # every component collapses
    with pytest.raises(ValueError, match="increase reg_covar"):
        GaussianMixture(3, reg_covar=0.0, random_state=0).fit(X)


def test_bad_input():
    X = _data()
    with pytest.raises(ValueError, match="NaN"):
        GaussianMixture(2).fit(np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X))
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        GaussianMixture(5).fit(X[:3])
    with pytest.raises(ValueError, match="weights"):
        GaussianMixture(2, weights_init=[0.2, 0.2]).fit(X)
    with pytest.raises(ValueError, match="means"):
        GaussianMixture(2, means_init=np.zeros((3, 3))).fit(X)
    with pytest.raises(ValueError, match="[Nn]egative"):
        GaussianMixture(2).fit(X, sample_weight=-np.ones(len(X)))
    with pytest.raises(ValueError, match="covariance_type"):
        GaussianMixture(2, covariance_type="banded").fit(X)
    before = X.copy()
    GaussianMixture(2, random_state=0).fit(X)
    np.testing.assert_array_equal(X, before)


def test_sample_and_warm_start():
    X = _data(4)
    g = GaussianMixture(3, random_state=0).fit(X)
    S, y = g.sample(500)
    assert S.shape == (500, 3) and np.bincount(y, minlength=3).sum() == 500
    # Each row is drawn from its component: far more likely under it than under the others.
    log_prob = g._weighted_log_prob(S)[0] - np.log(g.weights_)
    assert np.mean(log_prob.argmax(axis=1) == y) > 0.9
    with pytest.raises(ValueError, match="n_samples"):
        g.sample(0)
    warm = GaussianMixture(3, random_state=0, warm_start=True, max_iter=2, tol=0)
    with pytest.warns(ConvergenceWarning):
        warm.fit(X)
    first = warm.lower_bound_
    with pytest.warns(ConvergenceWarning):
        warm.fit(X)
    assert warm.lower_bound_ >= first - 1e-12


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(TYPES), st.integers(1, 4))
def test_invariants(seed, covariance_type, k):
    X = _data(seed, n=200, d=2, offset=0.0)
    g = GaussianMixture(k, covariance_type=covariance_type, random_state=seed, max_iter=30, tol=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        g.fit(X)
    proba = g.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-10)
    np.testing.assert_array_equal(g.predict(X), proba.argmax(axis=1))
    bounds = np.array(g.lower_bounds_)
    assert np.all(np.diff(bounds) >= -1e-9 * np.abs(bounds[:-1]).clip(1))


def test_diverging_start_keeps_the_parameters_it_reached():
    # scikit-learn's regression test for its issue 18216: a start whose components collapse onto
    # single rows (reg_covar=0) must not raise; the parameters reached are kept, as scikit-learn's.
    from sklearn.mixture import GaussianMixture as SKGaussianMixture

    X = np.random.RandomState(0).uniform(size=(30, 3))
    params = dict(
        covariance_type="spherical",
        reg_covar=0,
        n_components=6,
        max_iter=1,
        means_init=[
            [0.670637869618158, 0.21038256107384043, 0.12892629765485303],
            [0.09394051075844147, 0.5759464955561779, 0.929296197576212],
            [0.5033230372781258, 0.9569852381759425, 0.08654043447295741],
            [0.18578301420435747, 0.5531158970919143, 0.19388943970532435],
            [0.4548589928173794, 0.35182513658825276, 0.568146063202464],
            [0.609279894978321, 0.7929063819678847, 0.9620097270828052],
        ],
        precisions_init=[
            999999.999604483, 999999.9990869573, 553.7603944542167, 204.78596008931834, 15.867423501783637,
            85.4595728389735,
        ],
        weights_init=[
            0.03333333333333341, 0.03333333333333341, 0.06666666666666674, 0.06666666666666674,
            0.7000000000000001, 0.10000000000000007,
        ],
    )  # fmt: skip
    with pytest.warns(ConvergenceWarning):
        ours = GaussianMixture(**params).fit(X)
    with pytest.warns(ConvergenceWarning):
        theirs = SKGaussianMixture(**params).fit(X)
    assert not ours.converged_ and ours.n_iter_ == theirs.n_iter_ == 1
    assert ours.lower_bound_ == pytest.approx(theirs.lower_bound_, rel=1e-9)
    for name in ("weights_", "means_", "precisions_cholesky_"):
        assert np.all(np.isfinite(getattr(ours, name)))
    np.testing.assert_allclose(ours.weights_, theirs.weights_, rtol=1e-9)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-9)
    # Components on one row keep a tiny positive variance; the others agree with scikit-learn.
    assert np.all(ours.covariances_ > 0)
    np.testing.assert_allclose(ours.covariances_[2:], theirs.covariances_[2:], rtol=1e-7)


@pytest.mark.parametrize("verbose", [1, 2])
def test_verbose_prints_what_sklearn_prints(capsys, verbose):
    import re

    from sklearn.mixture import GaussianMixture as SKGaussianMixture

    X = np.random.RandomState(0).normal(size=(200, 3))
    params = dict(n_components=2, random_state=0, verbose=verbose, verbose_interval=1, n_init=2)
    GaussianMixture(**params).fit(X)
    ours = capsys.readouterr()
    SKGaussianMixture(**params).fit(X)
    theirs = capsys.readouterr()
    assert ours.err == ""
    number = r"-?\d+(?:\.\d+)?"
    assert re.sub(number, "#", ours.out) == re.sub(number, "#", theirs.out)
    assert ours.out.splitlines()[0] == "Initialization 0"


@pytest.mark.parametrize("covariance_type", TYPES)
def test_sample_draws_what_sklearn_draws(covariance_type):
    # The same fitted parameters and random_state: scikit-learn's sample() draws the same rows.
    X = _data(4)
    ours = GaussianMixture(3, covariance_type=covariance_type, random_state=5).fit(X)
    theirs = SkGMM(3, covariance_type=covariance_type, random_state=5)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_"):
        setattr(theirs, name, getattr(ours, name))
    theirs.converged_, theirs.n_iter_, theirs.lower_bound_ = True, ours.n_iter_, ours.lower_bound_
    theirs.n_features_in_ = X.shape[1]
    S, y = ours.sample(2000)
    S_sk, y_sk = theirs.sample(2000)
    np.testing.assert_array_equal(y, y_sk)
    np.testing.assert_allclose(S, S_sk, rtol=1e-12, atol=1e-12)
    # And the draws follow the model: per-component means and spreads near the fitted ones.
    for j in range(3):
        rows = S[y == j]
        if len(rows) > 200:
            np.testing.assert_allclose(rows.mean(axis=0), ours.means_[j], atol=0.3)
