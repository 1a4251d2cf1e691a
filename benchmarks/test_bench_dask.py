"""pytest-benchmark smoke case for ``fastseg.dask.KMeans`` (threaded scheduler, no cluster): keeps
``benchmarks/dask_compare.py``'s fit path running in CI. Ratios come from ``python -m benchmarks.dask_compare``."""

import os

import pytest

from .dask_compare import _fastseg_fit
from .registry import Case, make_data

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

SCALE = float(os.environ.get("FASTSEG_BENCH_SCALE", "1"))


def test_dask_kmeans(benchmark):
    case = Case("dask", "lloyd", 1_000_000, 8, 8, "float32", iters=10).scaled(SCALE)
    X, init = make_data(case)
    Xd = da.from_array(X, chunks=(-(-case.n // 8), case.d))
    with dask.config.set(scheduler="threads"):
        _fastseg_fit(Xd, case.k, init, 1)  # warm-up outside the timing (compilation)
        benchmark.group = "dask 1e6 x 8, k=8"
        n_iter, centres = benchmark.pedantic(_fastseg_fit, args=(Xd, case.k, init, case.iters), rounds=3)
    assert 1 <= n_iter <= case.iters and centres.shape == (case.k, case.d)
