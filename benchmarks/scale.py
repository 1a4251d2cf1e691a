"""Segmentation at scale: purchase rows of Zipf-skewed customers and items, fastseg's RFM + K sweep +
profiles beside the same job written plainly with pandas + scikit-learn, then the whole
`fastseg segment` command (pairs and recommendations too) with its peak memory.

    python -m benchmarks.scale --rows 10000000 --customers 1000000
    python -m benchmarks.scale --rows 1000000 --customers 100000 --update-docs

The plain pipeline is the one a data scientist writes: groupby RFM, log1p, StandardScaler,
``sklearn.cluster.KMeans(n_init=10)`` for every K of 2-15, silhouette on a 10k sample,
profiles with groupby mean/median. fastseg's is ``customers_from_table`` + ``segment_customers``
(its own settings: 4 inits per K in the sweep, 10 for the chosen K, silhouette on 1000 rows).
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ._common import AVX2_ENV_TEXT, avx2_forced, cpu_name, rerun_with_avx2

K_RANGE = range(2, 16)


def make_purchases(n_rows, n_customers, n_items=20_000, seed=0):
    """Purchases: every customer buys once, the other rows go to customers and items drawn with
    Zipf-like weights (rank^-1); orders of about 4 lines; 2% of lines are returns."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_customers + 1)
    extra = rng.choice(n_customers, size=n_rows - n_customers, p=weights / weights.sum())
    customer = np.sort(np.concatenate([np.arange(n_customers), extra]))
    item_weights = 1.0 / np.arange(1, n_items + 1) ** 1.1
    item = rng.choice(n_items, size=n_rows, p=item_weights / item_weights.sum())
    line = np.arange(n_rows) - np.searchsorted(customer, customer)  # position within the customer
    order = np.cumsum(np.r_[True, (np.diff(customer) != 0) | (line[1:] % 4 == 0)])
    day = rng.integers(0, 365, order[-1] + 1)[order]
    amount = np.round(rng.lognormal(2.5, 0.8, n_rows), 2)
    amount[rng.random(n_rows) < 0.02] *= -1
    ids = np.array([f"C{i:07d}" for i in range(n_customers)], dtype=object)
    skus = np.array([f"{i:05d}" for i in range(n_items)], dtype=object)
    return pd.DataFrame(
        {
            "customer_id": ids[customer],
            "order_id": order,
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(day, unit="D"),
            "item": skus[item],
            "amount": amount,
        }
    )


def ours(table):
    from fastseg.segment.files import customers_from_table
    from fastseg.segment.job import Columns
    from fastseg.segment.workflow import segment_customers

    data = customers_from_table(
        table, Columns(transactions=True, order_column="order_id", item_column="item")
    )
    result = segment_customers(data.frame, data.features, k_range=K_RANGE, random_state=0)
    return result.k, result.feature_profile


def plain(table):
    """The same job written plainly with pandas and scikit-learn."""
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    now = table["date"].max() + pd.Timedelta(days=1)
    bought = table[table["amount"] > 0]
    rfm = bought.groupby("customer_id").agg(last=("date", "max"), frequency=("order_id", "nunique"))
    rfm["recency_days"] = (now - rfm.pop("last")).dt.days
    rfm["monetary"] = table.groupby("customer_id")["amount"].sum().clip(lower=0)
    X = StandardScaler().fit_transform(np.log1p(rfm[["recency_days", "frequency", "monetary"]]))
    scores = {}
    for k in K_RANGE:
        labels = KMeans(k, n_init=10, random_state=0).fit_predict(X)
        scores[k] = silhouette_score(X, labels, sample_size=10_000, random_state=0)
    best = max((k for k in scores if k >= 3), key=scores.get)
    labels = KMeans(best, n_init=10, random_state=0).fit_predict(X)
    profile = rfm.groupby(labels).agg(["mean", "median"])
    return best, profile


def whole_job(path, out):
    """The `fastseg segment` command on the Parquet file: seconds and peak memory (GB)."""
    argv = [
        sys.executable, "-m", "fastseg.cli", "segment", "--input", str(path), "--transactions",
        "--order-column", "order_id", "--out", str(out), "--quiet",
    ]  # fmt: skip
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"fastseg segment failed:\n{done.stderr}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kb / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=1, help="rounds of (ours, plain), interleaved")
    parser.add_argument("--no-job", action="store_true", help="skip the whole command")
    parser.add_argument("--no-compare", action="store_true", help="only the whole command")
    parser.add_argument("--isa", choices=["native", "avx2"], default="native")
    parser.add_argument("--update-docs", action="store_true", help="write the table into its docs page")
    args = parser.parse_args(argv)
    if args.isa == "avx2" and not avx2_forced():
        return rerun_with_avx2("benchmarks.scale", argv)
    print(f"generating {args.rows:,} rows of {args.customers:,} customers ...", file=sys.stderr, flush=True)
    table = make_purchases(args.rows, args.customers)
    small = make_purchases(20_000, 2_000, n_items=500, seed=1)
    times = {"fastseg": [], "pandas + scikit-learn": []}
    if not args.no_compare:
        ours(small)  # compile and import outside the timings
        plain(small)
    for r in range(0 if args.no_compare else args.repeats):
        for name, fn in (("fastseg", ours), ("pandas + scikit-learn", plain)):
            print(f"round {r + 1}: {name} ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            k, _ = fn(table)
            times[name].append(time.perf_counter() - t0)
            print(f"  {times[name][-1]:.1f} s, K = {k}", file=sys.stderr, flush=True)
    path_name = f"AVX2 ({AVX2_ENV_TEXT})" if args.isa == "avx2" else "native"
    lines = [
        f"{args.rows:,} purchase rows of {args.customers:,} customers (Zipf-skewed), CPU: {cpu_name()}, "
        f"code path: {path_name}, {os.cpu_count()} cores shared with other work"
        + ("." if args.no_compare else f", median of {args.repeats} interleaved round(s)."),
    ]
    if not args.no_compare:
        med = {name: float(np.median(v)) for name, v in times.items()}
        ratio = med["pandas + scikit-learn"] / med["fastseg"]
        lines += [
            "",
            "| RFM + K sweep (2-15) + profiles | median s | ratio |",
            "|---|---:|---:|",
            f"| fastseg | {med['fastseg']:.1f} | 1.0 |",
            f"| pandas + scikit-learn | {med['pandas + scikit-learn']:.1f} | {ratio:.1f}x slower |",
        ]
    if not args.no_job:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "purchases.parquet"
            table.to_parquet(path)
            del table
            print("whole job ...", file=sys.stderr, flush=True)
            seconds, peak = whole_job(path, Path(tmp) / "out")
        lines += [
            "",
            f"Whole `fastseg segment --transactions` job on the Parquet file (reading, RFM, sweep, pairs, "
            f"recommendations, plots, files): {seconds:.0f} s, peak memory {peak:.1f} GB.",
        ]
    text = "\n".join(lines)
    print(text)
    if args.update_docs:
        from ._common import update_docs

        if args.no_compare:
            update_docs(text, "scale-job" if args.isa == "native" else "scale-job-avx2")
        else:
            update_docs(text, "scale-table" if args.isa == "native" else "scale-table-avx2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
