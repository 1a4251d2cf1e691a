"""pytest-benchmark suite: ``pytest benchmarks --benchmark-only``.

Sizes come from benchmarks/registry.py, scaled by FASTSEG_BENCH_SCALE (default 1; the CI smoke
run uses 0.002). Each case is timed for fastseg and every installed peer; compare the rows of
one run (``--benchmark-group-by=param:case``), not absolute times across runs.
"""

import os

import pytest

from .registry import CASES, implementations_for, make_data

SCALE = float(os.environ.get("FASTSEG_BENCH_SCALE", "1"))


def _params():
    for case in CASES:
        run = case.scaled(SCALE) if SCALE != 1 else case
        for name, fn in implementations_for(run):
            yield pytest.param(run, name, fn, id=f"{case.name} | {name}")


@pytest.fixture(scope="module")
def data_cache():
    return {}


@pytest.mark.parametrize("case, impl, fn", list(_params()))
def test_kmeans(benchmark, data_cache, case, impl, fn):
    if case not in data_cache:
        data_cache[case] = make_data(case)
    X, init = data_cache[case]
    fn(case, X[: 50 * case.k], init)  # warm-up outside the timing (compilation)
    benchmark.group = case.name
    benchmark.extra_info["implementation"] = impl
    n_iter, _ = benchmark.pedantic(fn, args=(case, X, init), rounds=3, iterations=1)
    assert n_iter >= 1
