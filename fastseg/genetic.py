"""``fastseg.GeneticKMeans``: K-means whose initial centres are searched by a genetic algorithm.

The algorithm of the GA-K-means paper: a chromosome is ``k`` centres (``k * d`` float genes);
fitness ``f = E_max - E`` with ``E`` the SSE of assigning every row to the chromosome's nearest
centre; roulette selection ``P_i = f_i / sum(f)``; crossover; mutation; then Lloyd's K-means from
the best chromosome.
"""

import logging
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from . import _lloyd, _rows, _seeding
from ._centres import _CentresModel, tolerance
from ._kernels import genetic as _gk
from ._validation import verbose_logging

logger = logging.getLogger("fastseg")

HISTORY_DTYPE = np.dtype([("best", "f8"), ("mean", "f8"), ("worst", "f8")])


def _generator(random_state):
    """A ``numpy.random.Generator`` from anything scikit-learn accepts as ``random_state``."""
    if random_state is None or isinstance(random_state, Integral | np.integer):
        return np.random.default_rng(random_state)
    return np.random.default_rng(check_random_state(random_state).randint(0, 2**31 - 1, size=4))


class GeneticKMeans(_CentresModel):
    """K-means with genetic-algorithm search of the initial centres (GA-K-means).

    Each generation scores every chromosome (a set of ``n_clusters`` centres) by its SSE on the
    data in one parallel pass, selects parents, crosses them over at centre boundaries and
    mutates genes; after the last generation, Lloyd's K-means runs from the best chromosome.

    Parameters
    ----------
    n_clusters : int, default=8
    population_size : int, default=50
    n_generations : int, default=200
        Maximum number of generations (the paper's 200 iterations).
    mutation_rate : float, default=0.05
        Probability that a gene (one coordinate of one centre) mutates (the paper's 0.05).
    mutation_scale : float, default=0.1
        A mutation adds Gaussian noise with this fraction of the feature's standard deviation.
    crossover_rate : float, default=0.8
        Probability that a pair of parents is crossed over (single point, at a centre boundary);
        otherwise the children are copies of the parents.
    elitism : int, default=1
        Number of best chromosomes copied unchanged into the next generation. With elitism >= 1
        the best SSE never gets worse from one generation to the next.
    selection : {'roulette', 'tournament'}, default='roulette'
        Roulette: ``P_i = f_i / sum(f)`` with ``f_i = E_max - E_i`` (a population of equal SSE
        is sampled uniformly). Tournament: the best of ``tournament_size`` random chromosomes.
    tournament_size : int, default=3
    init_population : {'data', 'k-means++', 'uniform'}, default='data'
        Chromosomes drawn as ``n_clusters`` distinct data rows (the paper), by k-means++, or
        uniformly in the bounding box of the data.
    lloyd_steps : int, default=0
        0 is the paper's pure GA. ``>= 1`` runs that many Lloyd steps on every chromosome each
        generation before scoring it (the hybrid GA-K-means, which converges in far fewer
        generations).
    patience : int or None, default=None
        Stop after this many generations without a better best SSE.
    max_iter : int, default=200
        Maximum iterations of the final Lloyd's K-means.
    tol : float, default=1e-4
        Tolerance of the final K-means, relative to the mean feature variance (as KMeans).
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        Log each generation (``logging`` logger ``'fastseg'``).
    callback : callable or None, default=None
        Called after each generation as ``callback(info)`` with a dict (``generation``,
        ``best_inertia``, ``mean_inertia``, ``worst_inertia``, ``best_centers``); returning True
        stops the search.

    Attributes
    ----------
    cluster_centers_, labels_, inertia_, n_iter_, n_features_in_, feature_names_in_ : as KMeans
        (``n_iter_`` counts the final K-means iterations).
    fitness_history_ : structured ndarray of shape (n_generations_,)
        Fields ``best``, ``mean``, ``worst``: the SSE ``E`` of the population at each generation.
    n_generations_ : int
        Generations evaluated.
    """

    _accept_sparse = False

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "population_size": [Interval(Integral, 2, None, closed="left")],
        "n_generations": [Interval(Integral, 1, None, closed="left")],
        "mutation_rate": [Interval(Real, 0, 1, closed="both")],
        "mutation_scale": [Interval(Real, 0, None, closed="left")],
        "crossover_rate": [Interval(Real, 0, 1, closed="both")],
        "elitism": [Interval(Integral, 0, None, closed="left")],
        "selection": [StrOptions({"roulette", "tournament"})],
        "tournament_size": [Interval(Integral, 1, None, closed="left")],
        "init_population": [StrOptions({"data", "k-means++", "uniform"})],
        "lloyd_steps": [Interval(Integral, 0, None, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callback": [callable, None],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        population_size=50,
        n_generations=200,
        mutation_rate=0.05,
        mutation_scale=0.1,
        crossover_rate=0.8,
        elitism=1,
        selection="roulette",
        tournament_size=3,
        init_population="data",
        lloyd_steps=0,
        patience=None,
        max_iter=200,
        tol=1e-4,
        random_state=None,
        verbose=0,
        callback=None,
    ):
        self.n_clusters = n_clusters
        self.population_size = population_size
        self.n_generations = n_generations
        self.mutation_rate = mutation_rate
        self.mutation_scale = mutation_scale
        self.crossover_rate = crossover_rate
        self.elitism = elitism
        self.selection = selection
        self.tournament_size = tournament_size
        self.init_population = init_population
        self.lloyd_steps = lloyd_steps
        self.patience = patience
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.callback = callback

    # -- the steps of one generation ------------------------------------------------------
    def _initial_population(self, X, sample_weight, rng):
        n, k, P = X.shape[0], self.n_clusters, self.population_size
        if self.init_population == "data":
            p = sample_weight / sample_weight.sum()
            rows = [rng.choice(n, size=k, replace=False, p=p) for _ in range(P)]
            return np.ascontiguousarray(X[np.array(rows)])
        if self.init_population == "uniform":
            lo, hi = X.min(axis=0), X.max(axis=0)
            return rng.uniform(lo, hi, size=(P, k, X.shape[1])).astype(X.dtype)
        data = _rows.Rows(X)
        return np.stack(
            [
                _seeding.kmeans_plusplus(
                    data, sample_weight, k, np.random.RandomState(rng.integers(2**31 - 1))
                )[0]
                for _ in range(P)
            ]
        )

    def _evaluate(self, rows, sample_weight, population):
        """Run ``lloyd_steps`` Lloyd steps on every chromosome (in place), then score them."""
        n_slots = rows.bounds.size - 1
        P, k, d = population.shape
        sse = np.empty((n_slots, P))
        for _ in range(self.lloyd_steps):
            sums = np.empty((n_slots, P, k, d))
            weights = np.empty((n_slots, P, k))
            _gk.population_assign(rows.X, sample_weight, population, rows.bounds, sse, sums, weights, True)
            sums, weights = sums.sum(axis=0), weights.sum(axis=0)
            filled = weights > 0  # an empty cluster keeps its centre
            population[filled] = (sums[filled] / weights[filled][:, None]).astype(population.dtype)
        _gk.population_assign(
            rows.X,
            sample_weight,
            population,
            rows.bounds,
            sse,
            np.empty((n_slots, 0, 0, 0)),
            np.empty((n_slots, 0, 0)),
            False,
        )
        return sse.sum(axis=0)

    def _select(self, sse, n_parents, rng):
        out = np.empty(n_parents, dtype=np.int64)
        if self.selection == "roulette":
            fitness = sse.max() - sse  # f = E_max - E
            _gk.roulette_select(fitness, rng.random(n_parents), out)
        else:
            candidates = rng.integers(0, sse.size, size=(n_parents, self.tournament_size))
            _gk.tournament_select(sse, candidates, out)
        return out

    def _next_generation(self, population, sse, scale, rng):
        P, k, _ = population.shape
        n_elite = min(self.elitism, P)
        n_children = P - n_elite
        n_pairs = (n_children + 1) // 2
        parents = self._select(sse, 2 * n_pairs, rng).reshape(n_pairs, 2)
        do_cross = rng.random(n_pairs) < self.crossover_rate
        cuts = np.where(do_cross & (k > 1), rng.integers(1, max(k, 2), size=n_pairs), 0)
        children = np.empty((2 * n_pairs, *population.shape[1:]), dtype=population.dtype)
        _gk.crossover(population, parents, cuts, children)
        elite = population[np.argsort(sse, kind="stable")[:n_elite]]
        new = np.ascontiguousarray(np.concatenate([elite, children[:n_children]]))
        _gk.mutate(
            new, rng.random(new.shape), rng.standard_normal(new.shape), self.mutation_rate, scale, n_elite
        )
        return new

    # -- fit ----------------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Search initial centres with the genetic algorithm, then run K-means from the best.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        X, sample_weight = self._validate_fit_input(X, sample_weight)
        rng = _generator(self.random_state)
        rows = _rows.Rows(X)
        scale = self.mutation_scale * np.std(X, axis=0, dtype=np.float64)

        population = self._initial_population(X, sample_weight, rng)
        history = []
        best_sse, best_centres, stall = np.inf, None, 0
        with verbose_logging(self.verbose):
            for generation in range(self.n_generations):
                sse = self._evaluate(rows, sample_weight, population)
                history.append((sse.min(), sse.mean(), sse.max()))
                i_best = int(np.argmin(sse))
                if sse[i_best] < best_sse:
                    best_sse, best_centres, stall = float(sse[i_best]), population[i_best].copy(), 0
                else:
                    stall += 1
                if self.verbose:
                    logger.info("Generation %d: best SSE %.6g, mean %.6g", generation, sse.min(), sse.mean())
                stop = self.callback is not None and bool(
                    self.callback(
                        {
                            "generation": generation,
                            "best_inertia": float(sse.min()),
                            "mean_inertia": float(sse.mean()),
                            "worst_inertia": float(sse.max()),
                            "best_centers": best_centres.copy(),
                        }
                    )
                )
                if stop or (self.patience is not None and stall >= self.patience):
                    break
                if generation + 1 < self.n_generations:
                    population = self._next_generation(population, sse, scale, rng)

            labels, inertia, centres, n_iter = _lloyd.lloyd(
                rows, sample_weight, best_centres, self.max_iter, tolerance(rows, self.tol), self.verbose
            )
        self.fitness_history_ = np.array(history, dtype=HISTORY_DTYPE)
        self.n_generations_ = len(history)
        self._set_fitted(labels, inertia, centres, n_iter)
        return self
