"""``fastseg.GeneticKMeans``: K-means whose initial centres are searched by a genetic algorithm.

The algorithm of the GA-K-means paper: a chromosome is ``k`` centres (``k * d`` float genes);
fitness ``f = E_max - E`` with ``E`` the SSE of assigning every row to the chromosome's nearest
centre; roulette selection ``P_i = f_i / sum(f)``; crossover; mutation; then Lloyd's K-means from
the best chromosome.
"""

from numbers import Integral, Real

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from . import _genetic, _lloyd, _rows
from ._centres import _CentresModel, tolerance
from ._validation import verbose_logging


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
        Print each generation's SSE, then the K-means lines, to stdout (records of the
        ``logging`` logger ``'fastseg'``; a handler attached to it receives them instead).
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
        rng = _genetic.generator(self.random_state)
        rows = _rows.Rows(X)
        with verbose_logging(self.verbose):
            best_centres, history = _genetic.evolve(
                rows,
                sample_weight,
                self.n_clusters,
                rng,
                population_size=self.population_size,
                n_generations=self.n_generations,
                mutation_rate=self.mutation_rate,
                mutation_scale=self.mutation_scale,
                crossover_rate=self.crossover_rate,
                elitism=self.elitism,
                selection=self.selection,
                tournament_size=self.tournament_size,
                init_population=self.init_population,
                lloyd_steps=self.lloyd_steps,
                patience=self.patience,
                verbose=self.verbose,
                callback=self.callback,
            )
            labels, inertia, centres, n_iter = _lloyd.lloyd(
                rows, sample_weight, best_centres, self.max_iter, tolerance(rows, self.tol), self.verbose
            )
        self.fitness_history_ = history
        self.n_generations_ = len(history)
        self._set_fitted(labels, inertia, centres, n_iter, rows=rows)
        return self
