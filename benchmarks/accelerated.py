"""Exact accelerated K-means (Yinyang) against fastseg's Lloyd and scikit-learn, as ratios.

    python -m benchmarks.accelerated                 # full sizes (several minutes on 2 cores)
    python -m benchmarks.accelerated --quick         # small sizes, a smoke run
    python -m benchmarks.accelerated --update-docs # also rewrite the table in docs/

(a) Late-iteration cost: Lloyd and Yinyang start from the same centres (the registry's k random
rows, as ``benchmarks.compare``: from k-means++ centres a small-k fit converges before its late
iterations) and run a fixed number of iterations (``tol`` that never triggers); an iteration's
time is the time between two consecutive calls of the driver's ``on_iteration`` hook (once per
iteration in both). Per run the median over iterations 10..20, then the median over interleaved rounds.
Ratio = Lloyd time / Yinyang time.
(b) Full default fit (k-means++, ``n_init='auto'``, default ``tol``/``max_iter``, same
``random_state``) of ``fastseg.KMeans`` with Yinyang against ``sklearn.cluster.KMeans`` with its
default algorithm and with ``algorithm='elkan'``. Ratio = peer time / fastseg-Yinyang time.
Data: ``benchmarks.registry.make_data`` (blobs with unequal spreads, away from the origin).
"""

import argparse
import time

import numpy as np

from ._common import code_path, cold_and_warm_seconds, update_docs
from .registry import Case, make_data

LATE = [(200_000, 32, 256), (200_000, 16, 128), (1_000_000, 8, 64), (1_000_000, 8, 8)]
FULL = (200_000, 32, 256)

_COMPILE = """
import time
import numpy as np
from fastseg._lloyd import lloyd
from fastseg._rows import Rows
from fastseg._yinyang import yinyang
out = []
for dtype, d, k in (("float32", 8, 16), ("float32", 32, 64), ("float64", 8, 16), ("float64", 2, 16)):
    X = np.random.default_rng(0).normal(size=(2000, d)).astype(dtype)
    rows, w = Rows(X), np.ones(2000, dtype)
    lloyd(rows, w, X[:k].copy(), 3, 0.0)
    t0 = time.perf_counter()
    yinyang(rows, w, X[:k].copy(), 3, 0.0)
    out.append(time.perf_counter() - t0)
print(sum(out))
"""


def compile_seconds():
    """(cold, warm) seconds of the first Yinyang calls (both dtypes, fused and GEMM scoring) in a
    fresh interpreter after Lloyd's kernels are loaded: empty kernel cache, then the filled one."""
    return cold_and_warm_seconds(_COMPILE)


def _iteration_ticks(ticks):
    """An ``on_iteration`` hook recording the time of every call (once per iteration), so
    consecutive ticks bracket one whole iteration."""

    def tick(it, centres):
        ticks.append(time.perf_counter())

    return tick


def late_iterations(n, d, k, repeats, first=10, last=20, dtype="float32"):
    """Median per-iteration time of iterations ``first..last``, Lloyd / Yinyang."""
    from fastseg import _lloyd, _rows, _yinyang

    X, init = make_data(Case("late", "lloyd", n, d, k, dtype))
    rows, w = _rows.Rows(X), np.ones(n, dtype=X.dtype)
    algos = {"lloyd": _lloyd.lloyd, "yinyang": _yinyang.yinyang}  # both run _lloyd's loop
    ran = _yinyang.yinyang(rows, w, init, last, -1.0)[3]
    if ran < last:  # converged early (small --quick sizes): time the second half instead
        first, last = ran // 2, ran
    _lloyd.lloyd(rows, w, init, 2, -1.0)
    times = {name: [] for name in algos}
    for _ in range(repeats):
        for name, run in algos.items():
            ticks = []
            run(rows, w, init, last, -1.0, on_iteration=_iteration_ticks(ticks))
            times[name].append(np.median(np.diff(ticks)[first - 1 : last - 1]))
    work = []
    _yinyang.yinyang(rows, w, init, last, -1.0, work=work)
    recomputed = float(np.mean([wk[1] for wk in work[first:last]]) / n)
    med = {name: float(np.median(v)) for name, v in times.items()}
    return med["lloyd"] / med["yinyang"], recomputed, (first, last)


def full_fit(n, d, k, repeats):
    from sklearn.cluster import KMeans as SKMeans

    import fastseg

    X, _ = make_data(Case("full", "lloyd", n, d, k, "float32"))

    def fastseg_yinyang():
        return fastseg.KMeans(k, random_state=0, algorithm="yinyang").fit(X)

    impls = {
        "fastseg yinyang": fastseg_yinyang,
        "fastseg lloyd": lambda: fastseg.KMeans(k, random_state=0, algorithm="lloyd").fit(X),
        "sklearn lloyd": lambda: SKMeans(k, random_state=0).fit(X),
        "sklearn elkan": lambda: SKMeans(k, random_state=0, algorithm="elkan").fit(X),
    }
    fastseg_yinyang()
    times = {name: [] for name in impls}
    fits = {}
    for _ in range(repeats):
        for name, fit in impls.items():
            t0 = time.perf_counter()
            fits[name] = fit()
            times[name].append(time.perf_counter() - t0)
    same = np.array_equal(fits["fastseg yinyang"].labels_, fits["fastseg lloyd"].labels_)
    med = {name: float(np.median(v)) for name, v in times.items()}
    n_iter = {name: int(m.n_iter_) for name, m in fits.items()}
    return med, n_iter, same


def render(late, full, full_shape, compile_s, repeats):
    lines = [
        f"{code_path()} Median of {repeats} interleaved rounds; ratios only (shared, noisy cores).",
        "",
        "| late iterations, float32 | Lloyd / Yinyang | iterations timed | rows past both filters |",
        "|---|---|---|---|",
    ]
    for (n, d, k), (ratio, rec, (a, b)) in late:
        lines.append(f"| {n:.0e} x {d}, k={k} | {ratio:.2f}x | {a}..{b} | {rec:.1%} |")
    med, n_iter, same = full
    ref = med["fastseg yinyang"]
    lines += [
        "",
        f"| full default fit {full_shape[0]:.0e} x {full_shape[1]}, k={full_shape[2]}, float32 "
        "| time / fastseg Yinyang "
        "| n_iter_ |",
        "|---|---|---|",
    ]
    for name in ("sklearn lloyd", "sklearn elkan", "fastseg lloyd", "fastseg yinyang"):
        lines.append(f"| {name} | {med[name] / ref:.2f}x | {n_iter[name]} |")
    lines += [
        "",
        f"fastseg Yinyang and Lloyd labels identical: {same}. First Yinyang calls (4 signatures) "
        f"with an empty kernel cache: {compile_s[0]:.1f} s, with a filled one: {compile_s[1]:.1f} s.",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args(argv)
    scale = 0.05 if args.quick else 1.0
    late = []
    for n, d, k in LATE:
        n = max(int(n * scale), 4 * k)
        late.append(((n, d, k), late_iterations(n, d, k, args.repeats)))
        print(late[-1], flush=True)
    full_shape = (max(int(FULL[0] * scale), 4 * FULL[2]), *FULL[1:])
    full = full_fit(*full_shape, repeats=max(3, args.repeats if not args.quick else 1))
    print(full, flush=True)
    table = render(late, full, full_shape, compile_seconds(), args.repeats)
    print(table)
    if args.update_docs:
        update_docs(table, "accelerated-table")


if __name__ == "__main__":
    main()
