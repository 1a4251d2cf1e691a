"""The genetic algorithm's generation loops: initial population, scoring (map -> reduce over the
population kernels, with optional Lloyd steps as the update), selection, crossover and mutation.

Two loops share the pieces: ``evolve`` is the GA-K-means paper's generational GA (single-point
crossover at centre boundaries, Gaussian mutation, elitism); ``evolve_pnn`` is the hybrid GA with
deterministic crossover of Franti et al. (1997, 2000): every chromosome is a converged K-means
solution, a child is the pairwise-nearest-neighbour merge of the union of two parents' clusters
refined by K-means, and the next population is the best distinct solutions among parents and
children.

Inputs here are already validated (see ``fastseg._rows``). Every random number is drawn here, in
Python, from one ``numpy.random.Generator`` and passed into the kernels as arrays.
"""

import logging
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

from . import _lloyd, _seeding, _yinyang
from ._kernels import genetic as _gk
from ._kernels._config import in_parallel

logger = logging.getLogger("fastseg")

HISTORY_DTYPE = np.dtype([("best", "f8"), ("mean", "f8"), ("worst", "f8")])


def generator(random_state):
    """A ``numpy.random.Generator`` from anything scikit-learn accepts as ``random_state``."""
    if random_state is None or isinstance(random_state, Integral | np.integer):
        return np.random.default_rng(random_state)
    return np.random.default_rng(check_random_state(random_state).randint(0, 2**31 - 1, size=4))


def _weighted_std(X, sample_weight):
    """Column standard deviations of the rows counted with their weights (float64, (d,)), in
    blocks of rows: a weight of w counts as w repeated rows."""
    w = sample_weight.astype(np.float64)
    total = w.sum()
    block = 1 << 16
    mean = sum(
        w[a : a + block] @ np.asarray(X[a : a + block], dtype=np.float64) for a in range(0, len(w), block)
    )
    mean = mean / total
    ss = sum(
        w[a : a + block] @ (np.asarray(X[a : a + block], dtype=np.float64) - mean) ** 2
        for a in range(0, len(w), block)
    )
    return np.sqrt(ss / total)


def initial_population(rows, sample_weight, n_clusters, population_size, init_population, rng):
    """``population_size`` chromosomes of ``n_clusters`` centres: (P, k, d) of rows.dtype.

    ``init_population`` is ``'data'`` (distinct rows drawn with probability proportional to their
    weight), ``'uniform'`` (in the bounding box of the rows) or ``'k-means++'`` (the
    ``'k-means'`` population is ``kmeans_population``).
    """
    X, k, P = rows.X, n_clusters, population_size
    if init_population == "uniform":
        kept = X if sample_weight.shape[0] == 0 else X[sample_weight > 0]
        lo, hi = kept.min(axis=0), kept.max(axis=0)
        return rng.uniform(lo, hi, size=(P, k, X.shape[1])).astype(X.dtype)
    if init_population == "data":
        return np.ascontiguousarray(X[distinct_rows(sample_weight, k, P, rng)])
    seeds = (np.random.RandomState(rng.integers(2**31 - 1)) for _ in range(P))
    return np.stack([_seeding.kmeans_plusplus(rows, sample_weight, k, seed)[0] for seed in seeds])


def distinct_rows(sample_weight, k, P, rng):
    """``P`` draws of ``k`` distinct row indices, (P, k) int64, each row drawn with probability
    proportional to its weight among the rows not drawn yet (``Generator.choice`` without
    replacement).

    All draws are made at once on the cumulative weights; the rare index already drawn in its
    chromosome is drawn again, which is the same law. Where few rows have a weight, one
    ``choice`` per chromosome.
    """
    cumulative = np.cumsum(sample_weight, dtype=np.float64)
    positive = np.flatnonzero(sample_weight > 0)
    if 2 * k > positive.size:
        p = sample_weight / sample_weight.sum()
        return np.array([rng.choice(sample_weight.size, size=k, replace=False, p=p) for _ in range(P)])

    def draw(size):
        # The first row whose cumulative weight exceeds the target: never a row of weight 0.
        targets = rng.random(size) * cumulative[-1]
        return np.minimum(np.searchsorted(cumulative, targets, side="right"), positive[-1])

    chosen = draw((P, k))
    ordered = np.sort(chosen, axis=1)
    for p in np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1)):
        row = chosen[p]
        for j in range(1, k):
            while row[j] in row[:j]:
                row[j] = draw(1)[0]
    return chosen


def distinct_centres(population):
    """The population's distinct centres ``(m, d)`` (in lexicographic order) and, per chromosome,
    the index of each of its centres among them ``(P, k) int64``: ``centres[members] == population``.

    Sorted with ``np.lexsort`` and compared with their neighbours, cheaper than
    ``np.unique(axis=0)`` on a population's centres (whole fits: ``python -m benchmarks.genetic``).
    """
    P, k, d = population.shape
    flat = population.reshape(P * k, d)
    order = np.lexsort(flat.T[::-1])  # by the first feature, then the second, ...
    ordered = flat[order]
    first = np.empty(P * k, dtype=bool)
    first[0] = True
    np.any(ordered[1:] != ordered[:-1], axis=1, out=first[1:])
    members = np.empty(P * k, dtype=np.int64)
    members[order] = np.cumsum(first) - 1
    return np.ascontiguousarray(ordered[first]), members.reshape(P, k)


def _population_assign(rows, sample_weight, population, sse, sums, weights, update):
    """``population_assign`` over the slots of ``rows``, parts of them on several threads."""
    centres, members = distinct_centres(population)
    in_parallel(
        rows.bounds.size - 1,
        lambda a, b: _gk.population_assign(
            rows.X,
            sample_weight,
            centres,
            members,
            rows.bounds[a : b + 1],
            sse[a:b],
            sums[a:b],
            weights[a:b],
            update,
        ),
    )


def evaluate(rows, sample_weight, population, lloyd_steps):
    """Run ``lloyd_steps`` Lloyd steps on every chromosome (in place), then score them.

    Returns the SSE of each chromosome, (P,) float64.
    """
    n_slots = rows.bounds.size - 1
    P, k, d = population.shape
    sse = np.empty((n_slots, P))
    for _ in range(lloyd_steps):
        sums = np.empty((n_slots, P, k, d))
        weights = np.empty((n_slots, P, k))
        _population_assign(rows, sample_weight, population, sse, sums, weights, True)
        sums, weights = sums.sum(axis=0), weights.sum(axis=0)
        filled = weights > 0  # an empty cluster keeps its centre
        population[filled] = (sums[filled] / weights[filled][:, None]).astype(population.dtype)
    _population_assign(
        rows, sample_weight, population, sse, np.empty((n_slots, 0, 0, 0)), np.empty((n_slots, 0, 0)), False
    )
    return sse.sum(axis=0)


def runner(rows, n_clusters, max_iter):
    """The K-means run ``KMeans(algorithm='auto')`` would make for this shape (same results)."""
    if _yinyang.choose_algorithm(rows.n, rows.d, n_clusters, max_iter) == "yinyang":
        return _yinyang.yinyang
    return _lloyd.lloyd


def kmeans_population(rows, sample_weight, n_clusters, population_size, random_state, run, max_iter, tol):
    """``population_size`` converged K-means solutions from k-means++ starts drawn from
    ``random_state`` (a ``RandomState``) in turn: the runs of ``KMeans(n_init=population_size)``
    with the same random state, so the population's best is that fit's result.

    Returns (population (P, k, d) of rows.dtype, sse (P,) float64).
    """
    population = np.empty((population_size, n_clusters, rows.d), dtype=rows.dtype)
    sse = np.empty(population_size)
    for p in range(population_size):
        start, _ = _seeding.kmeans_plusplus(rows, sample_weight, n_clusters, random_state, centred=True)
        _, sse[p], population[p], _ = run(rows, sample_weight, start, max_iter, tol)
    return population, sse


def pnn_child(rows, sample_weight, a, b, run, max_iter, tol):
    """The deterministic crossover: the rows assigned to the union of two parents' centres (one
    pass), the union's centroids merged down to k by ``pnn_merge``, then K-means from those.

    Returns (centres (k, d) of rows.dtype, sse float).
    """
    k = a.shape[0]
    union = np.ascontiguousarray(np.concatenate([a, b]))
    labels = np.full(rows.n, -1, dtype=np.int32)
    sums, weights, _, _ = rows.assign(sample_weight, union, labels, inertia=False)
    del labels
    centroids = np.zeros_like(sums)
    filled = weights > 0
    centroids[filled] = sums[filled] / weights[filled, None]
    merged = np.empty((k, rows.d))
    m = _gk.pnn_merge(centroids, weights, k, merged)
    if m < k:  # fewer than k clusters with rows: the first parent's centres fill in
        merged[m:] = a[: k - m]
    _, sse, centres, _ = run(rows, sample_weight, merged.astype(rows.dtype), max_iter, tol)
    return centres, float(sse)


def best_distinct(population, sse, size):
    """The ``size`` best chromosomes, each solution once: equal SSE (to 1e-12) counts as the same
    solution (a child that converged back to a parent). Ties keep the earlier one."""
    order = np.argsort(sse, kind="stable")
    kept = []
    for i in order.tolist():
        if not kept or sse[i] - sse[kept[-1]] > 1e-12 * abs(sse[kept[-1]]):
            kept.append(i)
        if len(kept) == size:
            break
    return population[kept], sse[kept]


def select(sse, n_parents, selection, tournament_size, rng):
    """Indices of ``n_parents`` parents, (n_parents,) int64, read in pairs: roulette, tournament,
    or 'elitist' (the best chromosome paired with each other one in turn; no random draw)."""
    out = np.empty(n_parents, dtype=np.int64)
    if selection == "elitist":
        best = int(np.argmin(sse))
        others = np.delete(np.arange(sse.size), best) if sse.size > 1 else np.array([best])
        out[0::2] = best
        out[1::2] = others[np.arange(n_parents // 2) % others.size]
    elif selection == "roulette":
        fitness = sse.max() - sse  # f = E_max - E
        _gk.roulette_select(fitness, rng.random(n_parents), out)
    else:
        candidates = rng.integers(0, sse.size, size=(n_parents, tournament_size))
        _gk.tournament_select(sse, candidates, out)
    return out


def next_generation(
    population,
    sse,
    scale,
    rng,
    *,
    elitism,
    selection,
    tournament_size,
    crossover_rate,
    mutation_rate,
):
    """The next population: the ``elitism`` best chromosomes unchanged, then mutated children.

    ``scale`` (d,) float64 is the standard deviation of a gene's Gaussian mutation.
    """
    P, k, _ = population.shape
    n_elite = min(elitism, P)
    n_children = P - n_elite
    n_pairs = (n_children + 1) // 2
    parents = select(sse, 2 * n_pairs, selection, tournament_size, rng).reshape(n_pairs, 2)
    do_cross = rng.random(n_pairs) < crossover_rate
    cuts = np.where(do_cross & (k > 1), rng.integers(1, max(k, 2), size=n_pairs), 0)
    children = np.empty((2 * n_pairs, *population.shape[1:]), dtype=population.dtype)
    _gk.crossover(population, parents, cuts, children)
    elite = population[np.argsort(sse, kind="stable")[:n_elite]]
    new = np.ascontiguousarray(np.concatenate([elite, children[:n_children]]))
    _gk.mutate(new, rng.random(new.shape), rng.standard_normal(new.shape), mutation_rate, scale, n_elite)
    return new


class _Progress:
    """The generations' record shared by both loops: history, best so far, stall count, verbose
    lines and the callback."""

    def __init__(self, patience, verbose, callback):
        self.patience, self.verbose, self.callback = patience, verbose, callback
        self.history, self.best_sse, self.best_centres, self.stall = [], np.inf, None, 0

    def record(self, generation, population, sse):
        """Record a scored generation; True when the search should stop."""
        self.history.append((sse.min(), sse.mean(), sse.max()))
        i_best = int(np.argmin(sse))
        if sse[i_best] < self.best_sse:
            self.best_sse, self.best_centres, self.stall = float(sse[i_best]), population[i_best].copy(), 0
        else:
            self.stall += 1
        if self.verbose:
            logger.info("Generation %d: best SSE %.6g, mean %.6g", generation, sse.min(), sse.mean())
        stop = self.callback is not None and bool(
            self.callback(
                {
                    "generation": generation,
                    "best_inertia": float(sse.min()),
                    "mean_inertia": float(sse.mean()),
                    "worst_inertia": float(sse.max()),
                    "best_centers": self.best_centres.copy(),
                }
            )
        )
        return stop or (self.patience is not None and self.stall >= self.patience)

    def result(self):
        return self.best_centres, np.array(self.history, dtype=HISTORY_DTYPE)


def evolve(
    rows,
    sample_weight,
    n_clusters,
    random_state,
    *,
    population_size,
    n_generations,
    mutation_rate,
    mutation_scale,
    crossover,
    crossover_rate,
    elitism,
    selection,
    tournament_size,
    init_population,
    lloyd_steps,
    patience,
    max_iter,
    tol,
    verbose=0,
    callback=None,
):
    """Search centres with the genetic algorithm (parameters as ``GeneticKMeans``'s; ``tol``
    already scaled to the data). The 'k-means' population's starts are drawn from
    ``check_random_state(random_state)`` first, as ``KMeans`` draws them; the GA's own draws come
    from a ``Generator`` seeded from the same random state afterwards.

    Stops after ``n_generations``, after ``patience`` generations without a better best SSE, or
    when ``callback(info)`` returns True.

    Returns (best centres (k, d) of rows.dtype, history: ``HISTORY_DTYPE`` array of the best, mean
    and worst SSE of each generation evaluated).
    """
    scale = mutation_scale * _weighted_std(rows.X, sample_weight)
    run = runner(rows, n_clusters, max_iter)
    seeds = check_random_state(random_state)
    if init_population == "k-means":
        population, sse = kmeans_population(
            rows, sample_weight, n_clusters, population_size, seeds, run, max_iter, tol
        )
    rng = generator(random_state if random_state is None or isinstance(random_state, Integral) else seeds)
    if init_population != "k-means":
        population = initial_population(
            rows, sample_weight, n_clusters, population_size, init_population, rng
        )
        sse = None
    progress = _Progress(patience, verbose, callback)
    if crossover == "pnn":
        if sse is None:
            sse = evaluate(rows, sample_weight, population, 0)
        for generation in range(n_generations):
            if progress.record(generation, population, sse) or generation + 1 == n_generations:
                break
            pairs = select(sse, 2 * max(sse.size - 1, 1), selection, tournament_size, rng).reshape(-1, 2)
            children = np.empty((len(pairs), n_clusters, rows.d), dtype=rows.dtype)
            child_sse = np.empty(len(pairs))
            for c, (a, b) in enumerate(pairs.tolist()):
                parent = population[a]
                if mutation_rate > 0:  # genes of the first parent moved before the merge
                    parent = parent[None].copy()
                    _gk.mutate(
                        parent,
                        rng.random(parent.shape),
                        rng.standard_normal(parent.shape),
                        mutation_rate,
                        scale,
                        0,
                    )
                    parent = parent[0]
                children[c], child_sse[c] = pnn_child(
                    rows, sample_weight, parent, population[b], run, max_iter, tol
                )
            population, sse = best_distinct(
                np.concatenate([population, children]), np.concatenate([sse, child_sse]), population_size
            )
        return progress.result()

    kept_sse = np.empty(0)
    for generation in range(n_generations):
        if generation or sse is None:  # (a 'k-means' population comes scored)
            if lloyd_steps:  # Lloyd steps move the elite too: every chromosome is scored again
                sse = evaluate(rows, sample_weight, population, lloyd_steps)
            else:  # the elite come first, unchanged: their SSE is known
                kept = kept_sse.size
                sse = np.concatenate([kept_sse, evaluate(rows, sample_weight, population[kept:], 0)])
        if progress.record(generation, population, sse):
            break
        if generation + 1 < n_generations:
            kept_sse = np.sort(sse, kind="stable")[: min(elitism, population_size)]
            population = next_generation(
                population,
                sse,
                scale,
                rng,
                elitism=elitism,
                selection=selection,
                tournament_size=tournament_size,
                crossover_rate=crossover_rate,
                mutation_rate=mutation_rate,
            )
    return progress.result()
