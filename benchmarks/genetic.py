"""GeneticKMeans against restarts: final inertia and whole-fit time beside scikit-learn's
``KMeans(n_init=10)`` with the same random state, on real and generated data sets.

    python -m benchmarks.genetic                          # the table, native code
    python -m benchmarks.genetic --isa avx2               # AVX2 code for Numba and OpenBLAS
    python -m benchmarks.genetic --update-docs          # also write the table into its docs page
    python -m benchmarks.genetic --battery DIR            # add the sets of a folder of
                                                          # NAME.data.gz + NAME.labels0.gz files

The shipped sets are scikit-learn's bundled data (iris, wine, breast cancer, digits, diabetes),
the demo's customer portrait and ``make_blobs`` shapes from few to many clusters. ``--battery``
reads public clustering benchmark files in the layout of Gagolewski's clustering-data-v1 (their
licence allows research use, so they are not shipped). The reference partition, where the set
has labels, is K-means started from the labels' own means; "gap closed" is the part of the
distance from the restarts' inertia down to the reference that the GA covers. Times are medians
of interleaved rounds after a warm-up (compilation excluded); the paper's GA
(``fastseg.genetic.PAPER``) is run once per set, for its inertia only.
"""

import argparse
import gzip
import sys
import time
from pathlib import Path

import numpy as np

from ._common import avx2_forced, code_path, rerun_with_avx2, update_docs

GOAL_SHARE, GOAL_WORST, GOAL_GAP, GOAL_TIME = 0.95, 1.005, 0.5, 3.0


def _bundled(name, k):
    def load():
        from sklearn import datasets

        data = getattr(datasets, f"load_{name}")()
        return data.data, (data.target if name in ("iris", "wine", "breast_cancer", "digits") else None), k

    return load


def _blobs(k, **kwargs):
    def load():
        from sklearn.datasets import make_blobs

        X, y = make_blobs(centers=k, random_state=0, **kwargs)
        return X, y, k

    return load


def _customers(k):
    def load():
        from fastseg.segment import make_customers

        frame, segments = make_customers(4000, random_state=0)
        X = frame.drop(columns=["customer_id"]).assign(gender=lambda f: (f["gender"] == "F").astype(float))
        X = X.to_numpy(dtype=float)
        X = (X - X.mean(axis=0)) / X.std(axis=0)
        return X, segments if k == 4 else None, k

    return load


SETS = {
    "iris": _bundled("iris", 3),
    "wine": _bundled("wine", 3),
    "breast cancer": _bundled("breast_cancer", 2),
    "digits": _bundled("digits", 10),
    "diabetes": _bundled("diabetes", 4),
    "customers (demo portrait, standardised), k=4": _customers(4),
    "customers (demo portrait, standardised), k=8": _customers(8),
    "blobs 600, k=15": _blobs(15, n_samples=600, cluster_std=0.5),
    "blobs 5000, k=35": _blobs(35, n_samples=5000, cluster_std=0.6, center_box=(-30, 30)),
    "blobs 1e5, k=100": _blobs(100, n_samples=100_000, cluster_std=0.5, center_box=(-50, 50)),
    "blobs 2e4 x 8, k=8, overlapping": _blobs(8, n_samples=20_000, n_features=8, cluster_std=2.5),
    "blobs 3000 x 10, k=30": _blobs(30, n_samples=3000, n_features=10, cluster_std=1.0, center_box=(-8, 8)),
    "blobs 1e4, k=50": _blobs(50, n_samples=10_000, cluster_std=0.4, center_box=(-40, 40)),
}


def battery_sets(folder):
    """Sets of ``NAME.data.gz`` (whitespace-separated rows) with ``NAME.labels0.gz`` (one label a
    row; 0 marks noise); k is the number of labels."""
    sets = {}
    for data in sorted(Path(folder).glob("*.data.gz")):
        labels = data.with_name(data.name.replace(".data.gz", ".labels0.gz"))
        if not labels.exists():
            continue

        def load(data=data, labels=labels):
            with gzip.open(data, "rt") as f:
                X = np.loadtxt(f, ndmin=2)
            with gzip.open(labels, "rt") as f:
                y = np.loadtxt(f, dtype=int)
            k = len(np.unique(y[y > 0]))
            return X, np.where(y > 0, y - 1, -1), k

        sets[f"{Path(folder).name}/{data.name[: -len('.data.gz')]}"] = load
    return sets


def reference_inertia(X, y, k):
    """K-means from the means of the labelled groups (None without labels for all k groups)."""
    from fastseg import KMeans

    if y is None or len(np.unique(y[y >= 0])) != k:
        return None
    init = np.array([X[y == j].mean(axis=0) for j in np.unique(y[y >= 0])])
    return KMeans(k, init=init, n_init=1).fit(X).inertia_


def run_set(load, repeats, seed=0):
    from sklearn.cluster import KMeans as SkKMeans

    from fastseg import GeneticKMeans, KMeans
    from fastseg.genetic import PAPER

    X, y, k = load()
    X = np.ascontiguousarray(X, dtype=np.float64)
    ours = lambda: GeneticKMeans(k, random_state=seed).fit(X)  # noqa: E731
    theirs = lambda: SkKMeans(k, n_init=10, random_state=seed).fit(X)  # noqa: E731
    times = {"ga": [], "sk": []}
    for _ in range(repeats):
        for name, fit in (("sk", theirs), ("ga", ours)):
            t0 = time.perf_counter()
            model = fit()
            times[name].append(time.perf_counter() - t0)
            if name == "ga":
                ga = model
            else:
                sk = model
    one = KMeans(k, n_init=1, random_state=seed).fit(X).inertia_
    paper = GeneticKMeans(k, random_state=seed, **PAPER).fit(X).inertia_
    ref = reference_inertia(X, y, k)
    return {
        "shape": f"{X.shape[0]} x {X.shape[1]}, k={k}",
        "k": k,
        "ga": ga.inertia_ / sk.inertia_,
        "one": one / sk.inertia_,
        "paper": paper / sk.inertia_,
        "ref": None if ref is None else ref / sk.inertia_,
        "generations": ga.n_generations_,
        "t_ga": float(np.median(times["ga"])),
        "t_sk": float(np.median(times["sk"])),
    }


def measure(sets, repeats):
    from fastseg import GeneticKMeans

    GeneticKMeans(3, random_state=0).fit(np.random.default_rng(0).normal(size=(300, 3)))  # compile
    results = {}
    for name, load in sets.items():
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results[name] = run_set(load, repeats)
    return results


def render(results, repeats):
    lines = [
        code_path(),
        "",
        "| data | rows x features, k | GA / restarts | one k-means++ / restarts | paper's GA / restarts "
        "| reference / restarts | gap closed | generations | GA s | restarts s | time ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    gaps = []
    for name, r in results.items():
        gap = None
        if r["ref"] is not None and r["ref"] < 1 - 1e-9:
            gap = (1 - r["ga"]) / (1 - r["ref"])
            if r["k"] >= 30:
                gaps.append((name, gap))
        ref = "" if r["ref"] is None else f"{r['ref']:.4f}"
        lines.append(
            f"| {name} | {r['shape']} | {r['ga']:.4f} | {r['one']:.4f} | {r['paper']:.4f} | {ref} | "
            f"{'' if gap is None else f'{gap:.2f}'} | {r['generations']} | {r['t_ga']:.3f} | "
            f"{r['t_sk']:.3f} | {r['t_ga'] / r['t_sk']:.2f}x |"
        )
    ratios = np.array([r["ga"] for r in results.values()])
    share = float(np.mean(ratios <= 1 + 1e-12))
    total = sum(r["t_ga"] for r in results.values()) / sum(r["t_sk"] for r in results.values())
    met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    lines += [
        "",
        f"- GA inertia <= restarts' on {np.sum(ratios <= 1 + 1e-12)} of {len(ratios)} sets "
        f"({share:.0%}; goal >= {GOAL_SHARE:.0%}: {met(share >= GOAL_SHARE)}); worst {ratios.max():.4f} "
        f"(goal <= {GOAL_WORST}: {met(ratios.max() <= GOAL_WORST)}).",
        "- Many-cluster sets (k >= 30) where the restarts miss the reference: gap closed "
        + (", ".join(f"{g:.2f}" for _, g in gaps) or "none")
        + f" (goal >= {GOAL_GAP} each: {met(all(g >= GOAL_GAP for _, g in gaps))}).",
        f"- Whole-fit time summed over the sets: {total:.2f}x the restarts' (goal <= {GOAL_TIME:g}x: "
        f"{met(total <= GOAL_TIME)}).",
        "",
        "Restarts: scikit-learn's `KMeans(n_init=10)` with the same `random_state=0`; GA: "
        "`fastseg.GeneticKMeans(k, random_state=0)` (its defaults); one k-means++: "
        "`fastseg.KMeans(k, n_init=1)`; paper's GA: `GeneticKMeans(k, **fastseg.genetic.PAPER)`. "
        f"Ratios of final inertia (below 1: lower); times are medians of {repeats} interleaved rounds, "
        "both on every thread (2 cores); `python -m benchmarks.genetic`.",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default=None, help="the sets whose name contains this text")
    parser.add_argument("--battery", action="append", default=[], help="a folder of benchmark files")
    parser.add_argument("--isa", choices=["native", "avx2"], default="native")
    parser.add_argument("--update-docs", action="store_true", help="write the table into its docs page")
    args = parser.parse_args(argv)
    if args.isa == "avx2" and not avx2_forced():
        return rerun_with_avx2("benchmarks.genetic", argv)
    sets = dict(SETS)
    for folder in args.battery:
        sets.update(battery_sets(folder))
    if args.only:
        sets = {name: load for name, load in sets.items() if args.only in name}
    table = render(measure(sets, args.repeats), args.repeats)
    print(table)
    if args.update_docs:
        update_docs(table, f"genetic-table-{args.isa}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
