"""First run: what ``import fastseg`` loads, what a fit compiles, and that the kernel cache is reused."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fastseg import _ahead

pytestmark = pytest.mark.slow  # fresh processes with empty kernel caches: run with -m slow

# Records every fastseg kernel Numba compiles while a float32 KMeans fits and predicts.
_FIT = """
import json, sys
import numpy as np
from numba.core import event

compiled = []

class Recorder(event.Listener):
    def on_start(self, ev):
        func = ev.data["dispatcher"].py_func
        if func.__module__.startswith("fastseg._kernels"):
            compiled.append([func.__name__, str(ev.data["args"][0])])

    def on_end(self, ev):
        pass

event.register("numba:compile", Recorder())
from fastseg import KMeans

X = np.random.default_rng(0).normal(size=(300, 4)).astype(np.float32)
X.setflags(write=sys.argv[1] == "writeable")
KMeans(3, random_state=0).fit(X).predict(X)
print(json.dumps(compiled))
"""

# The kernels a dense float32 k-means++ fit and predict need, and nothing else (no float64,
# sparse, GEMM, Yinyang, EM, GA or basket kernel).
_KMEANS_KERNELS = {
    "assign_fused",
    "_nearest_in_block",
    "candidate_distances",
    "column_moments",
    "draw_candidates",
}
# Compiled by a second process on a first run while the fit compiles the others (fastseg._ahead).
_AHEAD = {"assign_fused", "_nearest_in_block"}


def _compiled(cache_dir, flags="writeable"):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    out = subprocess.run(
        [sys.executable, "-c", _FIT, flags], env=env, capture_output=True, text=True, check=True, timeout=300
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cached_kernels(cache_dir):
    """The kernels Numba's cache holds (one index file per kernel, named module.kernel-line)."""
    return {path.name.split(".")[1].rsplit("-", 1)[0] for path in Path(cache_dir).rglob("*.nbi")}


@pytest.fixture(scope="module")
def float32_fit_cache(tmp_path_factory):
    """A kernel cache filled by one float32 fit in a fresh process, and what that fit compiled:
    the tests below copy it (a cold compilation takes most of their time)."""
    cache = tmp_path_factory.mktemp("float32-cache")
    return cache, _compiled(cache)


def _copy_of(cache, tmp_path):
    shutil.copytree(cache, tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_second_process_compiles_nothing_and_first_compiles_only_what_the_fit_uses(
    float32_fit_cache, tmp_path
):
    cache, first = float32_fit_cache
    tmp_path = _copy_of(cache, tmp_path)
    names = [name for name, _ in first]
    assert len(names) == len(set(names)), f"a kernel compiled twice: {first}"
    takes_x = {"assign_fused", "candidate_distances", "column_moments"}
    assert all(a == "array(float32, 2d, C)" for name, a in first if name in takes_x), first
    if _ahead._cpus() >= 2:
        # The assignment kernel came from the other process's cache entry, for the fit's types.
        assert set(names) == _KMEANS_KERNELS - _AHEAD
    else:
        assert set(names) == _KMEANS_KERNELS
    assert _cached_kernels(tmp_path) == _KMEANS_KERNELS
    # A fresh process with the same cache loads every kernel from it, for read-only rows too
    # (the kernels see them as writeable arrays: no second set of kernels).
    assert _compiled(tmp_path) == []
    assert _compiled(tmp_path, "readonly") == []


def test_import_fastseg_loads_nothing_heavy():
    code = (
        "import sys, fastseg\n"
        "heavy = ('numba', 'sklearn', 'pandas', 'matplotlib', 'scipy.stats', 'dask', 'fastseg._kernels')\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip() == "[]"


def test_the_plotting_process_imports_neither_scikit_learn_nor_numba():
    code = (
        "import sys\n"
        "import fastseg.segment.plots\n"
        "heavy = ('numba', 'sklearn', 'pandas', 'scipy.stats', 'fastseg._kernels', 'fastseg.segment.sweep')\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip() == "[]"


# The pairs and recommendations of `fastseg segment` on a small demo, recording what compiles.
_BASKET = """
import json
from numba.core import event
from fastseg.segment import files, workflow
from fastseg.basket.first_run import kernels_cached

compiled = []

class Recorder(event.Listener):
    def on_start(self, ev):
        func = ev.data["dispatcher"].py_func
        if func.__module__.startswith("fastseg._kernels"):
            compiled.append(func.__name__)

    def on_end(self, ev):
        pass

event.register("numba:compile", Recorder())
cached = kernels_cached()
data = files.load_customers(demo=True, seed=0)
segments = (data.frame.index.to_numpy() % 3) + 1
workflow.basket_tables(data.purchases, data.id_column, segments, data.frame, item_column=data.item_column)
print(json.dumps([cached, compiled]))
"""


def test_basket_kernels_compiled_ahead_are_the_ones_the_command_uses(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    ahead = "from fastseg.basket.first_run import compile_kernels; compile_kernels()"
    subprocess.run([sys.executable, "-c", ahead], env=env, check=True, timeout=300)
    out = subprocess.run(
        [sys.executable, "-c", _BASKET], env=env, capture_output=True, text=True, check=True, timeout=300
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [True, []]


def test_no_second_process_once_the_cache_holds_the_assignment_kernel(float32_fit_cache, tmp_path):
    code = (
        "import numpy as np\n"
        "from fastseg import _rows\n"
        "from fastseg._ahead import assign_kernel\n"
        "rows = _rows.Rows(np.zeros((300, 4), dtype=np.float32))\n"
        "other = assign_kernel(_rows.Rows(np.zeros((300, 4))), 3)\n"
        "print(assign_kernel(rows, 3) is None, other is None)\n"
        "other and other.close()\n"  # it started: that is all this test needs
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(_copy_of(float32_fit_cache[0], tmp_path)))  # float32 cached
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=300
    )
    # float32 is cached: nothing starts; float64 is not: a process starts (with two CPUs).
    assert out.stdout.split() == ["True", str(_ahead._cpus() < 2)]


def test_a_fit_that_fails_before_its_first_pass_leaves_no_process_behind(tmp_path):
    code = (
        "import os\n"
        "import numpy as np\n"
        "from fastseg import KMeans\n"
        "X = np.ones((300, 4))\n"
        "X[5, 2] = np.nan\n"
        "try:\n"
        "    KMeans(3).fit(X)\n"
        "except ValueError as e:\n"
        "    print(str(e).split('.')[0])\n"
        "try:\n"
        "    print(os.waitpid(-1, os.WNOHANG))\n"
        "except ChildProcessError:\n"
        "    print('no child')\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.splitlines() == ["Input X contains NaN or infinity", "no child"]


def test_compile_ahead_can_be_switched_off(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), FASTSEG_COMPILE_AHEAD="0")
    out = subprocess.run(
        [sys.executable, "-c", _FIT, "writeable"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert {name for name, _ in json.loads(out.stdout.strip().splitlines()[-1])} == _KMEANS_KERNELS


# A fit whose kernels all come from the cache, then a function Numba has never seen compiled in
# the same process: the compiler brings in the registries the cache loads left out, and Numba's
# extensions, which the kernels never load.
_WARM = """
import json, sys
import numba
import numpy as np
from numba.core import entrypoints
from fastseg import KMeans

registries = ("numba.np.linalg", "numba.np.npyimpl", "numba.typed.dictimpl", "numba.np.polynomial.polynomial_core")
X = np.random.default_rng(0).normal(size=(300, 4)).astype(np.float32)
labels = KMeans(3, random_state=0).fit(X).predict(X)
after_fit = [m for m in registries if m in sys.modules]
extensions = [entrypoints._already_initialized]
new = numba.njit(lambda a: np.linalg.norm(a) + np.sum(a) + len({1: 2.0}))(np.full(4, 2.0))
extensions.append(entrypoints._already_initialized)
print(json.dumps([after_fit, [m for m in registries if m in sys.modules], new, int(labels.max()), extensions]))
"""


def test_cached_kernels_load_without_numbas_compiler_registries(float32_fit_cache, tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(_copy_of(float32_fit_cache[0], tmp_path)))
    out = subprocess.run(
        [sys.executable, "-c", _WARM], env=env, capture_output=True, text=True, check=True, timeout=300
    )
    after_fit, after_compile, new, top_label, extensions = json.loads(out.stdout.strip().splitlines()[-1])
    assert after_fit == []
    assert extensions == [False, True]
    assert len(after_compile) == 4
    assert new == 4.0 + 8.0 + 1
    assert top_label == 2
