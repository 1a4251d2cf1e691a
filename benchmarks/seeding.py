"""k-means++ seeding against scikit-learn's: the same rows drawn, and the time, native and AVX2 code.

    python -m benchmarks.seeding                  # both code paths (AVX2 in a child process)
    python -m benchmarks.seeding --update-docs  # also rewrite the seeding table in docs/
    python -m benchmarks.seeding --threads 1 --update-docs  # one thread each (its own table)

For each case and seed, ``fastseg.kmeans_plusplus`` and ``sklearn.cluster.kmeans_plusplus`` run
one after the other on the same array (interleaved rounds, one seed per round); the table gives
how many of the seeds drew every row as scikit-learn did, the first centre where any seed's draws
left scikit-learn's, and the median time ratio (scikit-learn / fastseg: above 1, fastseg is
faster). ``--threads 1`` runs both on one thread (Numba's and BLAS's): the ratio of the work
itself, less sensitive to other processes on a shared machine than two threads that wait for
each other at every parallel pass.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from ._common import AVX2_ENV, ROOT, code_path, update_docs

# (rows, features, k, dtype): the seeding table's case and a smaller shape where float32 draws
# used to leave scikit-learn's.
CASES = [
    (200_000, 32, 256, "float32"),
    (50_000, 16, 64, "float32"),
    (200_000, 32, 256, "float64"),
]
GOAL = 3.0


def blobs(n, d, k, dtype, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=5.0, size=(k, d))
    X = centres[rng.integers(0, k, size=n)] + rng.normal(size=(n, d))
    return np.ascontiguousarray(X, dtype=dtype)


def run_case(n, d, k, dtype, repeats, threads=None):
    from sklearn.cluster import kmeans_plusplus as theirs_all_threads
    from threadpoolctl import threadpool_limits

    from fastseg import kmeans_plusplus as ours_all_threads
    from fastseg._kernels._config import threads as numba_threads

    def ours(*args, **kw):
        with numba_threads(threads), threadpool_limits(threads, user_api="blas"):
            return ours_all_threads(*args, **kw)

    def theirs(*args, **kw):
        with threadpool_limits(threads, user_api="blas"):
            return theirs_all_threads(*args, **kw)

    X = blobs(n, d, k, dtype)
    ours(X[:2000], 8, random_state=0)  # compilation
    ratios, same, first_diff = [], 0, None
    for seed in range(repeats):
        t0 = time.perf_counter()
        _, a = ours(X, k, random_state=seed)
        t1 = time.perf_counter()
        _, b = theirs(X, k, random_state=seed)
        t2 = time.perf_counter()
        ratios.append((t2 - t1) / (t1 - t0))
        diff = np.flatnonzero(a != b)
        if diff.size == 0:
            same += 1
        elif first_diff is None or diff[0] < first_diff:
            first_diff = int(diff[0])
    return {"ratio": float(np.median(ratios)), "same": same, "seeds": repeats, "first_diff": first_diff}


def measure(repeats, threads=None):
    """Every case on this process's code path: (code path line, results)."""
    results = []
    for case in CASES:
        print(f"running k-means++ {case} ...", file=sys.stderr, flush=True)
        results.append((case, run_case(*case, repeats, threads)))
    return code_path(), results


def render(runs, repeats, threads=None):
    lines = [
        "| k-means++ | code | same rows as scikit-learn (seeds) | first centre that differs | "
        f"scikit-learn time / fastseg time | goal >= {GOAL:g}x |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, (_, results) in runs:
        for (n, d, k, dtype), r in results:
            first = "none" if r["first_diff"] is None else str(r["first_diff"])
            goal = "met" if r["ratio"] >= GOAL else "NOT met"
            lines.append(
                f"| {n:.0e} x {d}, k={k}, {dtype} | {label} | {r['same']} / {r['seeds']} | {first} | "
                f"{r['ratio']:.2f}x | {goal} |"
            )
    lines.append("")
    for label, (path, _) in runs:
        lines.append(f"{label}: {path}")
    lines.append("")
    how = "`python -m benchmarks.seeding --update-docs`"
    if threads:
        how = f"`python -m benchmarks.seeding --threads {threads} --update-docs`"
    on = f"{threads} thread(s) each (Numba and BLAS)" if threads else "every thread (2 cores)"
    lines.append(
        f"Median of {repeats} interleaved rounds (one seed per round, the same for both), {on}; {how}."
    )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="rounds (seeds) per case")
    parser.add_argument("--update-docs", action="store_true", help="write the table into its docs page")
    parser.add_argument("--threads", type=int, default=None, help="threads for both (default: all)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # child: results only
    args = parser.parse_args(argv)
    if args.json:
        print(json.dumps(measure(args.repeats, args.threads)))
        return 0
    runs = [("native", measure(args.repeats, args.threads))]
    # Numba and OpenBLAS read these at start-up: the AVX2 run is a child process that has them.
    extra = ["--threads", str(args.threads)] if args.threads else []
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.seeding", "--json", "--repeats", str(args.repeats), *extra],
        env=dict(os.environ, **AVX2_ENV),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    path, results = json.loads(child.stdout.strip().splitlines()[-1])
    runs.append(("AVX2", (path, [(tuple(c), r) for c, r in results])))
    table = render(runs, args.repeats, args.threads)
    print(table)
    if args.update_docs:
        update_docs(table, f"seeding-table-{args.threads}-thread" if args.threads else "seeding-table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
