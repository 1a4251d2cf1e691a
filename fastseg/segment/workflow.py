"""The whole segmentation job: preprocess, set outliers aside, sweep K, cluster and describe
(nothing is written)."""

import numpy as np

from ..kmeans import KMeans
from .profiles import clustering_space_means, profile_table, segment_names
from .sweep import METHODS, fitted_labels, make_model, make_preprocessor, select_k


def outlier_rows(Z, sd):
    """Rows more than ``sd`` standard deviations from the mean on some column of the clustering
    space (after the transforms); none when ``sd`` is 0 or None."""
    if not sd:
        return np.zeros(Z.shape[0], dtype=bool)
    spread = Z.std(axis=0)
    z = (Z - Z.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    return (np.abs(z) > sd).any(axis=1)


def segment_customers(frame, features, *, k=None, k_range=range(2, 16), method="kmeans", random_state=0,
                      log_columns="auto", min_recommended_k=3, min_segment_share=0.02, outlier_sd=4.0,
                      sweep_rows=100_000, progress=None, dtype=np.float64):  # fmt: skip
    """Preprocess, sweep K, cluster and describe. Returns a dict of results (nothing is written).

    Customers more than ``outlier_sd`` standard deviations out on a clustering feature (after
    the log transforms and scaling) are outliers: the sweep and the model are fitted on the rest,
    then every outlier is assigned its nearest segment (``outliers`` in the result); when more than
    5% of the customers are that far out, they are a long tail rather than outliers and are
    clustered with the rest. The sweep
    never recommends a K with a segment under ``min_segment_share`` of the customers.

    With more than ``sweep_rows`` customers (None: no limit), the sweep and the model's inits run
    on a random sample of that many (the same for every K); K-means then runs on every customer
    from the sample's best centres (GA-K-means and the mixture assign every customer with the
    model fitted on the sample).

    ``dtype`` (float64 or float32) is the clustering space's: the model is fitted on rows of it.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}.")
    if outlier_sd is not None and (not np.isfinite(outlier_sd) or outlier_sd < 0):
        raise ValueError(f"outlier_sd must be a number >= 0 (0: no outliers), got {outlier_sd!r}.")
    pre, logged = make_preprocessor(frame, features, log_columns)
    Z = np.ascontiguousarray(pre.fit_transform(frame[features]), dtype=dtype)
    outliers = outlier_rows(Z, outlier_sd)
    if outliers.mean() > 0.05:  # a long tail, not a few customers far out: cluster them all
        outliers[:] = False
    fit_rows = Z[~outliers]
    n = fit_rows.shape[0]
    sampled = sweep_rows is not None and n > sweep_rows
    if sampled:
        rng = np.random.default_rng(random_state)
        sample = fit_rows[np.sort(rng.choice(n, size=int(sweep_rows), replace=False))]
    else:
        sample = fit_rows
    ks = [kk for kk in k_range if kk < sample.shape[0]]
    sweep = select_k(
        sample, ks, method=method, random_state=random_state, min_recommended_k=min_recommended_k,
        min_segment_share=min_segment_share if k is None else 0.0, progress=progress and progress("K sweep"),
    )  # fmt: skip
    chosen = int(k) if k is not None else int(sweep.attrs["recommended_k"])
    if not 1 <= chosen <= n:
        raise ValueError(f"k must be between 1 and the number of rows ({n}), got {chosen}.")
    bar = progress and progress("clustering")

    def on_generation(info):
        if bar:
            bar(info["generation"] + 1, 40)

    model = make_model(method, chosen, random_state, on_generation).fit(sample)
    if sampled and method == "kmeans":
        model = KMeans(chosen, init=model.cluster_centers_, n_init=1, random_state=random_state).fit(fit_rows)
    if method == "gmm":  # one call over every row: a saved model's assign gives these labels exactly
        labels = model.predict(Z).astype(np.int64)
    else:
        labels = np.empty(Z.shape[0], dtype=np.int64)
        labels[~outliers] = (
            fitted_labels(model, fit_rows) if (not sampled or method == "kmeans") else model.predict(fit_rows)
        )
        if outliers.any():
            labels[outliers] = model.predict(Z[outliers])
    columns = list(pre.get_feature_names_out())
    return {
        "Z": Z,
        "labels": labels,
        "segments": labels + 1,  # segment numbers; a refit matched to a previous model renumbers them
        "segment_numbers": np.arange(1, chosen + 1),
        "model": model,
        "k": chosen,
        "sweep": sweep,
        "outliers": outliers,
        "sweep_rows": sample.shape[0],
        "min_segment_share": min_segment_share,
        "smallest_share": float(np.bincount(labels, minlength=chosen).min() / labels.size),
        "profile": profile_table(frame, labels, features),
        "z_means": clustering_space_means(Z, labels, columns),
        "names": segment_names(Z, labels, columns),
        "logged": logged,
        "preprocessor": pre,
        "method": method,
    }
