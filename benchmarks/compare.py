"""Time fastseg against the installed peers on the same arrays, interleaved, and print ratios.

    python -m benchmarks.compare                 # full sizes (a few minutes on 2 cores)
    python -m benchmarks.compare --quick         # tiny sizes, a smoke run
    python -m benchmarks.compare --update-docs # also rewrite the table in docs/
    python -m benchmarks.compare --isa avx2      # AVX2 code for Numba and OpenBLAS (its own table)

Every implementation runs the same fixed work (same initial centres, a fixed number of
iterations, tol=0). Times are per iteration (fit time / iterations run), the median of
``--repeats`` rounds; within a round the implementations run one after the other, so noise on
this shared machine hits all of them alike. A ratio is peer time / fastseg time: above 1 means
fastseg is faster.
"""

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from .registry import CASES, IMPLEMENTATIONS, implementations_for, make_data

ROOT = Path(__file__).resolve().parent.parent
# The README and the docs pages: generated blocks live in them.
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FIRST_FIT = """
import time
t0 = time.perf_counter()
import numpy as np
import fastseg
rng = np.random.default_rng(0)
for dtype in ("float32", "float64"):
    X = rng.normal(size=(2000, 8)).astype(dtype)
    fastseg.KMeans(8, random_state=0).fit(X).predict(X)
print(time.perf_counter() - t0)
"""


def cold_and_warm_seconds(script):
    """(cold, warm): the seconds ``script`` prints last, run in a fresh interpreter with an empty
    kernel cache (compilation) and then again with the cache that run filled."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = []
        for _ in range(2):
            res = subprocess.run(
                [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
            )
            out.append(float(res.stdout.strip().splitlines()[-1]))
        return tuple(out)


def first_fit_seconds():
    """(cold, warm): import + first k-means++ fit and predict, float32 and float64."""
    return cold_and_warm_seconds(_FIRST_FIT)


def time_case(case, repeats):
    X, init = make_data(case)
    impls = implementations_for(case)
    if case.kind == "genetic" and case.n > 100_000:
        repeats = min(repeats, 2)  # a pygad generation takes seconds at this size
    for _, fn in impls:  # warm-up: compilation, caches, thread pools
        fn(case.scaled(0.01), *make_data(case.scaled(0.01)))
        if case.kind == "predict":  # the model the timed calls use, fitted on their init and kept
            fn(replace(case, iters=1), X[:1000], init)
    times = {name: [] for name, _ in impls}
    iters = {}
    for _ in range(repeats):
        for name, fn in impls:
            t0 = time.perf_counter()
            n_iter, _ = fn(case, X, init)
            times[name].append((time.perf_counter() - t0) / n_iter)
            iters[name] = n_iter
    return {name: float(np.median(v)) for name, v in times.items()}, iters, quality_note(case, X, impls)


def quality_note(case, X, impls):
    """For GA cases: final inertia of each GA beside the best of 10 k-means++ runs."""
    if case.kind != "genetic":
        return ""
    from fastseg import KMeans

    best_km = min(KMeans(case.k, n_init=1, random_state=s).fit(X).inertia_ for s in range(10))
    parts = []
    for name, fn in impls:
        inertia = fn(case, X, None, labels=True)[1][1]
        parts.append(f"{name} {inertia:.6g} ({inertia / best_km - 1:+.2e} relative)")
    return f"{case.name}: final SSE " + ", ".join(parts) + f"; best of 10 k-means++ runs {best_km:.6g}."


# AVX2 + FMA code on any x86-64 CPU: Numba compiles for Haswell with Haswell's instruction set (an
# empty NUMBA_CPU_FEATURES: without it Numba keeps the host's features, AVX-512 included), OpenBLAS
# takes its Haswell kernels.
AVX2_ENV = {"NUMBA_CPU_NAME": "haswell", "NUMBA_CPU_FEATURES": "", "OPENBLAS_CORETYPE": "Haswell"}
AVX2_ENV_TEXT = "NUMBA_CPU_NAME=haswell NUMBA_CPU_FEATURES= OPENBLAS_CORETYPE=Haswell"


def cpu_name():
    """The CPU's model name (from /proc/cpuinfo, else what the platform says)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def code_path():
    """One line: the CPU, whether it has AVX-512, and the code Numba and OpenBLAS run on it."""
    model = platform.processor() or platform.machine()
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("", platform.machine()):
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = line
                    break
    except OSError:
        pass
    isa = "AVX-512" if " avx512f" in flags else "AVX2" if " avx2" in flags else "no AVX2"
    import numba
    from llvmlite import binding as llvm
    from threadpoolctl import threadpool_info

    import fastseg._blas  # noqa: F401  loads the BLAS Numba calls

    blas = sorted(
        {
            f"{i['internal_api']} {i.get('architecture') or ''}".strip()
            for i in threadpool_info()
            if i["user_api"] == "blas"
        }
    )
    forced = all(os.environ.get(k) == v for k, v in AVX2_ENV.items())
    numba_cpu = numba.config.CPU_NAME or llvm.get_host_cpu_name()
    features = numba.config.CPU_FEATURES
    if features is None:
        features = llvm.get_host_cpu_features().flatten()
    numba_isa = (
        "AVX-512"
        if "+avx512f" in features
        else "AVX2"
        if "+avx2" in features or features == ""
        else "no AVX2"
    )
    how = f"AVX2 code forced ({AVX2_ENV_TEXT})" if forced else "native code"
    return (
        f"CPU: {model}, {isa}; {how}: Numba {numba_cpu} ({numba_isa} instructions), "
        f"BLAS {', '.join(blas) or 'none found'}."
    )


def render(results, first_fit, repeats, quick):
    peers = [name for name in IMPLEMENTATIONS if name != "fastseg"]
    lines = [
        code_path(),
        "",
        "| case | fastseg ms/iter | " + " | ".join(f"{p} ratio" for p in peers) + " | goal |",
        "|---|---:|" + "---:|" * len(peers) + "---|",
    ]
    notes = []
    for case, (med, iters, note) in results:
        if note:
            notes.append(note)
        fs = med["fastseg"]
        cells = []
        for p in peers:
            cells.append(f"{med[p] / fs:.2f}x" if p in med else "n/a")
        goal = ""
        if case.goal is not None and case.goal_peer in med:
            ratio = med[case.goal_peer] / fs
            goal = f">= {case.goal:g}x vs {case.goal_peer}: {'met' if ratio >= case.goal else 'NOT met'}"
        unit = {"lloyd": "iters", "genetic": "generations", "predict": "calls"}.get(case.kind)
        name = case.name + (f" ({iters['fastseg']} {unit})" if unit else "")
        lines.append(f"| {name} | {fs * 1e3:.2f} | " + " | ".join(cells) + f" | {goal} |")
    cold, warm = first_fit
    lines += (
        [""]
        + notes
        + [
            "",
            f"First call (fresh interpreter: import + k-means++ fit + predict, float32 and float64): "
            f"{cold:.1f} s with an empty kernel cache (compilation), {warm:.2f} s with the cache warm (goal <= 1.5 s: "
            f"{'met' if warm <= 1.5 else 'NOT met'}).",
            "",
            f"Ratio = peer time / fastseg time per iteration (above 1: fastseg is faster); median of {repeats} "
            f"interleaved rounds{' at smoke-test sizes' if quick else ''}; "
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
            + " ".join(f"{name}: {note}." for name, (_, _, note) in IMPLEMENTATIONS.items() if note),
        ]
    )
    return "\n".join(lines)


SUMMARY_PEERS = ("scikit-learn", "scikit-learn-intelex", "faiss-cpu")


def render_summary(results, repeats):
    """The README's short table: the K-means, mixture and predict cases against the K-means peers."""
    lines = [
        "| case | scikit-learn | scikit-learn-intelex | faiss-cpu |",
        "|---|---:|---:|---:|",
    ]
    for case, (med, _, _) in results:
        if case.kind in ("genetic", "pairs"):
            continue
        fs = med["fastseg"]
        cells = [f"{med[p] / fs:.2f}x" if p in med else "n/a" for p in SUMMARY_PEERS]
        lines.append(f"| {case.name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Peer time / fastseg time (above 1: fastseg is faster), median of {repeats} interleaved rounds. "
        + code_path(),
    ]
    return "\n".join(lines)


def update_docs(table, name="benchmark-table"):
    """Replace the block between ``<!-- {name}:start -->`` and ``<!-- {name}:end -->`` in the
    README or the docs page that has it."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    for page in DOCS:
        text = page.read_text()
        if pattern.search(text):
            page.write_text(pattern.sub(lambda _: f"{start}\n{table}\n{end}", text))
            return page
    raise SystemExit(f"no page in README.md or docs/ has a {start} ... {end} block")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument("--repeats", type=int, default=None, help="rounds per case (default 5, quick 2)")
    parser.add_argument("--only", default=None, help="run the cases whose name contains this text")
    parser.add_argument("--update-docs", action="store_true", help="write the table into its docs page")
    parser.add_argument(
        "--isa", choices=["native", "avx2"], default="native", help="avx2: AVX2 code for Numba and OpenBLAS"
    )
    args = parser.parse_args(argv)
    if args.isa == "avx2" and any(os.environ.get(k) != v for k, v in AVX2_ENV.items()):
        # Both libraries read these at start-up: run the whole benchmark in a child that has them.
        child = [sys.executable, "-m", "benchmarks.compare", *(sys.argv[1:] if argv is None else argv)]
        return subprocess.run(child, env=dict(os.environ, **AVX2_ENV), cwd=ROOT).returncode
    repeats = args.repeats or (2 if args.quick else 5)
    results = []
    for case in CASES:
        if args.only and args.only not in case.name:
            continue
        run = case.scaled(0.005) if args.quick else case
        print(f"running {case.name} ...", file=sys.stderr, flush=True)
        results.append((case, time_case(run, repeats)))
    table = render(results, first_fit_seconds(), repeats, args.quick)
    print(table)
    if args.update_docs:
        if args.quick or args.only:
            raise SystemExit("--update-docs needs the full run (no --quick, no --only)")
        update_docs(table, "benchmark-table" if args.isa == "native" else "benchmark-table-avx2")
        if args.isa == "native":
            update_docs(render_summary(results, repeats), "benchmark-summary")
    return 0


if __name__ == "__main__":
    sys.exit(main())
