"""The caller's arrays are never modified: every estimator and entry point, float32 and float64,
the fused and GEMM kernels, sparse input, batches, seeding, the GA, the mixture and Dask.
Each array is compared with a copy taken before the calls."""

import numpy as np
import pytest
import scipy.sparse as sp

from fastseg import GaussianMixture, GeneticKMeans, KMeans, kmeans_plusplus

from .conftest import make_data


def frozen(*arrays):
    """Pairs of (array, copy) to compare after the calls."""
    return [(a, a.copy()) for a in arrays]


def assert_unchanged(pairs):
    for a, copy in pairs:
        if sp.issparse(a):  # the stored arrays themselves: an in-place sort_indices or sum_duplicates shows
            for name in ("data", "indices", "indptr"):
                np.testing.assert_array_equal(getattr(a, name), getattr(copy, name))
        else:
            np.testing.assert_array_equal(a, copy)


def unsorted_with_duplicates(dense, fmt):
    """``dense`` as CSR/CSC whose indices run backwards in every row (column) and whose first
    stored value is split into two entries at the same place: what a hand-built matrix can be."""
    M = sp.csr_matrix(dense) if fmt == "csr" else sp.csc_matrix(dense)
    data, indices, indptr = [], [], [0]
    for r in range(M.shape[0] if fmt == "csr" else M.shape[1]):
        lo, hi = M.indptr[r], M.indptr[r + 1]
        d, i = M.data[lo:hi][::-1].tolist(), M.indices[lo:hi][::-1].tolist()
        if r == 0 and d:
            d = [d[0] / 2, d[0] / 2] + d[1:]
            i = [i[0], i[0]] + i[1:]
        data += d
        indices += i
        indptr.append(len(data))
    cls = sp.csr_matrix if fmt == "csr" else sp.csc_matrix
    out = cls((np.asarray(data, dtype=dense.dtype), np.asarray(indices, dtype=np.int32), np.asarray(indptr)),
              shape=dense.shape)  # fmt: skip
    assert not out.has_sorted_indices and np.allclose(out.toarray(), dense)
    return out


@pytest.fixture(params=[np.float32, np.float64])
def dtype(request):
    return request.param


# (d, k): the fused small-d kernel and the per-chunk GEMM kernel.
PATHS = [(4, 3), (40, 30)]


@pytest.mark.parametrize("d, k", PATHS)
@pytest.mark.parametrize("algorithm", ["lloyd", "yinyang"])
def test_kmeans_fit_predict_transform_score(dtype, d, k, algorithm, rng):
    X = make_data(rng, 900, d, k=k, dtype=dtype, offset=5.0)
    w = rng.uniform(0.5, 2, len(X)).astype(dtype)
    init = X[:k].copy()
    pairs = frozen(X, w, init)
    for model in (KMeans(k, init=init, algorithm=algorithm), KMeans(k, random_state=0, algorithm=algorithm)):
        model.fit(X, sample_weight=w)
        model.fit(X)
        model.predict(X), model.transform(X), model.score(X, sample_weight=w), model.fit_transform(X)
    assert_unchanged(pairs)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_kmeans_sparse(dtype, fmt, rng):
    dense = make_data(rng, 600, 6, k=3, dtype=dtype)
    dense[rng.random(dense.shape) < 0.5] = 0
    X = unsorted_with_duplicates(dense, fmt)
    w = rng.uniform(0.5, 2, 600).astype(dtype)
    pairs = frozen(X, w)
    model = KMeans(3, random_state=0).fit(X, sample_weight=w)
    model.predict(X), model.transform(X)
    kmeans_plusplus(X, 3, sample_weight=w, random_state=0)
    assert_unchanged(pairs)
    assert not X.has_sorted_indices
    # and the fit is the fit of the same matrix stored the ordinary way
    np.testing.assert_array_equal(
        model.labels_, KMeans(3, random_state=0).fit(dense, sample_weight=w).labels_
    )


def test_partial_fit_and_kmeans_plusplus(dtype, rng):
    X = make_data(rng, 1200, 5, k=4, dtype=dtype)
    w = rng.uniform(0.5, 2, 1200).astype(dtype)
    pairs = frozen(X, w)
    model = KMeans(4, random_state=0)
    for _ in range(2):
        for start in range(0, 1200, 400):
            model.partial_fit(X[start : start + 400], sample_weight=w[start : start + 400])
        model.end_pass()
    for weights in (None, w):
        kmeans_plusplus(X, 4, sample_weight=weights, random_state=0)
    assert_unchanged(pairs)


def test_streamed_memmap_is_never_written(tmp_path, rng):
    X = make_data(rng, 3000, 4, k=3, dtype=np.float32)
    np.save(tmp_path / "x.npy", X)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r+")  # writable mapping: a write would land
    KMeans(3, random_state=0).fit(mm)
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), X)


def test_genetic(dtype, rng):
    X = make_data(rng, 500, 4, k=3, dtype=dtype)
    w = rng.uniform(0.5, 2, 500).astype(dtype)
    pairs = frozen(X, w)
    ga = GeneticKMeans(3, population_size=6, n_generations=3, max_iter=5, random_state=0).fit(
        X, sample_weight=w
    )
    ga.predict(X), ga.transform(X)
    assert_unchanged(pairs)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_mixture(dtype, init_params, rng):
    X = make_data(rng, 500, 3, k=3, dtype=dtype, offset=5.0)
    w = rng.uniform(0.5, 2, 500).astype(dtype)
    means = X[:3].astype(np.float64)
    weights = np.array([0.2, 0.3, 0.5])
    precisions = np.stack([np.eye(3) * (j + 1.0) for j in range(3)])
    pairs = frozen(X, w, means, weights, precisions)
    for cov in ("full", "tied", "diag", "spherical"):
        g = GaussianMixture(3, covariance_type=cov, init_params=init_params, random_state=0)
        g.fit(X, sample_weight=w)
        g.predict(X), g.predict_proba(X), g.score_samples(X)
    GaussianMixture(3, means_init=means, random_state=0).fit(X)
    GaussianMixture(
        3, weights_init=weights, means_init=means, precisions_init=precisions, random_state=0
    ).fit(X)
    assert_unchanged(pairs)


def test_dask(dtype, rng):
    da = pytest.importorskip("dask.array")
    import fastseg.dask as fd

    X = make_data(rng, 800, 4, k=3, dtype=dtype)
    w = rng.uniform(0.5, 2, 800).astype(dtype)
    pairs = frozen(X, w)
    for model in (fd.KMeans(3, random_state=0), fd.GaussianMixture(2, random_state=0)):
        model.fit(da.from_array(X, chunks=200), sample_weight=da.from_array(w, chunks=200))
        model.predict(X)
        model.fit(X)  # NumPy input too
    assert_unchanged(pairs)


@pytest.mark.parametrize("d, k", PATHS)
def test_read_only_rows_fit_as_writeable_ones_and_stay_read_only(dtype, d, k, rng):
    from fastseg._rows import kernel_view

    X = make_data(rng, 600, d, 5).astype(dtype)
    frozen_x = X.copy()
    frozen_x.setflags(write=False)
    view = kernel_view(frozen_x)
    assert view.flags.writeable and np.shares_memory(view, frozen_x) and view.dtype == dtype
    a = KMeans(k, random_state=0, n_init=2).fit(X)
    b = KMeans(k, random_state=0, n_init=2).fit(frozen_x)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(b.predict(frozen_x), a.labels_)
    assert not frozen_x.flags.writeable
    np.testing.assert_array_equal(frozen_x, X)
