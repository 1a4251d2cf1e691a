"""fastseg.KModes against the kmodes package, as a ratio: ``python -m benchmarks.kmodes``

1e5 rows x 20 categorical columns of 12 levels (text), k=8, the same initial modes for both,
``max_iter`` 20; interleaved ``--repeats`` rounds, medians, after one untimed fit each
(compilation). The table says whether both gave the same labels and cost. ``--update-docs``
writes it into docs/performance.md (block ``kmodes-table``, or ``kmodes-table-avx2`` with
``--isa avx2``).
"""

import argparse
import time

import numpy as np

from ._common import avx2_forced, code_path, rerun_with_avx2, update_docs


def data(n, m=20, k=8, levels=12, seed=1):
    """Text categories from ``k`` latent groups (60% of each attribute follows the group)."""
    rng = np.random.default_rng(seed)
    z = rng.integers(0, k, n)
    codes = [
        np.where(rng.random(n) < 0.6, (z * (a + 1)) % levels, rng.integers(0, levels, n)) for a in range(m)
    ]
    X = np.char.add("v", np.column_stack(codes).astype(str))
    return X, X[rng.choice(n, k, replace=False)]


def run(n, repeats):
    from kmodes.kmodes import KModes as Theirs

    from fastseg import KModes

    X, start = data(n)
    codes = np.column_stack([np.searchsorted(np.unique(X[:, a]), start[:, a]) for a in range(X.shape[1])])
    ours = lambda: KModes(8, init=start, max_iter=20).fit(X)  # noqa: E731
    theirs = lambda: Theirs(8, init=codes, max_iter=20).fit(X)  # noqa: E731
    t0 = time.perf_counter()
    first = ours()
    cold = time.perf_counter() - t0
    reference = theirs()
    times = {"fastseg": [], "kmodes": []}
    for _ in range(repeats):
        for label, fn in (("fastseg", ours), ("kmodes", theirs)):
            t0 = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - t0)
    same = np.array_equal(first.labels_, reference.labels_) and first.cost_ == reference.cost_
    return {k: float(np.median(v)) for k, v in times.items()}, cold, same, first.n_iter_


def render(n, repeats, med, cold, same, n_iter):
    ratio = med["kmodes"] / med["fastseg"]
    return "\n".join([
        code_path(),
        "",
        "| case | fastseg s | kmodes s | ratio | goal | same labels and cost | first fit s (compiles) |",
        "|---|---:|---:|---:|---|---|---:|",
        f"| KModes.fit, {n:.0e} x 20 categorical (12 levels), k=8, same initial modes, {n_iter} iterations "
        f"| {med['fastseg']:.3f} | {med['kmodes']:.3f} | {ratio:.1f}x | >= 50x: {'met' if ratio >= 50 else 'NOT met'} "
        f"| {'yes' if same else 'no'} | {cold:.2f} |",
        "",
        f"kmodes {__import__('kmodes').__version__}; median of {repeats} interleaved rounds after one untimed fit "
        "each. Written by `python -m benchmarks.kmodes --update-docs`.",
    ])  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--isa", choices=["native", "avx2"], default="native")
    parser.add_argument("--update-docs", action="store_true", help="write the table into its docs page")
    args = parser.parse_args(argv)
    if args.isa == "avx2" and not avx2_forced():
        return rerun_with_avx2("benchmarks.kmodes", argv)
    table = render(args.rows, args.repeats, *run(args.rows, args.repeats))
    print(table)
    if args.update_docs:
        update_docs(table, "kmodes-table" if args.isa == "native" else "kmodes-table-avx2")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
