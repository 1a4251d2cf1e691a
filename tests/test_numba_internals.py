"""The private pieces of Numba that ``fastseg._kernels._numba`` uses still work on the installed
Numba, and that Numba is within the bounds ``pyproject.toml`` declares: a new Numba release that
changes them fails here, loudly, rather than slowing a first run down silently."""

import re
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

from fastseg._kernels import _numba, lloyd
from fastseg._kernels._config import JIT

ROOT = Path(__file__).resolve().parent.parent


def _version(text):
    return tuple(int(p) for p in re.findall(r"\d+", text)[:2])


def test_numba_within_the_declared_bounds():
    spec = re.search(r'"(numba[^"]*)"', (ROOT / "pyproject.toml").read_text()).group(1)
    low = re.search(r">=\s*([\d.]+)", spec).group(1)
    high = re.search(r"<\s*([\d.]+)", spec).group(1)
    assert _version(low) <= _version(numba.__version__) < _version(high), (numba.__version__, spec)


def test_kernels_load_through_our_cache_class():
    assert isinstance(lloyd.assign_fused._cache, _numba._KernelCache)
    assert lloyd.assign_fused._compilation_chain_init_hook is _numba._no_extensions


def test_cache_index_is_readable():
    # A kernel compiled in this process is known; the cache index answers for the others.
    X = np.zeros((0, 3))
    assert _numba.cached_for(lloyd.transpose_blocks, numba.typeof(X)) in (True, False)
    paths = _numba.cache_index_paths([lloyd.assign_fused, lloyd.transpose_blocks])
    assert paths is not None and all(str(p).endswith(".nbi") for p in paths)


def test_compile_event_is_heard():
    heard = []
    _numba.on_compile_start(lambda: heard.append(1))

    @_numba.njit(**{**JIT, "cache": False})
    def fresh(x):
        return x + 1

    assert fresh(1) == 2
    assert heard


@pytest.mark.slow
def test_a_cached_kernel_loads_in_a_fresh_process():
    code = (
        "import numpy as np\n"
        "from fastseg import KMeans\n"
        "KMeans(3, random_state=0).fit(np.random.default_rng(0).normal(size=(200, 3)))\n"
        "from fastseg._kernels import lloyd\n"
        "print(len(lloyd.assign_fused.signatures))\n"
    )
    for _ in range(2):  # the second run loads what the first cached
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=300
        )
    assert out.stdout.strip().splitlines()[-1] == "1"
