"""How many times a fit reads all of X beyond its Lloyd iterations.

Every reader of all rows is counted where it is called: the passes of ``_rows.Rows`` (Lloyd
assignment, column moments, distances to the assigned centres, relocation, seeding),
scikit-learn's finiteness check and ``_validation.extremes`` (a max and a min of X).
"""

import numpy as np
import pytest
import sklearn.utils.validation as skv

from fastseg import KMeans, _centres, _rows, _validation

from .conftest import make_data

ROWS = 3000
_ROW_PASSES = [
    "assign",
    "sq_distances",
    "sq_distances_to_assigned",
    "farthest",
    "closer",
    "candidate_potentials",
    "candidate_distances",
    "numpy_mean",
    "check_values",
]


@pytest.fixture
def passes(monkeypatch):
    """A list that gets one name per pass over all rows of X."""
    seen = []

    def counted(name, fn, n=1):
        def wrapper(*args, **kwargs):
            seen.extend([name] * n)
            return fn(*args, **kwargs)

        return wrapper

    for name in _ROW_PASSES:
        monkeypatch.setattr(_rows.Rows, name, counted(name, getattr(_rows.Rows, name)))
    moments = _rows.Rows.moments

    def counted_moments(self):
        if self._moments is None:  # computed once per Rows, then kept
            seen.append("moments")
        return moments(self)

    monkeypatch.setattr(_rows.Rows, "moments", counted_moments)
    extremes = _validation.extremes

    def counted_extremes(values):
        if values.shape[0] == ROWS:  # X, not the centres
            seen.extend(["max", "min"])
        return extremes(values)

    monkeypatch.setattr(_validation, "extremes", counted_extremes)
    monkeypatch.setattr(skv, "_assert_all_finite", counted("finite", skv._assert_all_finite))
    return seen


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d, k", [(8, 4), (20, 30)])  # fused and GEMM kernels
@pytest.mark.parametrize("max_iter", [3, 300])  # stopped by max_iter (a last labelling), converged
def test_a_fit_reads_x_at_most_twice_beyond_its_iterations(passes, dtype, d, k, max_iter, rng):
    X = make_data(rng, ROWS, d, k=k, dtype=dtype, offset=20.0)
    init = X[rng.choice(len(X), k, replace=False)]
    model = KMeans(k, init=init, n_init=1, max_iter=max_iter, tol=1e-4, algorithm="lloyd").fit(X)
    iterations = passes.count("assign")
    assert iterations >= model.n_iter_
    extra = len(passes) - model.n_iter_
    assert extra <= 2, passes
    assert "moments" in passes  # the variances (and the value checks) are read, once


@pytest.mark.parametrize("method", ["predict", "score"])
def test_a_large_prediction_reads_x_twice(passes, method, rng, monkeypatch):
    # The values' check (finiteness and overflow in one pass), then the assignment.
    monkeypatch.setattr(_centres, "ONE_PASS_CHECK", ROWS * 8)  # X counts as large
    X = make_data(rng, ROWS, 8, k=4, offset=20.0)
    model = KMeans(4, init=X[:4], n_init=1, max_iter=2, algorithm="lloyd").fit(X)
    passes.clear()
    getattr(model, method)(X)
    assert passes == ["check_values", "assign"], passes


def test_the_counters_see_the_checks_of_a_small_prediction(passes, rng):
    # Below ONE_PASS_CHECK values: a max and a min (a NaN or an infinity shows in them), no kernel.
    X = make_data(rng, ROWS, 8, k=4, offset=20.0)
    model = KMeans(4, init=X[:4], n_init=1, max_iter=2, algorithm="lloyd").fit(X)
    passes.clear()
    model.predict(X)
    assert passes == ["max", "min", "assign"], passes
    X[7, 3] = np.nan  # then scikit-learn's check finds it, and names it
    passes.clear()
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.predict(X)
    assert passes == ["max", "min", "finite"], passes


def _shifts_given_to_the_scoring_kernels(monkeypatch):
    """The ``x_shift`` argument of every call of the GEMM and dot kernels, recorded."""
    from fastseg._kernels import scores

    shifts = []

    def spy(kernel):
        def run(X, sample_weight, centres, x_shift, *rest):
            shifts.append(np.array(x_shift))
            return kernel(X, sample_weight, centres, x_shift, *rest)

        return run

    monkeypatch.setattr(scores, "assign_gemm", spy(scores.assign_gemm))
    monkeypatch.setattr(scores, "assign_dot", spy(scores.assign_dot))
    return shifts


def test_a_prediction_with_gemm_scores_subtracts_the_fits_mean(passes, rng, monkeypatch):
    # The GEMM and dot kernels' scores subtract a mean: the fit's, kept by the model.
    X = make_data(rng, ROWS, 20, k=30, offset=20.0)
    model = KMeans(30, init=X[:30], n_init=1, max_iter=2, algorithm="lloyd").fit(X)
    np.testing.assert_allclose(model._fit_shift, X.mean(axis=0), rtol=1e-12)
    passes.clear()
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    assert passes == ["max", "min", "assign"], passes
    # Other rows, in float32: the fit's mean, in their dtype.
    shifts = _shifts_given_to_the_scoring_kernels(monkeypatch)
    model.predict(X[:500].astype(np.float32) + 1)
    assert shifts and all(s.dtype == np.float32 for s in shifts)
    for s in shifts:
        np.testing.assert_array_equal(s, model._fit_shift.astype(np.float32))
    # No such mean (centres from partial_fit, or a model saved before it was kept): the pass that
    # checks the values computes the rows' own; transform, which subtracts nothing, never does.
    for forget in (lambda m: m.partial_fit(X), lambda m: delattr(m, "_fit_shift")):
        forget(model)
        passes.clear()
        shifts.clear()
        model.predict(X)
        assert passes == ["moments", "assign"], passes
        np.testing.assert_allclose(shifts[0], X.mean(axis=0), rtol=1e-12)
        passes.clear()
        model.transform(X)
        assert passes == ["max", "min", "sq_distances"], passes


def test_the_ga_keeps_the_mean_its_gemm_scores_subtract(rng):
    from fastseg import GeneticKMeans

    X = make_data(rng, ROWS, 20, k=30, offset=20.0)
    model = GeneticKMeans(30, population_size=4, n_generations=2, random_state=0).fit(X)
    np.testing.assert_allclose(model._fit_shift, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X), model.labels_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("max_iter", [3, 300])
def test_a_fit_without_variances_reads_x_at_most_twice_beyond_its_iterations(passes, dtype, max_iter, rng):
    # tol=0 needs no variances: the values are checked in one pass of their own.
    X = make_data(rng, ROWS, 8, k=4, dtype=dtype, offset=20.0)
    model = KMeans(4, init=X[:4], n_init=1, max_iter=max_iter, tol=0, algorithm="lloyd").fit(X)
    assert "check_values" in passes and "moments" not in passes
    assert len(passes) - model.n_iter_ <= 2, passes
