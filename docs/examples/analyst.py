"""Run `fastseg segment` the way an analyst does on two messy exports -- a CRM table with blanks
and text columns clustered by k-prototypes, a purchase export scored as RFM as of a date, a
mixture's membership probabilities, the recommendations measured -- and show what each prints and writes (the block of
docs/cli.md with --update-docs).

    python -m docs.examples.analyst --update-docs
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks._common import update_docs
from fastseg.segment.datasets import make_customers, make_retail_export

FEATURES = "age,monthly_spend,purchase_frequency,gender,channel"
RUNS = [
    (
        "k-prototypes on a CRM export with blanks: the text columns `gender` and `channel` are "
        "categories (their blanks a category of their own), the numeric blanks take the median",
        [["fastseg", "segment", "--input", "crm.csv", "--id-column", "customer_id"],
         ["--features", FEATURES], ["--method", "kprototypes", "--k", "4", "--no-plots", "--out", "crm"]],
        ["crm/data_report.csv", "crm/labels.csv"],
    ),
    (
        "RFM scores and names as of the end of a quarter, with tenure and average order value",
        [["fastseg", "segment", "--input", "online_retail.csv", "--transactions"],
         ["--id-column", "CustomerID", "--date-column", "InvoiceDate"],
         ["--quantity-column", "Quantity", "--price-column", "UnitPrice", "--order-column", "InvoiceNo"],
         ["--as-of", "2011-03-31", "--rfm-extra", "--names", "rfm", "--no-plots", "--out", "rfm"]],
        ["rfm/data_report.csv", "rfm/labels.csv"],
    ),
    (
        "a Gaussian mixture's membership probabilities, one column per segment",
        [["fastseg", "segment", "--input", "crm.csv", "--id-column", "customer_id"],
         ["--features", "age,monthly_spend,purchase_frequency"],
         ["--method", "gmm", "--k", "3", "--probabilities", "--no-plots", "--out", "gmm"]],
        ["gmm/labels.csv"],
    ),
    (
        "the recommendations measured: leave-one-out hit rate, and precision, recall and catalogue "
        "coverage with each customer's last purchase date held out",
        [["fastseg", "segment", "--input", "online_retail.csv", "--transactions"],
         ["--id-column", "CustomerID", "--date-column", "InvoiceDate", "--item-column", "StockCode"],
         ["--quantity-column", "Quantity", "--price-column", "UnitPrice", "--order-column", "InvoiceNo"],
         ["--evaluate", "--no-plots", "--out", "shop"]],
        ["shop/hit_rate.csv", "shop/recommendation_metrics.csv"],
    ),
]  # fmt: skip


def crm_export(n, seed):
    """The demo's customers as a CRM export: text ids with leading zeros, a sales channel that
    follows the segments, and blanks in age, gender and channel."""
    frame, truth = make_customers(n, random_state=seed)
    rng = np.random.default_rng(seed)
    channel = np.array(["app", "web", "store", "app"])[np.asarray(truth) % 4].astype(object)
    channel[rng.random(n) < 0.2] = "web"
    frame = frame[["customer_id", "age", "monthly_spend", "purchase_frequency", "gender"]].assign(
        channel=channel
    )
    frame["customer_id"] = [f"{i:06d}" for i in range(1, n + 1)]
    frame = frame.astype({"age": object, "gender": object})
    for column, share in (("age", 0.04), ("gender", 0.02), ("channel", 0.05)):
        frame.loc[rng.random(n) < share, column] = ""
    return frame


def head(path, n):
    return "\n".join(Path(path).read_text(encoding="utf-8").splitlines()[:n])


def run(tmp, lines):
    argv = [sys.executable, "-m", "fastseg.cli", *[word for line in lines for word in line][1:]]
    done = subprocess.run(argv, cwd=tmp, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"the command failed:\n{done.stderr}")
    # The timing lines differ from run to run; the docs show the rest.
    stdout = [line for line in done.stdout.splitlines() if not line.startswith("Segmented ")]
    stderr = [line for line in done.stderr.splitlines() if not re.search(r"\(\d+\.\d s\)$", line)]
    return stdout, stderr


def render(n_customers=2000, seed=0):
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        crm_export(n_customers, seed).to_csv(tmp / "crm.csv", index=False)
        make_retail_export(400, random_state=seed).to_csv(tmp / "online_retail.csv", index=False)
        parts += [
            f"`crm.csv` ({n_customers:,} customers, the demo's segments with blanks; "
            "`docs/examples/analyst.py` writes it) and `online_retail.csv` (as above) begin:",
            "",
            "```text",
            head(tmp / "crm.csv", 4),
            "```",
        ]
        for title, lines, files in RUNS:
            stdout, stderr = run(tmp, lines)
            parts += ["", f"**{title[0].upper() + title[1:]}:**", "", "```bash",
                      " \\\n    ".join(" ".join(line) for line in lines), "```", "", "```text"]  # fmt: skip
            parts += [*(f"(stderr) {line}" for line in stderr), *stdout]
            parts += ["```", "", ", ".join(f"`{f}`" for f in files) + " begin:", "", "```text"]
            parts += ["\n\n".join(head(tmp / f, 4) for f in files), "```"]
    return "\n".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--update-docs", action="store_true", help="write the block into its docs page")
    args = parser.parse_args(argv)
    text = render(args.customers)
    print(text)
    if args.update_docs:
        update_docs(text, "analyst-runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
