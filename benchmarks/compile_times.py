"""First-run cost: each kernel's compile time, and import + first fits cold and warm beside scikit-learn.

    python -m benchmarks.compile_times                  # print the tables
    python -m benchmarks.compile_times --update-docs  # also rewrite the block in docs/
    python -m benchmarks.compile_times --isa avx2       # AVX2 code for Numba and OpenBLAS

Every figure comes from a fresh interpreter. Cold: an empty Numba cache (``NUMBA_CACHE_DIR`` set
to a new temporary folder), as after ``pip install``; warm: the cache the cold run filled. A
kernel's compile time is the CPU time of its own compilation (the Numba library functions it
pulls in included, the other kernels it calls not), recorded from Numba's compile events, so it
depends little on the load of a shared machine; the first-run figures are wall times, medians of
``--repeats`` interleaved rounds.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from ._common import ROOT, avx2_forced, code_path, rerun_with_avx2, update_docs

# What each workload runs; the kernels it compiles are attributed to the first workload that needs them.
_WORKLOADS = {
    "KMeans float32": """
X = rng.normal(size=(2000, 8)).astype(np.float32)
fastseg.KMeans(8, random_state=0).fit(X).predict(X)
""",
    "KMeans float64": """
X = rng.normal(size=(2000, 8))
fastseg.KMeans(8, random_state=0).fit(X).predict(X)
""",
    "KMeans float32, large d*k (GEMM; dot kernel with AVX2 code)": """
X = rng.normal(size=(2000, 32)).astype(np.float32)
fastseg.KMeans(16, random_state=0, algorithm="lloyd").fit(X)
""",
    "KMeans float32, Yinyang": """
X = rng.normal(size=(2000, 16)).astype(np.float32)
fastseg.KMeans(16, random_state=0, algorithm="yinyang").fit(X)
""",
    "KMeans float64, sparse": """
import scipy.sparse as sp
X = sp.random(2000, 50, density=0.1, format="csr", random_state=0)
fastseg.KMeans(8, random_state=0).fit(X).predict(X)
""",
    "GeneticKMeans float64": """
X = rng.normal(size=(2000, 8))
fastseg.GeneticKMeans(4, population_size=10, n_generations=3, random_state=0).fit(X)
""",
    "GaussianMixture float64": """
X = rng.normal(size=(2000, 8))
fastseg.GaussianMixture(4, random_state=0).fit(X).predict(X)
""",
    "basket pairs + recommendations": """
import scipy.sparse as sp
from fastseg import basket
U = sp.random(300, 40, density=0.1, format="csr", random_state=0)
basket.pair_counts(U)
basket.top_n(U, method="user")
basket.top_n(U, method="item")
""",
}

_RECORD = """
import json, sys, time
import numpy as np
from numba.core import event

stack, records = [], []

class Recorder(event.Listener):
    def on_start(self, ev):
        stack.append([ev.data["dispatcher"], time.thread_time(), 0.0])

    def on_end(self, ev):
        disp, t0, nested = stack.pop()
        spent = time.thread_time() - t0
        module = getattr(disp.py_func, "__module__", "")
        if module.startswith("fastseg._kernels"):
            # Charged to this kernel alone: a kernel it calls has its own line.
            for frame in reversed(stack):
                if frame[0].py_func.__module__.startswith("fastseg._kernels"):
                    frame[2] += spent
                    break
            first = next((a for a in ev.data["args"] if hasattr(a, "dtype")), None)
            records.append([WORKLOAD, module.rsplit(".", 1)[-1] + "." + disp.py_func.__name__,
                            str(first.dtype) if first is not None else "-", spent - nested])

event.register("numba:compile", Recorder())
import fastseg
import fastseg._ahead

# Every kernel compiled here, where its compile time is recorded (not ahead in another process).
fastseg._ahead.assign_kernel = lambda rows, n_clusters: None
rng = np.random.default_rng(0)
"""

_FASTSEG_FIT = """
import time
t0 = time.perf_counter()
import numpy as np
from fastseg import KMeans
rng = np.random.default_rng(0)
for dtype in {dtypes!r}:
    X = rng.normal(size=(2000, 8)).astype(dtype)
    KMeans(8, random_state=0).fit(X).predict(X)
print(time.perf_counter() - t0)
"""

_SKLEARN_FIT = _FASTSEG_FIT.replace("from fastseg import KMeans", "from sklearn.cluster import KMeans")

_IMPORT = """
import sys, time
t0 = time.perf_counter()
import fastseg
elapsed = time.perf_counter() - t0
heavy = ("numba", "fastseg._kernels", "sklearn", "pandas", "matplotlib", "scipy.stats", "dask")
print(",".join(m for m in heavy if m in sys.modules) or "none")
print(elapsed)
"""


def _child_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(code, cache):
    """(stdout lines, wall seconds, CPU seconds) of ``code`` in a fresh interpreter using kernel
    cache ``cache``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    # Python's bytecode cache on, as for an installed package (scikit-learn's is written at install).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cpu0, t0 = _child_cpu(), time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    wall, cpu = time.perf_counter() - t0, _child_cpu() - cpu0
    if res.returncode != 0:
        raise SystemExit(f"child failed:\n{res.stderr[-2000:]}")
    return res.stdout.strip().splitlines(), wall, cpu


def kernel_compile_times():
    """[(workload, kernel, dtypes, CPU seconds)] from one cold run of every workload, in order."""
    script = _RECORD
    for name, code in _WORKLOADS.items():
        script += f"WORKLOAD = {name!r}\n" + code
    script += "print(json.dumps(records))\n"
    with tempfile.TemporaryDirectory() as cache:
        out, _, _ = _run(script, cache)
    return [tuple(r) for r in json.loads(out[-1])]


def _demo(cache):
    with tempfile.TemporaryDirectory() as out:
        code = (
            "from fastseg.cli import main\n"
            f"raise SystemExit(main(['segment', '--demo', '--quiet', '--out', {out + '/demo'!r}]))\n"
        )
        _, wall, cpu = _run(code, cache)
        return wall, cpu


def _timed(code):
    """The seconds ``code`` prints last (from before its imports), and the child's CPU seconds."""

    def run(cache):
        out, _, cpu = _run(code, cache)
        return float(out[-1]), cpu

    return run


def first_run_times(repeats):
    """Medians over ``repeats`` interleaved rounds of every first-run figure: {(name, 'cold' or
    'warm'): (wall seconds, CPU seconds)}, and the heavy modules ``import fastseg`` loads."""
    cases = {
        "import fastseg": _timed(_IMPORT),
        "sklearn float32": _timed(_SKLEARN_FIT.format(dtypes=("float32",))),
        "fastseg float32": _timed(_FASTSEG_FIT.format(dtypes=("float32",))),
        "sklearn both": _timed(_SKLEARN_FIT.format(dtypes=("float32", "float64"))),
        "fastseg both": _timed(_FASTSEG_FIT.format(dtypes=("float32", "float64"))),
        "demo": _demo,
    }
    times = {(name, state): [] for name in cases for state in ("cold", "warm")}
    for _ in range(repeats):
        for name, fn in cases.items():
            with tempfile.TemporaryDirectory() as cache:
                times[name, "cold"].append(fn(cache))
                times[name, "warm"].append(fn(cache))
    with tempfile.TemporaryDirectory() as cache:
        modules = _run(_IMPORT, cache)[0][0]
    medians = {key: tuple(float(x) for x in np.median(np.array(v), axis=0)) for key, v in times.items()}
    return medians, modules


def _met(ok):
    return "met" if ok else "NOT met"


def _cell(t, name, state):
    wall, cpu = t[name, state]
    return f"{wall:.2f} s ({cpu:.1f})"


def render(kernels, first, import_modules, repeats, load):
    t, mods = first, import_modules
    wall = {key: v[0] for key, v in t.items()}
    over1 = wall["fastseg float32", "warm"] - wall["sklearn float32", "warm"]
    over2 = wall["fastseg both", "warm"] - wall["sklearn both", "warm"]
    lines = [
        code_path(),
        "",
        "| first run (fresh interpreter), wall (CPU s) | empty kernel cache | warm cache | scikit-learn | goal |",
        "|---|---:|---:|---:|---|",
        f"| `import fastseg` (heavy modules loaded: {mods}) | {wall['import fastseg', 'cold']:.3f} s "
        f"| {wall['import fastseg', 'warm']:.3f} s | | loads no Numba, kernels, scikit-learn, pandas, "
        f"matplotlib, scipy.stats, dask: {_met(mods == 'none')} |",
        f"| import + KMeans fit + predict, float32 | {_cell(t, 'fastseg float32', 'cold')} "
        f"| {_cell(t, 'fastseg float32', 'warm')} | {_cell(t, 'sklearn float32', 'warm')} "
        f"| cold <= 5 s: {_met(wall['fastseg float32', 'cold'] <= 5)}; warm <= scikit-learn + 0.3 s "
        f"({over1:+.2f} s): {_met(over1 <= 0.3)} |",
        f"| import + KMeans fit + predict, float32 and float64 | {_cell(t, 'fastseg both', 'cold')} "
        f"| {_cell(t, 'fastseg both', 'warm')} | {_cell(t, 'sklearn both', 'warm')} "
        f"| cold <= 8 s: {_met(wall['fastseg both', 'cold'] <= 8)}; warm <= scikit-learn + 0.3 s "
        f"({over2:+.2f} s): {_met(over2 <= 0.3)} |",
        f"| `fastseg segment --demo`, whole process | {_cell(t, 'demo', 'cold')} | {_cell(t, 'demo', 'warm')} | "
        f"| cold <= 10 s: {_met(wall['demo', 'cold'] <= 10)}; warm <= 5 s: {_met(wall['demo', 'warm'] <= 5)} |",
        "",
        "| first needed by | kernel | dtypes | compile, CPU s |",
        "|---|---|---|---:|",
    ]
    by_kernel = {}
    for workload, kernel, dtypes, secs in kernels:
        key = (workload, kernel, dtypes)
        by_kernel[key] = by_kernel.get(key, 0.0) + secs
    totals = {}
    for (workload, kernel, dtypes), secs in by_kernel.items():
        lines.append(f"| {workload} | `{kernel}` | {dtypes} | {secs:.2f} |")
        totals[workload] = totals.get(workload, 0.0) + secs
    lines += [
        "",
        "Compilation per workload (CPU s, kernels not compiled by an earlier line): "
        + "; ".join(f"{w} {s:.2f}" for w, s in totals.items())
        + ".",
        "",
        f"Wall times (from before the imports to the end of the fits; the whole process for the demo) and the "
        f"process's CPU time (interpreter start included; the fits use 2 threads): medians of {repeats} "
        f"interleaved rounds, each in a fresh interpreter (2000 x 8 rows, k=8, k-means++); load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min) on a "
        f"shared machine at the start; {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}. scikit-learn has no kernel cache: its figure is its second run "
        "(files in the OS cache, as for the warm runs). Python's bytecode cache is on in every run, as for an "
        "installed package. The first runs with an empty cache include the second "
        "process that compiles Lloyd's assignment kernel while the fit compiles the others (`fastseg._ahead`); "
        "the kernel table records every kernel compiled in one process. "
        "Written by `python -m benchmarks.compile_times`.",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the first-run figures (default 3)")
    parser.add_argument("--update-docs", action="store_true", help="write the tables into their docs page")
    parser.add_argument(
        "--isa", choices=["native", "avx2"], default="native", help="avx2: AVX2 code for Numba and OpenBLAS"
    )
    args = parser.parse_args(argv)
    if args.isa == "avx2" and not avx2_forced():
        return rerun_with_avx2("benchmarks.compile_times", argv)
    load = os.getloadavg()
    print("compiling every kernel once ...", file=sys.stderr, flush=True)
    kernels = kernel_compile_times()
    print("first runs, cold and warm ...", file=sys.stderr, flush=True)
    first, modules = first_run_times(args.repeats)
    table = render(kernels, first, modules, args.repeats, load)
    print(table)
    if args.update_docs:
        update_docs(table, "compile-times" if args.isa == "native" else "compile-times-avx2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
