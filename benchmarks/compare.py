"""Time fastseg against the installed peers on the same arrays, interleaved, and print ratios.

    python -m benchmarks.compare                 # full sizes (a few minutes on 2 cores)
    python -m benchmarks.compare --quick         # tiny sizes, a smoke run
    python -m benchmarks.compare --update-docs # also rewrite the table in docs/
    python -m benchmarks.compare --isa avx2      # AVX2 code for Numba and OpenBLAS (its own table)

Every implementation runs the same fixed work (same initial centres, a fixed number of
iterations, tol=0). Times are per iteration (fit time / iterations run), the median of
``--repeats`` rounds; within a round the implementations run one after the other, so noise on
this shared machine hits all of them alike. A ratio is peer time / fastseg time: above 1 means
fastseg is faster.
"""

import argparse
import os
import platform
import sys
import time
from dataclasses import replace

import numpy as np

from ._common import avx2_forced, code_path, cold_and_warm_seconds, rerun_with_avx2, update_docs
from .registry import CASES, IMPLEMENTATIONS, implementations_for, make_data

_FIRST_FIT = """
import time
t0 = time.perf_counter()
import numpy as np
import fastseg
rng = np.random.default_rng(0)
for dtype in ("float32", "float64"):
    X = rng.normal(size=(2000, 8)).astype(dtype)
    fastseg.KMeans(8, random_state=0).fit(X).predict(X)
print(time.perf_counter() - t0)
"""


def first_fit_seconds():
    """(cold, warm): import + first k-means++ fit and predict, float32 and float64."""
    return cold_and_warm_seconds(_FIRST_FIT)


def time_case(case, repeats):
    X, init = make_data(case)
    impls = implementations_for(case)
    if case.kind == "genetic" and case.n > 100_000:
        repeats = min(repeats, 2)  # a pygad generation takes seconds at this size
    for _, fn in impls:  # warm-up: compilation, caches, thread pools
        fn(case.scaled(0.01), *make_data(case.scaled(0.01)))
        if case.kind == "predict":  # the model the timed calls use, fitted on their init and kept
            fn(replace(case, iters=1), X[:1000], init)
    times = {name: [] for name, _ in impls}
    iters = {}
    for _ in range(repeats):
        for name, fn in impls:
            t0 = time.perf_counter()
            n_iter, _ = fn(case, X, init)
            times[name].append((time.perf_counter() - t0) / n_iter)
            iters[name] = n_iter
    return {name: float(np.median(v)) for name, v in times.items()}, iters, quality_note(case, X, impls)


def quality_note(case, X, impls):
    """For GA cases: final inertia of each GA beside the best of 10 k-means++ runs."""
    if case.kind != "genetic":
        return ""
    from fastseg import KMeans

    best_km = min(KMeans(case.k, n_init=1, random_state=s).fit(X).inertia_ for s in range(10))
    parts = []
    for name, fn in impls:
        inertia = fn(case, X, None, labels=True)[1][1]
        parts.append(f"{name} {inertia:.6g} ({inertia / best_km - 1:+.2e} relative)")
    return f"{case.name}: final SSE " + ", ".join(parts) + f"; best of 10 k-means++ runs {best_km:.6g}."


def render(results, first_fit, repeats, quick):
    peers = [name for name in IMPLEMENTATIONS if name != "fastseg"]
    lines = [
        code_path(),
        "",
        "| case | fastseg ms/iter | " + " | ".join(f"{p} ratio" for p in peers) + " | goal |",
        "|---|---:|" + "---:|" * len(peers) + "---|",
    ]
    notes = []
    for case, (med, iters, note) in results:
        if note:
            notes.append(note)
        fs = med["fastseg"]
        cells = []
        for p in peers:
            cells.append(f"{med[p] / fs:.2f}x" if p in med else "n/a")
        goal = ""
        if case.goal is not None and case.goal_peer in med:
            ratio = med[case.goal_peer] / fs
            goal = f">= {case.goal:g}x vs {case.goal_peer}: {'met' if ratio >= case.goal else 'NOT met'}"
        unit = {"lloyd": "iters", "genetic": "generations", "predict": "calls"}.get(case.kind)
        name = case.name + (f" ({iters['fastseg']} {unit})" if unit else "")
        lines.append(f"| {name} | {fs * 1e3:.2f} | " + " | ".join(cells) + f" | {goal} |")
    cold, warm = first_fit
    lines += (
        [""]
        + notes
        + [
            "",
            f"First call (fresh interpreter: import + k-means++ fit + predict, float32 and float64): "
            f"{cold:.1f} s with an empty kernel cache (compilation), {warm:.2f} s with the cache warm (goal <= 1.5 s: "
            f"{'met' if warm <= 1.5 else 'NOT met'}).",
            "",
            f"Ratio = peer time / fastseg time per iteration (above 1: fastseg is faster); median of {repeats} "
            f"interleaved rounds{' at smoke-test sizes' if quick else ''}; "
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
            + " ".join(f"{name}: {note}." for name, (_, _, note) in IMPLEMENTATIONS.items() if note),
        ]
    )
    return "\n".join(lines)


SUMMARY_PEERS = ("scikit-learn", "scikit-learn-intelex", "faiss-cpu")


def render_summary(results, repeats):
    """The README's short table: the K-means, mixture and predict cases against the K-means peers."""
    lines = [
        "| case | scikit-learn | scikit-learn-intelex | faiss-cpu |",
        "|---|---:|---:|---:|",
    ]
    for case, (med, _, _) in results:
        if case.kind in ("genetic", "pairs"):
            continue
        fs = med["fastseg"]
        cells = [f"{med[p] / fs:.2f}x" if p in med else "n/a" for p in SUMMARY_PEERS]
        lines.append(f"| {case.name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Peer time / fastseg time (above 1: fastseg is faster), median of {repeats} interleaved rounds. "
        + code_path(),
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument("--repeats", type=int, default=None, help="rounds per case (default 5, quick 2)")
    parser.add_argument("--only", default=None, help="run the cases whose name contains this text")
    parser.add_argument("--update-docs", action="store_true", help="write the table into its docs page")
    parser.add_argument(
        "--isa", choices=["native", "avx2"], default="native", help="avx2: AVX2 code for Numba and OpenBLAS"
    )
    args = parser.parse_args(argv)
    if args.isa == "avx2" and not avx2_forced():
        return rerun_with_avx2("benchmarks.compare", argv)
    repeats = args.repeats or (2 if args.quick else 5)
    results = []
    for case in CASES:
        if args.only and args.only not in case.name:
            continue
        run = case.scaled(0.005) if args.quick else case
        print(f"running {case.name} ...", file=sys.stderr, flush=True)
        results.append((case, time_case(run, repeats)))
    table = render(results, first_fit_seconds(), repeats, args.quick)
    print(table)
    if args.update_docs:
        if args.quick or args.only:
            raise SystemExit("--update-docs needs the full run (no --quick, no --only)")
        update_docs(table, "benchmark-table" if args.isa == "native" else "benchmark-table-avx2")
        if args.isa == "native":
            update_docs(render_summary(results, repeats), "benchmark-summary")
    return 0


if __name__ == "__main__":
    sys.exit(main())
