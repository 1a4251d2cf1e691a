"""Peak resident memory of a K-means fit, fastseg beside scikit-learn, each in a fresh process.

    python -m benchmarks.memory                    # 1e8 x 8 float32 (3.2 GB), k=8: several minutes
    python -m benchmarks.memory --rows 2000000     # smaller
    python -m benchmarks.memory --update-docs    # also rewrite the table in docs/

Each fit runs in its own interpreter: the data are built in place (C-ordered float32, no
temporaries) or mapped from a file, then the fit runs with k-means++ seeding, one init and a
fixed number of Lloyd iterations (tol=0). Reported: the process's peak resident set size
(``VmHWM``, reset when the process starts: everything, interpreter and libraries included) divided by the size of the data,
and the growth of the peak over the resident size just before the fit. For the memmap case
the data live in a file, so "peak / data" is what the fit itself keeps resident.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

_CHILD = r"""
import json, sys, time
import numpy as np

def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0

import os
if os.environ.get("FASTSEG_CGROUP"):  # run inside a memory-limited cgroup (v1, needs root)
    with open(os.path.join(os.environ["FASTSEG_CGROUP"], "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))
# The high-water mark survives exec (a child inherits its parent's): start it afresh.
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")

impl, source, n, d, k, iters, path = sys.argv[1:8]
n, d, k, iters = int(n), int(d), int(k), int(iters)
if impl == "fastseg":
    from fastseg import KMeans
    make = lambda: KMeans(k, n_init=1, max_iter=iters, tol=0, random_state=0)
else:
    from sklearn.cluster import KMeans
    copy_x = impl != "scikit-learn copy_x=False"
    make = lambda: KMeans(k, n_init=1, max_iter=iters, tol=0, random_state=0, copy_x=copy_x)
if source == "memmap":
    X = np.load(path, mmap_mode="r")
else:
    X = np.empty((n, d), dtype=np.float32)
    rng = np.random.default_rng(0)
    step = 1 << 20
    for start in range(0, n, step):  # blobs around k centres, built block by block
        block = X[start : start + step]
        rng.standard_normal(out=block, dtype=np.float32)
        block += (rng.integers(0, k, size=(len(block), 1)) * 3.0).astype(np.float32)
# Warm the kernels on a small array so compilation does not count.
make().fit(np.ascontiguousarray(X[:5000]))
before = status("VmRSS")
t0 = time.perf_counter()
model = make().fit(X)
seconds = time.perf_counter() - t0
peak = status("VmHWM")
print(json.dumps({"before": before, "peak": peak, "seconds": seconds, "inertia": float(model.inertia_)}))
"""


def write_memmap(path, n, d, k):
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    rng = np.random.default_rng(0)
    step = 1 << 20
    for start in range(0, n, step):
        block = X[start : start + step]
        rng.standard_normal(out=block, dtype=np.float32)
        block += (rng.integers(0, k, size=(len(block), 1)) * 3.0).astype(np.float32)
    X.flush()
    del X


CGROUP_ROOT = Path("/sys/fs/cgroup/memory")


def memory_limited_cgroup(limit_bytes):
    """A cgroup-v1 memory cgroup capped at ``limit_bytes`` (page cache included), or None when
    this machine does not let us make one (not Linux, not root, cgroup v2 only)."""
    group = CGROUP_ROOT / f"fastseg-bench-{os.getpid()}"
    try:
        group.mkdir(exist_ok=True)
        (group / "memory.limit_in_bytes").write_text(str(int(limit_bytes)))
        (group / "memory.memsw.limit_in_bytes").exists() and (
            group / "memory.memsw.limit_in_bytes"
        ).write_text(str(int(limit_bytes)))
    except OSError:
        return None
    return group


def drop_page_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def run(impl, source, n, d, k, iters, path="", cgroup=None):
    env = dict(os.environ, FASTSEG_CGROUP=str(cgroup)) if cgroup else None
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, impl, source, str(n), str(d), str(k), str(iters), path],
        capture_output=True,
        text=True,
        env=env,
    )
    if res.returncode != 0:
        lines = res.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else f"killed (exit {res.returncode})"}
    return json.loads(res.stdout.strip().splitlines()[-1])


def render(rows, n, d, k, iters):
    data_gb = n * d * 4 / 1e9
    lines = [
        f"Peak resident memory of one fit, {n:.0e} x {d} float32 ({data_gb:.1f} GB), k={k}, k-means++, "
        f"{iters} Lloyd iterations; each fit in a fresh process (`python -m benchmarks.memory`).",
        "",
        "| implementation | data | peak RSS (GB) | peak / data | growth during fit (GB) | growth / data |",
        "|---|---|---|---|---|---|",
    ]
    for impl, source, r in rows:
        if "error" in r:
            lines.append(f"| {impl} | {source} | failed: {r['error'][:60]} | | | |")
            continue
        peak, growth = r["peak"] / 1e9, (r["peak"] - r["before"]) / 1e9
        lines.append(
            f"| {impl} | {source} | {peak:.2f} | {peak / data_gb:.2f} | {growth:.2f} | {growth / data_gb:.2f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--features", type=int, default=8)
    parser.add_argument("--clusters", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--skip-sklearn", action="store_true")
    parser.add_argument(
        "--memory-limit",
        type=float,
        default=None,
        help="also fit the memmap inside a cgroup capped at this many GB (Linux, root)",
    )
    parser.add_argument("--update-docs", action="store_true", help="write the table into its docs page")
    args = parser.parse_args(argv)
    n, d, k, iters = args.rows, args.features, args.clusters, args.iterations
    impls = ["fastseg"] + ([] if args.skip_sklearn else ["scikit-learn", "scikit-learn copy_x=False"])
    rows = []
    for impl in impls:
        print(f"{impl}, in memory ...", file=sys.stderr, flush=True)
        rows.append((impl, "in memory", run(impl, "array", n, d, k, iters)))
    with tempfile.TemporaryDirectory(dir=Path.home()) as tmp:
        path = Path(tmp) / "rows.npy"
        print("writing the memmap file ...", file=sys.stderr, flush=True)
        # In a child: this process stays small (its children would inherit its high-water mark).
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"from benchmarks.memory import write_memmap; write_memmap({str(path)!r}, {n}, {d}, {k})",
            ],
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        print("fastseg, numpy.memmap ...", file=sys.stderr, flush=True)
        rows.append(("fastseg", "numpy.memmap file", run("fastseg", "memmap", n, d, k, iters, str(path))))
        if args.memory_limit:
            limit = args.memory_limit * 1e9
            group = memory_limited_cgroup(limit)
            if group is None:
                print("cannot create a memory cgroup here: limited runs skipped", file=sys.stderr)
            else:
                where = f"numpy.memmap file, process capped at {args.memory_limit:g} GB"
                try:
                    for impl in impls:
                        print(f"{impl}, {where} ...", file=sys.stderr, flush=True)
                        drop_page_cache(path)  # else its pages stay charged to the cgroup that wrote them
                        rows.append((impl, where, run(impl, "memmap", n, d, k, iters, str(path), group)))
                finally:
                    group.rmdir()
    table = render(rows, n, d, k, iters)
    print(table)
    if args.update_docs:
        from ._common import update_docs

        update_docs(table, "memory-table")


if __name__ == "__main__":
    main()
