"""``KMeans(metric="cosine")``: spherical k-means on unit rows, centres scaled to unit length after
each update, checked against a NumPy twin; zero rows refused."""

import numpy as np
import pytest
import scipy.sparse as sp

from fastseg import KMeans

from .test_real_data import customers, real_data


def spherical_twin(X, centres, w=None):
    """Plain NumPy spherical k-means from ``centres`` until no label changes."""
    Xu = X / np.linalg.norm(X, axis=1)[:, None]
    w = np.ones(X.shape[0]) if w is None else w
    previous = None
    while True:
        labels = ((Xu[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
        if previous is not None and np.array_equal(labels, previous):
            return labels, centres, float(np.sum(w * (1 - np.sum(Xu * centres[labels], axis=1))))
        sums = np.array([(w[labels == c, None] * Xu[labels == c]).sum(0) for c in range(len(centres))])
        centres = sums / np.linalg.norm(sums, axis=1)[:, None]
        previous = labels


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "customers"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_same_as_a_numpy_twin(name, weighted, sparse):
    X = customers(0) + 1.0 if name == "customers" else real_data(name)
    w = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0]) if weighted else None
    Xu = X / np.linalg.norm(X, axis=1)[:, None]
    init = Xu[np.linspace(0, X.shape[0] - 1, 4).astype(int)]
    fit = KMeans(4, init=init, n_init=1, tol=0, metric="cosine").fit(
        sp.csr_matrix(X) if sparse else X, sample_weight=w
    )
    labels, centres, inertia = spherical_twin(X, init, w)
    np.testing.assert_array_equal(fit.labels_, labels)
    np.testing.assert_allclose(fit.cluster_centers_, centres, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(fit.cluster_centers_, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(fit.inertia_, inertia, rtol=1e-9)
    np.testing.assert_array_equal(fit.predict(X), labels)
    np.testing.assert_allclose(fit.transform(X), 1 - Xu @ centres.T, atol=1e-12)
    np.testing.assert_allclose(fit.score(X, sample_weight=w), -inertia, rtol=1e-9)


def test_float32_and_seeded_starts():
    X = real_data("wine").astype(np.float32)
    a = KMeans(3, random_state=0, metric="cosine").fit(X)
    assert a.cluster_centers_.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a.cluster_centers_, axis=1), 1.0, atol=1e-6)
    labels, _, _ = spherical_twin(X.astype(np.float64), a.cluster_centers_.astype(np.float64))
    np.testing.assert_array_equal(a.labels_, labels)  # a fixed point of the twin's iteration
    b = KMeans(3, random_state=0, metric="cosine").fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)


@pytest.mark.parametrize("sparse", [False, True])
def test_a_zero_row_is_refused_with_its_index(sparse):
    X = real_data("iris").copy()
    X[7] = 0
    before = X.copy()
    with pytest.raises(ValueError, match=r"1 row\(s\) are all zeros \(the first is row 7\)"):
        KMeans(3, metric="cosine").fit(sp.csr_matrix(X) if sparse else X)
    np.testing.assert_array_equal(X, before)
    fit = KMeans(3, metric="cosine", random_state=0).fit(X[8:])
    with pytest.raises(ValueError, match="the first is row 7"):
        fit.predict(X)


def test_caller_arrays_are_left_alone():
    X = real_data("wine")
    X.setflags(write=False)
    before = X.copy()
    KMeans(3, metric="cosine", random_state=0).fit(X).predict(X)
    np.testing.assert_array_equal(X, before)
