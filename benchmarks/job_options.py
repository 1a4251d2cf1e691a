"""What ``--as-of`` and ``--missing impute`` add to the main job: ``python -m benchmarks.job_options``

1. The whole ``fastseg segment --transactions`` job on ``--rows`` purchase rows (``benchmarks.scale``'s
   Zipf-skewed table, as Parquet) as it is, and with ``--as-of`` its last day (every row kept and
   checked against the date: the option's own work, not a smaller table).
2. The whole ``fastseg segment`` job on a customer table of ``--customers`` rows (the demo's eight
   features, ``make_customers``) with 5% of the values of every feature column blank, imputed (the
   default), against the same table with those blanks already holding their fill values (the same
   numbers clustered: the option's own work, not a different data set).

Each pair runs interleaved for ``--repeats`` rounds, each run in its own process; medians. Goal:
each option adds under 5%. ``--update-docs`` writes the table into docs/large-data.md (block
``job-options``, or ``job-options-avx2`` with ``--isa avx2``).
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ._common import avx2_forced, code_path, rerun_with_avx2, update_docs
from .scale import make_purchases


def seconds(argv, out):
    argv = [sys.executable, "-m", "fastseg.cli", "segment", *argv, "--out", str(out), "--quiet", "--no-plots"]
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"fastseg segment failed:\n{done.stderr}")
    return took


def pair(tmp, base, option, repeats):
    times = {"base": [], "option": []}
    for r in range(repeats):
        for name, argv in (("base", base), ("option", option)):
            times[name].append(seconds(argv, Path(tmp) / f"out-{name}-{r}"))
            print(f"  {name}: {times[name][-1]:.1f} s", file=sys.stderr, flush=True)
    return {name: float(np.median(v)) for name, v in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--isa", choices=["native", "avx2"], default="native")
    parser.add_argument("--update-docs", action="store_true", help="write the table into its docs page")
    args = parser.parse_args(argv)
    if args.isa == "avx2" and not avx2_forced():
        return rerun_with_avx2("benchmarks.job_options", argv)

    from fastseg.segment.datasets import make_customers
    from fastseg.segment.files import fill_blanks, read_table
    from fastseg.segment.purchases import DataReport

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        purchases = make_purchases(args.rows, max(args.rows // 10, 100))
        # the last day: the same purchases, so the row measures the option's own work
        as_of = purchases["date"].max().strftime("%Y-%m-%d")
        path = Path(tmp) / "purchases.parquet"
        purchases.to_parquet(path)
        del purchases
        base = ["--input", str(path), "--transactions", "--order-column", "order_id"]
        print("purchases: as is / --as-of", file=sys.stderr, flush=True)
        med = pair(tmp, base, [*base, "--as-of", as_of], args.repeats)
        rows.append((f"`--transactions`, {args.rows:.0e} purchase rows", f"`--as-of {as_of}` (the last day: every row "
                     "kept, recency from its end)", med))  # fmt: skip
        customers, _ = make_customers(args.customers, random_state=0)
        rng = np.random.default_rng(1)
        features = [c for c in customers.columns if c != "customer_id"]
        blanks = customers.astype({c: object for c in features})
        for c in features:
            blanks.loc[rng.random(len(blanks)) < 0.05, c] = ""
        holes = Path(tmp) / "blanks.csv"
        blanks.to_csv(holes, index=False)
        # the baseline: the same table with each blank already holding the value imputing gives it, so
        # both jobs cluster the same numbers and the row measures the option's own work
        filled, _ = fill_blanks(
            read_table(holes, text_columns=["customer_id"]), features, "impute", DataReport()
        )
        complete = Path(tmp) / "complete.csv"
        filled.to_csv(complete, index=False)
        del customers, blanks, filled
        print("customers: blanks already filled / 5% blanks imputed", file=sys.stderr, flush=True)
        med = pair(tmp, ["--input", str(complete)], ["--input", str(holes)], args.repeats)
        rows.append((f"customer table, {args.customers:.0e} customers x {len(features)} features",
                     "5% blanks in every feature, imputed (baseline: the same values, no blanks)", med))  # fmt: skip
    lines = [
        code_path(),
        "",
        "| job | option | without s | with s | added | goal < 5% |",
        "|---|---|---:|---:|---:|---|",
    ]
    for job, option, med in rows:
        added = med["option"] / med["base"] - 1
        lines.append(f"| {job} | {option} | {med['base']:.1f} | {med['option']:.1f} | {added:+.1%} "
                     f"| {'met' if added < 0.05 else 'NOT met'} |")  # fmt: skip
    lines += [
        "",
        f"Whole jobs (`--quiet --no-plots`), each in its own process, median of {args.repeats} interleaved "
        "rounds. Written by `python -m benchmarks.job_options --update-docs`.",
    ]
    table = "\n".join(lines)
    print(table)
    if args.update_docs:
        update_docs(table, "job-options" if args.isa == "native" else "job-options-avx2")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
