"""Run the save / assign / follow cycle of `fastseg segment` on two months of synthetic customers
and show what it prints and writes (the block of docs/over-time.md with --update-docs).

    python -m docs.examples.over_time --update-docs
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks._common import update_docs
from fastseg.segment.datasets import make_customers

STEPS = [
    ["fastseg", "segment", "--input", "january.csv", "--out", "january", "--save-model", "segments.fsm"],
    ["fastseg", "assign", "--model", "segments.fsm", "--input", "new_customers.csv", "--out", "new"],
    ["fastseg", "segment", "--input", "february.csv", "--out", "february", "--previous", "segments.fsm"],
]


def months(n=3000, new=600, seed=0):
    """January's customers; new customers with an unseen gender value in a few rows; February: 85%
    of January's customers (spend and frequency drifted a little) and the new ones."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    january, _ = make_customers(n, random_state=seed)
    january["customer_id"] = [f"C{i:06d}" for i in range(n)]
    fresh, _ = make_customers(new, random_state=seed + 1)
    fresh["customer_id"] = [f"C{i:06d}" for i in range(n, n + new)]
    fresh.loc[fresh.index[:4], "gender"] = "not given"
    february = january.sample(frac=0.85, random_state=seed).copy()
    for col in ("monthly_spend", "purchase_frequency"):
        february[col] = (february[col] * rng.lognormal(0.0, 0.1, len(february))).round(2)
    february = pd.concat([february, fresh.iloc[4:]], ignore_index=True)
    return january, fresh, february


def render():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        january, fresh, february = months()
        january.to_csv(tmp / "january.csv", index=False)
        fresh.to_csv(tmp / "new_customers.csv", index=False)
        february.to_csv(tmp / "february.csv", index=False)
        shown = []
        for step in STEPS:
            done = subprocess.run(
                [sys.executable, "-m", "fastseg.cli", *step[1:]], cwd=tmp, capture_output=True, text=True,
                timeout=1800,
            )  # fmt: skip
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(step)} failed:\n{done.stderr}")
            stderr = [line for line in done.stderr.splitlines() if not re.search(r"\(\d+\.\d s\)$", line)]
            stdout = [line for line in done.stdout.splitlines() if not line.startswith("Segmented ")]
            if step[1] == "segment":  # the segment tables are shown in "Your own data"; keep the news
                keep = ("Against the previous", "New segments", "Vanished", "Of ", "Model saved", "Files in")
                stdout = [line for line in stdout if line.startswith(keep)]
            shown += ["```bash", " ".join(step), "```", "", "```text", *stderr, *stdout, "```", ""]
        drift = (tmp / "february" / "drift.csv").read_text().strip()
        shown += ["`february/drift.csv`:", "", "```text", drift, "```"]
        intro = (
            f"January: {len(january):,} customers; new customers: {len(fresh):,} (4 with a gender value January "
            f"never had); February: {len(february):,} customers, 85% of January's with spend and frequency "
            "drifted a little, and the new ones."
        )
    return "\n".join([intro, "", *shown])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-docs", action="store_true", help="write the output into its docs page")
    args = parser.parse_args(argv)
    text = render()
    print(text)
    if args.update_docs:
        update_docs(text, "over-time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
