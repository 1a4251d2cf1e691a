"""Assigning new customers to a saved segmentation, beside the scikit-learn way of doing it.

    python -m benchmarks.assign                    # 1e6 new customers, each method
    python -m benchmarks.assign --rows 100000      # smaller
    python -m benchmarks.assign --update-docs    # also rewrite the table in docs/
    python -m benchmarks.assign --isa avx2         # AVX2 code for Numba and OpenBLAS

A segmentation is fitted on the 4000 demo customers (K=4) and saved. Timed, interleaved, median
of ``--repeats`` rounds: fastseg's ``load_model(path).assign(frame)`` (read the file, the saved
preprocessing, the nearest centre or most probable component), and the fitted scikit-learn
objects kept in memory (``preprocessor.transform`` then the model's ``predict``: no file read at
all). Both give the same segments; this is checked before anything is timed.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ._common import avx2_forced, code_path, rerun_with_avx2, update_docs


def _median_times(funcs, repeats):
    times = {name: [] for name in funcs}
    for _ in range(repeats):
        for name, fn in funcs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(t)) for name, t in times.items()}


def run(rows, repeats):
    from fastseg.segment import FEATURES, make_customers, segment_customers
    from fastseg.segment.model import load_model, model_from_result

    fit_frame = make_customers(4000, random_state=0, return_segments=False)
    new = make_customers(rows, random_state=1, return_segments=False)
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for method in ("kmeans", "ga", "gmm"):
            result = segment_customers(fit_frame, list(FEATURES), k=4, k_range=range(2, 3), method=method)
            path = model_from_result(result).save(Path(tmp) / f"{method}.fsm")
            t0 = time.perf_counter()
            ours, _ = load_model(path).assign(new.head(1000))
            first = time.perf_counter() - t0
            pre, model = result.preprocessor, result.model

            def fastseg_assign(path=path):
                return load_model(path).assign(new)[0]

            def sklearn_objects(pre=pre, model=model, dtype=result.Z.dtype):
                Z = np.ascontiguousarray(pre.transform(new[list(FEATURES)]), dtype=dtype)
                return model.predict(Z) + 1

            agree = float((fastseg_assign() == sklearn_objects()).mean())
            if agree < 1.0:
                raise SystemExit(
                    f"{method}: saved model and fitted objects disagree on {1 - agree:.2%} of rows"
                )
            med = _median_times({"fastseg": fastseg_assign, "objects": sklearn_objects}, repeats)
            lines.append(
                f"| {method} | {rows:,} | {med['fastseg'] * 1e3:.0f} | {rows / med['fastseg'] / 1e6:.1f} | "
                f"{med['objects'] * 1e3:.0f} | {med['objects'] / med['fastseg']:.2f}x | {first * 1e3:.0f} |"
            )
            print(f"{method} done", file=sys.stderr, flush=True)
    header = [
        "| method | new customers | load + assign, ms | million rows/s | fitted objects in memory, ms | ratio | "
        "first call (1000 rows), ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    notes = [
        "",
        f"Median of {repeats} interleaved rounds; ratio = in-memory objects' time / fastseg's (above 1: loading the "
        "file and assigning is faster than predicting with the objects the fit left in memory). "
        f"Same segments from both, checked first. {code_path()}",
    ]
    return "\n".join(header + lines + notes)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="new customers (default 1e6)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--update-docs", action="store_true", help="write the table into its docs page")
    parser.add_argument("--isa", choices=["native", "avx2"], default="native")
    args = parser.parse_args(argv)
    if args.isa == "avx2" and not avx2_forced():
        return rerun_with_avx2("benchmarks.assign", argv)
    table = run(args.rows, args.repeats)
    print(table)
    if args.update_docs:
        update_docs(table, "assign-table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
