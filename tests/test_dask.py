"""fastseg.dask.KMeans on a real LocalCluster: agreement with the in-memory KMeans, k-means||,
empty clusters, bad input, and a worker lost mid-fit."""

import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import fastseg  # noqa: E402
import fastseg.dask as fdask  # noqa: E402
from fastseg.dask import blocks  # noqa: E402
from fastseg.dask import kmeans as dask_kmeans  # noqa: E402

from .conftest import make_data  # noqa: E402

# Same init => same labels and n_iter_; centres and inertia differ only by the order of float64
# additions (per block + tree vs per slot) and, for float32, by the final rounding to float32.
RTOL = {np.float64: 1e-10, np.float32: 1e-5}


def _warm_kernels():
    """Compile the block functions' kernels here (writeable and read-only X, as blocks that
    travelled between processes are) so the worker processes load them from Numba's cache."""
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        for d, k in ((3, 4), (20, 16)):  # fused and GEMM paths
            X = make_data(rng, 600, d, k=k, dtype=dtype)
            centres, weights = X[:k].copy(), np.ones(600, dtype=dtype)
            for writeable in (True, False):
                X.flags.writeable = writeable
                blocks.block_stats(X, weights, centres, 1)
                blocks.block_final(X, weights, centres, 1)
                blocks.block_farthest(X, weights, centres, 1, 0, 1)
                blocks.block_min_sq_distances(X, weights, centres, None, 1)
                blocks.block_labels(X, centres, 1)
                blocks.block_distances(X, centres, 1)
                params = (
                    k,
                    "full",
                    np.full(k, 1.0 / k),
                    centres.astype(np.float64),
                    np.tile(np.eye(d), (k, 1, 1)),
                )
                blocks.block_em(X, weights, params, X.mean(axis=0, dtype=np.float64), 1)
                blocks.block_log_prob(X, params)


@pytest.fixture(scope="module")
def cluster():
    _warm_kernels()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster) as client:
        yield client


def _assert_same_fit(dask_model, ref, dtype):
    np.testing.assert_array_equal(dask_model.labels_.compute(), ref.labels_)
    assert dask_model.n_iter_ == ref.n_iter_
    scale = np.abs(ref.cluster_centers_).max()
    np.testing.assert_allclose(
        dask_model.cluster_centers_, ref.cluster_centers_, rtol=RTOL[dtype], atol=RTOL[dtype] * scale
    )
    assert dask_model.cluster_centers_.dtype == dtype
    np.testing.assert_allclose(dask_model.inertia_, ref.inertia_, rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "n, d, k, chunks, seed, weighted, tol",
    [
        (3000, 3, 4, (1000, 1001, 999), 0, False, 1e-4),
        (2500, 5, 7, (7, 1200, 1293), 1, True, 0.0),
        (1800, 20, 16, (600, 600, 600), 2, False, 1e-4),  # GEMM kernel path
        (900, 2, 1, (450, 450), 3, True, 1e-4),
        (2000, 3, 5, (100,) * 20, 10, True, 1e-4),  # more blocks than SPLIT_EVERY: a two-level tree
    ],
)
def test_same_init_same_result_as_in_memory(client, dtype, n, d, k, chunks, seed, weighted, tol):
    rng = np.random.default_rng(seed)
    X = make_data(rng, n, d, k=max(k, 2), dtype=dtype, offset=100.0)
    weights = rng.integers(1, 4, size=n).astype(dtype) if weighted else None
    init = X[rng.choice(n, size=k, replace=False)]
    ref = fastseg.KMeans(k, init=init, n_init=1, tol=tol, max_iter=100).fit(X, sample_weight=weights)
    Xd = da.from_array(X, chunks=(chunks, d))
    wd = None if weights is None else da.from_array(weights, chunks=chunks)
    model = fdask.KMeans(k, init=init, tol=tol, max_iter=100).fit(Xd, sample_weight=wd)
    assert ref.n_iter_ > 1
    _assert_same_fit(model, ref, dtype)


def test_zero_weights_and_duplicate_rows_relocate_as_in_memory(client):
    # Rows of weight 0 never take an empty cluster; more clusters than distinct rows: no
    # relocation, one iteration. Both as the in-memory fit.
    X = np.array([[0, 0], [0.4, 0], [0.5, 1.2], [1.1, 1], [9, 9], [8, 9]])
    w = np.array([1, 1, 1, 1, 0, 0.0])
    init = np.array([[0.5, 0.5], [30, 30]])
    ref = fastseg.KMeans(2, init=init).fit(X, sample_weight=w)
    model = fdask.KMeans(2, init=init).fit(
        da.from_array(X, chunks=3), sample_weight=da.from_array(w, chunks=3)
    )
    _assert_same_fit(model, ref, np.float64)
    D = np.array([[0, 0], [1, 1], [1, 1], [1, 0], [0, 1]], dtype=float)
    with pytest.warns(ConvergenceWarning):
        model = fdask.KMeans(5, init=D).fit(da.from_array(D, chunks=2))
    assert model.n_iter_ == 1


def test_numpy_input_and_column_chunks(client):
    rng = np.random.default_rng(4)
    X = make_data(rng, 2000, 6, k=5)
    init = X[:5]
    ref = fastseg.KMeans(5, init=init, n_init=1).fit(X)
    _assert_same_fit(fdask.KMeans(5, init=init).fit(X), ref, np.float64)
    split_columns = da.from_array(X, chunks=(500, 2))
    _assert_same_fit(fdask.KMeans(5, init=init).fit(split_columns), ref, np.float64)


def test_labels_equal_predict_and_transform(client):
    rng = np.random.default_rng(5)
    X = make_data(rng, 2000, 4, k=3, dtype=np.float32)
    Xd = da.from_array(X, chunks=700)
    model = fdask.KMeans(3, random_state=0).fit(Xd)
    assert isinstance(model.labels_, da.Array)
    labels = model.labels_.compute()
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, model.predict(Xd).compute())
    np.testing.assert_array_equal(labels, model.predict(X))  # NumPy in, NumPy out
    distances = model.transform(Xd).compute()
    assert distances.shape == (2000, 3)
    np.testing.assert_array_equal(np.argmin(distances, axis=1), labels)
    np.testing.assert_allclose(-model.score(Xd), model.inertia_, rtol=1e-6)


def test_kmeans_parallel_is_deterministic_across_schedulers(client):
    X, _ = make_blobs(n_samples=4000, centers=6, n_features=3, random_state=0)
    Xd = da.from_array(X, chunks=(900, 3))
    first = fdask.KMeans(6, random_state=7).fit(Xd)
    second = fdask.KMeans(6, random_state=7).fit(Xd)
    with dask.config.set(scheduler="threads"):
        threaded = fdask.KMeans(6, random_state=7, num_threads=2).fit(Xd)
    other_seed = fdask.KMeans(6, random_state=8, max_iter=1).fit(Xd)
    np.testing.assert_array_equal(first.cluster_centers_, second.cluster_centers_)
    np.testing.assert_array_equal(first.cluster_centers_, threaded.cluster_centers_)
    assert first.n_iter_ == threaded.n_iter_
    assert not np.array_equal(first.cluster_centers_, other_seed.cluster_centers_)


@pytest.mark.slow  # a second LocalCluster
def test_same_result_on_one_and_two_workers(client):
    # Random draws come from (random_state, round, block) streams and sums from a fixed tree over
    # the blocks: one worker or two, the fit is bit for bit the same.
    X, _ = make_blobs(n_samples=4000, centers=5, n_features=3, random_state=2)
    Xd = da.from_array(X, chunks=700)

    def fits():
        return (
            fdask.KMeans(5, random_state=3).fit(Xd),
            fdask.GaussianMixture(3, covariance_type="full", random_state=0).fit(Xd),
        )

    two = fits()
    assert len(client.scheduler_info()["workers"]) == 2
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as single,
        distributed.Client(single, set_as_default=False) as one,
        dask.config.set(scheduler=one),
    ):
        assert len(one.scheduler_info()["workers"]) == 1
        alone = fits()
        alone_labels = alone[0].labels_.compute()
    for name in ("cluster_centers_", "inertia_", "n_iter_"):
        np.testing.assert_array_equal(getattr(alone[0], name), getattr(two[0], name), err_msg=name)
    np.testing.assert_array_equal(alone_labels, two[0].labels_.compute())
    for name in ("weights_", "means_", "covariances_", "lower_bound_", "n_iter_"):
        np.testing.assert_array_equal(getattr(alone[1], name), getattr(two[1], name), err_msg=name)


def test_persist_false_reads_the_input_on_every_pass_with_the_same_fit(threaded):
    X, _ = make_blobs(n_samples=4000, centers=4, n_features=3, random_state=4)
    reads = []

    def read(block):
        reads.append(len(block))
        return block

    def lazy():
        return da.from_array(X, chunks=500).map_blocks(read, meta=np.empty((0, 3), X.dtype))

    kwargs = dict(init=X[:4], max_iter=5, tol=0.0)
    kept = fdask.KMeans(4, **kwargs).fit(lazy())
    kept_reads, reads[:] = sum(reads), []
    streamed = fdask.KMeans(4, persist=False, **kwargs).fit(lazy())
    assert kept_reads == len(X)  # persisted: each block read once
    assert sum(reads) >= len(X) * (streamed.n_iter_ + 1)  # every pass and the final one read it
    np.testing.assert_array_equal(streamed.cluster_centers_, kept.cluster_centers_)
    assert (streamed.inertia_, streamed.n_iter_) == (kept.inertia_, kept.n_iter_)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kmeans_parallel_quality(client, seed):
    X, _ = make_blobs(
        n_samples=6000, centers=8, n_features=4, cluster_std=1.5, center_box=(-20, 20), random_state=seed
    )
    X = X.astype(np.float32)
    ref = fastseg.KMeans(8, n_init=1, random_state=seed).fit(X)
    model = fdask.KMeans(8, random_state=seed).fit(da.from_array(X, chunks=1000))
    assert model.inertia_ <= 1.10 * ref.inertia_


@pytest.mark.parametrize("init", ["random", "k-means++"])
def test_other_inits_run_and_are_deterministic(client, init):
    X, _ = make_blobs(n_samples=3000, centers=4, n_features=2, random_state=3)
    Xd = da.from_array(X, chunks=1000)
    a = fdask.KMeans(4, init=init, random_state=1).fit(Xd)
    with dask.config.set(scheduler="threads"):
        b = fdask.KMeans(4, init=init, random_state=1).fit(Xd)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert np.isfinite(a.inertia_) and len(np.unique(a.labels_.compute())) == 4


def test_empty_cluster_is_relocated_like_in_memory(client, monkeypatch):
    rng = np.random.default_rng(6)
    X = make_data(rng, 2000, 3, k=4)
    init = np.vstack([X[:3], np.full((1, 3), 1e4)])  # the last centre attracts no row
    calls = []
    original = dask_kmeans.Fit._relocate_empty_clusters

    def spy(self, centres, sums, weights):
        calls.append(int(np.count_nonzero(weights == 0)))
        return original(self, centres, sums, weights)

    monkeypatch.setattr(dask_kmeans.Fit, "_relocate_empty_clusters", spy)
    ref = fastseg.KMeans(4, init=init, n_init=1).fit(X)
    model = fdask.KMeans(4, init=init).fit(da.from_array(X, chunks=((700, 600, 700), 3)))
    assert calls and calls[0] == 1
    _assert_same_fit(model, ref, np.float64)


def test_several_empty_clusters_get_distinct_far_rows(client):
    rng = np.random.default_rng(7)
    X = make_data(rng, 1500, 2, k=3)
    init = np.vstack([X[:2], np.full((3, 2), 1e4) + np.arange(3)[:, None]])
    model = fdask.KMeans(5, init=init, max_iter=1, tol=0).fit(da.from_array(X, chunks=400))
    counts = np.bincount(model.labels_.compute(), minlength=5)
    assert np.all(counts > 0)
    assert np.all(np.abs(model.cluster_centers_) < 1e3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_cosine_same_init_same_result_as_in_memory(client, dtype, weighted):
    from .test_real_data import customers

    X = (customers(1, n=2400) + 1.0).astype(dtype)
    weights = np.random.default_rng(3).integers(1, 4, size=len(X)).astype(dtype) if weighted else None
    init = X[np.linspace(0, len(X) - 1, 5).astype(int)]
    ref = fastseg.KMeans(5, init=init, n_init=1, tol=0, metric="cosine").fit(X, sample_weight=weights)
    Xd = da.from_array(X, chunks=700)
    wd = None if weights is None else da.from_array(weights, chunks=700)
    model = fdask.KMeans(5, init=init, tol=0, metric="cosine").fit(Xd, sample_weight=wd)
    assert ref.n_iter_ > 1
    _assert_same_fit(model, ref, dtype)
    np.testing.assert_allclose(np.linalg.norm(model.cluster_centers_, axis=1), 1.0, rtol=RTOL[dtype])
    np.testing.assert_array_equal(model.predict(X), ref.predict(X))
    np.testing.assert_allclose(model.transform(Xd).compute(), ref.transform(X), atol=10 * RTOL[dtype])
    np.testing.assert_allclose(-model.score(Xd, sample_weight=wd), ref.inertia_, rtol=RTOL[dtype])


# -- bad input ------------------------------------------------------------------------------------
@pytest.fixture
def threaded():
    with dask.config.set(scheduler="threads"):
        yield


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_name_the_block(threaded, bad):
    X = np.random.default_rng(0).normal(size=(1000, 3))
    X[650, 1] = bad
    with pytest.raises(ValueError, match=r"NaN or infinity in block 2 \(rows 600 to 899\)"):
        fdask.KMeans(3).fit(da.from_array(X, chunks=300))


def test_cosine_zero_row_is_named_in_the_whole_array(threaded):
    X = np.random.default_rng(0).normal(size=(1000, 3))
    X[650] = 0
    with pytest.raises(ValueError, match=r"1 row\(s\) are all zeros \(the first is row 650\)"):
        fdask.KMeans(3, metric="cosine").fit(da.from_array(X, chunks=300))


def test_tolerance_is_scaled_by_the_mean_column_variance(threaded):
    X = np.random.default_rng(1).normal(size=(1000, 3)) * [1.0, 2.0, 3.0] + 50.0
    fit = dask_kmeans.Fit(da.from_array(X, chunks=333), None, 1)
    np.testing.assert_allclose(fit.tolerance(1e-4), np.var(X, axis=0).mean() * 1e-4, rtol=1e-12)


def test_bad_input_errors(threaded):
    X = da.random.default_rng(0).normal(size=(100, 3), chunks=50)
    with pytest.raises(ValueError, match="2-D"):
        fdask.KMeans(2).fit(X[:, 0])
    with pytest.raises(ValueError, match="2-D"):
        fdask.KMeans(2).fit(X[:, :, None])
    with pytest.raises(ValueError, match="n_samples=100 should be >= n_clusters=101"):
        fdask.KMeans(101).fit(X)
    with pytest.raises(TypeError, match="numbers"):
        fdask.KMeans(2).fit(da.from_array(np.array([["a", "b"], ["c", "d"], ["e", "f"]])))
    with pytest.raises(ValueError, match="shape of the initial centers"):
        fdask.KMeans(2, init=np.zeros((3, 3))).fit(X)
    with pytest.raises(ValueError, match="Negative values in sample_weight in block 1"):
        fdask.KMeans(2).fit(X, sample_weight=np.r_[np.ones(99), -1.0])
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        fdask.KMeans(2).fit(X[X[:, 0] > 0])
    with pytest.raises(ValueError, match="n_clusters"):
        fdask.KMeans(0).fit(X)


def test_import_fastseg_does_not_import_dask():
    import subprocess
    import sys

    code = "import sys, fastseg; fastseg.KMeans; print('dask' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip() == "False"


# -- losing a worker -------------------------------------------------------------------------------
class _WorkerRemoved(distributed.diagnostics.plugin.SchedulerPlugin):
    """Says when the scheduler (which a LocalCluster runs in this process) removes a worker."""

    name = "fastseg-test-worker-removed"

    def __init__(self):
        self.event, self.address = threading.Event(), None

    def remove_worker(self, scheduler, worker, **kwargs):
        self.address = worker
        self.event.set()


@pytest.mark.slow
def test_fit_survives_a_killed_worker(client, monkeypatch):
    rng = np.random.default_rng(8)
    X = make_data(rng, 20000, 4, k=6, dtype=np.float32)
    init = X[:6]
    Xd = da.from_array(X, chunks=2500)
    kwargs = dict(init=init, tol=0.0, max_iter=30)
    undisturbed = fdask.KMeans(6, **kwargs).fit(Xd)
    assert undisturbed.n_iter_ > 3
    killed = []

    def kill_a_worker_holding_data(fit, iteration, centres):
        if iteration != 1:
            return
        who_has = client.who_has(distributed.futures_of(fit.X))
        victim = sorted({addr for holders in who_has.values() for addr in holders})[0]
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
        if not removed.event.wait(timeout=60):  # set by the scheduler itself, in this process
            raise TimeoutError(f"scheduler still lists {victim} 60 s after it was killed")
        assert removed.address == victim
        killed.append(victim)

    removed = _WorkerRemoved()
    client.cluster.scheduler.add_plugin(removed)
    monkeypatch.setattr(dask_kmeans, "after_iteration", kill_a_worker_holding_data)
    try:
        with ThreadPoolExecutor(1) as pool:
            disturbed = pool.submit(fdask.KMeans(6, **kwargs).fit, Xd).result(timeout=180)
    finally:
        client.cluster.scheduler.remove_plugin(removed.name)
    assert len(killed) == 1
    np.testing.assert_array_equal(disturbed.cluster_centers_, undisturbed.cluster_centers_)
    assert disturbed.n_iter_ == undisturbed.n_iter_
    assert disturbed.inertia_ == undisturbed.inertia_
    np.testing.assert_array_equal(disturbed.labels_.compute(), undisturbed.labels_.compute())
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the worker for later tests


# -- Gaussian mixture -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "covariance_type, dtype",
    [
        ("full", np.float64),
        ("diag", np.float64),
        ("tied", np.float64),
        ("spherical", np.float64),
        ("full", np.float32),
    ],
)
def test_mixture_same_init_same_em_path_as_in_memory(client, covariance_type, dtype):
    rng = np.random.default_rng(9)
    X = make_data(rng, 3000, 3, k=3, dtype=dtype, offset=10.0)
    weights = rng.integers(1, 3, size=3000).astype(dtype)
    start = fastseg.GaussianMixture(3, covariance_type=covariance_type, random_state=0, max_iter=1)
    with pytest.warns(ConvergenceWarning):
        start.fit(X)
    kwargs = dict(
        covariance_type=covariance_type,
        weights_init=start.weights_,
        means_init=start.means_,
        precisions_init=start.precisions_,
        tol=1e-8,
    )
    ref = fastseg.GaussianMixture(3, **kwargs).fit(X, sample_weight=weights)
    Xd = da.from_array(X, chunks=((1000, 999, 1001), 3))
    model = fdask.GaussianMixture(3, **kwargs).fit(Xd, sample_weight=weights)
    assert ref.n_iter_ > 2
    assert (model.n_iter_, model.converged_) == (ref.n_iter_, ref.converged_)
    rtol = RTOL[dtype] if dtype == np.float32 else 1e-9
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_allclose(
            getattr(model, name), getattr(ref, name), rtol=rtol, atol=rtol, err_msg=name
        )
        assert getattr(model, name).dtype == dtype
    np.testing.assert_allclose(model.lower_bound_, ref.lower_bound_, rtol=rtol)
    np.testing.assert_array_equal(model.predict(Xd).compute(), ref.predict(X))
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), rtol=rtol, atol=rtol)


def test_mixture_kmeans_init_and_lazy_outputs(client):
    X, _ = make_blobs(n_samples=3000, centers=4, n_features=3, random_state=1)
    Xd = da.from_array(X, chunks=800)
    model = fdask.GaussianMixture(4, random_state=0)
    labels = model.fit_predict(Xd)
    ref = fastseg.GaussianMixture(4, random_state=0).fit(X)
    assert model.converged_
    np.testing.assert_allclose(model.lower_bound_, ref.lower_bound_, rtol=1e-3)
    assert isinstance(labels, da.Array)
    np.testing.assert_array_equal(labels.compute(), model.predict(Xd).compute())
    np.testing.assert_allclose(model.score(Xd), model.score_samples(X).mean(), rtol=1e-10)
    with pytest.raises(ValueError, match="init_params"):
        fdask.GaussianMixture(4, init_params="random").fit(Xd)
