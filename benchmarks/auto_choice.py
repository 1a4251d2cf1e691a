"""Does ``algorithm='auto'`` ever make a fit slower than ``'lloyd'``? ``python -m benchmarks.auto_choice``

Whole fits of ``fastseg.KMeans`` from the same initial centres (the registry's data and initial
rows), default ``tol``, the ``max_iter`` shown; ``'lloyd'`` and ``'auto'`` interleaved, median of
``--repeats`` rounds. Ratio = Lloyd time / auto time (below 1: 'auto' made the fit slower).
"""

import argparse
import platform
import time

import numpy as np

from ._common import code_path
from .registry import Case, make_data

CASES = [  # n, d, k, dtype, max_iter
    (1_000_000, 32, 64, "float32", 15),
    (1_000_000, 32, 64, "float32", 300),
    (200_000, 32, 256, "float32", 300),
    (200_000, 16, 128, "float32", 300),
    (1_000_000, 8, 64, "float32", 300),
    (200_000, 32, 256, "float64", 300),
]


def time_case(n, d, k, dtype, max_iter, repeats):
    from fastseg import KMeans, _yinyang

    X, init = make_data(Case("auto", "lloyd", n, d, k, dtype))
    fits = {
        a: (lambda a=a: KMeans(k, init=init, n_init=1, max_iter=max_iter, algorithm=a).fit(X))
        for a in ("lloyd", "auto")
    }
    for fit in fits.values():  # compilation
        fit()
    times = {a: [] for a in fits}
    models = {}
    for _ in range(repeats):
        for a, fit in fits.items():
            t0 = time.perf_counter()
            models[a] = fit()
            times[a].append(time.perf_counter() - t0)
    med = {a: float(np.median(v)) for a, v in times.items()}
    chosen = _yinyang.choose_algorithm(n, d, k, max_iter)
    same = np.array_equal(models["lloyd"].labels_, models["auto"].labels_)
    return med, chosen, models["lloyd"].n_iter_, same


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="sizes / 20 (smoke run)")
    args = parser.parse_args(argv)
    print("| case | max_iter | auto runs | iterations | lloyd s | auto s | lloyd / auto | same labels |")
    print("|---|---:|---|---:|---:|---:|---:|---|")
    for n, d, k, dtype, max_iter in CASES:
        n = n // 20 if args.quick else n
        med, chosen, n_iter, same = time_case(n, d, k, dtype, max_iter, args.repeats)
        print(
            f"| {n:.0e} x {d}, k={k}, {dtype} | {max_iter} | {chosen} | {n_iter} | {med['lloyd']:.2f} | "
            f"{med['auto']:.2f} | {med['lloyd'] / med['auto']:.2f}x | {'yes' if same else 'NO'} |"
        )
    print(f"\n{code_path()} {platform.machine()}, median of {args.repeats} interleaved rounds.")


if __name__ == "__main__":
    main()
