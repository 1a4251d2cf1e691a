"""``fastseg.KPrototypes``: k-prototypes clustering of numeric and categorical columns together
(Huang 1998) on a Numba kernel, with the `kmodes` package's algorithm, inits and draws."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .kmodes import _all_categorical, categorical_codes, checked_weights, encode, init_cao, init_huang
from .minibatch import _generator_state

# The package's tries at a start without an empty cluster: then random rows, then an error.
MAX_INIT_TRIES = 20
RAISE_INIT_TRIES = 100


def _column_indices(X, categorical, n_columns):
    """The positions of the categorical columns: ``categorical`` as positions or (for a
    DataFrame) names; None: a DataFrame's non-numeric columns."""
    columns = list(getattr(X, "columns", []))
    if categorical is None:
        if not columns:
            raise ValueError("categorical must name the categorical columns (positions) of an array.")
        import pandas as pd

        categorical = [
            c for c in columns if pd.api.types.is_bool_dtype(X[c]) or not pd.api.types.is_numeric_dtype(X[c])
        ]
    elif isinstance(categorical, (Integral, str)):
        categorical = [categorical]
    out = []
    for c in categorical:
        if isinstance(c, (Integral, np.integer)) and not isinstance(c, bool):
            if not 0 <= c < n_columns:
                raise ValueError(f"categorical column {c} is out of range for {n_columns} columns.")
            out.append(int(c))
        elif c in columns:
            out.append(columns.index(c))
        else:
            raise ValueError(f"categorical column {c!r} is not a column of X.")
    out = sorted(set(out))
    if not out:
        raise ValueError("X has no categorical column: use KMeans for numeric data.")
    if len(out) == n_columns:
        raise ValueError("every column of X is categorical: use KModes.")
    return out


def split_columns(X, categorical, keep_categorical=False):
    """(numeric part float64 (n, p), categorical part in its own dtype, the categorical
    positions). A DataFrame's float64 columns stay where they are (no copy); with
    ``keep_categorical``, a DataFrame's categorical part, when every column of it is a pandas
    Categorical, is the list of those columns (for ``categorical_codes``)."""
    frame = X if hasattr(X, "iloc") else None
    if frame is None:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"Expected a 2-D table, got shape {X.shape}.")
    n_columns = X.shape[1]
    cat = _column_indices(X, categorical, n_columns)
    num = [j for j in range(n_columns) if j not in cat]
    if frame is not None:
        numeric = frame.iloc[:, num]
        bad = [c for c in numeric.columns if not np.issubdtype(numeric[c].dtype, np.number)]
        if bad:
            raise ValueError(f"numeric column {bad[0]!r} does not hold numbers: name it as categorical.")
        Xnum = numeric.to_numpy(dtype=np.float64)
        if not (Xnum.flags.c_contiguous or Xnum.flags.f_contiguous):
            Xnum = np.ascontiguousarray(Xnum)
        if keep_categorical and cat and _all_categorical(frame.iloc[:, cat]):
            Xcat = [frame.iloc[:, j] for j in cat]
        else:
            parts = [frame.iloc[:, j].to_numpy() for j in cat]
            kinds = {p.dtype.kind for p in parts}
            Xcat = (
                np.column_stack(parts)
                if len(kinds) == 1 and kinds <= set("USbiu")
                else np.column_stack([p.astype(object) for p in parts])
            )
    else:
        try:
            Xnum = np.ascontiguousarray(X[:, num].astype(np.float64))
        except (TypeError, ValueError) as e:
            raise ValueError(f"the numeric columns {num} of X must hold numbers: {e}") from None
        Xcat = X[:, cat]
    if X.shape[0] == 0:
        raise ValueError("Expected a non-empty table, got 0 rows.")
    if not all(np.isfinite(Xnum[:, j]).all() for j in range(Xnum.shape[1])):
        raise ValueError("Input X contains missing or infinite values in its numeric columns.")
    if isinstance(Xcat, list):
        return Xnum, Xcat, cat
    if Xcat.dtype.kind in "fcO" and (np.any(Xcat != Xcat) or (Xcat.dtype == object and np.any(Xcat == None))):  # noqa: E711
        raise ValueError(
            "Input X contains missing values (NaN or None): give them a category of their own first."
        )
    return Xnum, Xcat, cat


def _column_stats(Xnum):
    """(mean, standard deviation) of each numeric column, column by column: as NumPy rounds them
    on the package's numeric part, which its column selection leaves Fortran-ordered."""
    mean = np.array([np.mean(Xnum[:, a]) for a in range(Xnum.shape[1])])
    std = np.array([np.std(Xnum[:, a]) for a in range(Xnum.shape[1])])
    return mean, std


class KPrototypes(ClusterMixin, BaseEstimator):
    """K-prototypes for mixed numeric and categorical data; the `kmodes` package's
    ``KPrototypes`` on a Numba kernel.

    A row's distance to a prototype is the squared Euclidean distance of its numeric columns to
    the prototype's means plus ``gamma`` times the number of categorical columns that differ from
    the prototype's modes. Categories are coded 0 .. L-1 in sorted order; a run moves rows one at a
    time in row order, keeping means and modes up to date as each moves, until no row moves or
    the cost stops falling. Given the same ``random_state`` the starts draw what the package
    draws (the categorical modes by 'Huang', 'Cao' or 'random', the numeric means as the column
    means plus normal noise of the columns' spread), and from the same start the labels and cost
    are the package's.

    Parameters
    ----------
    n_clusters : int, default=8
    max_iter : int, default=100
    init : {'Huang', 'Cao', 'random'} or (numeric (k, p), categorical (k, m)), default='Cao'
        A given start holds the numeric means and the modes in the data's own categories.
    n_init : int, default=10
        Runs from starts drawn with seeds from ``random_state`` (one for a given start); the
        lowest cost is kept. 'Cao' draws only the numeric means, so its runs differ too.
    gamma : float > 0 or None, default=None
        The weight of a categorical mismatch; None: half the mean standard deviation of the
        numeric columns (Huang's rule, as the package sets it). The value used is ``gamma_``.
    random_state : int, RandomState instance or None, default=None
    categorical : list of int or str, or None, default=None
        The categorical columns (positions, or a DataFrame's names); None: a DataFrame's
        non-numeric columns. ``fit(X, categorical=...)`` overrides it, as the package takes it.

    Attributes
    ----------
    cluster_centroids_ : ndarray (k, p + m), the means then the modes, as the package stacks them
    labels_ : ndarray of shape (n_samples,), int32
    cost_ : float
    n_iter_ : int
    epoch_costs_ : list of float
    gamma_ : float
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "init": [StrOptions({"Huang", "Cao", "random", "huang", "cao"}), list, tuple],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "random_state": ["random_state"],
        "categorical": [list, tuple, Integral, str, None],
    }

    def __init__(self, n_clusters=8, *, max_iter=100, init="Cao", n_init=10, gamma=None, random_state=None,
                 categorical=None):  # fmt: skip
        self.n_clusters = n_clusters
        self.max_iter = max_iter
        self.init = init
        self.n_init = n_init
        self.gamma = gamma
        self.random_state = random_state
        self.categorical = categorical

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, categorical=None, sample_weight=None):
        """Cluster the rows of ``X``; ``categorical`` as the parameter; ``sample_weight``:
        non-negative weights."""
        Xnum, Xcat, cat = split_columns(X, self.categorical if categorical is None else categorical, True)
        codes, mapping = categorical_codes(Xcat) if isinstance(Xcat, list) else encode(Xcat)
        w = checked_weights(sample_weight, Xnum.shape[0], self.n_clusters)
        self._fit_coded(Xnum, codes, mapping, w)
        self._categorical = cat
        self.n_features_in_ = Xnum.shape[1] + codes.shape[1]
        self.cluster_centroids_ = np.hstack(
            (self._centroids, np.column_stack([mapping[a][self._modes[:, a]] for a in range(codes.shape[1])]))
        )
        return self

    def _fit_coded(self, Xnum, codes, mapping, w):
        """The fit on numeric rows (n, p) float64 and category codes (n, m): sets ``labels_``,
        ``cost_``, ``n_iter_``, ``epoch_costs_``, ``gamma_``, the means and the modes."""
        from ._kernels import kmodes as _km

        n, p = Xnum.shape
        m = codes.shape[1]
        k = self.n_clusters
        if n < k:
            raise ValueError(f"n_samples={n} should be >= n_clusters={k}.")
        mean, std = _column_stats(Xnum)
        gamma = 0.5 * np.mean(std) if self.gamma is None else float(self.gamma)
        if not gamma > 0:
            raise ValueError(
                "gamma is 0: the numeric columns do not vary (half their mean standard deviation); give gamma > 0."
            )
        init, n_init = self.init, self.n_init
        if not isinstance(init, str):
            init, n_init = self._given_start(init, mapping, p, m), 1
        random_state = check_random_state(self.random_state)
        seeds = random_state.randint(np.iinfo(np.int32).max, size=n_init)
        n_levels = max(c.shape[0] for c in mapping)
        best = None
        for seed in seeds:
            rs = check_random_state(seed)
            start = init
            for tries in range(1, RAISE_INIT_TRIES + 1):
                centroids, modes = self._start(mean, std, codes, start, rs)
                key, pos = _generator_state(rs)
                labels = np.empty(n, dtype=np.int32)
                epochs = np.empty(self.max_iter + 1)
                cost, n_iter = _km.run_prototypes(
                    Xnum, codes, w, w.shape[0] == 0, n_levels, gamma, centroids, modes, self.max_iter, key, pos,
                    labels, epochs,
                )  # fmt: skip
                if n_iter >= 0:
                    break
                if tries == MAX_INIT_TRIES:
                    start = "random"
            else:
                raise ValueError(
                    "Clustering algorithm could not initialize: every start left a cluster empty (X may hold "
                    "fewer distinct rows than n_clusters). Consider assigning the initial clusters manually."
                )
            if best is None or cost < best[1]:
                best = (labels, cost, n_iter, centroids, modes, list(epochs[: n_iter + 1]))
        self.labels_, self.cost_, self.n_iter_, self._centroids, self._modes, self.epoch_costs_ = best
        self.gamma_ = float(gamma)
        self._mapping = mapping
        return self

    def _given_start(self, init, mapping, p, m):
        k = self.n_clusters
        if len(init) != 2:
            raise ValueError("init must be 'Huang', 'Cao', 'random' or (numeric means, categorical modes).")
        means = np.asarray(init[0], dtype=np.float64)
        means = means[:, None] if means.ndim == 1 else means
        given = np.asarray(init[1], dtype=object)
        given = given[:, None] if given.ndim == 1 else given
        if means.shape != (k, p) or given.shape != (k, m):
            raise ValueError(
                f"init has shapes {means.shape} and {given.shape}, expected ({k}, {p}) numeric and ({k}, {m}) "
                "categorical."
            )
        modes = np.empty((k, m), dtype=np.int64)
        for a in range(m):
            at = np.searchsorted(mapping[a], given[:, a].astype(mapping[a].dtype)).clip(
                max=len(mapping[a]) - 1
            )
            if not np.all(mapping[a][at] == given[:, a].astype(mapping[a].dtype)):
                raise ValueError("init holds a category that is not in X.")
            modes[:, a] = at
        return (means, modes)

    def _start(self, mean, std, codes, init, rs):
        """A run's start (means float64 (k, p), modes int64 (k, m)), drawn as the package draws it."""
        k = self.n_clusters
        if not isinstance(init, str):
            return init[0].copy(), init[1].copy()
        if init.lower() == "huang":
            modes = init_huang(codes, k, rs).astype(np.int64)
        elif init.lower() == "cao":
            modes = init_cao(codes, k).astype(np.int64)
        else:
            modes = codes[rs.choice(codes.shape[0], k)].astype(np.int64)
        means = mean + rs.randn(k, mean.shape[0]) * std
        return np.ascontiguousarray(means), modes

    def predict(self, X, categorical=None):
        """The nearest prototype of each row (an unseen category matches no mode)."""
        from ._kernels import kmodes as _km

        check_is_fitted(self)
        Xnum, Xcat, cat = split_columns(X, self._categorical if categorical is None else categorical)
        if cat != self._categorical or Xnum.shape[1] + Xcat.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has categorical columns {cat} of {Xnum.shape[1] + Xcat.shape[1]}, the fit had "
                f"{self._categorical} of {self.n_features_in_}."
            )
        codes, _ = encode(Xcat, self._mapping)
        labels = np.empty(Xnum.shape[0], dtype=np.int32)
        _km.labels_cost_mixed(
            Xnum, codes, np.empty(0), True, self.gamma_, self._centroids, self._modes, labels
        )
        return labels
