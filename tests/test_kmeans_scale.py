"""KMeans without (n,) temporaries: unit weights, streamed memmaps, partial_fit."""

import numpy as np
import pytest
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus

from fastseg import KMeans, _lloyd, _rows, _seeding, kmeans_plusplus
from fastseg._kernels._config import CHUNK_ROWS

from .conftest import make_data

DTYPES = [np.float32, np.float64]


def _same_fit(a, b):
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.inertia_ == b.inertia_
    assert a.n_iter_ == b.n_iter_


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 2, 7, 8, 9, 129, 1000, 12_345, 2**20 + 5, 2**24 + 13])
def test_pairwise_sum_of_ones_is_numpys(dtype, n):
    assert _seeding._pairwise_ones(n, np.dtype(dtype)) == np.ones(n, dtype=dtype).sum()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 2, 3, 100, 12_345, 3_000_001])
def test_first_draw_without_weights_is_choice_with_unit_p(dtype, n):
    w = np.ones(n, dtype=dtype)
    for seed in range(5):
        expected = int(np.random.RandomState(seed).choice(n, p=w / w.sum()))
        assert _seeding._first_draw_unit_weights(n, dtype, np.random.RandomState(seed)) == expected


@pytest.mark.parametrize("dtype", DTYPES)
def test_kmeans_plusplus_without_weights_matches_sklearn(dtype, rng):
    X = make_data(rng, 3000, 5, k=7, dtype=dtype)
    for seed in range(5):
        ours, ours_idx = kmeans_plusplus(X, 7, random_state=seed)
        theirs, theirs_idx = sk_kmeans_plusplus(X, 7, random_state=seed)
        np.testing.assert_array_equal(ours_idx, theirs_idx)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d,k", [(3, 4), (32, 16)])  # fused and GEMM kernels
def test_no_weights_equals_unit_weights_exactly(dtype, d, k, rng):
    X = make_data(rng, CHUNK_ROWS * 9 + 17, d, k=k, dtype=dtype)
    a = KMeans(k, random_state=3).fit(X)
    b = KMeans(k, random_state=3).fit(X, sample_weight=np.ones(len(X)))
    _same_fit(a, b)


def test_column_moments_match_numpy(rng):
    X = make_data(rng, 200_003, 3, dtype=np.float32) * 1000 + 1e4
    mean, var = _rows.Rows(X).moments()
    np.testing.assert_allclose(mean, X.astype(np.float64).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(var, X.astype(np.float64).var(axis=0), rtol=1e-10)


def _memmap(tmp_path, X, mode="r"):
    path = tmp_path / "rows.f"
    X.tofile(path)
    return np.memmap(path, dtype=X.dtype, mode=mode, shape=X.shape), path


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d,k,init", [(4, 5, "k-means++"), (24, 20, "k-means++"), (4, 5, "random")])
def test_streamed_memmap_fit_is_identical_to_in_memory(tmp_path, dtype, d, k, init, rng):
    # 23 slots: six batches of slots, the last one short.
    X = make_data(rng, CHUNK_ROWS * 23 - 5, d, k=k, dtype=dtype)
    mm, path = _memmap(tmp_path, X)
    rows = _rows.Rows(mm)
    assert rows.stream and len(list(rows.batches())) == 6
    before = path.read_bytes()
    streamed = KMeans(k, init=init, random_state=0).fit(mm)
    in_memory = KMeans(k, init=init, random_state=0).fit(X)
    _same_fit(streamed, in_memory)
    np.testing.assert_array_equal(streamed.predict(mm), in_memory.labels_)
    assert path.read_bytes() == before


@pytest.mark.parametrize("mode", ["r+", "c"])
def test_writable_and_copy_on_write_memmaps(tmp_path, mode, rng):
    X = make_data(rng, CHUNK_ROWS * 9, 3, k=3)
    mm, path = _memmap(tmp_path, X, mode=mode)
    mm[0] += 0.5  # a copy-on-write change lives only in the mapping: it must survive the fit
    expected = np.array(mm)
    fitted = KMeans(3, random_state=1).fit(mm)
    np.testing.assert_array_equal(np.asarray(mm), expected)
    _same_fit(fitted, KMeans(3, random_state=1).fit(expected))


def test_streamed_memmap_with_nan_is_refused(tmp_path, rng):
    X = make_data(rng, CHUNK_ROWS * 9, 3)
    X[CHUNK_ROWS * 7 + 3, 1] = np.nan
    mm, _ = _memmap(tmp_path, X)
    with pytest.raises(ValueError, match="NaN or infinity"):
        KMeans(3).fit(mm)


def test_fortran_memmap_is_copied_and_fitted(tmp_path, rng):
    X = make_data(rng, 500, 3, k=3)
    path = tmp_path / "f.f"
    np.asfortranarray(X).T.tofile(path)
    mm = np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape, order="F")
    _same_fit(KMeans(3, random_state=0).fit(mm), KMeans(3, random_state=0).fit(X))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d,k", [(3, 6), (20, 24)])
def test_partial_fit_passes_reproduce_fit(dtype, d, k, rng):
    X = make_data(rng, 3000, d, k=k, dtype=dtype)
    w = rng.uniform(0.2, 2.0, len(X)).astype(dtype)
    init = kmeans_plusplus(X, k, random_state=0)[0]  # no cluster empties (fit would relocate it)
    passes = 4
    reference = KMeans(k, init=init, max_iter=passes, tol=0).fit(X, sample_weight=w)
    model = KMeans(k, init=init)
    batches = np.array_split(np.arange(len(X)), 7)
    for _ in range(passes):
        for b in batches:
            model.partial_fit(X[b], sample_weight=w[b])
        assert model.n_rows_seen_ == len(X)
        model.end_pass()
    assert model.n_iter_ == passes
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(model.cluster_centers_, reference.cluster_centers_, rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(model.predict(X), reference.labels_)


def test_partial_fit_statistics_are_those_of_the_pass(rng):
    X = make_data(rng, 600, 2, k=3)
    model = KMeans(3, init=X[:3].copy()).partial_fit(X[:250])
    model.partial_fit(X[250:])
    labels = np.argmin(((X[:, None, :] - X[None, :3, :]) ** 2).sum(axis=2), axis=1)
    expected = np.vstack([X[labels == j].mean(axis=0) for j in range(3)])
    np.testing.assert_allclose(model.cluster_centers_, expected, rtol=1e-12)
    assert model.inertia_ == pytest.approx(((X - X[:3][labels]) ** 2).sum(), rel=1e-9)
    np.testing.assert_array_equal(model.labels_, labels[250:])


def test_partial_fit_first_call_initialises_like_fit(rng):
    X = make_data(rng, 800, 4, k=5)
    model = KMeans(5, random_state=7).partial_fit(X)
    np.testing.assert_array_equal(model._pass_centres, kmeans_plusplus(X, 5, random_state=7)[0])


def test_partial_fit_after_fit_continues_from_its_centres(rng):
    X = make_data(rng, 800, 4, k=5)
    model = KMeans(5, random_state=0, max_iter=2, tol=0).fit(X)
    centres = model.cluster_centers_.copy()
    model.partial_fit(X).end_pass()
    expected = KMeans(5, init=centres, max_iter=1, tol=0).fit(X).cluster_centers_
    np.testing.assert_allclose(model.cluster_centers_, expected, rtol=1e-12)
    assert model.n_iter_ == 1


def test_partial_fit_bad_input(rng):
    X = make_data(rng, 100, 3, k=3)
    with pytest.raises(ValueError, match="end_pass"):
        KMeans(3).end_pass()
    with pytest.raises(ValueError, match="n_samples=2 should be >= n_clusters=3"):
        KMeans(3).partial_fit(X[:2])
    model = KMeans(3, random_state=0).partial_fit(X)
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :2])
    bad = X.copy()
    bad[5, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        model.partial_fit(bad)
    with pytest.raises(ValueError, match="Negative"):
        model.partial_fit(X, sample_weight=-np.ones(len(X)))


def test_farthest_rows_in_blocks_match_a_full_sort(rng):
    X = make_data(rng, 3 * 2**20 + 11, 2, k=3)
    labels = rng.integers(0, 3, len(X)).astype(np.int32)
    centres = X[:3].copy()
    rows = _rows.Rows(X)
    distances = rows.sq_distances_to_assigned(centres, labels)
    expected = np.lexsort((np.arange(len(X)), -distances))[:5]
    far, far_distances = rows.farthest(centres, labels, 5)
    np.testing.assert_array_equal(far, expected)
    np.testing.assert_array_equal(far_distances, distances[expected])


def test_farthest_rows_pass_over_zero_weights(rng):
    X = make_data(rng, 5000, 2, k=3)
    labels = rng.integers(0, 3, len(X)).astype(np.int32)
    centres = X[:3].copy()
    rows = _rows.Rows(X)
    w = np.ones(len(X))
    far_all, _ = rows.farthest(centres, labels, 5)
    w[far_all[:3]] = 0.0
    far, far_distances = rows.farthest(centres, labels, 5, w)
    distances = rows.sq_distances_to_assigned(centres, labels)
    distances[w == 0] = -1.0
    expected = np.lexsort((np.arange(len(X)), -distances))[:5]
    np.testing.assert_array_equal(far, expected)
    assert not set(far_all[:3].tolist()) & set(far.tolist())


def test_relocation_above_the_block_threshold_gives_the_farthest_rows(rng, monkeypatch):
    X = make_data(rng, 5000, 2, k=3)
    init = np.vstack([X[:2], [[1e6, 1e6]]])  # the third centre gets no row
    expected = KMeans(3, init=init, max_iter=1, tol=0).fit(X)
    monkeypatch.setattr(_lloyd, "RELOCATE_ROWS", 10)
    blocked = KMeans(3, init=init, max_iter=1, tol=0).fit(X)
    _same_fit(blocked, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rows_past_the_transposed_copy_budget_fit_the_same(monkeypatch, dtype, rng):
    # Past BLOCKS_BYTES the fused kernel's transposed rows are made batch by batch, every pass.
    X = make_data(rng, CHUNK_ROWS * 23 - 5, 5, k=5, dtype=dtype)
    kept = KMeans(5, random_state=0).fit(X)
    monkeypatch.setattr(_rows, "BLOCKS_BYTES", 0)
    _same_fit(KMeans(5, random_state=0).fit(X), kept)
