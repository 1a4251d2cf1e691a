"""Segments that stay put between runs: how many customers keep their segment number when a shop
refits on a resample of a real customer table, started from the previous model's centres (what
``--previous`` does) against a fresh fit matched afterwards (the docs block "stable-segments" of
docs/over-time.md with --update-docs).

    python -m benchmarks.stable_segments --update-docs

Data: the UCI Wholesale customers table shipped with fastseg (440 clients, six spending columns;
``fastseg.segment.datasets.load_wholesale``). Each case fits K segments on every client, saves
the model, then refits on 90% resamples (5 seeds; refit seed 7) and counts the clients present in
both runs whose segment number is the same.
"""

import argparse
import sys

import numpy as np

from benchmarks._common import update_docs
from fastseg.segment import Columns, Job, Options, run
from fastseg.segment.datasets import load_wholesale
from fastseg.segment.drift import follow_previous

FEATURES = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]
CASES = [("kmeans", 3), ("kmeans", 4), ("kmeans", 5), ("kmeans", 6), ("ga", 5), ("gmm", 4)]


def _kept(first, second):
    old = dict(zip(first.customers[first.id_column], first.segments))
    new = second.customers[second.id_column].map(old).to_numpy()
    return float(np.mean(new == second.segments))


def measure(seeds=5, cases=CASES):
    """Rows (method, K, same data kept, warm kept min/median, fresh-fit kept min/median)."""
    import tempfile
    from pathlib import Path

    from fastseg.segment.model import load_model, model_from_result

    frame = load_wholesale()
    columns = Columns(features=FEATURES)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for method, k in cases:
            options = Options(method=method, k=k, k_range=range(2, 3))
            first = run(frame, Job(columns, options))
            path = Path(tmp) / f"{method}{k}.fsm"
            previous = load_model(model_from_result(first, ids=first.customers[first.id_column]).save(path))
            refit = options.with_(random_state=7)
            same = _kept(first, run(frame, Job(columns, refit, previous)))
            warm, fresh = [], []
            for seed in range(seeds):
                part = frame.sample(frac=0.9, random_state=seed)
                warm.append(_kept(first, run(part, Job(columns, refit, previous))))
                fresh.append(_kept(first, follow_previous(run(part, Job(columns, refit)), previous)))
            rows.append(
                (method, k, same, min(warm), float(np.median(warm)), min(fresh), float(np.median(fresh)))
            )
    return rows


def render(rows, seeds):
    lines = [
        f"Output of `python -m benchmarks.stable_segments --update-docs`: the UCI Wholesale customers table "
        f"(440 clients), K fixed, {seeds} resamples of 90%; share of the clients in both runs who kept their "
        "segment number.",
        "",
        "| method | K | same data, `--previous` | 90% resample, `--previous`: worst / median "
        "| 90% resample, fresh fit matched afterwards: worst / median |",
        "|---|---:|---:|---:|---:|",
    ]
    for method, k, same, wmin, wmed, fmin, fmed in rows:
        lines.append(f"| {method} | {k} | {same:.1%} | {wmin:.1%} / {wmed:.1%} | {fmin:.1%} / {fmed:.1%} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="resamples per case (default 5)")
    parser.add_argument("--update-docs", action="store_true", help="write the table into docs/over-time.md")
    args = parser.parse_args(argv)
    text = render(measure(args.seeds), args.seeds)
    print(text)
    if args.update_docs:
        update_docs(text, "stable-segments")
    return 0


if __name__ == "__main__":
    sys.exit(main())
