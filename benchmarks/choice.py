"""``fastseg choice`` at scale: ``python -m benchmarks.choice [--rows 1000000] [--update-docs]``

Rows of ``--options`` brands chosen from known multinomial-logit coefficients on ``--attributes``
attributes (half numbers, half factors of 2-4 levels), written to a Parquet file; the whole command
(read, dummy coding, scikit-learn's fit and probabilities, statsmodels' fit with standard errors,
the tables) timed in its own process, with the peak memory. Goal: 1e6 rows, 5 options, 20
attributes in <= 60 s. ``--update-docs`` writes the block ``choice-scale`` of docs/choice.md.
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ._common import code_path, update_docs


def make_rows(n, n_options, n_attributes, seed=0):
    """(rows as a DataFrame, attribute names): numbers and factors, the choice from known
    coefficients plus Gumbel noise."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    columns, design = {}, [np.ones(n)]
    for a in range(n_attributes):
        if a % 2 == 0:
            values = rng.normal(size=n)
            columns[f"x{a}"] = np.round(values, 3)
            design.append(values)
        else:
            levels = int(rng.integers(2, 5))
            codes = rng.integers(0, levels, n)
            columns[f"f{a}"] = np.array([f"L{j}" for j in range(levels)])[codes]
            design += [(codes == j).astype(float) for j in range(1, levels)]
    X = np.column_stack(design)
    beta = rng.normal(0, 0.3, (n_options - 1, X.shape[1]))
    utility = np.column_stack([np.zeros(n), X @ beta.T]) + rng.gumbel(size=(n, n_options))
    frame = pd.DataFrame(
        {"brand": np.array([f"B{j + 1}" for j in range(n_options)])[utility.argmax(axis=1)], **columns}
    )
    return frame, list(columns)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--options", type=int, default=5)
    parser.add_argument("--attributes", type=int, default=20)
    parser.add_argument("--update-docs", action="store_true", help="write the block into its docs page")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        frame, attributes = make_rows(args.rows, args.options, args.attributes)
        path = Path(tmp) / "choices.parquet"
        frame.to_parquet(path)
        terms = sum(1 if c.startswith("x") else frame[c].nunique() - 1 for c in attributes)
        del frame
        argv = [sys.executable, "-m", "fastseg.cli", "choice", "--input", str(path), "--choice-column", "brand",
                "--attributes", ",".join(attributes), "--out", str(Path(tmp) / "out"), "--quiet"]  # fmt: skip
        t0 = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True)
        took = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"fastseg choice failed:\n{done.stderr}")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    lines = [
        code_path(),
        "",
        "| rows | options | attributes (terms) | coefficients | whole command s | peak memory GB | goal <= 60 s |",
        "|---:|---:|---|---:|---:|---:|---|",
        f"| {args.rows:,} | {args.options} | {args.attributes} ({terms}) | {(terms + 1) * (args.options - 1)} "
        f"| {took:.1f} | {peak:.2f} | {'met' if took <= 60 else 'NOT met'} |",
        "",
        "One run of `fastseg choice` (read from Parquet, dummy coding, scikit-learn's fit and probabilities, "
        "statsmodels' fit with standard errors, the tables) in its own process. Written by "
        "`python -m benchmarks.choice --update-docs`.",
    ]
    table = "\n".join(lines)
    print(table)
    if args.update_docs:
        update_docs(table, "choice-scale")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
