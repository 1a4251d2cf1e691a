"""One registry of comparisons: (case, fastseg implementation, peer implementations).

Used by the comparison runner (``python -m benchmarks.compare``), the pytest-benchmark suite
and ``tests/test_registry.py`` (which checks, on tiny data, that every peer computes the same
thing as fastseg, so the timings compare like with like).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "lloyd" (fixed iterations from the same initial centres) or "seeding" (k-means++)
    n: int
    d: int
    k: int
    dtype: str
    iters: int = 1
    goal: float | None = None  # wanted ratio sklearn time / fastseg time

    def scaled(self, scale):
        return Case(
            self.name,
            self.kind,
            max(int(self.n * scale), 4 * self.k),
            self.d,
            self.k,
            self.dtype,
            self.iters,
            self.goal,
        )


CASES = [
    Case("Lloyd 1e6 x 8, k=8, float32", "lloyd", 1_000_000, 8, 8, "float32", iters=20, goal=2.5),
    Case("Lloyd 1e6 x 8, k=8, float64", "lloyd", 1_000_000, 8, 8, "float64", iters=20, goal=2.0),
    Case("Lloyd 1e6 x 32, k=64, float32", "lloyd", 1_000_000, 32, 64, "float32", iters=10, goal=1.3),
    Case("Lloyd 2e5 x 8, k=16, float64", "lloyd", 200_000, 8, 16, "float64", iters=20),
    Case("k-means++ 2e5 x 32, k=256, float32", "seeding", 200_000, 32, 256, "float32", goal=3.0),
]


def make_data(case, seed=0):
    """Blobs around ``k`` centres with unequal spreads, away from the origin; init = k random rows."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, size=(case.k, case.d))
    labels = rng.integers(0, case.k, size=case.n)
    spread = rng.uniform(0.5, 3.0, size=case.k)[labels, None]
    X = np.empty((case.n, case.d), dtype=case.dtype)
    step = 200_000
    for start in range(0, case.n, step):  # bounded temporaries at large n
        stop = min(start + step, case.n)
        X[start:stop] = (
            centres[labels[start:stop]]
            + spread[start:stop] * rng.standard_normal((stop - start, case.d))
            + 50.0
        )
    init = X[rng.choice(case.n, case.k, replace=False)].copy()
    return X, init


# -- implementations: fn(case, X, init, labels=False) -> (iterations run, labels or seeding rows if asked) --
def _fastseg_lloyd(case, X, init, labels=False):
    from fastseg import KMeans

    m = KMeans(case.k, init=init, n_init=1, max_iter=case.iters, tol=0).fit(X)
    return m.n_iter_, m.labels_


def _sklearn_lloyd(case, X, init, labels=False):
    from sklearn.cluster import KMeans

    m = KMeans(case.k, init=init, n_init=1, max_iter=case.iters, tol=0).fit(X)
    return m.n_iter_, m.labels_


def _sklearnex_lloyd(case, X, init, labels=False):
    from sklearnex.cluster import KMeans

    m = KMeans(case.k, init=init, n_init=1, max_iter=case.iters, tol=0).fit(X)
    return m.n_iter_, m.labels_


def _faiss_lloyd(case, X, init, labels=False):
    import faiss

    km = faiss.Kmeans(
        case.d,
        case.k,
        niter=case.iters,
        max_points_per_centroid=case.n,
        min_points_per_centroid=1,
        verbose=False,
    )
    km.train(
        np.ascontiguousarray(X, dtype=np.float32), init_centroids=np.ascontiguousarray(init, dtype=np.float32)
    )
    if not labels:
        return case.iters, None
    return case.iters, km.index.search(np.ascontiguousarray(X, dtype=np.float32), 1)[1][:, 0]


def _fastseg_seeding(case, X, init, labels=False):
    from fastseg import kmeans_plusplus

    return 1, kmeans_plusplus(X, case.k, random_state=0)[1]


def _sklearn_seeding(case, X, init, labels=False):
    from sklearn.cluster import kmeans_plusplus

    return 1, kmeans_plusplus(X, case.k, random_state=0)[1]


def _installed(module):
    return importlib.util.find_spec(module) is not None


# name -> (is_available, {case kind: implementation}, note)
IMPLEMENTATIONS = {
    "fastseg": (lambda: True, {"lloyd": _fastseg_lloyd, "seeding": _fastseg_seeding}, ""),
    "scikit-learn": (lambda: True, {"lloyd": _sklearn_lloyd, "seeding": _sklearn_seeding}, ""),
    "scikit-learn-intelex": (lambda: _installed("sklearnex"), {"lloyd": _sklearnex_lloyd}, ""),
    "faiss-cpu": (
        lambda: _installed("faiss"),
        {"lloyd": _faiss_lloyd},
        "float32 only; its fit has no final assignment pass (one pass fewer than the others)",
    ),
}


def implementations_for(case):
    """Installed implementations that can run ``case``: list of (name, function)."""
    out = []
    for name, (available, by_kind, _) in IMPLEMENTATIONS.items():
        fn = by_kind.get(case.kind)
        if fn is None or not available():
            continue
        if name == "faiss-cpu" and case.dtype != "float32":
            continue
        out.append((name, fn))
    return out
