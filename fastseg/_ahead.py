"""Lloyd's assignment kernel compiled ahead, in a second process, on a first run.

With an empty kernel cache a fit compiles its kernels one after the other: the column moments
and the seeding kernels, then the assignment pass, the largest of them (each kernel's compile
time: ``python -m benchmarks.compile_times``). Numba compiles one kernel at a time per
process, so on a first run a fit starts a second Python process that compiles the assignment
kernel for the fit's exact types into the cache while this one compiles the rest; the first
assignment then waits for it and loads the kernel from the cache. Nothing starts when the cache
already holds the kernel, on one CPU, when the kernels are not cached at all, when this Python
is embedded in another program, or with ``FASTSEG_COMPILE_AHEAD=0``.
"""

import os
import subprocess
import sys
from pathlib import Path

# A compilation that takes longer than this is left to this process.
WAIT_SECONDS = 120.0


class Ahead:
    """The process compiling the assignment kernel; ``wait`` before its first call."""

    def __init__(self, process):
        self.process = process

    def wait(self):
        """Wait for the other process (at most ``WAIT_SECONDS``; then stop it): the kernel is in
        the cache, or, if that process failed, this one compiles it on its first call."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.close()
        self.process = None

    def close(self):
        """Stop the other process if it still runs (a fit that ended before its first pass)."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process = None


def _cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def start_python(code, args=(), stdin=subprocess.DEVNULL):
    """A second Python process running ``code`` (with ``args`` as its ``sys.argv[1:]``), which
    imports fastseg from the same place as this one; None when no process can be started."""
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    try:
        return subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=dict(os.environ, PYTHONPATH=path),
        )  # fmt: skip
    except OSError:  # no process to spare
        return None


def _python_to_start():
    """Whether another process may be started: ``sys.executable`` is a Python interpreter (not
    the program embedding this one) and ``FASTSEG_COMPILE_AHEAD`` is not ``0``."""
    if os.environ.get("FASTSEG_COMPILE_AHEAD", "1") == "0":
        return False
    return bool(sys.executable) and os.path.basename(sys.executable).lower().startswith("python")


def assign_kernel(rows, n_clusters):
    """Start compiling the assignment kernel ``rows.assign`` will call for ``n_clusters``
    centres, when the cache lacks it; an ``Ahead`` to wait for, or None."""
    if rows.sparse or rows.stream or not _python_to_start() or _cpus() < 2:
        return None
    import numba

    from ._blas import score_kernel
    from ._kernels import lloyd as _lk
    from ._kernels import scores as _sck
    from ._kernels._numba import cached_for

    scores = score_kernel(rows.d, n_clusters, rows.dtype)
    kernel = {_lk.FUSED: _lk.assign_fused, _lk.DOT: _sck.assign_dot, _lk.GEMM: _sck.assign_gemm}[scores]
    if cached_for(kernel, numba.typeof(rows.X[:0])) is not False:
        return None
    process = start_python(
        "from fastseg._rows import compile_assignment; compile_assignment()",
        [rows.dtype.name, str(rows.d), str(n_clusters)],
    )
    return None if process is None else Ahead(process)
