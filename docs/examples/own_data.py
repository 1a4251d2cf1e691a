"""Run `fastseg segment` on a synthetic shop export in the "Online Retail" layout and show what it
prints and writes (the block of docs/cli.md with --update-docs).

    python -m docs.examples.own_data --update-docs
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._common import update_docs
from fastseg.segment.datasets import make_retail_export

COMMAND_LINES = [
    ["fastseg", "segment", "--input", "online_retail.csv", "--transactions"],
    ["--id-column", "CustomerID", "--date-column", "InvoiceDate"],
    ["--quantity-column", "Quantity", "--price-column", "UnitPrice"],
    ["--order-column", "InvoiceNo", "--item-column", "StockCode"],
    ["--out", "results"],
]
COMMAND = [word for line in COMMAND_LINES for word in line]


def head(path, n):
    return "\n".join(Path(path).read_text(encoding="utf-8").splitlines()[:n])


def render(n_customers=400, seed=0):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        export = make_retail_export(n_customers, random_state=seed)
        export.to_csv(tmp / "online_retail.csv", index=False)
        argv = [sys.executable, "-m", "fastseg.cli", *COMMAND[1:]]
        done = subprocess.run(argv, cwd=tmp, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise SystemExit(f"the command failed:\n{done.stderr}")
        stdout = done.stdout.splitlines()
        # The timing line differs from run to run; the docs show the rest.
        stdout = [line for line in stdout if not line.startswith("Segmented ")]
        # So do the progress lines on stderr ("fastseg: K sweep (3.2 s)").
        stderr = [line for line in done.stderr.splitlines() if not re.search(r"\(\d+\.\d s\)$", line)]
        shown = " \\\n    ".join(" ".join(line) for line in COMMAND_LINES)
        parts = [
            f"`online_retail.csv` ({len(export):,} rows of {n_customers} customers, written by "
            "`fastseg.segment.datasets.make_retail_export`), its first lines:",
            "",
            "```text",
            head(tmp / "online_retail.csv", 4),
            "```",
            "",
            "```bash",
            shown,
            "```",
            "",
            "On stderr, one line per dropped reason and per note (progress lines, with their seconds, left out):",
            "",
            "```text",
            "\n".join(stderr),
            "```",
            "",
            "On stdout:",
            "",
            "```text",
            "\n".join(stdout).rstrip(),
            "```",
            "",
            "`results/data_report.csv`, `results/labels.csv` and `results/recommendations.csv` begin:",
            "",
            "```text",
            head(tmp / "results" / "data_report.csv", 5),
            "",
            head(tmp / "results" / "labels.csv", 4),
            "",
            head(tmp / "results" / "recommendations.csv", 3),
            "```",
        ]
    return "\n".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--update-docs", action="store_true", help="write the block into its docs page")
    args = parser.parse_args(argv)
    text = render(args.customers)
    print(text)
    if args.update_docs:
        update_docs(text, "own-data")
    return 0


if __name__ == "__main__":
    sys.exit(main())
