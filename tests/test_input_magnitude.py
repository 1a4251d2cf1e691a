"""Values so large that squared distances would overflow: a clear ValueError in every estimator,
and finite results just below the limit (never a silent inf or NaN)."""

import re

import numpy as np
import pytest

from fastseg import GaussianMixture, GeneticKMeans, KMeans, kmeans_plusplus
from fastseg._rows import Rows
from fastseg._validation import largest_safe_value

ESTIMATORS = {
    "KMeans": lambda: KMeans(3, random_state=0, n_init=1),
    "KMeans-yinyang": lambda: KMeans(3, random_state=0, n_init=1, algorithm="yinyang"),
    "GeneticKMeans": lambda: GeneticKMeans(3, population_size=4, n_generations=2, max_iter=5, random_state=0),
    "GaussianMixture": lambda: GaussianMixture(2, random_state=0),
}


def blobs(scale, dtype, n=120, d=3):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d)) + np.repeat(np.eye(d) * 6, n // d, axis=0)
    return (X / np.abs(X).max() * scale).astype(dtype)


def fitted_values(model):
    names = ("cluster_centers_", "inertia_", "means_", "covariances_", "lower_bound_")
    return [np.asarray(getattr(model, a)) for a in names if hasattr(model, a)]


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e200), (np.float32, 1e30), (np.float32, 3e19)])
def test_values_near_overflow_are_refused(name, dtype, scale):
    X = blobs(scale, dtype)
    limit = largest_safe_value(dtype, *X.shape)
    # the documented limits: about 1e154 / sqrt(n d) in float64, 9e18 / sqrt(d) in float32
    documented = 6.7e153 / np.sqrt(X.size) if dtype == np.float64 else 9.2e18 / np.sqrt(X.shape[1])
    assert limit == pytest.approx(documented, rel=0.01)
    said = f"values up to {float(np.abs(X).max()):.3g} in absolute value: their squared distances would "
    said += f"overflow {np.dtype(dtype).name} (the largest safe value here is {limit:.3g})"
    with pytest.raises(ValueError, match=re.escape(said)):
        ESTIMATORS[name]().fit(X)


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_below_the_limit_give_finite_results(name, dtype):
    X = blobs(largest_safe_value(dtype, 120, 3) / 4, dtype)
    model = ESTIMATORS[name]().fit(X)
    for value in fitted_values(model):
        assert np.all(np.isfinite(value))
    assert np.all(np.isfinite(model.score_samples(X) if name == "GaussianMixture" else model.transform(X)))
    # The clusters found are the blobs, as at ordinary scale.
    expected = ESTIMATORS[name]().fit(blobs(1.0, dtype)).predict(blobs(1.0, dtype))
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(model.predict(X), expected) == 1.0


def test_predict_and_kmeans_plusplus_refuse_huge_values():
    X = blobs(1.0, np.float64)
    model = KMeans(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="overflow"):
        model.predict(blobs(1e200, np.float64))
    with pytest.raises(ValueError, match="overflow"):
        kmeans_plusplus(blobs(1e200, np.float64), 3, random_state=0)
    with pytest.raises(ValueError, match="initial centers.*overflow"):
        KMeans(3, init=np.full((3, 3), 1e200)).fit(X)
    gmm = GaussianMixture(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="overflow"):
        gmm.score_samples(blobs(1e200, np.float64))


def test_streamed_memmap_is_checked_in_its_first_pass(tmp_path):
    X = blobs(1e200, np.float64)
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=X.dtype, shape=X.shape)
    mm[:] = X
    mm.flush()
    with pytest.raises(ValueError, match="overflow"):
        KMeans(3, random_state=0).fit(np.load(tmp_path / "x.npy", mmap_mode="r"))


def test_dask_estimators_refuse_huge_values():
    da = pytest.importorskip("dask.array")
    import fastseg.dask as fd

    X = da.from_array(blobs(1e200, np.float64), chunks=40)
    for model in (fd.KMeans(3, random_state=0), fd.GaussianMixture(2, random_state=0)):
        with pytest.raises(ValueError, match="overflow"):
            model.fit(X)


@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e200), (np.float32, 1e30)])
@pytest.mark.parametrize("bad", [None, np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("d, k, shifted", [(3, 3, False), (40, 8, True)])
def test_a_fit_without_variances_checks_the_values_too(dtype, scale, bad, d, k, shifted):
    # tol=0: no variances. The values are checked by their own pass (the fused kernel's path) or
    # by the pass that computes the mean the GEMM and dot kernels' scores subtract.
    X = blobs(scale if bad is None else 1.0, dtype, d=d)
    assert Rows(X).shifts_rows(k) is shifted
    if bad is not None:
        X[50, 1] = bad
    with pytest.raises(ValueError, match="overflow" if bad is None else "NaN or infinity"):
        KMeans(k, random_state=0, n_init=1, tol=0).fit(X)
    X[50, 1] = 0.5
    assert np.isfinite(
        KMeans(k, random_state=0, n_init=1, tol=0).fit(X / (scale if bad is None else 1)).inertia_
    )
