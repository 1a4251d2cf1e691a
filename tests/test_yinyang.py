"""Yinyang K-means against Lloyd's: same labels, n_iter, inertia and bitwise the same centres."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from fastseg import _blas
from fastseg._blas import score_kernel
from fastseg._kernels import lloyd as kernels
from fastseg._kernels._config import CHUNK_ROWS, MAX_SLOTS, threads
from fastseg._lloyd import lloyd
from fastseg._rows import Rows
from fastseg._yinyang import MAX_FEATURES, centre_groups, choose_algorithm, yinyang

from .conftest import make_data

EDGE_N = [CHUNK_ROWS - 1, CHUNK_ROWS + 1, CHUNK_ROWS * MAX_SLOTS + 3 * CHUNK_ROWS + 7]


def assert_same(X, w, centres, max_iter=300, tol=0.0, **kw):
    rows = Rows(X)
    ref = lloyd(rows, w, centres, max_iter, tol)
    work = kw.pop("work", [])
    got = yinyang(rows, w, centres, max_iter, tol, work=work, **kw)
    np.testing.assert_array_equal(got[0], ref[0])
    assert got[3] == ref[3]
    np.testing.assert_array_equal(got[2], ref[2])
    assert got[2].dtype == ref[2].dtype
    assert got[1] == ref[1]
    # Yinyang itself ran, not Lloyd under its name: one logged pass per iteration, the first
    # dense (-1 per slot); in longer fits at larger k the bounds filtered rows at least once
    # (with few clusters every centre may move too far for them until the end).
    assert len(work) == got[3]
    assert work[0][0] < 0
    if got[3] >= 5 and len(centres) >= 8:
        assert any(wk[0] >= 0 for wk in work[1:])
    return got


def init(rng, X, k):
    return X[rng.choice(X.shape[0], k, replace=False)].copy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [2, 8, 32])
@pytest.mark.parametrize("k", [1, 2, 8, 64, 200])
def test_matches_lloyd(k, d, dtype):
    rng = np.random.default_rng(1000 * k + d)
    for n in EDGE_N[:2] if k * d > 500 else EDGE_N:
        n = max(n, k)
        X = make_data(rng, n, d, k=max(2, k // 3), dtype=dtype)
        w = rng.uniform(0.5, 2.0, n).astype(dtype)
        assert_same(X, w, init(rng, X, k))


@pytest.fixture(params=["dot", "gemm"])
def score_path(request, monkeypatch):
    """Large d * k scored by the dot kernel or by BLAS, whichever this CPU's code would pick."""
    monkeypatch.setattr(_blas, "DOT_MAX_FEATURES", 32 if request.param == "dot" else 0)
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [24, 32])
def test_matches_lloyd_on_each_score_kernel(score_path, d, dtype):
    # Near ties recompute Lloyd's own numbers: the dot kernel's chain, or the chunk's GEMM.
    assert score_kernel(d, 64, dtype) == (kernels.DOT if score_path == "dot" else kernels.GEMM)
    rng = np.random.default_rng(d)
    for n in EDGE_N[:2]:
        X = make_data(rng, n, d, k=20, dtype=dtype)
        w = rng.uniform(0.5, 2.0, n).astype(dtype)
        assert_same(X, w, init(rng, X, 64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ties_on_each_score_kernel(score_path, dtype, rng):
    X = rng.integers(0, 3, size=(3 * CHUNK_ROWS, 32)).astype(dtype)
    X[: CHUNK_ROWS // 2] = X[0]
    centres = np.unique(X, axis=0)[:40]
    assert score_kernel(32, 40, dtype) != kernels.FUSED
    assert_same(X, np.ones(len(X), dtype=dtype), centres)


def test_covers_every_score_path():
    # The cases above run through each of Lloyd's score kernels, in both dtypes.
    for dtype in (np.float32, np.float64):
        assert score_kernel(2, 8, dtype) == kernels.FUSED
        assert score_kernel(40, 64, dtype) == kernels.GEMM
    assert score_kernel(8, 8, np.float32) == kernels.FUSED
    # AVX2 code scores up to 32 features with the dot kernel, AVX-512 code with BLAS.
    dot = score_kernel(32, 64, np.float32) == kernels.DOT
    assert dot == (not _blas.numba_avx512()) == (_blas.DOT_MAX_FEATURES == 32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [2, 32])
def test_ties_on_duplicate_rows(dtype, d, rng):
    # Small integers: distances are exact, many rows sit at equal distance from two centres.
    X = rng.integers(0, 3, size=(3 * CHUNK_ROWS, d)).astype(dtype)
    X[: CHUNK_ROWS // 2] = X[0]
    centres = np.unique(X, axis=0)[: min(40, len(np.unique(X, axis=0)))]
    assert_same(X, np.ones(len(X), dtype=dtype), centres)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d,k", [(8, 16), (32, 64)])
def test_far_from_origin(dtype, d, k, rng):
    X = make_data(rng, 2000, d, k=6, dtype=dtype, offset=1e4)
    assert_same(X, np.ones(2000, dtype=dtype), init(rng, X, k))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_weights_and_unit_weight_convention(dtype, rng):
    X = make_data(rng, 1500, 8, k=5, dtype=dtype)
    w = rng.uniform(0, 3, 1500).astype(dtype)
    w[::3] = 0
    c0 = init(rng, X, 20)
    assert_same(X, w, c0)
    # A length-0 weight array means unit weights: as Lloyd with that array, and with ones.
    got = assert_same(X, np.empty(0, dtype=dtype), c0)
    ref = lloyd(Rows(X), np.ones(1500, dtype=dtype), c0, 300, 0.0)
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[2], ref[2])
    assert got[3] == ref[3]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [2, 32])
def test_empty_cluster_relocated(dtype, d, rng):
    X = make_data(rng, 1000, d, k=4, dtype=dtype)
    c0 = init(rng, X, 12)
    c0[3] = 1e3  # nobody's nearest centre: relocated to the farthest point
    c0[7] = c0[2]  # duplicate centre: loses every tie, empty
    assert_same(X, np.ones(1000, dtype=dtype), c0)


@pytest.mark.parametrize("max_iter,tol", [(1, 0.0), (3, 0.0), (300, 1e-2)])
def test_stopping_rules(max_iter, tol, rng):
    X = make_data(rng, 3000, 8, k=10, dtype=np.float64)
    assert_same(X, np.ones(3000), init(rng, X, 64), max_iter=max_iter, tol=tol)


@pytest.mark.parametrize("n_groups", [1, 3, 64])
def test_any_grouping_is_exact(n_groups, rng):
    # One group is Hamerly's algorithm; one centre per group is Elkan-like.
    X = make_data(rng, 2500, 8, k=8, dtype=np.float32)
    assert_same(X, np.ones(2500, dtype=np.float32), init(rng, X, 64), n_groups=n_groups)


@pytest.mark.usefixtures("split_every_pass")
@pytest.mark.parametrize("dtype,d", [(np.float32, 32), (np.float64, 2)])
def test_thread_count_independent(dtype, d, rng):
    X = make_data(rng, EDGE_N[2], d, k=8, dtype=dtype)
    w = rng.uniform(0.5, 2, len(X)).astype(dtype)
    c0 = init(rng, X, 40)
    with threads(1):
        one = yinyang(Rows(X), w, c0, 50, 0.0)
    with threads(2):
        two = yinyang(Rows(X), w, c0, 50, 0.0)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_bounds_skip_work(rng):
    X = make_data(rng, 20000, 8, k=30, dtype=np.float32)
    work = []
    assert_same(X, np.ones(20000, dtype=np.float32), init(rng, X, 64), work=work)
    filtered = np.array([wk for wk in work[len(work) // 2 :] if wk[0] >= 0])  # -1: a dense pass
    assert len(filtered) >= 3
    # Most rows pass a filter after the first iterations; recomputed groups are a few of 6.
    assert filtered[:, 1].mean() < 0.5 * 20000
    assert filtered[:, 2].sum() < 2 * filtered[:, 1].sum()


def test_dense_pass_after_a_large_move(rng):
    # A relocated empty cluster moves a centre far: bounds fail for most rows, the next pass is
    # dense, and the result is still Lloyd's.
    X = make_data(rng, 3000, 8, k=6, dtype=np.float32)
    c0 = init(rng, X, 64)
    c0[:8] = 1e4
    work = []
    assert_same(X, np.ones(3000, dtype=np.float32), c0, work=work)
    assert sum(wk[0] < 0 for wk in work[1:]) >= 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [48, 64, 128, MAX_FEATURES])
@pytest.mark.parametrize("k", [8, 64])
def test_matches_lloyd_up_to_the_auto_feature_limit(d, k, dtype):
    # 'auto' picks Yinyang up to MAX_FEATURES features: exact there too (small n, every path).
    rng = np.random.default_rng(7 * d + k)
    X = make_data(rng, 700, d, k=max(2, k // 4), dtype=dtype)
    w = rng.uniform(0.5, 2.0, 700).astype(dtype)
    assert_same(X, w, init(rng, X, k), max_iter=40)


def test_many_features(rng):
    # Past OpenBLAS's K block (d > 256) each dot product is added in blocks: still Lloyd's numbers.
    X = make_data(rng, 600, MAX_FEATURES + 4, k=3, dtype=np.float32)
    assert_same(X, np.ones(600, dtype=np.float32), init(rng, X, 8))


def test_centre_groups():
    rng = np.random.default_rng(0)
    c = rng.normal(size=(50, 3))
    g = centre_groups(c, 5)
    assert g.shape == (50,) and set(g) == set(range(g.max() + 1)) and g.max() < 5
    assert (centre_groups(c[:3], 10) >= 0).all()


def test_choose_algorithm_and_sparse():
    assert choose_algorithm(200_000, 32, 256) == "yinyang"
    assert choose_algorithm(200_000, 32, 256, max_iter=15) == "lloyd"  # a short fit
    assert choose_algorithm(1_000_000, 8, 64) == "lloyd"  # the fused kernel is as fast
    assert choose_algorithm(1_000_000, 8, 8) == "lloyd"
    assert choose_algorithm(200_000, 2, 64) == "lloyd"
    assert choose_algorithm(1000, 32, 256) == "lloyd"  # n < 20 k
    assert choose_algorithm(10**8, 32, 256) == "lloyd"  # bounds over 1 GiB
    assert choose_algorithm(200_000, MAX_FEATURES + 1, 256) == "lloyd"
    X = sp.csr_matrix(np.eye(5))
    with pytest.raises(TypeError, match="dense"):
        yinyang(Rows(X), np.ones(5), np.eye(5)[:2], 10, 0.0)


@given(
    n=st.integers(1, 400),
    d=st.sampled_from([1, 2, 5, 9]),
    k=st.integers(1, 30),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
    offset=st.sampled_from([0.0, 100.0]),
)
def test_property_equals_lloyd(n, d, k, dtype, seed, offset):
    rng = np.random.default_rng(seed)
    k = min(k, n)
    X = make_data(rng, n, d, k=3, dtype=dtype, offset=offset)
    w = rng.uniform(0, 2, n).astype(dtype)
    labels, inertia, centres, _ = assert_same(X, w, init(rng, X, k))
    assert labels.min() >= 0 and labels.max() < k
