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


def spherical_minibatch_twin(X, centres, batch, n_steps, seed, w=None):
    """Plain NumPy spherical mini-batch k-means with ``MiniBatchKMeans``'s draws from
    ``RandomState(seed)`` (explicit centres, no reassignment, every step run): each step adds the
    batch's unit rows to their nearest centres at rate 1 / count and scales the centres to unit
    length."""
    from fastseg.minibatch import WEIGHTED_DRAWS

    n = X.shape[0]
    Xu = X / np.linalg.norm(X, axis=1)[:, None]
    w = np.ones(n) if w is None else w
    rs = np.random.RandomState(seed)
    init_size = min(3 * batch, n)
    rs.randint(0, n, init_size)  # the validation rows
    if init_size < n:
        rs.randint(0, n, init_size)  # the rows the (explicit) start is drawn from
    centres = centres.copy()
    counts = np.zeros(len(centres))
    for _ in range(n_steps):
        if WEIGHTED_DRAWS:
            rows = rs.choice(n, batch, p=w / w.sum())
            wb = np.ones(batch)
        else:
            rows = rs.randint(0, n, batch)
            wb = w[rows]
        xb = Xu[rows]
        labels = ((xb[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
        for c in range(len(centres)):
            mine = labels == c
            if mine.any():
                total = centres[c] * counts[c] + (wb[mine, None] * xb[mine]).sum(0)
                counts[c] += wb[mine].sum()
                centres[c] = total / counts[c]
                centres[c] /= np.linalg.norm(centres[c])
    return centres


@pytest.mark.parametrize("name", ["wine", "customers"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_minibatch_is_a_numpy_twin_s(name, weighted, sparse):
    from fastseg import MiniBatchKMeans

    X = customers(0) + 1.0 if name == "customers" else real_data(name)
    w = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0]) if weighted else None
    Xu = X / np.linalg.norm(X, axis=1)[:, None]
    init = Xu[np.linspace(0, X.shape[0] - 1, 4).astype(int)]
    params = dict(
        init=init, n_init=1, batch_size=64, max_iter=3, max_no_improvement=None, reassignment_ratio=0.0
    )
    fit = MiniBatchKMeans(4, **params, random_state=5, metric="cosine").fit(
        sp.csr_matrix(X) if sparse else X, sample_weight=w
    )
    centres = spherical_minibatch_twin(X, init, 64, fit.n_steps_, 5, w)
    assert fit.n_steps_ == 3 * X.shape[0] // 64
    np.testing.assert_allclose(fit.cluster_centers_, centres, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(fit.cluster_centers_, axis=1), 1.0, atol=1e-12)
    labels = (Xu @ centres.T).argmax(1)
    np.testing.assert_array_equal(fit.labels_, labels)
    np.testing.assert_array_equal(fit.predict(X), labels)
    weights = np.ones(X.shape[0]) if w is None else w
    inertia = float(np.sum(weights * (1 - np.sum(Xu * centres[labels], axis=1))))
    np.testing.assert_allclose(fit.inertia_, inertia, rtol=1e-9)
    np.testing.assert_allclose(fit.transform(X), 1 - Xu @ centres.T, atol=1e-12)
    # partial_fit: the same steps on given batches
    step = MiniBatchKMeans(4, init=init, n_init=1, batch_size=64, reassignment_ratio=0.0, metric="cosine")
    for batch in np.array_split(X, 4):
        step.partial_fit(batch)
    twin, counts = init.copy(), np.zeros(4)
    for batch in np.array_split(Xu, 4):
        labels = ((batch[:, None, :] - twin[None]) ** 2).sum(-1).argmin(1)
        for c in range(4):
            if (labels == c).any():
                twin[c] = (twin[c] * counts[c] + batch[labels == c].sum(0)) / (
                    counts[c] + (labels == c).sum()
                )
                counts[c] += (labels == c).sum()
                twin[c] /= np.linalg.norm(twin[c])
    np.testing.assert_allclose(step.cluster_centers_, twin, atol=1e-12)


def test_minibatch_zero_row_is_refused():
    from fastseg import MiniBatchKMeans

    X = real_data("iris").copy()
    X[3] = 0
    for call in (MiniBatchKMeans(3, metric="cosine").fit, MiniBatchKMeans(3, metric="cosine").partial_fit):
        with pytest.raises(ValueError, match="the first is row 3"):
            call(X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_yinyang_gives_lloyd_s_spherical_result(dtype):
    # On unit rows the Yinyang bounds hold as they are: the same fit as Lloyd's, iteration for
    # iteration (digits: 1797 x 64, k=20; a skewed customer-like table, k=12).
    rng = np.random.default_rng(0)
    for X, k in ((real_data("digits") + 0.5, 20), (np.exp(rng.normal(size=(3000, 16))), 12)):
        X = X.astype(dtype)
        params = dict(n_clusters=k, n_init=2, random_state=1, metric="cosine", max_iter=200)
        a = KMeans(**params, algorithm="lloyd").fit(X)
        b = KMeans(**params, algorithm="yinyang").fit(X)
        assert a.n_iter_ == b.n_iter_ > 3
        np.testing.assert_array_equal(a.labels_, b.labels_)
        np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
        np.testing.assert_allclose(a.inertia_, b.inertia_, rtol=1e-12)
