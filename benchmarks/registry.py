"""One registry of comparisons: (case, fastseg implementation, peer implementations).

Used by the comparison runner (``python -m benchmarks.compare``), the pytest-benchmark suite
and ``tests/test_registry.py`` (which checks, on tiny data, that every peer computes the same
thing as fastseg, so the timings compare like with like).
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Case:
    name: str
    # "lloyd" (fixed iterations, same initial centres), "seeding" (k-means++), "genetic", "predict"
    # (``iters`` calls of a fitted model's predict on X, the centres being the initial ones), ...
    kind: str
    n: int
    d: int
    k: int
    dtype: str
    iters: int = 1
    goal: float | None = None  # wanted ratio: goal_peer time / fastseg time
    goal_peer: str = "scikit-learn"

    def scaled(self, scale):
        return replace(self, n=max(int(self.n * scale), 4 * self.k))


CASES = [
    Case("Lloyd 1e6 x 8, k=8, float32", "lloyd", 1_000_000, 8, 8, "float32", iters=20, goal=2.5),
    Case("Lloyd 1e6 x 8, k=8, float64", "lloyd", 1_000_000, 8, 8, "float64", iters=20, goal=2.0),
    Case("Lloyd 1e6 x 32, k=64, float32", "lloyd", 1_000_000, 32, 64, "float32", iters=10, goal=1.5),
    Case("Lloyd 2e5 x 8, k=16, float64", "lloyd", 200_000, 8, 16, "float64", iters=20, goal=1.5),
    Case("k-means++ 2e5 x 32, k=256, float32", "seeding", 200_000, 32, 256, "float32", goal=3.0),
    # The paper's GA (fastseg.genetic.PAPER), population 50; "iterations" are generations. Shown
    # for information (per generation against pygad's GA); the default GA's goals, quality and
    # whole-fit time against KMeans(n_init=10), are measured by benchmarks.genetic.
    Case("GA-K-means 2e4 x 8, k=8, pop 50, float64", "genetic", 20_000, 8, 8, "float64", iters=50),
    Case("GA-K-means 1e6 x 8, k=8, pop 50, float64", "genetic", 1_000_000, 8, 8, "float64", iters=3),
    # Scoring rows with a fitted model: one predict per "iteration", the centres those of init.
    Case("predict 1e6 x 8, k=8, float32", "predict", 1_000_000, 8, 8, "float32", iters=10),
    Case("predict 1e6 x 32, k=64, float32", "predict", 1_000_000, 32, 64, "float32", iters=5),
    Case("predict 1e4 x 8, k=8, float64", "predict", 10_000, 8, 8, "float64", iters=200),
    # EM: the same initial weights, means and precisions, 20 iterations (tol=0).
    Case("EM full 2e5 x 8, k=8, float64", "em-full", 200_000, 8, 8, "float64", iters=20, goal=10.0),
    Case("EM diag 2e5 x 8, k=8, float64", "em-diag", 200_000, 8, 8, "float64", iters=20, goal=5.0),
    Case("EM tied 2e5 x 8, k=8, float64", "em-tied", 200_000, 8, 8, "float64", iters=20),
    Case("EM spherical 2e5 x 8, k=8, float64", "em-spherical", 200_000, 8, 8, "float64", iters=20),
    Case("EM full 1e5 x 32, k=16, float64", "em-full", 100_000, 32, 16, "float64", iters=20, goal=3.0),
]
EM_KINDS = ("em-full", "em-diag", "em-tied", "em-spherical")
# Product pairs: n baskets x d items, about k items per basket (Zipf popularity); support >= 1e-4.
CASES += [
    Case(
        "Pairs 2e4 baskets x 500 items, support >= 1e-3",
        "pairs",
        20_000,
        500,
        5,
        "int32",
        goal=20.0,
        goal_peer="mlxtend",
    ),
    Case("Pairs 1e6 baskets x 1e4 items, support >= 1e-4", "pairs", 1_000_000, 10_000, 5, "int32"),
]
PAIR_SUPPORT = {20_000: 1e-3, 1_000_000: 1e-4}
GA_POPULATION = 50


def make_baskets(case, seed=0):
    """A sparse baskets x items 0/1 matrix: about ``k`` items per basket, Zipf-like popularity."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    per = rng.poisson(case.k - 1, case.n) + 1
    rows = np.repeat(np.arange(case.n), per)
    cols = np.minimum(rng.zipf(1.2, rows.size) - 1, case.d - 1)
    B = sp.csr_matrix((np.ones(rows.size, np.int32), (rows, cols)), shape=(case.n, case.d))
    B.sum_duplicates()
    B.data[:] = 1
    return B, np.array([f"item{i}" for i in range(case.d)])


def make_data(case, seed=0):
    """Blobs around ``k`` centres with unequal spreads, away from the origin; init = k random rows."""
    if case.kind == "pairs":
        return make_baskets(case, seed)
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

    # Lloyd against Lloyd: the bound-based variants are compared in benchmarks/accelerated.py.
    m = KMeans(case.k, init=init, n_init=1, max_iter=case.iters, tol=0, algorithm="lloyd").fit(X)
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


_FITTED = {}


def _predict_with(module):
    """``case.iters`` predictions of X by a ``module.KMeans`` whose centres are ``init``: fitted
    on the first call with that init (on those k rows twice over, one cluster each: the mean of
    two equal rows is the row; scikit-learn-intelex cannot predict after a fit on k rows), then
    kept. The runners' warm-up makes that first call, so the fit is not timed."""

    def run(case, X, init, labels=False):
        key = (module, init.dtype.str, init.shape, init.tobytes())
        if key not in _FITTED:
            cls = importlib.import_module(module).KMeans
            _FITTED[key] = cls(case.k, init=init, n_init=1, max_iter=1).fit(np.repeat(init, 2, axis=0))
        model = _FITTED[key]
        for _ in range(case.iters):
            out = model.predict(X)
        return case.iters, out

    return run


def _faiss_predict(case, X, init, labels=False):
    import faiss

    key = ("faiss", init.dtype.str, init.shape, init.tobytes())
    if key not in _FITTED:
        _FITTED[key] = faiss.IndexFlatL2(case.d)
        _FITTED[key].add(np.ascontiguousarray(init, dtype=np.float32))
    for _ in range(case.iters):
        out = _FITTED[key].search(X, 1)[1][:, 0]
    return case.iters, out


def _fastseg_seeding(case, X, init, labels=False):
    from fastseg import kmeans_plusplus

    return 1, kmeans_plusplus(X, case.k, random_state=0)[1]


def _sklearn_seeding(case, X, init, labels=False):
    from sklearn.cluster import kmeans_plusplus

    return 1, kmeans_plusplus(X, case.k, random_state=0)[1]


def _fastseg_genetic(case, X, init, labels=False):
    from fastseg import GeneticKMeans
    from fastseg.genetic import PAPER

    paper = dict(PAPER, population_size=GA_POPULATION, n_generations=case.iters)
    ga = GeneticKMeans(case.k, random_state=0, **paper).fit(X)
    return ga.n_generations_, (ga.labels_, ga.inertia_)


def _pygad_genetic(case, X, init, labels=False):
    """pygad with the same encoding (k centres, k * d genes), a NumPy SSE fitness (1 / SSE, since
    pygad maximises), roulette selection and mutation probability 0.05."""
    import pygad

    k, d = case.k, case.d
    x_sq = np.einsum("ij,ij->i", X, X)

    def sse(solution):
        C = solution.reshape(k, d)
        d2 = x_sq[:, None] - 2.0 * (X @ C.T) + np.einsum("ij,ij->i", C, C)[None, :]
        return np.maximum(d2.min(axis=1), 0).sum()

    rng = np.random.default_rng(0)
    initial = X[rng.integers(0, X.shape[0], size=(GA_POPULATION, k))].reshape(GA_POPULATION, k * d)
    step = 0.1 * float(X.std(axis=0).mean())
    ga = pygad.GA(
        num_generations=case.iters,
        num_parents_mating=GA_POPULATION // 2,
        fitness_func=lambda ga, solution, idx: 1.0 / sse(solution),
        initial_population=initial,
        parent_selection_type="rws",
        crossover_type="single_point",
        mutation_type="random",
        mutation_probability=0.05,
        random_mutation_min_val=-step,
        random_mutation_max_val=step,
        keep_elitism=1,
        random_seed=0,
        suppress_warnings=True,
    )
    ga.run()
    if not labels:
        return case.iters, None
    best = ga.best_solution()[0].reshape(k, d)
    return case.iters, (None, sse(best))


def _em_init(case, X, init):
    """Initial weights, means (the ``init`` rows) and unit precisions of the right shape."""
    k, d = case.k, case.d
    cov = case.kind.removeprefix("em-")
    precisions = {
        "full": np.broadcast_to(np.eye(d), (k, d, d)).copy(),
        "tied": np.eye(d),
        "diag": np.ones((k, d)),
        "spherical": np.ones(k),
    }[cov]
    return cov, dict(weights_init=np.full(k, 1.0 / k), means_init=init, precisions_init=precisions)


def _fastseg_gmm():
    from fastseg import GaussianMixture

    return GaussianMixture


def _sklearn_gmm():
    from sklearn.mixture import GaussianMixture

    return GaussianMixture


def _em_with(cls):
    def run(case, X, init, labels=False):
        cov, params = _em_init(case, X, init)
        g = cls(
            case.k, covariance_type=cov, max_iter=case.iters, tol=0, init_params="random_from_data", **params
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tol=0 never converges, by design
            g.fit(X)
        return g.n_iter_, (g.predict(X) if labels else None)

    return run


def _support(case):
    return PAIR_SUPPORT.get(case.n, 1e-3)


def _fastseg_pairs(case, B, items, labels=False):
    from fastseg.basket import association_rules

    rules = association_rules(B, items, min_support=_support(case))
    return 1, (rules if labels else None)


def _scipy_pairs(case, B, items, labels=False):
    """The same counts by SciPy's sparse product B^T B (single-threaded), upper triangle kept."""
    import scipy.sparse as sp

    C = sp.triu(B.T @ B, k=1).tocoo()
    keep = C.data >= max(1, int(np.ceil(_support(case) * B.shape[0] - 1e-9)))
    return 1, (C.row[keep], C.col[keep], C.data[keep]) if labels else None


def _mlxtend_pairs(case, B, items, labels=False):
    import pandas as pd
    from mlxtend.frequent_patterns import apriori, association_rules

    df = pd.DataFrame.sparse.from_spmatrix(B.astype(bool), columns=items)
    freq = apriori(df, min_support=_support(case), use_colnames=True, max_len=2)
    rules = association_rules(freq, metric="confidence", min_threshold=0.0)
    return 1, (rules if labels else None)


def _installed(module):
    return importlib.util.find_spec(module) is not None


# name -> (is_available, {case kind: implementation}, note)
IMPLEMENTATIONS = {
    "fastseg": (
        lambda: True,
        {
            "lloyd": _fastseg_lloyd,
            "seeding": _fastseg_seeding,
            "genetic": _fastseg_genetic,
            "pairs": _fastseg_pairs,
            "predict": _predict_with("fastseg"),
        }
        | dict.fromkeys(EM_KINDS, _em_with(_fastseg_gmm())),
        "",
    ),
    "scikit-learn": (
        lambda: True,
        {"lloyd": _sklearn_lloyd, "seeding": _sklearn_seeding, "predict": _predict_with("sklearn.cluster")}
        | dict.fromkeys(EM_KINDS, _em_with(_sklearn_gmm())),
        "",
    ),
    "scikit-learn-intelex": (
        lambda: _installed("sklearnex"),
        {"lloyd": _sklearnex_lloyd, "predict": _predict_with("sklearnex.cluster")},
        "",
    ),
    "faiss-cpu": (
        lambda: _installed("faiss"),
        {"lloyd": _faiss_lloyd, "predict": _faiss_predict},
        "float32 only; its fit has no final assignment pass (one pass fewer than the others)",
    ),
    "pygad": (
        lambda: _installed("pygad"),
        {"genetic": _pygad_genetic},
        "GA only (no final K-means), fitness 1/SSE in NumPy, roulette, mutation 0.05; pyclustering's "
        "genetic_algorithm is not compared: it fails on NumPy 2 (np.int)",
    ),
    "scipy B^T B": (lambda: True, {"pairs": _scipy_pairs}, "pair counts only (no rules), one thread"),
    "mlxtend": (
        lambda: _installed("mlxtend"),
        {"pairs": _mlxtend_pairs},
        "apriori (max_len=2) + association_rules on a sparse DataFrame; not run at 1e6 baskets",
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
        if name == "mlxtend" and case.n > 100_000:
            continue
        out.append((name, fn))
    return out
