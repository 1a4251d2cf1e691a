"""Invariants of fastseg.KMeans, checked with Hypothesis."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fastseg import KMeans

from . import reference

# Hypothesis finds data with fewer distinct points than clusters: that warning is expected.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@st.composite
def data_and_k(draw, max_rows=80, max_features=5):
    n = draw(st.integers(2, max_rows))
    d = draw(st.integers(1, max_features))
    elements = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)
    X = draw(arrays(np.float64, (n, d), elements=elements))
    k = draw(st.integers(1, min(n, 6)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return X.astype(dtype), k


def _ties_free_rows(X, centres):
    d2 = np.sort(reference.sq_distances(X, centres), axis=1)
    if d2.shape[1] == 1:
        return np.ones(len(X), bool)
    return d2[:, 1] - d2[:, 0] > 1e-3 * (1 + d2.max())


def rounding(X, inertia):
    """A few units of rounding of X's dtype on the inertia, plus the squared rounding of the rows
    themselves (a row that sits on its centre is at a distance of that order once centred)."""
    eps = 8 * np.finfo(X.dtype).eps
    return eps * inertia + eps**2 * (X.astype(np.float64) ** 2).sum()


@given(data_and_k(), st.integers(0, 2**31 - 1))
def test_inertia_is_the_sse_and_labels_are_nearest_centres(data, seed):
    X, k = data
    model = KMeans(k, random_state=seed, n_init=1).fit(X)
    assert model.labels_.min() >= 0 and model.labels_.max() < k
    assert len(model.labels_) == len(X)
    sse = reference.sq_distances_to_assigned(X, model.cluster_centers_, model.labels_).sum()
    assert abs(model.inertia_ - sse) <= rounding(X, sse)
    np.testing.assert_array_equal(model.predict(X), model.labels_)


@given(data_and_k(), st.integers(0, 2**31 - 1))
def test_lloyd_never_increases_inertia(data, seed):
    X, k = data
    X = X.astype(np.float64)
    init = X[np.random.default_rng(seed).choice(len(X), k, replace=False)]
    inertias = [KMeans(k, init=init, n_init=1, max_iter=m, tol=0).fit(X).inertia_ for m in range(1, 6)]
    assert all(b <= a + rounding(X, a) for a, b in zip(inertias, inertias[1:]))


@given(data_and_k(), st.randoms(use_true_random=False))
def test_permuting_rows_permutes_labels(data, random):
    X, k = data
    X = X.astype(np.float64)
    perm = np.array(random.sample(range(len(X)), len(X)))
    init = X[:k].copy()
    # Duplicate initial centres leave a cluster empty, and which equidistant row is then
    # moved into it depends on the row order: the property is about the distinct case.
    assume(len(np.unique(init, axis=0)) == k)
    a = KMeans(k, init=init, n_init=1, tol=0).fit(X)
    b = KMeans(k, init=init, n_init=1, tol=0).fit(X[perm])
    clear = _ties_free_rows(X, a.cluster_centers_)
    np.testing.assert_allclose(b.inertia_, a.inertia_, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(b.labels_[clear[perm]], a.labels_[perm][clear[perm]])
