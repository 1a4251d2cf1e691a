"""``fastseg.GeneticKMeans``: K-means whose centres are searched by a genetic algorithm.

By default the hybrid GA with deterministic crossover (Franti et al.): a population of converged
K-means solutions (the runs ``KMeans(n_init=population_size)`` makes with the same random
state), children made by merging two parents' clusters pairwise (PNN) and refining them with
K-means, the best distinct solutions kept. Its best is never worse than those restarts.
``PAPER`` holds the GA-K-means paper's configuration: float-encoded centre chromosomes, fitness
``f = E_max - E``, roulette selection ``P_i = f_i / sum(f)``, single-point crossover, mutation
rate 0.05, 200 generations, then Lloyd's K-means from the best chromosome.
"""

from numbers import Integral, Real

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from . import _genetic, _lloyd, _rows
from ._centres import _CentresModel, tolerance
from ._validation import verbose_logging

# The GA-K-means paper's configuration: ``GeneticKMeans(k, **PAPER)``.
PAPER = dict(
    population_size=50,
    n_generations=200,
    init_population="data",
    crossover="one-point",
    selection="roulette",
    mutation_rate=0.05,
    lloyd_steps=0,
    patience=None,
)


class GeneticKMeans(_CentresModel):
    """K-means with a genetic-algorithm search of the centres.

    The default is the hybrid GA with deterministic crossover (Franti 1997, 2000), measured to
    end at or below ``KMeans(n_init=population_size)``'s inertia (its first population is those
    runs) and to find better optima where restarts miss clusters (many clusters), at a few times
    the cost (``python -m benchmarks.genetic``). ``GeneticKMeans(k, **fastseg.genetic.PAPER)``
    is the GA-K-means paper's GA.

    Each generation pairs parents (``selection``), makes children (``crossover``) and keeps the
    best. 'pnn': a child is the union of both parents' clusters (one pass over X assigns the rows
    to the 2k centres) merged pairwise, by the least increase of SSE, down to k, then K-means
    from those centres; the next population is the best distinct solutions among parents and
    children. 'one-point': the paper's generational GA, single-point crossover at centre
    boundaries and Gaussian mutation, every chromosome scored by its SSE in one parallel pass,
    the ``elitism`` best kept. After the search, Lloyd's K-means runs from the best chromosome.

    Parameters
    ----------
    n_clusters : int, default=8
    population_size : int, default=10
    n_generations : int, default=200
        Maximum number of generations (the first is the initial population).
    mutation_rate : float, default=0.0
        Probability that a gene (one coordinate of one centre) mutates (the paper's 0.05); with
        'pnn', genes of the first parent mutate before the merge.
    mutation_scale : float, default=0.1
        A mutation adds Gaussian noise with this fraction of the feature's standard deviation.
    crossover : {'pnn', 'one-point'}, default='pnn'
    crossover_rate : float, default=0.8
        'one-point' only: probability that a pair of parents is crossed over; otherwise the
        children are copies of the parents.
    elitism : int, default=1
        'one-point' only: number of best chromosomes copied unchanged into the next generation.
        With elitism >= 1 the best SSE never gets worse from one generation to the next ('pnn'
        keeps the best always).
    selection : {'elitist', 'roulette', 'tournament'}, default='elitist'
        Elitist: the best chromosome paired with each other one (no random draw). Roulette:
        ``P_i = f_i / sum(f)`` with ``f_i = E_max - E_i`` (a population of equal SSE is sampled
        uniformly). Tournament: the best of ``tournament_size`` random chromosomes.
    tournament_size : int, default=3
    init_population : {'k-means', 'data', 'k-means++', 'uniform'}, default='k-means'
        Chromosomes as converged K-means runs from k-means++ starts (drawn from ``random_state``
        as ``KMeans`` draws them), as ``n_clusters`` distinct data rows (the paper), as
        k-means++ starts, or uniformly in the bounding box of the data.
    lloyd_steps : int, default=0
        'one-point' only: 0 is the paper's pure GA. ``>= 1`` runs that many Lloyd steps on every
        chromosome each generation before scoring it.
    patience : int or None, default=1
        Stop after this many generations without a better best SSE (None: never).
    max_iter : int, default=300
        Maximum iterations of each K-means run (the population's, the children's, the final).
    tol : float, default=1e-4
        Tolerance of the K-means runs, relative to the mean feature variance (as KMeans).
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
        "crossover": [StrOptions({"pnn", "one-point"})],
        "selection": [StrOptions({"elitist", "roulette", "tournament"})],
        "tournament_size": [Interval(Integral, 1, None, closed="left")],
        "init_population": [StrOptions({"k-means", "data", "k-means++", "uniform"})],
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
        population_size=10,
        n_generations=200,
        mutation_rate=0.0,
        mutation_scale=0.1,
        crossover="pnn",
        crossover_rate=0.8,
        elitism=1,
        selection="elitist",
        tournament_size=3,
        init_population="k-means",
        lloyd_steps=0,
        patience=1,
        max_iter=300,
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
        self.crossover = crossover
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
        rows = _rows.Rows(X)
        tol = tolerance(rows, self.tol)
        with verbose_logging(self.verbose):
            best_centres, history = _genetic.evolve(
                rows,
                sample_weight,
                self.n_clusters,
                self.random_state,
                population_size=self.population_size,
                n_generations=self.n_generations,
                mutation_rate=self.mutation_rate,
                mutation_scale=self.mutation_scale,
                crossover=self.crossover,
                crossover_rate=self.crossover_rate,
                elitism=self.elitism,
                selection=self.selection,
                tournament_size=self.tournament_size,
                init_population=self.init_population,
                lloyd_steps=self.lloyd_steps,
                patience=self.patience,
                max_iter=self.max_iter,
                tol=tol,
                verbose=self.verbose,
                callback=self.callback,
            )
            labels, inertia, centres, n_iter = _lloyd.lloyd(
                rows, sample_weight, best_centres, self.max_iter, tol, self.verbose
            )
        self.fitness_history_ = history
        self.n_generations_ = len(history)
        self._set_fitted(labels, inertia, centres, n_iter, rows=rows)
        return self
