"""The ``fastseg`` command."""

import argparse
import sys
import time

import numpy as np


def _demo_data(n_samples, n_features, n_clusters, seed):
    """Gaussian blobs with unequal sizes and spreads, shifted away from the origin."""
    from sklearn.datasets import make_blobs

    rng = np.random.default_rng(seed)
    sizes = rng.dirichlet(np.full(n_clusters, 3.0)) * n_samples
    sizes = np.maximum(sizes.astype(int), 1)
    sizes[0] += n_samples - sizes.sum()
    X, y = make_blobs(
        n_samples=sizes.tolist(),
        n_features=n_features,
        cluster_std=rng.uniform(0.5, 2.0, n_clusters),
        center_box=(-10, 10),
        random_state=seed,
    )
    return (X + 100.0).astype(np.float32), y


def _cmd_demo(args):
    from sklearn.metrics import adjusted_rand_score

    t0 = time.perf_counter()
    from fastseg import KMeans

    X, y = _demo_data(args.n, args.features, args.k, args.seed)
    t1 = time.perf_counter()
    model = KMeans(n_clusters=args.k, random_state=args.seed).fit(X)
    t2 = time.perf_counter()
    KMeans(n_clusters=args.k, random_state=args.seed).fit(X)
    t3 = time.perf_counter()

    sizes = np.bincount(model.labels_, minlength=args.k)
    print(f"fastseg KMeans demo: {X.shape[0]} rows x {X.shape[1]} features ({X.dtype}), k={args.k}")
    print(f"  iterations        {model.n_iter_}")
    print(f"  inertia           {model.inertia_:.6g}")
    print(f"  adjusted Rand     {adjusted_rand_score(y, model.labels_):.4f} (vs the generating blobs)")
    print(f"  first fit         {t2 - t1:.2f} s (includes loading or compiling the kernels)")
    print(f"  second fit        {t3 - t2:.3f} s")
    print(f"  import + data     {t1 - t0:.2f} s")
    print("  segment sizes     " + " ".join(str(s) for s in sizes))
    return 0


def _cmd_reproduce(args):
    from fastseg.reproduce import render_accuracy_report

    print(
        "GA-K-means paper, Tables 1-2: clustering accuracy on Iris and Wine (scikit-learn's copies), "
        "ours beside the paper's\n"
    )
    print(render_accuracy_report(n_generations=args.generations, population_size=args.population))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="fastseg", description="Customer segmentation with Numba-compiled K-means."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit KMeans on built-in synthetic data and print a summary")
    demo.add_argument("--n", type=int, default=200_000, help="number of rows (default 200000)")
    demo.add_argument("--features", type=int, default=8, help="number of features (default 8)")
    demo.add_argument("--k", type=int, default=8, help="number of clusters (default 8)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(func=_cmd_demo)

    rep = sub.add_parser("reproduce", help="rerun a paper's experiment and print ours beside its numbers")
    rep.add_argument(
        "experiment", choices=["accuracy"], help="accuracy: Iris/Wine accuracy (GA-K-means Tables 1-2)"
    )
    rep.add_argument(
        "--generations", type=int, default=200, help="GA generations (default 200, as the paper)"
    )
    rep.add_argument("--population", type=int, default=50, help="GA population size (default 50)")
    rep.set_defaults(func=_cmd_reproduce)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"fastseg: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
