"""Customer segmentation end to end: preprocessing, K sweep, clustering, profiles, names, plots."""

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from .features import require_pandas as _pandas
from .genetic import GeneticKMeans
from .kmeans import KMeans
from .mixture import GaussianMixture

METHODS = ("kmeans", "ga", "gmm")
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


def make_preprocessor(frame, features, log_columns="auto"):
    """A scikit-learn transformer: log1p on skewed columns, standard scaling of numeric columns,
    one-hot (binary: one 0/1 column) for categorical columns, left unscaled so that a two-valued
    column does not outweigh the behavioural features."""
    numeric, categorical = split_columns(frame, features)
    logged = (
        skewed_columns(frame, numeric)
        if log_columns == "auto"
        else [c for c in (log_columns or []) if c in numeric]
    )
    plain = [c for c in numeric if c not in logged]
    parts = []
    if logged:
        parts.append(("log_scaled", make_pipeline(FunctionTransformer(np.log1p), StandardScaler()), logged))
    if plain:
        parts.append(("scaled", StandardScaler(), plain))
    if categorical:
        parts.append(
            (
                "onehot",
                OneHotEncoder(drop="if_binary", handle_unknown="ignore", sparse_output=False),
                categorical,
            )
        )
    return ColumnTransformer(parts, verbose_feature_names_out=False), logged


# -- clustering -----------------------------------------------------------------------------
def make_model(method, k, random_state, on_generation=None, n_init=10):
    """The clustering estimator for ``method``: KMeans (k-means++, 10 inits), the hybrid GA, or a
    full-covariance Gaussian mixture (3 inits)."""
    if method == "kmeans":
        return KMeans(k, n_init=n_init, random_state=random_state)
    if method == "ga":
        return GeneticKMeans(
            k,
            population_size=20,
            n_generations=40,
            lloyd_steps=1,
            patience=8,
            random_state=random_state,
            callback=on_generation,
        )
    if method == "gmm":
        return GaussianMixture(k, covariance_type="full", n_init=3, random_state=random_state)
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


def select_k(X, k_range=range(2, 16), *, method="kmeans", random_state=0, min_recommended_k=2, progress=None):
    """Fit every K of ``k_range`` and score it.

    Columns: ``inertia`` (the elbow curve), ``silhouette`` (on a sample of 1000 rows when n is
    larger; the same sample for every K), ``calinski_harabasz``, ``davies_bouldin``; for
    ``method='ga'`` also ``ga_best_sse``, the lowest SSE in the GA's population over its
    generations; for ``method='gmm'`` also ``bic``, and ``inertia`` is the within-cluster SSE of
    the most probable components. The GA-K-means paper picks K by
    an undefined "GA value"; we do not try to reproduce it.

    The recommended K (``table.attrs['recommended_k']``, with ``table.attrs['reason']``) is the
    one with the highest silhouette among K >= ``min_recommended_k`` (segmentations use 3 or more:
    two segments, high and low value, are rarely actionable); the reason also gives the best K
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
    if max(ks) >= X.shape[0]:
        raise ValueError(f"k_range goes up to {max(ks)}, but there are only {X.shape[0]} rows.")
    rows = []
    for i, k in enumerate(ks):
        model = make_model(method, k, random_state, n_init=4).fit(X)  # the chosen K refits with 10
        labels = fitted_labels(model, X)
        sample = SILHOUETTE_SAMPLE if X.shape[0] > SILHOUETTE_SAMPLE else None
        row = {
            "k": k,
            "inertia": getattr(model, "inertia_", None) or within_sse(X, labels),
            "silhouette": silhouette_score(X, labels, sample_size=sample, random_state=random_state),
            "calinski_harabasz": calinski_harabasz_score(X, labels),
            "davies_bouldin": davies_bouldin_score(X, labels),
        }
        if method == "ga":
            row["ga_best_sse"] = float(model.fitness_history_["best"].min())
        if method == "gmm":
            row["bic"] = model.bic(X)
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(ks))
    table = pd.DataFrame(rows).set_index("k")
    eligible = table[table.index >= min_recommended_k]
    if eligible.empty:
        eligible = table
    best = int(eligible["silhouette"].idxmax())
    overall = int(table["silhouette"].idxmax())
    elbow = _elbow(table.index.to_numpy(), table["inertia"].to_numpy())
    reason = f"K={best} has the highest silhouette ({table.loc[best, 'silhouette']:.3f})"
    if overall != best:
        reason += f" for K >= {min_recommended_k} (K={overall} scores {table.loc[overall, 'silhouette']:.3f})"
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


# -- describing segments ----------------------------------------------------------------------
def profile_table(frame, labels, features):
    """Per segment (1..K): size, share, and the mean and median of each feature in its own units.

    Categorical features give the share of each value instead (``gender = M``).
    """
    pd = _pandas()
    numeric, categorical = split_columns(frame, features)
    seg = pd.Series(np.asarray(labels) + 1, index=frame.index, name="segment")
    grouped = frame.groupby(seg)
    out = pd.DataFrame({"size": grouped.size()})
    out["share"] = out["size"] / out["size"].sum()
    for col in numeric:
        out[f"{col} mean"] = grouped[col].mean()
        out[f"{col} median"] = grouped[col].median()
    for col in categorical:
        for value in sorted(frame[col].astype(str).unique()):
            out[f"{col} = {value}"] = (frame[col].astype(str) == value).groupby(seg).mean()
    out.index.name = "segment"
    return out


def standardised_means(frame, labels, features):
    """Segment means of each numeric feature in standard deviations from the overall mean."""
    pd = _pandas()
    numeric, _ = split_columns(frame, features)
    values = frame[numeric].astype(float)
    z = (values - values.mean()) / values.std(ddof=0).replace(0, 1)
    return z.groupby(pd.Series(np.asarray(labels) + 1, index=frame.index)).mean()


def _words(feature):
    return feature.replace("_days", "").replace("_", " ")


def segment_names(frame, labels, features):
    """Short names from the two most distinctive features of each segment ("high monthly spend /
    low hesitation time"); a third feature is added where two names would collide."""
    z = standardised_means(frame, labels, features)
    names = {}
    for seg, row in z.iterrows():
        order = row.abs().sort_values(ascending=False).index
        names[seg] = [f"{'high' if row[c] > 0 else 'low'} {_words(c)}" for c in order[:3]]
    short = {seg: " / ".join(words[:2]) for seg, words in names.items()}
    counts = {}
    for name in short.values():
        counts[name] = counts.get(name, 0) + 1
    return {seg: (" / ".join(names[seg]) if counts[short[seg]] > 1 else short[seg]) for seg in short}


# -- plots ------------------------------------------------------------------------------------
def write_plots(out_dir, sweep, z_means, names, Z, labels, chosen_k):
    """k_sweep.png, profile_heatmap.png and pca.png in ``out_dir``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    from sklearn.decomposition import PCA

    paths = []
    metrics = [
        c
        for c in ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "ga_best_sse")
        if c in sweep
    ]
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics), 3.3))
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.16, top=0.9, wspace=0.3)
    titles = {
        "inertia": "Inertia (elbow)",
        "silhouette": "Silhouette (higher is better)",
        "calinski_harabasz": "Calinski-Harabasz (higher)",
        "davies_bouldin": "Davies-Bouldin (lower)",
        "ga_best_sse": "GA best SSE",
        "bic": "BIC (lower)",
    }
    for ax, metric in zip(np.atleast_1d(axes), metrics):
        ax.plot(sweep.index, sweep[metric], "o-", color="#3b6ea5", lw=1.8, ms=4)
        ax.axvline(chosen_k, color="#d1495b", ls="--", lw=1.2, label=f"K = {chosen_k}")
        ax.set_title(titles[metric], fontsize=10)
        ax.set_xlabel("K")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend(frameon=False)
    paths.append(out_dir / "k_sweep.png")
    fig.savefig(paths[-1], dpi=100, pil_kwargs={"compress_level": 1})
    plt.close(fig)

    size = (max(7.0, 3.5 + 1.1 * z_means.shape[1]), max(3.0, 1.5 + 0.6 * z_means.shape[0]))
    fig, ax = plt.subplots(figsize=size, constrained_layout=True)
    lim = max(1.0, float(np.abs(z_means.to_numpy()).max()))
    im = ax.imshow(z_means.to_numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(z_means.shape[1]), [_words(c) for c in z_means.columns], rotation=35, ha="right")
    ax.set_yticks(range(z_means.shape[0]), [f"{s}: {names[s]}" for s in z_means.index])
    for (i, j), v in np.ndenumerate(z_means.to_numpy()):
        ax.text(
            j,
            i,
            f"{v:+.1f}",
            ha="center",
            va="center",
            fontsize=8,
            color="white" if abs(v) > 0.6 * lim else "black",
        )
    fig.colorbar(im, ax=ax, label="SDs from the overall mean")
    ax.set_title("Segment profiles: mean of each feature")
    paths.append(out_dir / "profile_heatmap.png")
    fig.savefig(paths[-1], dpi=100, pil_kwargs={"compress_level": 1})
    plt.close(fig)

    pca = PCA(n_components=2, random_state=0)
    P = pca.fit_transform(Z)
    fig, ax = plt.subplots(figsize=(7, 5.5))
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.1, top=0.94)
    cmap = plt.get_cmap("tab10")
    for seg in sorted(names):
        pts = P[np.asarray(labels) + 1 == seg]
        ax.scatter(
            pts[:, 0], pts[:, 1], s=6, alpha=0.5, color=cmap((seg - 1) % 10), label=f"{seg}: {names[seg]}"
        )
    ev = pca.explained_variance_ratio_
    ax.set_xlabel(f"PC1 ({ev[0]:.0%} of variance)")
    ax.set_ylabel(f"PC2 ({ev[1]:.0%} of variance)")
    ax.set_title("Customers in the first two principal components")
    ax.legend(markerscale=3, fontsize=8, frameon=False, loc="best")
    ax.grid(alpha=0.2)
    paths.append(out_dir / "pca.png")
    fig.savefig(paths[-1], dpi=100, pil_kwargs={"compress_level": 1})
    plt.close(fig)
    return paths


# -- the whole job ------------------------------------------------------------------------------
def segment_customers(frame, features, *, k=None, k_range=range(2, 16), method="kmeans", random_state=0,
                      log_columns="auto", min_recommended_k=3, progress=None):  # fmt: skip
    """Preprocess, sweep K, cluster and describe. Returns a dict of results (nothing is written)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}.")
    pre, logged = make_preprocessor(frame, features, log_columns)
    Z = pre.fit_transform(frame[features])
    n = Z.shape[0]
    ks = [kk for kk in k_range if kk < n]
    sweep = select_k(
        Z, ks, method=method, random_state=random_state, min_recommended_k=min_recommended_k,
        progress=progress and progress("K sweep"),
    )  # fmt: skip
    chosen = int(k) if k is not None else int(sweep.attrs["recommended_k"])
    if not 1 <= chosen <= n:
        raise ValueError(f"k must be between 1 and the number of rows ({n}), got {chosen}.")
    bar = progress and progress("clustering")

    def on_generation(info):
        if bar:
            bar(info["generation"] + 1, 40)

    model = make_model(method, chosen, random_state, on_generation).fit(Z)
    labels = fitted_labels(model, Z)
    return {
        "Z": Z,
        "labels": labels,
        "model": model,
        "k": chosen,
        "sweep": sweep,
        "profile": profile_table(frame, labels, features),
        "z_means": standardised_means(frame, labels, features),
        "names": segment_names(frame, labels, features),
        "logged": logged,
        "preprocessor": pre,
    }
