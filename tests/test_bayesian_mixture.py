"""``fastseg.BayesianGaussianMixture``: scikit-learn's variational fit for the same
``random_state`` on its real data sets and a customer table with repeated rows (both prior types,
four covariance types, every init, given priors), float32, weights, warm starts, threads, bad
input."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture as SkBGM

from fastseg import BayesianGaussianMixture
from fastseg._kernels._config import CHUNK_ROWS, threads

from .test_real_data import customers, real_data

TYPES = ["full", "tied", "diag", "spherical"]
PRIORS = ["dirichlet_process", "dirichlet_distribution"]
FITTED = [
    "weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_", "mean_precision_",
    "degrees_of_freedom_", "mean_prior_", "covariance_prior_",
]  # fmt: skip


def _data(name):
    if name == "customers":
        return customers(0, n=800)
    X = real_data(name)
    return X[:, :8] if name == "breast_cancer" else X


def _fit_both(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = BayesianGaussianMixture(**params).fit(X)
        theirs = SkBGM(**params).fit(X.astype(np.float64))
    return ours, theirs


def assert_same_fit(ours, theirs, X, rtol=1e-7):
    assert ours.n_iter_ == theirs.n_iter_ and ours.converged_ == theirs.converged_
    scale = np.abs(X).max()
    for name in FITTED:
        np.testing.assert_allclose(
            getattr(ours, name), getattr(theirs, name), rtol=rtol, atol=rtol * scale, err_msg=name
        )
    for a, b in zip(np.atleast_2d(ours.weight_concentration_), np.atleast_2d(theirs.weight_concentration_)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * len(X))
    np.testing.assert_allclose(ours.lower_bound_, np.ravel(theirs.lower_bound_)[0], rtol=rtol)
    np.testing.assert_allclose(np.ravel(ours.lower_bounds_), np.ravel(theirs.lower_bounds_), rtol=rtol)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=max(1e-6, 10 * rtol))
    np.testing.assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=max(1e-6, 10 * rtol))


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "customers"])
@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("prior_type", PRIORS)
def test_same_fit_as_sklearn_on_real_data(name, covariance_type, prior_type):
    # Every init for every covariance type, data set and prior type, over the cases (a fit each).
    case = (
        TYPES.index(covariance_type)
        + PRIORS.index(prior_type)
        + ["iris", "wine", "breast_cancer", "customers"].index(name)
    )
    init = ("kmeans", "k-means++", "random", "random_from_data")[case % 4]
    X = _data(name)
    params = dict(
        n_components=5, covariance_type=covariance_type, weight_concentration_prior_type=prior_type,
        init_params=init, random_state=4, max_iter=300,
    )  # fmt: skip
    ours, theirs = _fit_both(X, **params)
    assert_same_fit(ours, theirs, X, rtol=1e-6)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_same_fit_with_given_priors_and_several_starts(covariance_type):
    X = _data("wine")
    d = X.shape[1]
    cov_prior = {
        "full": np.cov(X.T) * 0.5, "tied": np.cov(X.T) * 0.5, "diag": X.var(axis=0) * 0.5,
        "spherical": float(X.var(axis=0).mean()),
    }[covariance_type]  # fmt: skip
    params = dict(
        n_components=4, covariance_type=covariance_type, weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=0.05, mean_precision_prior=0.3, mean_prior=X.mean(axis=0) + 1.0,
        degrees_of_freedom_prior=d + 2.5, covariance_prior=cov_prior, n_init=3, random_state=7,
    )  # fmt: skip
    ours, theirs = _fit_both(X, **params)
    assert_same_fit(ours, theirs, X, rtol=1e-6)
    assert ours.weight_concentration_prior_ == 0.05 and ours.degrees_of_freedom_prior_ == d + 2.5


@pytest.mark.parametrize("covariance_type", TYPES)
def test_float32_gives_sklearn_s_fit_of_the_same_values(covariance_type):
    # Computations run in float64: float32 input gives scikit-learn's fit of the same values in
    # float64 (scikit-learn's own float32 fit forms the tied covariance in float32), and
    # float64 attributes and outputs, as scikit-learn's.
    X = _data("iris").astype(np.float32)
    params = dict(n_components=4, covariance_type=covariance_type, random_state=0)
    ours, theirs = _fit_both(X, **params)
    assert_same_fit(ours, theirs, X, rtol=1e-5)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert getattr(ours, name).dtype == np.float64, name
    assert ours.mean_prior_.dtype == np.float32
    assert ours.predict_proba(X).dtype == np.float64 and ours.score_samples(X).dtype == np.float64


@pytest.mark.parametrize("covariance_type", TYPES)
def test_weight_two_equals_duplicating_the_row(covariance_type):
    X = _data("customers")
    w = np.ones(len(X))
    w[::3] = 2.0
    dup = np.vstack([X, X[::3]])
    params = dict(n_components=3, covariance_type=covariance_type, init_params="random", tol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # 'random' draws one uniform per row: give both fits the same responsibilities.
        a = BayesianGaussianMixture(**params, max_iter=0, random_state=0).fit(X, sample_weight=w)
        b = BayesianGaussianMixture(**params, max_iter=0, random_state=0).fit(dup)
    for name in ("mean_prior_", "covariance_prior_"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-12, err_msg=name)
    start = dict(n_components=3, covariance_type=covariance_type, tol=1e-8, max_iter=200, random_state=0)
    a = BayesianGaussianMixture(**start).fit(X, sample_weight=w)
    b = BayesianGaussianMixture(**start).fit(dup)
    assert a.n_iter_ == b.n_iter_
    for name in ("weights_", "means_", "covariances_", "degrees_of_freedom_"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-6, atol=1e-9, err_msg=name)
    np.testing.assert_allclose(a.lower_bound_, b.lower_bound_, rtol=1e-9)


def test_warm_start_continues_as_sklearn_s_and_the_bound_rises():
    X = _data("iris")
    params = dict(n_components=6, warm_start=True, max_iter=1, random_state=0, tol=1e-3)
    ours, theirs = BayesianGaussianMixture(**params), SkBGM(**params)
    previous = -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(60):
            ours.fit(X)
            theirs.fit(X)
            np.testing.assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=1e-7)
            assert ours.converged_ == theirs.converged_
            assert ours.lower_bound_ >= previous
            previous = ours.lower_bound_
            if ours.converged_:
                break
    assert ours.converged_
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-6)


def test_fit_is_identical_on_one_and_two_threads():
    rng = np.random.default_rng(0)
    X = np.exp(rng.normal(size=(CHUNK_ROWS * 9 + 3, 4)) / 2) + 5.0
    fits = []
    for n in (1, 2, 2):
        with threads(n), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(BayesianGaussianMixture(n_components=4, random_state=0, max_iter=40).fit(X))
    assert fits[0].n_iter_ > 2
    for other in fits[1:]:
        for name in ("weights_", "means_", "covariances_", "lower_bound_", "n_iter_"):
            np.testing.assert_array_equal(getattr(other, name), getattr(fits[0], name), err_msg=name)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(degrees_of_freedom_prior=1.5), "should be greater than 3"),
        (dict(covariance_prior=np.eye(3)), "full covariance_prior"),
        (dict(covariance_type="diag", covariance_prior=-np.ones(4)), "should be positive"),
        (dict(mean_prior=np.zeros(2)), "means"),
        (dict(weight_concentration_prior_type="beta"), "weight_concentration_prior_type"),
        (dict(weight_concentration_prior=0.0), "weight_concentration_prior"),
        (dict(n_components=200), "n_samples >= n_components"),
    ],
)
def test_bad_input_is_refused_as_scikit_learn_refuses_it(params, match):
    X = _data("iris")
    for cls in (BayesianGaussianMixture, SkBGM):
        with pytest.raises(ValueError, match=match):
            cls(**params).fit(X)


def test_nan_and_caller_arrays():
    X = _data("iris").copy()
    before = X.copy()
    BayesianGaussianMixture(n_components=3, random_state=0).fit(X, sample_weight=np.ones(len(X)))
    np.testing.assert_array_equal(X, before)
    X[4, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        BayesianGaussianMixture(n_components=3).fit(X)
    with pytest.raises(ValueError, match="[Nn]egative"):
        BayesianGaussianMixture(n_components=3).fit(before, sample_weight=-np.ones(len(X)))
