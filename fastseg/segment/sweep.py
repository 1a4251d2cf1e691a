"""Preprocessing customer tables and choosing K: the model per method, the K sweep with its
criteria (inertia elbow, silhouette, Calinski-Harabasz, Davies-Bouldin)."""

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.compose import ColumnTransformer
from sklearn.metrics import calinski_harabasz_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils import check_random_state

from .._blas import blas_single_thread
from .._pandas import require_pandas as _pandas
from ..genetic import GeneticKMeans
from ..kmeans import KMeans
from ..mixture import GaussianMixture

METHODS = ("kmeans", "ga", "gmm", "kprototypes")
SILHOUETTE_SAMPLE = 1000


# -- preprocessing ------------------------------------------------------------------------------
def split_columns(frame, features):
    """(numeric, categorical) feature names; text, boolean and category columns are categorical."""
    pd = _pandas()
    numeric, categorical = [], []
    for col in features:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            categorical.append(col)
        else:
            numeric.append(col)
    return numeric, categorical


def skewed_columns(frame, numeric, threshold=1.0):
    """Non-negative numeric columns whose skewness exceeds ``threshold`` (money, counts)."""
    out = []
    for col in numeric:
        s = frame[col].astype(float)
        if s.min() >= 0 and s.nunique() > 2 and s.skew() > threshold:
            out.append(col)
    return out


def _times(Z, value):
    return Z * value


def make_preprocessor(frame, features, log_columns="auto", *, gamma=None):
    """A scikit-learn transformer: log1p on skewed columns, standard scaling of numeric columns,
    one-hot (binary: one 0/1 column) for categorical columns, left unscaled so that a two-valued
    column does not outweigh the behavioural features.

    ``gamma`` (k-prototypes): every category one-hot (binary ones too) at sqrt(gamma / 2), so
    that the squared distance in the clustering space is k-prototypes' distance: squared
    differences of the numeric columns plus ``gamma`` per categorical mismatch."""
    numeric, categorical = split_columns(frame, features)
    for col in categorical:
        if frame[col].nunique(dropna=False) < 2:
            raise ValueError(
                f"categorical feature {col!r} has a single value ({frame[col].iloc[0]!r}): it cannot separate "
                "segments; leave it out of the features."
            )
    logged = (
        skewed_columns(frame, numeric)
        if log_columns == "auto"
        else [c for c in (log_columns or []) if c in numeric]
    )
    plain = [c for c in numeric if c not in logged]
    parts = []
    if logged:
        parts.append(
            (
                "log_scaled",
                make_pipeline(
                    FunctionTransformer(np.log1p, feature_names_out="one-to-one"), StandardScaler()
                ),
                logged,
            )
        )
    if plain:
        parts.append(("scaled", StandardScaler(), plain))
    if categorical and gamma is None:
        parts.append(
            (
                "onehot",
                OneHotEncoder(drop="if_binary", handle_unknown="ignore", sparse_output=False),
                categorical,
            )
        )
    elif categorical:
        onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        value = FunctionTransformer(
            _times, kw_args={"value": float(np.sqrt(gamma / 2.0))}, feature_names_out="one-to-one"
        )
        parts.append(("onehot", make_pipeline(onehot, value), categorical))
    return ColumnTransformer(parts, verbose_feature_names_out=False), logged


# -- clustering -----------------------------------------------------------------------------
def onehot_blocks(pre):
    """(numeric columns, [(first, stop) of each categorical feature's one-hot columns], their
    value) in the output of a fitted ``make_preprocessor`` transformer."""
    numeric, blocks, value, j = [], [], 1.0, 0
    for name, transformer, columns in pre.transformers_:
        if name in ("log_scaled", "scaled"):
            numeric.extend(range(j, j + len(columns)))
            j += len(columns)
        elif name == "onehot":
            if hasattr(transformer, "steps"):
                value = transformer.steps[1][1].kw_args["value"]
                transformer = transformer.steps[0][1]
            drops = transformer.drop_idx_
            for i, cats in enumerate(transformer.categories_):
                width = len(cats) - (drops is not None and drops[i] is not None)
                blocks.append((j, j + width))
                j += width
    return numeric, blocks, value


class OneHotPrototypes(ClusterMixin, BaseEstimator):
    """K-prototypes (``fastseg.KPrototypes``, or ``KModes`` without numeric columns) on rows of a
    k-prototypes clustering space (``make_preprocessor(gamma=...)``): each categorical feature's
    one-hot columns read back as its category, the prototypes written as centres in the same space
    (the modes one-hot), where k-prototypes' cost is the squared distance to them."""

    def __init__(self, n_clusters=8, *, layout=None, gamma=0.5, n_init=10, init="Huang", random_state=None):
        self.n_clusters = n_clusters
        self.layout = layout
        self.gamma = gamma
        self.n_init = n_init
        self.init = init
        self.random_state = random_state

    def _split(self, X):
        numeric, blocks, _ = self.layout
        X = np.asarray(X, dtype=np.float64)
        codes = np.column_stack([X[:, a:b].argmax(axis=1) for a, b in blocks]).astype(np.int32)
        return np.ascontiguousarray(X[:, numeric]), codes

    def fit(self, X, y=None):
        from ..kmodes import KModes
        from ..kprototypes import KPrototypes

        Xnum, codes = self._split(X)
        mapping = [np.arange(b - a) for a, b in self.layout[1]]
        init = self.init
        if not isinstance(init, str):  # centres in the clustering space
            init = self._split(init)
            init = init[1] if Xnum.shape[1] == 0 else (init[0], init[1])
        if Xnum.shape[1] == 0:
            model = KModes(self.n_clusters, init=init, n_init=self.n_init, random_state=self.random_state)
            model.fit(codes)
            centroids = np.empty((self.n_clusters, 0))
        else:
            model = KPrototypes(self.n_clusters, init=init, n_init=self.n_init, gamma=self.gamma,
                                random_state=self.random_state)  # fmt: skip
            model._fit_coded(Xnum, codes, mapping, np.empty(0))
            centroids = model._centroids
        self.labels_ = model.labels_.astype(np.int32)
        self.inertia_ = float(model.cost_) * (self.gamma if Xnum.shape[1] == 0 else 1.0)
        self.n_iter_ = model.n_iter_
        numeric, blocks, value = self.layout
        centres = np.zeros((self.n_clusters, X.shape[1]))
        centres[:, numeric] = centroids
        for (a, _), mode in zip(blocks, model._modes.T):
            centres[np.arange(self.n_clusters), a + mode] = value
        self.cluster_centers_ = centres.astype(np.asarray(X).dtype)
        return self

    def predict(self, X):
        """The nearest centre (the nearest prototype: the same distance)."""
        X = np.asarray(X, dtype=np.float64)
        C = self.cluster_centers_.astype(np.float64)
        return ((X[:, None, :] - C[None]) ** 2).sum(axis=2).argmin(axis=1).astype(np.int32)


def make_model(method, k, random_state, on_generation=None, n_init=10, layout=None, gamma=0.5):
    """The clustering estimator for ``method``: KMeans (k-means++, 10 inits), the hybrid GA (its
    population the same 10 K-means runs), a full-covariance Gaussian mixture (3 inits), or
    k-prototypes (Huang's start, 10 inits) on a clustering space of ``layout``
    (``onehot_blocks``)."""
    if method == "kmeans":
        return KMeans(k, n_init=n_init, random_state=random_state)
    if method == "ga":
        return GeneticKMeans(k, population_size=n_init, random_state=random_state, callback=on_generation)
    if method == "gmm":
        return GaussianMixture(k, covariance_type="full", n_init=3, random_state=random_state)
    if method == "kprototypes":
        return OneHotPrototypes(k, layout=layout, gamma=gamma, n_init=n_init, random_state=random_state)
    raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}.")


def fitted_labels(model, X):
    """Hard labels of a fitted model (``labels_``, or the most probable component)."""
    return model.labels_ if hasattr(model, "labels_") else model.predict(X)


def within_sse(X, labels):
    """Sum of squared distances of the rows to the mean of their cluster (KMeans' inertia)."""
    sse = 0.0
    for j in np.unique(labels):
        members = X[labels == j]
        sse += float(((members - members.mean(axis=0)) ** 2).sum())
    return sse


def silhouette(X, labels, *, sample_size=None, random_state=0):
    """Mean silhouette coefficient, as ``sklearn.metrics.silhouette_score`` computes it (the same
    sample of ``sample_size`` rows for the same ``random_state``; a row alone in its cluster
    scores 0), with the per-cluster sums of distances as one matrix product instead of a loop
    over rows: a K sweep computes it for every K."""
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels)
    if sample_size is not None:
        keep = check_random_state(random_state).permutation(X.shape[0])[:sample_size]
        X, labels = X[keep], labels[keep]
    present, labels = np.unique(labels, return_inverse=True)
    n, k = X.shape[0], present.size
    if not 2 <= k <= n - 1:
        raise ValueError(f"the silhouette needs 2 to n_samples - 1 clusters ({n - 1}), got {k}.")
    sq = np.einsum("ij,ij->i", X, X)
    member = np.zeros((n, k))
    member[np.arange(n), labels] = 1.0
    with blas_single_thread():  # products this small lose more to waking BLAS threads than they gain
        D = X @ X.T  # then, in place: the distances |x|^2 - 2 x.y + |y|^2
        D *= -2.0
        D += sq[:, None]
        D += sq[None, :]
        np.maximum(D, 0.0, out=D)
        np.fill_diagonal(D, 0.0)
        np.sqrt(D, out=D)
        sums = D @ member  # (n, k): distances of each row to every cluster
    sizes = member.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        intra = sums[np.arange(n), labels] / (sizes[labels] - 1.0)
        means = sums / sizes
        means[np.arange(n), labels] = np.inf
        inter = means.min(axis=1)
        scores = (inter - intra) / np.maximum(intra, inter)
    return float(np.mean(np.nan_to_num(scores)))


def davies_bouldin(X, labels):
    """Davies-Bouldin index, as ``sklearn.metrics.davies_bouldin_score`` computes it (the distances
    to each centroid taken directly rather than by the expanded squares)."""
    X = np.asarray(X, dtype=np.float64)
    present, labels = np.unique(np.asarray(labels), return_inverse=True)
    k = present.size
    if not 2 <= k <= X.shape[0] - 1:
        raise ValueError(f"the Davies-Bouldin index needs 2 to n_samples - 1 clusters, got {k}.")
    centroids = np.zeros((k, X.shape[1]))
    intra = np.zeros(k)
    for j in range(k):
        members = X[labels == j]
        centroids[j] = members.mean(axis=0)
        intra[j] = np.sqrt(((members - centroids[j]) ** 2).sum(axis=1)).mean()
    between = np.sqrt(((centroids[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2))
    if np.allclose(intra, 0) or np.allclose(between, 0):
        return 0.0
    between[between == 0] = np.inf
    return float(np.mean(np.max((intra[:, None] + intra[None, :]) / between, axis=1)))


def select_k(X, k_range=range(2, 16), *, method="kmeans", random_state=0, min_recommended_k=2,
             min_segment_share=0.0, progress=None, layout=None, gamma=0.5):  # fmt: skip
    """Fit every K of ``k_range`` and score it.

    Columns: ``inertia`` (the elbow curve), ``silhouette`` (on a sample of 1000 rows when n is
    larger; the same sample for every K), ``calinski_harabasz``, ``davies_bouldin``; for
    ``method='ga'`` also ``ga_best_sse``, the lowest SSE in the GA's population over its
    generations; for ``method='gmm'`` also ``bic``, and ``inertia`` is the within-cluster SSE of
    the most probable components. The GA-K-means paper picks K by
    an undefined "GA value"; we do not try to reproduce it.

    The recommended K (``table.attrs['recommended_k']``, with ``table.attrs['reason']``) is the
    one with the highest silhouette among K >= ``min_recommended_k`` (segmentations use 3 or more:
    two segments, high and low value, are rarely actionable) whose smallest segment holds at least
    ``min_segment_share`` of the rows (column ``smallest_share``); the reason also gives the best K
    overall, the elbow of the inertia curve and the K preferred by Calinski-Harabasz and
    Davies-Bouldin.

    Returns
    -------
    pandas.DataFrame indexed by K
    """
    pd = _pandas()
    X = np.asarray(X, dtype=np.float64)
    ks = [int(k) for k in k_range]
    if not ks or min(ks) < 2:
        raise ValueError(f"k_range must hold integers >= 2, got {list(k_range)!r}.")
    if not 0.0 <= min_segment_share < 1.0:
        raise ValueError(f"min_segment_share must be in [0, 1), got {min_segment_share!r}.")
    if max(ks) >= X.shape[0]:
        raise ValueError(f"k_range goes up to {max(ks)}, but there are only {X.shape[0]} rows.")
    rows = []
    for i, k in enumerate(ks):
        model = make_model(method, k, random_state, n_init=4, layout=layout, gamma=gamma).fit(
            X
        )  # the chosen K refits with 10
        labels = fitted_labels(model, X)
        sample = SILHOUETTE_SAMPLE if X.shape[0] > SILHOUETTE_SAMPLE else None
        row = {
            "k": k,
            "inertia": getattr(model, "inertia_", None) or within_sse(X, labels),
            "silhouette": silhouette(X, labels, sample_size=sample, random_state=random_state),
            "calinski_harabasz": calinski_harabasz_score(X, labels),
            "davies_bouldin": davies_bouldin(X, labels),
            "smallest_share": np.bincount(labels, minlength=k).min() / X.shape[0],
        }
        if method == "ga":
            row["ga_best_sse"] = float(model.fitness_history_["best"].min())
        if method == "gmm":
            row["bic"] = model.bic(X)
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(ks))
    table = pd.DataFrame(rows).set_index("k")
    large_enough = table["smallest_share"] >= min_segment_share
    eligible = table[(table.index >= min_recommended_k) & large_enough]
    if eligible.empty:
        eligible = table[large_enough]
    if eligible.empty:
        raise ValueError(
            f"every K of the sweep ({ks[0]}-{ks[-1]}) gives a segment under {min_segment_share:.1%} of the "
            "customers: lower the minimum segment share or choose K yourself."
        )
    best = int(eligible["silhouette"].idxmax())
    overall = int(table["silhouette"].idxmax())
    elbow = _elbow(table.index.to_numpy(), table["inertia"].to_numpy())
    reason = f"K={best} has the highest silhouette ({table.loc[best, 'silhouette']:.3f})"
    conditions = [f"K >= {min_recommended_k}"] if best >= min_recommended_k else []
    if min_segment_share > 0:
        conditions.append(f"every segment >= {min_segment_share:.1%}")
    if overall != best:
        reason += (
            f" with {' and '.join(conditions)} (K={overall} scores {table.loc[overall, 'silhouette']:.3f})"
        )
    tiny = [int(k) for k in table.index[~large_enough]]
    if tiny:
        reason += f"; K={', '.join(map(str, tiny))} left a segment under {min_segment_share:.1%}"
    table.attrs["recommended_k"] = best
    table.attrs["reason"] = (
        f"{reason}; the inertia elbow is at K={elbow}, Calinski-Harabasz prefers "
        f"K={int(table['calinski_harabasz'].idxmax())}, Davies-Bouldin K={int(table['davies_bouldin'].idxmin())}."
    )
    return table


def _elbow(ks, inertia):
    """K farthest below the straight line joining the first and last points of the curve."""
    if len(ks) < 3:
        return int(ks[0])
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    y = (inertia - inertia[-1]) / max(inertia[0] - inertia[-1], 1e-300)
    return int(ks[np.argmax((1 - x) - y)])
