"""``fastseg.KModes``: k-modes clustering of categorical columns (Huang 1998) on a Numba kernel,
with the `kmodes` package's algorithm, inits and draws."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted

from .minibatch import _generator_state


def _matching(X, row):
    """The number of attributes in which each row differs from ``row`` (a column at a time: no
    (n, m) temporary)."""
    out = np.zeros(X.shape[0], dtype=np.int64)
    for a in range(X.shape[1]):
        out += X[:, a] != row[a]
    return out


def _factorize(column):
    """(sorted categories, code of each value): ``np.unique(return_inverse=True)``, by pandas'
    hash-based ``factorize`` where pandas is installed (the same codes, without a sort of n)."""
    try:
        import pandas as pd
    except ImportError:
        return np.unique(column, return_inverse=True)
    codes, categories = pd.factorize(column, sort=True)
    return np.asarray(categories, dtype=column.dtype), codes


def _factorize_text(X):
    """``_factorize`` of every column of a fixed-width text table (n, m) by a hash of each cell's
    characters, read once in memory order, and each cell checked against a cell of the same
    hash; None on a collision."""
    from ._kernels.kmodes import hash_words, same_words

    X = np.ascontiguousarray(X)
    n, m = X.shape
    words = X.view(np.uint32 if X.dtype.kind == "U" else np.uint8).reshape(n, m, -1)
    hashes = np.empty((m, n), dtype=np.uint64)
    hash_words(words, hashes)
    codes = np.empty((m, n), dtype=np.int64)
    members = []
    for a in range(m):
        try:
            import pandas as pd

            codes[a], distinct = pd.factorize(hashes[a])
        except ImportError:
            distinct, codes[a] = np.unique(hashes[a], return_inverse=True)
        member = np.empty(distinct.shape[0], dtype=np.int64)
        member[codes[a]] = np.arange(n)  # a row of each hash
        members.append(member)
    member = np.zeros((m, max(len(v) for v in members)), dtype=np.int64)
    for a, v in enumerate(members):
        member[a, : len(v)] = v
    if not same_words(words, codes, member):
        return None
    out = []
    for a in range(m):
        categories = X[members[a], a]
        order = np.argsort(categories, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.shape[0])
        out.append((categories[order], rank[codes[a]]))
    return out


def encode(X, mapping=None):
    """Each column's categories as codes 0 .. L-1 in sorted order (the package's
    ``encode_features``), with the mapping (each column's sorted categories); with ``mapping``,
    an unseen category is -1."""
    fit = mapping is None
    mapping = [] if fit else mapping
    codes = np.empty(X.shape, dtype=np.int32)
    text = _factorize_text(X) if fit and X.dtype.kind in "US" and X.size else None
    for a in range(X.shape[1]):
        if fit:
            categories, codes[:, a] = text[a] if text is not None else _factorize(X[:, a])
            mapping.append(categories)
        else:
            categories = mapping[a]
            at = np.searchsorted(categories, X[:, a]).clip(max=len(categories) - 1)
            codes[:, a] = np.where(categories[at] == X[:, a], at, -1)
    return codes, mapping


def categorical_codes(parts):
    """``encode`` of pandas Categorical columns from their codes, without reading their values:
    the categories present, renumbered in sorted order, in the smallest integer type that holds
    the categories (one byte per cell up to 127)."""
    most = max((len(part.cat.categories) for part in parts), default=0)
    dtype = np.int8 if most <= 127 else np.int16 if most <= 32767 else np.int32
    out = np.empty((len(parts[0]) if parts else 0, len(parts)), dtype=dtype)
    mapping = []
    for a, part in enumerate(parts):
        codes = part.cat.codes.to_numpy()
        if codes.size and codes.min() < 0:
            raise ValueError(
                "Input X contains missing values (NaN or None): give them a category of their own first."
            )
        categories = np.asarray(part.cat.categories)
        order = np.argsort(categories, kind="stable")
        present = np.zeros(categories.shape[0], dtype=bool)
        present[: codes.max() + 1 if codes.size else 0] = _counts(codes) > 0
        keep = order[present[order]]
        lut = np.full(categories.shape[0], -1, dtype=dtype)
        lut[keep] = np.arange(keep.shape[0])
        mapping.append(categories[keep])
        for lo in range(0, out.shape[0], 65536):
            out[lo : lo + 65536, a] = lut[codes[lo : lo + 65536]]
    return out, mapping


def checked_weights(sample_weight, n, k):
    """``sample_weight`` as float64 (n,), or an empty array for none; a clear error for bad ones."""
    if sample_weight is None:
        return np.empty(0)
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("sample_weight must hold one finite, non-negative weight per row.")
    if np.count_nonzero(w) < k:
        raise ValueError(
            "Number of non-zero sample_weight elements should be larger than the number of clusters."
        )
    return w


def _typed(X, k):
    """An empty (k, m) table for modes of ``X``: object for objects, else ``X``'s own type."""
    return np.empty((k, X.shape[1]), dtype=X.dtype)


def _all_categorical(X):
    """Whether ``X`` is a DataFrame of pandas Categorical columns only."""
    dtypes = getattr(X, "dtypes", None)
    return (
        dtypes is not None and len(dtypes) > 0 and all(getattr(t, "name", "") == "category" for t in dtypes)
    )


def init_huang(X, k, random_state, block=4096):
    """Huang's (1997) start, as the package draws it: each attribute's categories sampled by
    frequency, then each mode moved to its nearest row (a row not taken yet, where one is left)."""
    modes = _typed(X, k)
    for a in range(X.shape[1]):
        choices = sorted(X[:, a]) if X.dtype == object else np.sort(X[:, a])
        modes[:, a] = random_state.choice(choices, k)
    for c in range(k):
        modes[c] = X[_nearest_free(X, modes, c, block)]
    return modes


def _nearest_free(X, modes, c, block):
    """The package's walk down the rows by distance to mode ``c`` past rows equal to a mode (the
    last row if all are), a block of rows at a time."""
    order = np.argsort(_matching(X, modes[c]))
    for lo in range(0, order.shape[0], block):
        free = np.flatnonzero(~_equal_to_any(X[order[lo : lo + block]], modes))
        if free.size:
            return order[lo + free[0]]
    return order[-1]


def _equal_to_any(X, modes, block=65536):
    """Whether each row of ``X`` equals one of ``modes`` (by blocks of rows)."""
    out = np.zeros(X.shape[0], dtype=bool)
    for lo in range(0, X.shape[0], block):
        part = X[lo : lo + block]
        for mode in modes:
            out[lo : lo + block] |= np.all(part == mode, axis=1)
    return out


def init_cao(X, k, block=65536):
    """Cao et al.'s (2009) start (``X``: codes): the densest row, then rows of the largest density x distance
    to the nearest mode chosen so far."""
    n, m = X.shape
    density = np.zeros(n)
    for a in range(m):  # each row's category frequency, added per attribute as the package adds it
        counts = _counts(X[:, a], block)
        for lo in range(0, n, block):
            density[lo : lo + block] += counts[X[lo : lo + block, a]] / float(n) / float(m)
    modes = _typed(X, k)
    modes[0] = X[np.argmax(density)]
    nearest = np.full(n, np.inf)  # the package's minimum over the modes so far, kept as it grows
    for c in range(1, k):
        for lo in range(0, n, block):
            part = nearest[lo : lo + block]
            np.minimum(part, _matching(X[lo : lo + block], modes[c - 1]) * density[lo : lo + block], out=part)
        modes[c] = X[np.argmax(nearest)]
    return modes


def _counts(column, block=65536):
    """``np.bincount(column)`` a block at a time (no full-length copy of a narrow column)."""
    counts = np.zeros(int(column.max()) + 1 if column.size else 0, dtype=np.int64)
    for lo in range(0, column.shape[0], block):
        part = np.bincount(column[lo : lo + block])
        counts[: part.shape[0]] += part
    return counts


class KModes(ClusterMixin, BaseEstimator):
    """K-modes for categorical data; the `kmodes` package's ``KModes`` on a Numba kernel.

    Each column's categories (any values: text, numbers) are coded 0 .. L-1 in sorted order, a
    row's distance to a mode is the number of attributes that differ, and a run moves the rows
    one at a time in row order, keeping the modes up to date as each moves, until no row moves or
    the cost stops falling. Given the same ``random_state`` the starts ('Huang', 'Cao', 'random')
    draw what the package draws, and from the same initial modes the labels and cost are the
    package's.

    Parameters
    ----------
    n_clusters : int, default=8
    max_iter : int, default=100
    init : {'Huang', 'Cao', 'random'} or array-like of shape (n_clusters, n_features), default='Cao'
        Initial modes given in the data's own categories.
    n_init : int, default=10
        Runs (from the starts drawn with seeds from ``random_state``); the lowest cost is kept.
        One run for 'Cao' and for given modes, which draw nothing.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    cluster_centroids_ : ndarray of shape (n_clusters, n_features), the modes in the data's categories
    labels_ : ndarray of shape (n_samples,), int32
    cost_ : float -- the (weighted) number of mismatches of the rows to their modes
    n_iter_ : int
    epoch_costs_ : list of float
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "init": [StrOptions({"Huang", "Cao", "random", "huang", "cao"}), "array-like"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_clusters=8, *, max_iter=100, init="Cao", n_init=10, random_state=None):
        self.n_clusters = n_clusters
        self.max_iter = max_iter
        self.init = init
        self.n_init = n_init
        self.random_state = random_state

    def _codes(self, X, mapping=None):
        if mapping is None and _all_categorical(X):
            return categorical_codes([X.iloc[:, a] for a in range(X.shape[1])])
        # in its own dtype (text and numbers sort fast); 2-D, non-empty, dense, no complex numbers
        X = check_array(X.values if hasattr(X, "iloc") else X, dtype=None, ensure_all_finite=False)
        if mapping is not None and X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        if X.dtype.kind in "fO" and (np.any(X != X) or (X.dtype == object and np.any(X == None))):  # noqa: E711
            raise ValueError(
                "Input X contains missing values (NaN or None): give them a category of their own first."
            )
        if X.dtype.kind == "f" and not np.all(np.isfinite(X)):
            raise ValueError("Input X contains infinity: categories must be finite numbers or text.")
        try:
            return encode(X, mapping)
        except TypeError as exc:
            raise TypeError(
                f"argument must be a string or a number: each category must be text or a number ({exc})."
            ) from None

    def _start(self, X, init, random_state):
        """A run's initial modes (codes, int64), drawn as the package draws them."""
        k = self.n_clusters
        if isinstance(init, str) and init.lower() == "huang":
            return init_huang(X, k, random_state).astype(np.int64)
        if isinstance(init, str) and init.lower() == "cao":
            return init_cao(X, k).astype(np.int64)
        if isinstance(init, str):
            return X[random_state.choice(X.shape[0], k)].astype(np.int64)
        return init.copy()

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Cluster the rows of ``X`` (categories); ``sample_weight``: non-negative weights."""
        from ._kernels import kmodes as _km

        codes, mapping = self._codes(X)
        n, m = codes.shape
        if n < self.n_clusters:
            raise ValueError(f"n_samples={n} should be >= n_clusters={self.n_clusters}.")
        w = checked_weights(sample_weight, n, self.n_clusters)
        init, n_init = self.init, self.n_init
        if not isinstance(init, str) or init == "Cao":  # deterministic starts: one run, as the package
            n_init = 1
        if not isinstance(init, str):
            given = np.asarray(init, dtype=object)
            if given.shape != (self.n_clusters, m):
                raise ValueError(f"init has shape {given.shape}, expected ({self.n_clusters}, {m}).")
            init, _ = encode(given, mapping)
            if (init < 0).any():
                raise ValueError("init holds a category that is not in X.")
            init = init.astype(np.int64)
        random_state = check_random_state(self.random_state)
        seeds = random_state.randint(np.iinfo(np.int32).max, size=n_init)
        n_levels = max(c.shape[0] for c in mapping)
        best = None
        for seed in seeds:
            rs = check_random_state(seed)
            modes = self._start(codes, init, rs)
            key, pos = _generator_state(rs)
            labels = np.empty(n, dtype=np.int32)
            epochs = np.empty(self.max_iter + 1)
            cost, n_iter = _km.run(
                codes, w, w.shape[0] == 0, n_levels, modes, self.max_iter, key, pos, labels, epochs
            )
            if best is None or cost < best[1]:
                best = (labels, cost, n_iter, modes, list(epochs[: n_iter + 1]))
        self.labels_, self.cost_, self.n_iter_, self._modes, self.epoch_costs_ = best
        self._mapping = mapping
        self.n_features_in_ = m
        self.cluster_centroids_ = np.column_stack([mapping[a][self._modes[:, a]] for a in range(m)])
        return self

    def predict(self, X):
        """The nearest mode of each row (an unseen category matches no mode)."""
        from ._kernels import kmodes as _km

        check_is_fitted(self)
        codes, _ = self._codes(X, self._mapping)
        labels = np.empty(codes.shape[0], dtype=np.int32)
        _km.labels_cost(codes, np.empty(0), True, self._modes, labels)
        return labels
