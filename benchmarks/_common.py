"""What the benchmark scripts and the docs examples share: where the docs are, the generated-block
writer, the CPU and code-path line every table names, AVX2-forced reruns and cold/warm timing."""

import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The README and the docs pages: generated blocks live in them.
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# AVX2 + FMA code on any x86-64 CPU: Numba compiles for Haswell with Haswell's instruction set (an
# empty NUMBA_CPU_FEATURES: without it Numba keeps the host's features, AVX-512 included), OpenBLAS
# takes its Haswell kernels.
AVX2_ENV = {"NUMBA_CPU_NAME": "haswell", "NUMBA_CPU_FEATURES": "", "OPENBLAS_CORETYPE": "Haswell"}
AVX2_ENV_TEXT = "NUMBA_CPU_NAME=haswell NUMBA_CPU_FEATURES= OPENBLAS_CORETYPE=Haswell"


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


def avx2_forced():
    """Whether this process runs with ``AVX2_ENV`` (Numba and OpenBLAS read it at start-up)."""
    return all(os.environ.get(k) == v for k, v in AVX2_ENV.items())


def rerun_with_avx2(module, argv):
    """Run ``python -m module argv`` in a child with ``AVX2_ENV`` (both libraries read it at
    start-up, so a running process cannot switch); returns the child's exit status."""
    child = [sys.executable, "-m", module, *(sys.argv[1:] if argv is None else argv)]
    return subprocess.run(child, env=dict(os.environ, **AVX2_ENV), cwd=ROOT).returncode


def _cpuinfo(key):
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_name():
    """The CPU's model name (from /proc/cpuinfo, else what the platform says)."""
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def code_path():
    """One line: the CPU, whether it has AVX-512, and the code Numba and OpenBLAS run on it."""
    flags = f" {_cpuinfo('flags') or ''} "
    isa = "AVX-512" if " avx512f " in flags else "AVX2" if " avx2 " in flags else "no AVX2"
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
    how = f"AVX2 code forced ({AVX2_ENV_TEXT})" if avx2_forced() else "native code"
    return (
        f"CPU: {cpu_name()}, {isa}; {how}: Numba {numba_cpu} ({numba_isa} instructions), "
        f"BLAS {', '.join(blas) or 'none found'}."
    )


def cold_and_warm_runs(script):
    """The numbers ``script`` prints on its last line, run in a fresh interpreter with an empty
    kernel cache (compilation) and then again with the cache that run filled: (cold, warm)."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = []
        for _ in range(2):
            res = subprocess.run(
                [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
            )
            out.append([float(v) for v in res.stdout.strip().splitlines()[-1].split()])
        return tuple(out)


def cold_and_warm_seconds(script):
    """(cold, warm): the seconds ``script`` prints last, with an empty and then a filled cache."""
    cold, warm = cold_and_warm_runs(script)
    return cold[-1], warm[-1]
