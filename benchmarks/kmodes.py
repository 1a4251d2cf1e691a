"""fastseg.KModes and KPrototypes against the kmodes package, as ratios: ``python -m benchmarks.kmodes``

KModes: 1e5 rows x 20 categorical columns of 12 levels (text), k=8, the same initial modes for
both, ``max_iter`` 20. KPrototypes: 1e5 rows x (10 numeric + 10 text columns of 5-20 levels) as a
DataFrame, k=8, the same initial means and modes, ``--prototype-iterations`` (5) iterations (the
package takes about 70 us a row an iteration). Interleaved ``--repeats`` rounds, medians, after
one untimed fit each (compilation); the table says whether both gave the same labels and cost.
Memory: ``KPrototypes.fit`` of 1e6 such rows held as a DataFrame of float64 and pandas
Categorical columns, in a fresh process per init; the peak resident size over the size before
the fit, as a share of the data's own size. ``--update-docs`` writes the table into
docs/performance.md (block ``kmodes-table``, or ``kmodes-table-avx2`` with ``--isa avx2``).
"""

import argparse
import json
import subprocess
import sys
import time

import numpy as np

from ._common import avx2_forced, code_path, rerun_with_avx2, update_docs


def data(n, m=20, k=8, levels=12, seed=1):
    """Text categories from ``k`` latent groups (60% of each attribute follows the group)."""
    rng = np.random.default_rng(seed)
    z = rng.integers(0, k, n)
    codes = [
        np.where(rng.random(n) < 0.6, (z * (a + 1)) % levels, rng.integers(0, levels, n)) for a in range(m)
    ]
    X = np.char.add("v", np.column_stack(codes).astype(str))
    return X, X[rng.choice(n, k, replace=False)]


def _interleaved(ours, theirs, repeats):
    """(our first fit, theirs, our first fit's seconds (compiles), each side's medians) after
    ``repeats`` interleaved rounds."""
    t0 = time.perf_counter()
    first = ours()
    cold = time.perf_counter() - t0
    reference = theirs()
    times = {"fastseg": [], "kmodes": []}
    for _ in range(repeats):
        for label, fn in (("fastseg", ours), ("kmodes", theirs)):
            t0 = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - t0)
    return first, reference, cold, {k: float(np.median(v)) for k, v in times.items()}


def mixed(n, p=10, m=10, k=8, seed=2):
    """A DataFrame of ``p`` numeric columns and ``m`` text columns of 5-20 levels from ``k`` latent
    groups, and the same start for both: (means, modes as text) and (means, modes as codes)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    z = rng.integers(0, k, n)
    columns = {f"x{j}": rng.normal(size=n) * rng.uniform(0.5, 20) + z * rng.uniform(0, 3) for j in range(p)}
    for a in range(m):
        levels = 5 + (a * 15) // max(m - 1, 1)
        codes = np.where(rng.random(n) < 0.6, (z * (a + 1)) % levels, rng.integers(0, levels, n))
        columns[f"c{a}"] = np.char.add("v", codes.astype(str)).astype(object)
    frame = pd.DataFrame(columns)
    pick = rng.choice(n, k, replace=False)
    means = np.array(frame.iloc[pick, :p].to_numpy(dtype=float))
    modes = frame.iloc[pick, p:].to_numpy()
    codes = np.column_stack([np.searchsorted(np.unique(frame.iloc[:, p + a]), modes[:, a]) for a in range(m)])
    return frame, [means, modes], [means, codes]


def run_prototypes(n, repeats, max_iter):
    from kmodes.kprototypes import KPrototypes as Theirs

    from fastseg import KPrototypes

    frame, start, codes = mixed(n)
    cats = list(range(10, 20))
    ours = lambda: KPrototypes(8, init=start, n_init=1, max_iter=max_iter).fit(frame, categorical=cats)  # noqa: E731

    # the package updates a given start in place: a fresh copy for each fit
    def theirs():
        return Theirs(8, init=[a.copy() for a in codes], n_init=1, max_iter=max_iter).fit(
            frame, categorical=cats
        )

    first, reference, cold, times = _interleaved(ours, theirs, repeats)
    same = np.array_equal(first.labels_, reference.labels_) and np.isclose(
        first.cost_, reference.cost_, rtol=1e-12
    )
    return times, cold, same, first.n_iter_


_MEMORY_CHILD = r"""
import json, sys
import numpy as np
import pandas as pd
from benchmarks.kmodes import mixed
from fastseg import KPrototypes

def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024

n, init = int(sys.argv[1]), sys.argv[2]
frame, _, _ = mixed(n)
# consolidated (one float64 block), as read_csv and read_parquet give a table
frame = frame.astype({f"c{a}": "category" for a in range(10)}).copy()
KPrototypes(8, n_init=1, max_iter=2, init=init, random_state=0).fit(frame.iloc[:2000])  # compiled or cached
data = int(frame.memory_usage(deep=True).sum())
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak starts again from here
before = status("VmRSS")
model = KPrototypes(8, n_init=1, max_iter=10, init=init, random_state=0).fit(frame)
print(json.dumps({"data": data, "growth": status("VmHWM") - before, "n_iter": model.n_iter_}))
"""


def memory(n, init):
    out = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(n), init], capture_output=True, text=True,
                         check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(n, repeats):
    from kmodes.kmodes import KModes as Theirs

    from fastseg import KModes

    X, start = data(n)
    codes = np.column_stack([np.searchsorted(np.unique(X[:, a]), start[:, a]) for a in range(X.shape[1])])
    ours = lambda: KModes(8, init=start, max_iter=20).fit(X)  # noqa: E731
    theirs = lambda: Theirs(8, init=codes, max_iter=20).fit(X)  # noqa: E731
    first, reference, cold, times = _interleaved(ours, theirs, repeats)
    same = np.array_equal(first.labels_, reference.labels_) and first.cost_ == reference.cost_
    return times, cold, same, first.n_iter_


def _row(case, med, cold, same):
    ratio = med["kmodes"] / med["fastseg"]
    return (f"| {case} | {med['fastseg']:.3f} | {med['kmodes']:.3f} | {ratio:.1f}x "
            f"| >= 50x: {'met' if ratio >= 50 else 'NOT met'} | {'yes' if same else 'no'} | {cold:.2f} |")  # fmt: skip


def render(n, repeats, modes, prototypes, memories, memory_rows):
    lines = [
        code_path(),
        "",
        "| case | fastseg s | kmodes s | ratio | goal | same labels and cost | first fit s (compiles) |",
        "|---|---:|---:|---:|---|---|---:|",
        _row(f"KModes.fit, {n:.0e} x 20 categorical (12 levels), k=8, same initial modes, {modes[3]} iterations",
             *modes[:3]),
        _row(f"KPrototypes.fit, {n:.0e} x (10 numeric + 10 text of 5-20 levels), k=8, same start, "
             f"{prototypes[3]} iterations", *prototypes[:3]),
        "",
        f"`KPrototypes.fit` of {memory_rows:.0e} rows held as a DataFrame (10 float64 columns in one block, "
        "as read_csv and read_parquet give them, 10 pandas Categorical columns), k=8, 10 iterations at most, a fresh process per init:",
        "",
        "| init | data MB | peak growth MB | peak / data | goal <= 1.3x |",
        "|---|---:|---:|---:|---|",
    ]  # fmt: skip
    for init, mem in memories.items():
        share = 1 + mem["growth"] / mem["data"]
        lines.append(f"| {init} | {mem['data'] / 1e6:.0f} | {mem['growth'] / 1e6:.0f} | {share:.2f}x "
                     f"| {'met' if share <= 1.3 else 'NOT met'} |")  # fmt: skip
    lines += [
        "",
        "Peak / data is (data + the fit's growth of the peak resident size) / data: what the fit needs beside "
        "the table it is given. Its share: the codes (one byte a cell), the labels, and Huang's or Cao's "
        "start (a distance and an ordering per row). Numeric columns spread over several blocks "
        "(a frame assembled column by column) are copied into one float64 array first (+0.9x here).",
        "",
        f"kmodes {__import__('kmodes').__version__}; median of {repeats} interleaved rounds after one untimed fit "
        "each. Written by `python -m benchmarks.kmodes --update-docs`.",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--prototype-iterations", type=int, default=5)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--isa", choices=["native", "avx2"], default="native")
    parser.add_argument("--update-docs", action="store_true", help="write the table into its docs page")
    args = parser.parse_args(argv)
    if args.isa == "avx2" and not avx2_forced():
        return rerun_with_avx2("benchmarks.kmodes", argv)
    modes = run(args.rows, args.repeats)
    prototypes = run_prototypes(args.rows, args.repeats, args.prototype_iterations)
    memories = {init: memory(args.memory_rows, init) for init in ("Cao", "Huang", "random")}
    table = render(args.rows, args.repeats, modes, prototypes, memories, args.memory_rows)
    print(table)
    if args.update_docs:
        update_docs(table, "kmodes-table" if args.isa == "native" else "kmodes-table-avx2")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
