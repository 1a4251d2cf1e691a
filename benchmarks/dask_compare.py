"""Time fastseg.dask.KMeans against dask-ml's KMeans on one LocalCluster, interleaved, and print ratios.

    python -m benchmarks.dask_compare                 # 1e6 x 8 float32, k=8 (a few minutes)
    python -m benchmarks.dask_compare --quick         # tiny sizes, a smoke run
    python -m benchmarks.dask_compare --update-docs # also rewrite the dask table in docs/

Both estimators get the same persisted dask array (8 row blocks) on a LocalCluster of 2 worker
processes with 1 thread each, the same initial centres, ``tol=0`` and the same ``max_iter``.
Per-iteration time is fit time / iterations run (so it includes each library's fixed passes:
input checks, final labels/inertia), the median of ``--repeats`` rounds; within a round the two
run one after the other, in alternating order, so noise on this shared machine hits both alike.
k-means|| is timed on its own (5 rounds, oversampling factor 2, both libraries). What a fresh worker
pays before its first task (import, kernel compilation or cache load) is timed in fresh interpreters.
"""

import argparse
import os
import platform
import sys
import time
import warnings

import numpy as np

from ._common import cold_and_warm_runs, update_docs
from .registry import Case, make_data


def _fastseg_fit(Xd, k, init, iters):
    import fastseg.dask

    model = fastseg.dask.KMeans(k, init=init, max_iter=iters, tol=0.0).fit(Xd)
    return model.n_iter_, model.cluster_centers_


def _dask_ml_fit(Xd, k, init, iters):
    from dask_ml.cluster import KMeans

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = KMeans(k, init=init, max_iter=iters, tol=0.0).fit(Xd)
    return model.n_iter_, model.cluster_centers_


def _fastseg_init(Xd, k, seed):
    import fastseg.dask

    # The k-means|| pass of fit on its own (private API: fit always goes on to Lloyd); it includes
    # the input checks, which fit runs with its first pass.
    fit = fastseg.dask.kmeans.Fit(Xd, None, 1)
    return fit.kmeans_parallel(k, 2, 5, seed, np.random.RandomState(seed))


def _dask_ml_init(Xd, k, seed):
    from dask_ml.cluster.k_means import k_init

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return k_init(Xd, k, init="k-means||", random_state=seed, max_iter=5, oversampling_factor=2)


def _sse(X, centres, step=100_000):
    """Sum of squared distances to the nearest centre, float64, plain NumPy (the same yardstick for
    both: dask-ml's own ``inertia_`` did not match its centres in our runs)."""
    c = np.asarray(centres, dtype=np.float64)
    total = 0.0
    for start in range(0, X.shape[0], step):
        x = X[start : start + step].astype(np.float64)
        total += float(((x[:, None, :] - c[None]) ** 2).sum(axis=2).min(axis=1).sum())
    return total


_FIRST_TASK = """
import time
t0 = time.perf_counter()
import numpy as np
from fastseg.dask.blocks import block_final as _block_final
from fastseg.dask.blocks import block_stats as _block_stats
t1 = time.perf_counter()
X = np.random.default_rng(0).normal(size=(5000, 8)).astype(np.float32)
X.flags.writeable = False  # as blocks that arrived from another process are
_block_stats(X, None, X[:8].copy(), 1)
_block_final(X, None, X[:8].copy(), 1)
print(t1 - t0, time.perf_counter() - t1)
"""


def first_task_seconds():
    """What a fresh worker process pays before its first Lloyd task: (import, first kernel calls
    with an empty Numba cache, first kernel calls with the cache that run filled)."""
    cold, warm = cold_and_warm_runs(_FIRST_TASK)
    return cold[-2], cold[-1], warm[-1]


def _timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def run(case, repeats, n_blocks=8):
    import dask.array as da
    from distributed import Client, LocalCluster, wait

    X, init = make_data(case)
    rows = -(-case.n // n_blocks)
    result = {}
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, Client(cluster):
        Xd = da.from_array(X, chunks=(rows, case.d)).persist()
        wait(Xd)
        fits = {"fastseg.dask": _fastseg_fit, "dask-ml": _dask_ml_fit}
        inits = {"fastseg.dask": _fastseg_init, "dask-ml": _dask_ml_init}
        for fn in fits.values():  # warm-up: imports, kernel compilation on the workers, caches
            fn(Xd, case.k, init, 2)
        per_iter = {name: [] for name in fits}
        init_times = {name: [] for name in fits}
        n_iter, centres = {}, {}
        names = list(fits)
        for r in range(repeats):
            order = names if r % 2 == 0 else names[::-1]
            for name in order:
                seconds, (n_iter[name], centres[name]) = _timed(fits[name], Xd, case.k, init, case.iters)
                per_iter[name].append(seconds / n_iter[name])
            for name in order:
                init_times[name].append(_timed(inits[name], Xd, case.k, r)[0])
    # Ratio of each round (the two fits of a round ran back to back): the spread shows the noise.
    result["round_ratios"] = np.array(per_iter["dask-ml"]) / np.array(per_iter["fastseg.dask"])
    for name in names:
        result[name] = {
            "per_iter": float(np.median(per_iter[name])),
            "init": float(np.median(init_times[name])),
            "n_iter": n_iter[name],
            "sse": _sse(X, centres[name]),
        }
    return result


def render(case, result, repeats, quick, n_blocks):
    fs, dm = result["fastseg.dask"], result["dask-ml"]
    goal = dm["per_iter"] / fs["per_iter"]
    lines = [
        "| measure | fastseg.dask | dask-ml | dask-ml / fastseg.dask |",
        "|---|---:|---:|---:|",
        f"| Lloyd, ms per iteration ({case.n:,} x {case.d} {case.dtype}, k={case.k}, "
        f"{fs['n_iter']} / {dm['n_iter']} iterations) | {fs['per_iter'] * 1e3:.1f} | {dm['per_iter'] * 1e3:.1f} "
        f"| {goal:.2f}x |",
        f"| k-means\\|\\| init, s (5 rounds, oversampling 2) | {fs['init']:.2f} | {dm['init']:.2f} "
        f"| {dm['init'] / fs['init']:.2f}x |",
        "",
        f"Goal >= 5x dask-ml per iteration: {'met' if goal >= 5 else 'NOT met'} (ratio of the medians; the ratio "
        f"within single rounds ranged {result['round_ratios'].min():.2f}x to {result['round_ratios'].max():.2f}x). "
        "Same initial centres, tol=0; "
        f"SSE of the final centres (recomputed in NumPy) fastseg.dask {fs['sse']:.8g}, dask-ml {dm['sse']:.8g}. Medians of {repeats} "
        f"interleaved rounds{' at smoke-test sizes' if quick else ''}; LocalCluster of 2 worker processes "
        f"x 1 thread, {n_blocks} row blocks, persisted input; {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}.",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument("--repeats", type=int, default=None, help="rounds (default 5, quick 2)")
    parser.add_argument("--iters", type=int, default=10, help="Lloyd iterations per fit (default 10)")
    parser.add_argument("--blocks", type=int, default=8, help="row blocks of the dask array (default 8)")
    parser.add_argument("--update-docs", action="store_true", help="write the table into its docs page")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)
    case = Case("dask", "lloyd", 20_000 if args.quick else 1_000_000, 8, 8, "float32", iters=args.iters)
    print(f"running {case.n} x {case.d}, k={case.k}, {repeats} rounds ...", file=sys.stderr, flush=True)
    table = render(case, run(case, repeats, args.blocks), repeats, args.quick, args.blocks)
    imports, cold, warm = first_task_seconds()
    table += (
        f"\n\nA fresh worker process before its first Lloyd task: import {imports:.1f} s, then the first kernel "
        f"calls (float32, read-only block) {cold:.1f} s with an empty Numba cache (compilation), {warm:.2f} s with "
        "the cache warm (each worker compiles once per machine, or loads the cache)."
    )
    print(table)
    if args.update_docs:
        if args.quick or args.blocks != 8:
            raise SystemExit("--update-docs needs the full run (no --quick, 8 blocks)")
        update_docs(table, "dask-table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
