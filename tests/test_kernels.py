"""Each kernel against its NumPy twin in tests/reference.py."""

import numpy as np
import pytest
import scipy.sparse as sp

from fastseg import _rows, _seeding
from fastseg._kernels import distances, lloyd, scores
from fastseg._kernels._config import BLOCK_ROWS, CHUNK_ROWS, MAX_SLOTS, slot_bounds, threads
from fastseg._validation import unit_weights

from . import reference
from .conftest import make_data

SHAPES = [  # (n, d, k): single row, chunk edges, slots of several chunks, large k and d
    (1, 3, 1),
    (CHUNK_ROWS - 1, 5, 2),
    (CHUNK_ROWS, 8, 8),
    (CHUNK_ROWS + 1, 3, 2),
    (CHUNK_ROWS * MAX_SLOTS + 3 * CHUNK_ROWS + 7, 4, 3),
    (700, 40, 40),
    (900, 2, 64),
]
DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 2e-5, np.float64: 1e-10}


def assert_labels_match(X, centres, labels, ref_labels, dtype):
    """Labels equal, except on rows whose two nearest centres tie to the precision of dtype."""
    d2 = np.sort(reference.sq_distances(X, centres), axis=1)
    gap = d2[:, 1] - d2[:, 0] if d2.shape[1] > 1 else np.full(len(X), np.inf)
    scale = d2.max() + 1.0
    clear = gap > 8 * np.finfo(dtype).eps * scale * X.shape[1]
    np.testing.assert_array_equal(labels[clear], ref_labels[clear])
    assert clear.mean() > 0.5  # the comparison is not vacuous


def transposed(X):
    xb = np.full((-(-X.shape[0] // BLOCK_ROWS), lloyd.padded_features(X.shape[1]), BLOCK_ROWS), 0, X.dtype)
    lloyd.transpose_blocks(X, xb)
    return xb


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_transpose_blocks_matches_reference(dtype, shape, rng):
    X = make_data(rng, shape[0], shape[1], k=2, dtype=dtype)
    np.testing.assert_array_equal(
        transposed(X), reference.transpose_blocks(X, BLOCK_ROWS, lloyd.FEATURE_GROUP)
    )


def dense_pass(kind, X, w, centres, labels, sums, weights, counts, update, exact=True):
    """One pass of the fused, dot or GEMM kernel; returns (inertia per slot, changed per slot)."""
    bounds = slot_bounds(X.shape[0])
    inertia = np.full(bounds.size - 1, np.nan)
    changed = np.full(bounds.size - 1, -1, dtype=np.int64)
    out = (labels, sums, weights, counts, inertia, changed, update)
    if kind == "fused":
        lloyd.assign_fused(X, transposed(X), w, centres, bounds, *out, False)
    elif kind == "dot":
        scores.assign_dot(X, w, centres, X.mean(axis=0).astype(X.dtype), bounds, *out, exact)
    else:
        scores.assign_gemm(X, w, centres, X.mean(axis=0).astype(X.dtype), bounds, *out, exact)
    return inertia, changed


def run_assign(kind, X, w, centres, update=lloyd.FRESH, raw=False):
    bounds = slot_bounds(X.shape[0])
    n_slots = bounds.size - 1
    k, d = centres.shape
    labels = np.full(X.shape[0], -7, dtype=np.int32)
    sums = np.full((n_slots, k, d), np.nan)
    weights = np.full((n_slots, k), np.nan)
    if kind == "sparse":
        inertia = np.full(n_slots, np.nan)
        changed = np.full(n_slots, -1, dtype=np.int64)
        S = sp.csr_matrix(X)
        lloyd.assign_sparse(
            S.data, S.indices, S.indptr, w, centres, bounds, labels, sums, weights, inertia, changed, update
        )
    else:
        counts = np.full((n_slots, k), -3, dtype=np.int64)
        inertia, changed = dense_pass(kind, X, w, centres, labels, sums, weights, counts, update)
        if update == lloyd.FRESH:
            np.testing.assert_array_equal(counts.sum(axis=0), np.bincount(labels, minlength=k))
    assert changed.sum() == X.shape[0]  # every label differs from the -7 passed in
    if raw:  # the per-slot arrays as the kernel left them (counts: None for the sparse kernel)
        return labels, sums, weights, None if kind == "sparse" else counts, inertia.sum()
    return labels, sums.sum(axis=0), weights.sum(axis=0), inertia.sum()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_fused_pass_that_fills_the_blocks_is_the_pass_over_filled_blocks(dtype, shape, rng):
    n, d, k = shape
    X = make_data(rng, n, d, k=max(k, 2), dtype=dtype, offset=3.0)
    centres = np.ascontiguousarray(X[rng.choice(n, size=k, replace=n < k)] + 0.01, dtype=dtype)
    bounds = slot_bounds(n)
    results = []
    for fill in (False, True, None):  # None: no copy, blocks transposed in cache
        xb = transposed(X) if fill is False else np.zeros_like(transposed(X))
        if fill is None:
            xb, fill = xb[:0], False
        out = [np.full(n, -1, np.int32), np.empty((bounds.size - 1, k, d)), np.empty((bounds.size - 1, k))]
        out += [
            np.empty((bounds.size - 1, k), np.int64),
            np.empty(bounds.size - 1),
            np.empty(bounds.size - 1, np.int64),
        ]
        lloyd.assign_fused(X, xb, unit_weights(dtype), centres, bounds, *out, lloyd.FRESH, fill)
        results.append((xb, *out))
    for a, b in zip(*results[:2]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(results[0][1:], results[2][1:]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["fused", "dot", "gemm", "sparse"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_assign_matches_reference(kind, dtype, shape, rng):
    n, d, k = shape
    X = make_data(rng, n, d, k=max(k, 2), dtype=dtype, offset=3.0)
    if kind == "sparse":
        X[rng.random(X.shape) < 0.5] = 0
    w = rng.uniform(0.5, 2.0, n).astype(dtype)
    centres = np.ascontiguousarray(X[rng.choice(n, size=k, replace=n < k)] + 0.01, dtype=dtype)
    labels, sums, weights, inertia = run_assign(kind, X, w, centres)
    ref_labels, _, _, ref_inertia = reference.assign(X, w, centres)
    assert_labels_match(X, centres, labels, ref_labels, dtype)
    # The statistics must be those of the labels the kernel chose.
    ref_sums, ref_weights = _stats(X, w, labels, k)
    np.testing.assert_allclose(sums, ref_sums, rtol=RTOL[dtype], atol=RTOL[dtype] * np.abs(ref_sums).max())
    np.testing.assert_allclose(weights, ref_weights, rtol=RTOL[dtype])
    np.testing.assert_allclose(inertia, ref_inertia, rtol=100 * RTOL[dtype])


def _stats(X, w, labels, k):
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels, w[:, None].astype(np.float64) * X)
    return sums, np.bincount(labels, weights=w, minlength=k)


@pytest.mark.parametrize("kind", ["fused", "dot", "gemm", "sparse"])
def test_assign_without_update_leaves_statistics_alone(kind, rng):
    X = make_data(rng, 300, 6)
    w = np.ones(300)
    centres = X[:3].copy()
    labels, sums, weights, counts, inertia = run_assign(kind, X, w, centres, update=lloyd.NO_STATS, raw=True)
    ref_labels, _, _, ref_inertia = reference.assign(X, w, centres)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(inertia, ref_inertia, rtol=1e-10)
    # not one entry of the statistics written: they hold the NaN (counts: -3) they were passed with
    assert np.isnan(sums).all() and np.isnan(weights).all()
    assert counts is None or (counts == -3).all()


@pytest.mark.parametrize("kind", ["fused", "dot", "gemm"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_moves_keep_the_statistics_of_the_new_labels(kind, dtype, rng):
    # A pass in MOVES mode starts from the statistics of the labels passed in and moves only the
    # rows that change: it must end with the statistics of its own labels, exact zeros for a
    # cluster it empties, and counts of the rows of positive weight.
    n, d, k = CHUNK_ROWS * 5 + 3, 5 if kind == "fused" else 24, 14
    X = make_data(rng, n, d, k=k, dtype=dtype)
    w = rng.uniform(0.5, 2.0, n).astype(dtype)
    w[::7] = 0
    n_slots = slot_bounds(n).size - 1
    labels = np.full(n, -1, dtype=np.int32)
    stats = np.zeros((n_slots, k, d)), np.zeros((n_slots, k)), np.zeros((n_slots, k), dtype=np.int64)
    dense_pass(kind, X, w, np.ascontiguousarray(X[:k]), labels, *stats, lloyd.MOVES)
    moved = X[k : 2 * k].copy()
    moved[3] = 1e6  # cluster 3 loses every row
    first = labels.copy()
    _, changed = dense_pass(kind, X, w, moved, labels, *stats, lloyd.MOVES)
    assert 0 < changed.sum() == (labels != first).sum() < n
    sums, weights, counts = stats
    ref_sums, ref_weights = _stats(X, w, labels, k)
    np.testing.assert_allclose(
        sums.sum(axis=0), ref_sums, rtol=RTOL[dtype], atol=RTOL[dtype] * np.abs(ref_sums).max()
    )
    np.testing.assert_allclose(weights.sum(axis=0), ref_weights, rtol=RTOL[dtype], atol=1e-12)
    np.testing.assert_array_equal(counts.sum(axis=0), np.bincount(labels[w > 0], minlength=k))
    assert (labels != 3).all() and not weights[:, 3].any() and not sums[:, 3].any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(CHUNK_ROWS * 3 + 5, 8, 8), (CHUNK_ROWS + 1, 3, 1), (900, 2, 64)])
def test_fresh_pass_adds_the_rows_as_one_at_a_time_does(dtype, shape, rng):
    # The first pass of a fit adds every row afresh (FRESH), later passes move rows (MOVES): from
    # no labels both must add the same rows in the same order, so the statistics are equal bit
    # for bit (whatever the scratch blocks or the kept copy).
    n, d, k = shape
    X = make_data(rng, n, d, k=max(k, 2), dtype=dtype, offset=3.0)
    centres = np.ascontiguousarray(X[rng.choice(n, size=k, replace=False)] + 0.01, dtype=dtype)
    w = rng.uniform(0.1, 3.0, n).astype(dtype)
    w[::5] = 0
    n_slots = slot_bounds(n).size - 1
    results = []
    for weights in (w, unit_weights(dtype)):
        for update in (lloyd.FRESH, lloyd.MOVES):
            labels = np.full(n, -1, dtype=np.int32)
            stats = np.zeros((n_slots, k, d)), np.zeros((n_slots, k)), np.zeros((n_slots, k), dtype=np.int64)
            inertia, changed = dense_pass("fused", X, weights, centres, labels, *stats, update)
            results.append((labels, *stats, inertia, changed))
    for fresh, one_by_one in (results[:2], results[2:]):
        assert len(np.unique(fresh[0])) == k
        for a, b in zip(fresh, one_by_one):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["dot", "gemm"])
def test_scores_are_accurate_far_from_the_origin(kind, rng):
    # float32 data around 1e4 with unit spread: the naive expansion would mislabel rows.
    X = make_data(rng, 2000, 8, k=4, dtype=np.float32, offset=1e4)
    centres = np.ascontiguousarray(X[:4] + 0.1)
    labels, *_ = run_assign(kind, X, np.ones(2000, np.float32), centres)
    ref_labels, *_ = reference.assign(X, np.ones(2000), centres)
    assert_labels_match(X, centres, labels, ref_labels, np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d,k", [(1, 1), (5, 3), (8, 4), (13, 9), (32, 18)])
def test_dot_scores_are_the_feature_order_chain(dtype, d, k, rng):
    # Yinyang reproduces the dot kernel's scores one row at a time: each must be, bit for bit,
    # |c|^2 / 2 minus the dot product summed in feature order with one rounding per step
    # (a fused multiply-add: for float32 the float64 product is exact, for float64 exact fractions).
    from fractions import Fraction

    dp = lloyd.padded_features(d)
    xt = np.zeros((dp, CHUNK_ROWS), dtype)
    xt[:d] = make_data(rng, CHUNK_ROWS, d, dtype=dtype).T
    cs = np.zeros((k, dp), dtype)
    cs[:, :d] = make_data(rng, k, d, dtype=dtype)
    cs[k // 2] = cs[0]  # a tie: the first index wins
    half = (0.5 * (cs.astype(np.float64) ** 2).sum(axis=1)).astype(dtype)
    best_score, best = np.empty(CHUNK_ROWS, dtype), np.empty(CHUNK_ROWS, np.int32)
    scores.dot_scores_block(xt, cs, half, np.empty((scores.DOT_CENTRES, CHUNK_ROWS), dtype), best_score, best)
    expected = np.empty((k, CHUNK_ROWS), dtype)
    for j in range(k):
        for b in range(CHUNK_ROWS):
            acc = dtype(0)
            for f in range(d):
                if dtype == np.float32:
                    acc = np.float32(np.float64(xt[f, b]) * np.float64(cs[j, f]) + np.float64(acc))
                else:
                    acc = float(Fraction(float(xt[f, b])) * Fraction(float(cs[j, f])) + Fraction(acc))
            expected[j, b] = half[j] - acc
    np.testing.assert_array_equal(best, expected.argmin(axis=0))
    np.testing.assert_array_equal(best_score, expected.min(axis=0))


def assert_distances_close(out, expected, X, centres, labels=None, dtype=np.float64):
    """Squared distances within a few units of rounding of ``dtype`` on |x|^2 + |c|^2 (the size of
    the terms a kernel adds), entry by entry."""
    x2 = (np.asarray(X, dtype=np.float64) ** 2).sum(axis=1)
    c2 = (np.asarray(centres, dtype=np.float64) ** 2).sum(axis=1)
    scale = x2[:, None] + c2[None, :] if labels is None else x2 + c2[labels]
    error = np.abs(np.asarray(out, dtype=np.float64) - expected)
    assert (error <= 8 * np.finfo(dtype).eps * scale).all(), (error / scale).max()


@pytest.mark.parametrize("dtype", DTYPES)
def test_sq_distances(dtype, rng):
    X = make_data(rng, CHUNK_ROWS + 3, 7, dtype=dtype, offset=3.0)
    centres = X[:5].copy()
    out = np.empty((len(X), 5), dtype=dtype)
    distances.sq_distances(X, centres, out)
    expected = reference.sq_distances(X, centres)
    assert_distances_close(out, expected, X, centres, dtype=dtype)
    S = sp.csr_matrix(X)
    distances.sq_distances_sparse(S.data, S.indices, S.indptr, centres, out)
    assert_distances_close(out, expected, X, centres, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sq_distances_to_assigned(dtype, rng):
    X = make_data(rng, 500, 5, dtype=dtype, offset=3.0)
    centres = X[:4].copy()
    labels = rng.integers(0, 4, 500).astype(np.int32)
    out = np.empty(500)  # float64 whatever X's dtype
    distances.sq_distances_to_assigned(X, centres, labels, out)
    expected = reference.sq_distances_to_assigned(X, centres, labels)
    assert_distances_close(out, expected, X, centres, labels)
    S = sp.csr_matrix(X)
    distances.sq_distances_to_assigned_sparse(S.data, S.indices, S.indptr, centres, labels, out)
    assert_distances_close(out, expected, X, centres, labels)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,k", [(1, 1), (CHUNK_ROWS + 1, 2), (CHUNK_ROWS * MAX_SLOTS + 11, 5), (600, 40)])
def test_kmeans_plusplus_matches_reference(dtype, n, k, rng):
    X = make_data(rng, n, 6, k=max(k, 2), dtype=dtype)
    w = rng.uniform(0.5, 2.0, n).astype(dtype)
    trials = 2 + int(np.log(k))
    uniforms = rng.random((k - 1, trials))
    first = int(rng.integers(n))
    rows = _rows.Rows(X)
    # Every pick, float32 too: the same rounded distances, running sums and potentials.
    out = _seeding.seed_indices(rows, w, first, uniforms)
    np.testing.assert_array_equal(out, reference.kmeans_plusplus(X, w, first, uniforms))
    # The slot-by-slot variant (large n) sums in float64.
    out = _seeding.seed_indices_by_slot(rows, w, first, uniforms)
    np.testing.assert_array_equal(out, reference.kmeans_plusplus(X, w, first, uniforms, sums_in=np.float64))
    assert len(set(out.tolist())) == k or n < k


@pytest.mark.parametrize("dtype", DTYPES)
def test_kmeans_plusplus_first_draw_is_a_weighted_choice(dtype, rng):
    X = make_data(rng, 500, 3, dtype=dtype)
    w = rng.uniform(0.0, 3.0, 500).astype(dtype)
    rows = _rows.Rows(X)
    for seed in range(20):
        _, indices = _seeding.kmeans_plusplus(rows, w, 4, np.random.RandomState(seed))
        assert indices[0] == np.random.RandomState(seed).choice(500, p=w / w.sum())


def test_kmeans_plusplus_never_picks_a_zero_weight_row(rng):
    X = make_data(rng, 400, 3)
    w = np.ones(400)
    w[::2] = 0.0
    for seed_indices in (_seeding.seed_indices, _seeding.seed_indices_by_slot):
        out = seed_indices(_rows.Rows(X), w, 1, rng.random((9, 4)))
        assert np.all(out % 2 == 1)


@pytest.mark.usefixtures("split_every_pass")
@pytest.mark.parametrize("kind", ["fused", "dot", "gemm", "sparse"])
def test_assign_is_identical_on_one_and_two_threads(kind, rng):
    X = make_data(rng, CHUNK_ROWS * 20 + 5, {"gemm": 40, "dot": 28}.get(kind, 6), dtype=np.float32)
    w = rng.uniform(0.5, 2, len(X)).astype(np.float32)
    centres = X[:30].copy()
    with threads(1):
        one = run_assign(kind, X, w, centres)
    with threads(2):
        two = run_assign(kind, X, w, centres)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_in_parallel_splits_the_range_among_the_numba_threads():
    import threading

    from fastseg._kernels._config import in_parallel, threads

    for n_threads, want in ((1, [(0, 10)]), (2, [(0, 5), (5, 10)])):
        parts = []
        with threads(n_threads):
            in_parallel(10, lambda a, b, parts=parts: parts.append((a, b, threading.get_ident())))
        assert sorted(p[:2] for p in parts) == want
        assert len({p[2] for p in parts}) == n_threads
    with threads(2):
        in_parallel(1, lambda a, b: parts.append((a, b)))  # fewer tasks than threads: one part
    assert parts[-1] == (0, 1)

    def fail(a, b):
        if a > 0:
            raise ValueError("second part")

    with threads(2), pytest.raises(ValueError, match="second part"):
        in_parallel(4, fail)


def test_in_parallel_keeps_little_work_on_the_calling_thread(monkeypatch):
    import threading

    from fastseg._kernels import _config

    def parts(work):
        seen = []
        with _config.threads(2):
            _config.in_parallel(10, lambda a, b: seen.append((a, b, threading.get_ident())), work=work)
        return seen

    assert parts(_config.PARALLEL_WORK - 1) == [(0, 10, threading.get_ident())]
    assert sorted(p[:2] for p in parts(_config.PARALLEL_WORK)) == [(0, 5), (5, 10)]
    monkeypatch.setattr(_config, "PARALLEL_WORK", 0)  # what the ``split_every_pass`` fixture does
    assert len(parts(1)) == 2


_FORK_CHILD = """
import multiprocessing
from fastseg._kernels._config import in_parallel, threads

def parts_in_child():
    parts = []
    with threads(2):
        in_parallel(4, lambda a, b: parts.append((a, b)))
    return sorted(parts)

if __name__ == "__main__":
    with threads(2):
        in_parallel(4, lambda a, b: None)  # the pool's threads are alive when the process forks
    with multiprocessing.get_context("fork").Pool(1) as pool:
        print(pool.apply_async(parts_in_child).get(timeout=60))
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_in_parallel_works_in_a_forked_child(tmp_path):
    # Forked from a fresh interpreter whose only threads are fastseg's pool, not from the test
    # process (whose other threads, Dask's and the BLAS's, a fork would copy mid-lock).
    import subprocess
    import sys

    script = tmp_path / "fork_child.py"
    script.write_text(_FORK_CHILD)
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[(0, 2), (2, 4)]"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_draw_candidates_is_searchsorted_of_numpys_cumsum(dtype, weighted):
    from fastseg._kernels import seeding

    rng = np.random.default_rng(9)
    n = 5000
    closest = (rng.random(n) * 10).astype(dtype)
    closest[rng.random(n) < 0.2] = 0  # runs of equal running sums
    w = rng.uniform(0.1, 3, n).astype(dtype) if weighted else np.empty(0, dtype)
    running = np.cumsum(w * closest if weighted else closest)
    total = float(running[-1])
    targets = np.concatenate(
        [
            rng.random(20) * total,
            running[rng.integers(0, n, 10)].astype(np.float64),  # exactly on a running sum
            np.nextafter(running[rng.integers(0, n, 10)].astype(np.float64), 0),
            [0.0, total, total * 1.5],  # above every running sum: n
        ]
    )
    cand = np.empty(targets.shape[0], dtype=np.int64)
    seeding.draw_candidates(closest, w, targets, np.argsort(targets), cand)
    np.testing.assert_array_equal(cand, np.searchsorted(running, targets))


@pytest.mark.parametrize("dtype, ubits", [(np.float32, np.uint32), (np.float64, np.uint64)])
def test_largest_bits_is_the_largest_absolute_value_per_slot(dtype, ubits, rng):
    from fastseg._kernels import moments

    X = (rng.normal(size=(1000, 3)) * 10.0 ** rng.integers(-3, 4, size=(1000, 1))).astype(dtype)
    X[17, 1] = -np.abs(X).max() * 2  # the largest value is negative
    X[400, 0] = -0.0
    bounds = np.array([0, 0, 300, 301, 1000], dtype=np.int64) * 3  # an empty slot, a one-row slot
    out = np.empty(4, dtype=ubits)
    magnitude = ubits(np.iinfo(ubits).max >> 1)
    moments.largest_bits(X.reshape(-1).view(ubits), magnitude, bounds, out)
    flat = X.reshape(-1)
    for s in range(4):
        part = flat[bounds[s] : bounds[s + 1]]
        expected = np.abs(part).max() if part.size else dtype(0)
        assert out[s] == np.array(expected, dtype=dtype).view(ubits)
    inf_bits = np.array(np.inf, dtype=dtype).view(ubits)
    for bad in (np.nan, np.inf, -np.inf, -np.nan):
        Y = X.copy()
        Y[999, 2] = bad
        moments.largest_bits(Y.reshape(-1).view(ubits), magnitude, bounds, out)
        assert out[3] >= inf_bits and out[1] < inf_bits


@pytest.mark.parametrize("kind", ["dot", "gemm"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scored_passes_without_inertia_change_nothing_else(kind, dtype, rng):
    # exact=False (a Lloyd iteration): the same labels, statistics and changes, the inertia 0.
    X = make_data(rng, 3 * CHUNK_ROWS + 5, 12, k=6, dtype=dtype, offset=3.0)
    w = rng.uniform(0.5, 2, len(X)).astype(dtype)
    centres = X[rng.choice(len(X), 24, replace=False)]
    results = []
    for exact in (True, False):
        labels = np.full(len(X), -1, dtype=np.int32)
        n_slots = slot_bounds(len(X)).size - 1
        stats = (np.zeros((n_slots, 24, 12)), np.zeros((n_slots, 24)), np.zeros((n_slots, 24), np.int64))
        inertia, changed = dense_pass(kind, X, w, centres, labels, *stats, lloyd.FRESH, exact)
        results.append((labels, stats, inertia, changed))
    (l1, s1, i1, c1), (l2, s2, i2, c2) = results
    np.testing.assert_array_equal(l1, l2)
    for a, b in zip(s1, s2):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(c1, c2)
    assert np.all(i1 > 0) and np.all(i2 == 0)
