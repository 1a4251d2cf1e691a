"""A `fastseg choice` run on generated choice rows with the customers' segments from a labels
file, as it prints (the block of docs/choice.md with --update-docs).

    python -m docs.examples.choice_run --update-docs
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._common import update_docs
from fastseg.segment.datasets import make_choices

COMMAND = [
    ["fastseg", "choice", "--input", "choices.csv", "--choice-column", "brand"],
    ["--attributes", "price,platform,free_shipping,seven_day_return"],
    ["--segments", "labels.csv", "--id-column", "customer_id", "--out", "choice"],
]


def render(rows=20000, seed=1):
    with tempfile.TemporaryDirectory() as tmp:
        frame, _ = make_choices(rows, n_segments=3, random_state=seed)
        frame.drop_duplicates("customer_id")[["customer_id", "segment"]].to_csv(
            Path(tmp) / "labels.csv", index=False
        )
        frame.drop(columns="segment").to_csv(Path(tmp) / "choices.csv", index=False)
        head = (Path(tmp) / "choices.csv").read_text().splitlines()[:3]
        argv = [sys.executable, "-m", "fastseg.cli", *[w for line in COMMAND for w in line][1:]]
        done = subprocess.run(argv, cwd=tmp, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise SystemExit(f"the command failed:\n{done.stderr}")
    return "\n".join([
        "`choices.csv` (one row per purchase; `make_choices`) begins:", "", "```text", *head, "```", "",
        "```bash", " \\\n    ".join(" ".join(line) for line in COMMAND), "```", "", "```text",
        *(f"(stderr) {line}" for line in done.stderr.splitlines()), *done.stdout.splitlines(), "```",
    ])  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-docs", action="store_true", help="write the block into its docs page")
    args = parser.parse_args(argv)
    text = render()
    print(text)
    if args.update_docs:
        update_docs(text, "choice-run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
