"""MiniBatchKMeans, BisectingKMeans, BayesianGaussianMixture and cosine KMeans against scikit-learn, as ratios: ``python -m benchmarks.family``

Each case runs fastseg's and scikit-learn's estimator with the same parameters and
``random_state``, interleaved, ``--repeats`` rounds; the table shows the medians, the ratio
(scikit-learn time / fastseg time: above 1, fastseg is faster), the goal, and whether both gave
the same centres or means (within a relative 1e-5) and how many labels differ (scikit-learn's float32
distances go through a matrix product, whose rounding moves rows at near ties). ``--update-docs`` writes the table into docs/performance.md (block
``family-table``, or ``family-table-avx2`` with ``--isa avx2``).
"""

import argparse
import os
import time
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._common import avx2_forced, code_path, rerun_with_avx2, update_docs
from .registry import Case, make_data


def _outputs(est, X):
    """(centres, labels) of a fitted estimator: a mixture's means and predictions on ``X``."""
    if hasattr(est, "cluster_centers_"):
        return est.cluster_centers_, est.labels_
    return est.means_, est.predict(X)


class _Case(NamedTuple):
    """A row: each call runs the timed work once and returns the fitted estimator; ``X``: the rows
    a mixture's labels are predicted on; ``per_iteration``: times are divided by ``n_iter_``."""

    name: str
    goal: float
    ours: Callable
    theirs: Callable
    X: object = None
    per_iteration: bool = False


def _cases(scale):
    """The table's ``_Case``s at ``scale`` (1: the full sizes)."""
    from sklearn import cluster, mixture
    from sklearn.preprocessing import normalize

    import fastseg

    n = max(int(1_000_000 * scale), 20_000)
    X, init = make_data(Case("mb", "lloyd", n, 8, 8, "float32"))
    mb = dict(n_clusters=8, init=init, n_init=1, batch_size=1024, max_iter=1, max_no_improvement=None)
    batch = X[:1024]
    started = [
        fastseg.MiniBatchKMeans(**mb, random_state=0).partial_fit(batch),
        cluster.MiniBatchKMeans(**mb, random_state=0).partial_fit(batch),
    ]
    nb = max(int(200_000 * scale), 20_000)
    Xb, _ = make_data(Case("bisect", "lloyd", nb, 8, 16, "float32"))
    bis = dict(n_clusters=16, random_state=0)
    nc = max(int(1_000_000 * scale), 20_000)
    Xc, _ = make_data(Case("cosine", "lloyd", nc, 32, 64, "float32"))
    Xc_unit = normalize(Xc)
    start = Xc_unit[np.linspace(0, nc - 1, 64).astype(int)]
    cos = dict(n_clusters=64, init=start, n_init=1)
    ng = max(int(200_000 * scale), 20_000)
    Xg, _ = make_data(Case("bgm", "lloyd", ng, 8, 8, "float64"))

    def bgm(cov):
        params = dict(n_components=8, covariance_type=cov, max_iter=20, tol=0, init_params="random_from_data")
        return _Case(
            f"BayesianGaussianMixture.fit, {ng:.0e} x 8, k=8, {cov}, 20 iterations (whole fit: a lower "
            "bound of the per-iteration ratio)", 5.0 if cov == "full" else 3.0,
            lambda: fastseg.BayesianGaussianMixture(**params, random_state=0).fit(Xg),
            lambda: mixture.BayesianGaussianMixture(**params, random_state=0).fit(Xg),
            Xg,
        )  # fmt: skip

    return [
        bgm("full"),
        bgm("diag"),
        _Case(
            f"KMeans(metric='cosine').fit, {nc:.0e} x 32, k=64, float32, default tol and max_iter, per "
            "iteration: fit time / n_iter_ (scikit-learn: Euclidean KMeans on normalize(X), the time to "
            "normalise included in both)", 2.0,
            lambda: fastseg.KMeans(**cos, metric="cosine").fit(Xc),
            lambda: cluster.KMeans(**cos).fit(normalize(Xc)),
            per_iteration=True,
        ),
        _Case(
            f"MiniBatchKMeans.fit, {n:.0e} x 8, k=8, float32 ({n // 1024} steps)", 5.0,
            lambda: fastseg.MiniBatchKMeans(**mb, random_state=0).fit(X),
            lambda: cluster.MiniBatchKMeans(**mb, random_state=0).fit(X),
        ),
        _Case(
            "MiniBatchKMeans.partial_fit, one batch of 1024 x 8, k=8, float32 (x20)", 3.0,
            lambda: [started[0].partial_fit(batch) for _ in range(20)][-1],
            lambda: [started[1].partial_fit(batch) for _ in range(20)][-1],
        ),
        _Case(
            f"BisectingKMeans.fit, {nb:.0e} x 8, k=16, float32", 3.0,
            lambda: fastseg.BisectingKMeans(**bis).fit(Xb),
            lambda: cluster.BisectingKMeans(**bis).fit(Xb),
        ),
    ]  # fmt: skip


def run(repeats, scale):
    rows = []
    for case in _cases(scale):
        print(f"running {case.name} ...", flush=True, file=__import__("sys").stderr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first_ours, first_theirs = case.ours(), case.theirs()  # compilation, thread pools
            times = {"fastseg": [], "scikit-learn": []}
            for _ in range(repeats):
                for label, fn in (("fastseg", case.ours), ("scikit-learn", case.theirs)):
                    t0 = time.perf_counter()
                    fitted = fn()
                    took = time.perf_counter() - t0
                    times[label].append(took / fitted.n_iter_ if case.per_iteration else took)
        (a, labels_a), (b, labels_b) = _outputs(first_ours, case.X), _outputs(first_theirs, case.X)
        same = (
            np.allclose(a, b, rtol=1e-5, atol=1e-5 * float(np.abs(b).max())),
            int(np.count_nonzero(labels_a != labels_b)),
        )
        rows.append((case.name, case.goal, {k: float(np.median(v)) for k, v in times.items()}, same))
    return rows


# A user's script, unmodified: it imports scikit-learn's names. Run under ``python -m fastseg.patch``
# it gets fastseg's; the same script with the import swapped is the reference.
SCRIPT = """
import sys, time
import numpy as np
{import_line}
X = np.random.default_rng(0).normal(size=({n}, 8)).astype(np.float32)
KMeans(8, n_init=1, random_state=0).fit(X)  # compilation, thread pools
MiniBatchKMeans(8, n_init=1, random_state=0).fit(X)
times = []
for _ in range(5):
    t0 = time.perf_counter()
    KMeans(8, n_init=3, random_state=0).fit(X)
    MiniBatchKMeans(8, random_state=0).fit(X)
    times.append(time.perf_counter() - t0)
print(sorted(times)[2])
"""


def run_patched_script(repeats, scale):
    """(median seconds patched, median seconds with the import swapped): the timed part of the same
    script, each run in its own process, interleaved."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    n = max(int(200_000 * scale), 20_000)
    times = {"patched": [], "swapped": []}
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp, "user_script.py")
        plain.write_text(
            SCRIPT.format(import_line="from sklearn.cluster import KMeans, MiniBatchKMeans", n=n)
        )
        swapped = Path(tmp, "user_script_swapped.py")
        swapped.write_text(SCRIPT.format(import_line="from fastseg import KMeans, MiniBatchKMeans", n=n))
        commands = {
            "patched": [sys.executable, "-m", "fastseg.patch", str(plain)],
            "swapped": [sys.executable, str(swapped)],
        }
        for _ in range(repeats):
            for label, command in commands.items():
                out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                times[label].append(float(out.split()[-1]))
    return n, {k: float(np.median(v)) for k, v in times.items()}


def render(rows, repeats, patched=None):
    lines = [
        code_path(),
        "",
        "| case | fastseg s | scikit-learn s | ratio | goal | same centres or means (1e-5) | labels that differ |",
        "|---|---:|---:|---:|---|---|---:|",
    ]
    for name, goal, med, same in rows:
        ratio = med["scikit-learn"] / med["fastseg"]
        lines.append(
            f"| {name} | {med['fastseg']:.4f} | {med['scikit-learn']:.4f} | {ratio:.2f}x | "
            f">= {goal:g}x: {'met' if ratio >= goal else 'NOT met'} | {'yes' if same[0] else 'no'} | {same[1]} |"
        )
    lines += [
        "",
        "Labels: of the fitted rows (partial_fit: of the last batch; a mixture: its predictions). The cosine row compares spherical "
        "k-means with Euclidean k-means on the same unit rows: its centres differ by design (they stay "
        "on the unit sphere), and so do the labels of the rows between two clusters. "
        f"Median of {repeats} interleaved rounds after one untimed call each (compilation); "
        f"{os.cpu_count()} cores. Written by `python -m benchmarks.family --update-docs`.",
    ]
    if patched is not None:
        n, med = patched
        ratio = med["swapped"] / med["patched"]
        lines += [
            "",
            "| an unmodified script (KMeans n_init=3 and MiniBatchKMeans fits, "
            f"{n:.0e} x 8 float32) | under `python -m fastseg.patch` s | import swapped s | ratio | goal |",
            "|---|---:|---:|---:|---|",
            f"| the same fits | {med['patched']:.4f} | {med['swapped']:.4f} | {ratio:.2f}x | "
            f"as fast (>= 0.95x): {'met' if ratio >= 0.95 else 'NOT met'} |",
            "",
            "Each script in its own process, the median of its 5 timed rounds after one untimed fit; "
            f"the median of {repeats} interleaved runs of each.",
        ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--isa", choices=["native", "avx2"], default="native")
    parser.add_argument("--update-docs", action="store_true", help="write the table into its docs page")
    args = parser.parse_args(argv)
    if args.isa == "avx2" and not avx2_forced():
        return rerun_with_avx2("benchmarks.family", argv)
    scale = 0.02 if args.quick else 1.0
    table = render(run(args.repeats, scale), args.repeats, run_patched_script(args.repeats, scale))
    print(table)
    if args.update_docs:
        if args.quick:
            raise SystemExit("--update-docs needs the full run (no --quick)")
        update_docs(table, "family-table" if args.isa == "native" else "family-table-avx2")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
