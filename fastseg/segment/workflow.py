"""The segmentation job: preprocess, set outliers aside, sweep K, cluster, describe, follow a
previous model, then product pairs and recommendations (nothing is written: ``outputs`` writes)."""

import numpy as np

from .._pandas import require_pandas as _pandas
from ..kmeans import KMeans
from . import warm
from .job import Job, Options, Segmentation, with_source_ids
from .profiles import clustering_space_means, feature_tests, profile_table, segment_names
from .rfm_scores import RFM_GROUPS, rfm_scores, rfm_segment_names
from .sweep import OneHotPrototypes, fitted_labels, make_model, make_preprocessor, onehot_blocks, select_k


def outlier_rows(Z, sd):
    """Rows more than ``sd`` standard deviations from the mean on some column of the clustering
    space (after the transforms); none when ``sd`` is 0 or None."""
    if not sd:
        return np.zeros(Z.shape[0], dtype=bool)
    spread = Z.std(axis=0)
    z = (Z - Z.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    return (np.abs(z) > sd).any(axis=1)


def run(data, job=None, *, progress=None, on_clustered=None):
    """Run ``job`` on ``data``: a ``files.CustomerData`` (read by ``files.load_customers``) or a
    DataFrame, read with ``job.columns`` (and not modified). Returns a :class:`Segmentation`.

    ``progress(label)`` may return a bar ``update(i, total)`` (the command's progress lines);
    ``on_clustered(segmentation)`` runs once the segments are final, before the basket analysis
    (the command hands the plots to its drawing process there).
    """
    from .files import CustomerData, customers_from_table

    job = job or Job()
    source = None
    if not isinstance(data, CustomerData):
        source = data
        data = customers_from_table(_frame(data).copy(), job.columns)
    result = cluster(data, job.options, progress=progress, previous=job.previous)
    result.source = source
    if job.previous is not None:
        from .drift import follow_previous

        follow_previous(result, job.previous)
    if on_clustered is not None:
        on_clustered(result)
    if data.purchases is not None and progress is not None:
        getattr(progress, "stage", lambda label: None)("pairs and recommendations")
    add_baskets(result)
    return result


def _frame(data):
    pd = _pandas()
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(data).__name__}.")
    return data


def segment_customers(frame, features, *, k=None, k_range=range(2, 16), method="kmeans", random_state=0,
                      log_columns="auto", min_recommended_k=3, min_segment_share=0.02, outlier_sd=4.0,
                      sweep_rows=100_000, progress=None, dtype=np.float64, gamma=None):  # fmt: skip
    """Cluster the customers of ``frame`` (already clean) on ``features``: :func:`cluster` with
    these options (``log_columns``: "auto", or the columns to log-transform). Returns a
    :class:`Segmentation` without basket tables."""
    from .files import CustomerData

    options = Options(
        method=method, k=k, k_range=k_range, log_transform=log_columns, min_recommended_k=min_recommended_k,
        min_segment_share=min_segment_share, outlier_sd=outlier_sd, sweep_rows=sweep_rows,
        random_state=random_state, dtype=dtype, gamma=gamma,
    )  # fmt: skip
    id_column = "customer_id" if "customer_id" in frame.columns else frame.columns[0]
    return cluster(CustomerData(frame, id_column, list(features)), options, progress=progress)


def cluster(data, options, *, progress=None, previous=None):
    """Preprocess, sweep K, cluster and describe ``data`` (a ``files.CustomerData``).

    With ``previous`` (a loaded ``model.SegmentationModel`` of the same features), the fit starts
    from its centres (or mixture) carried into this run's preprocessing (``warm``), so that
    customers who did not change stay together; with K not given, the previous K is kept unless
    another is clearly better (``warm.choose_k``; ``k_reason`` says which happened).

    Customers more than ``outlier_sd`` standard deviations out on a clustering feature (after
    the log transforms and scaling) are outliers: the sweep and the model are fitted on the rest,
    then every outlier is assigned its nearest segment; when more than 5% of the customers are
    that far out, they are a long tail rather than outliers and are clustered with the rest. The
    sweep never recommends a K with a segment under ``min_segment_share`` of the customers.

    With more than ``sweep_rows`` customers (None: no limit), the sweep and the model's inits run
    on a random sample of that many (the same for every K); K-means then runs on every customer
    from the sample's best centres (GA-K-means and the mixture assign every customer with the
    model fitted on the sample).

    ``dtype`` (float64 or float32) is the clustering space's: the model is fitted on rows of it.
    """
    frame, features = data.frame, list(data.features)
    method, k, random_state = options.method, options.k, options.random_state
    scores = rfm_scores(frame) if options.names == "rfm" else None  # (a missing column stops here)
    if previous is not None:
        warm.check_features(previous, features)
    log_columns = options.log_transform
    if log_columns is True:
        log_columns = "auto"
    elif log_columns is False:
        log_columns = []
    gamma = options.prototype_gamma()
    pre, logged = make_preprocessor(frame, features, log_columns, gamma=gamma)
    Z = np.ascontiguousarray(pre.fit_transform(frame[features]), dtype=options.dtype)
    layout = onehot_blocks(pre) if gamma is not None else None
    if layout is not None and not layout[1]:
        raise ValueError(
            "method 'kprototypes' needs a categorical (text) feature; with numeric features only use 'kmeans'."
        )
    outliers = outlier_rows(Z, options.outlier_sd)
    if outliers.mean() > 0.05:  # a long tail, not a few customers far out: cluster them all
        outliers[:] = False
    fit_rows = Z[~outliers]
    n = fit_rows.shape[0]
    sweep_rows = options.sweep_rows
    sampled = sweep_rows is not None and n > sweep_rows
    if sampled:
        rng = np.random.default_rng(random_state)
        sample = fit_rows[np.sort(rng.choice(n, size=int(sweep_rows), replace=False))]
    else:
        sample = fit_rows
    ks = [kk for kk in options.k_range if kk < sample.shape[0]]
    sweep = select_k(
        sample, ks, method=method, random_state=random_state, min_recommended_k=options.min_recommended_k,
        min_segment_share=options.min_segment_share if k is None else 0.0,
        progress=progress and progress("K sweep"), layout=layout, gamma=gamma,
    )  # fmt: skip
    k_reason = None
    if k is not None:
        chosen = int(k)
    elif previous is not None:
        chosen, k_reason = warm.choose_k(sweep, previous.k, options.min_segment_share)
    else:
        chosen = int(sweep.attrs["recommended_k"])
    if not 1 <= chosen <= n:
        raise ValueError(f"k must be between 1 and the number of rows ({n}), got {chosen}.")
    bar = progress and progress("clustering")

    def on_generation(info):
        if bar:
            bar(info["generation"] + 1, 40)

    if previous is not None:
        model, on_all_rows, origin = _warm_model(
            previous, pre, method, chosen, sample, fit_rows, random_state, layout, gamma
        )
    else:
        model = make_model(method, chosen, random_state, on_generation, layout=layout, gamma=gamma).fit(
            sample
        )
        if sampled and method == "kmeans":
            model = KMeans(chosen, init=model.cluster_centers_, n_init=1, random_state=random_state).fit(
                fit_rows
            )
        on_all_rows = not sampled or method == "kmeans"
        origin = None
    membership = None
    if method == "gmm":  # one call over every row: a saved model's assign gives these labels exactly
        labels = model.predict(Z).astype(np.int64)
        membership = model.predict_proba(Z).astype(np.float64)
    else:
        labels = np.empty(Z.shape[0], dtype=np.int64)
        labels[~outliers] = fitted_labels(model, fit_rows) if on_all_rows else model.predict(fit_rows)
        if outliers.any():
            labels[outliers] = model.predict(Z[outliers])
    columns = list(pre.get_feature_names_out())
    return Segmentation(
        data=data,
        options=options,
        Z=Z,
        clusters=labels,
        segment_numbers=np.arange(1, chosen + 1),  # a refit matched to a previous model renumbers them
        model=model,
        preprocessor=pre,
        logged=logged,
        sweep=sweep,
        outliers=outliers,
        sweep_rows=sample.shape[0],
        feature_profile=profile_table(frame, labels, features),
        feature_tests=feature_tests(frame, labels, features, skewed=logged),
        z_means=clustering_space_means(Z, labels, columns),
        names=segment_names(Z, labels, columns)
        if scores is None
        else rfm_segment_names(scores, labels, options.rfm_map or RFM_GROUPS),
        rfm_scores=scores,
        k_reason=k_reason,
        started_from=origin,
        membership=membership,
    )


def _warm_model(previous, pre, method, k, sample, fit_rows, random_state, layout=None, gamma=None):
    """(the model fitted from the previous centres, whether it was fitted on every row, the
    previous cluster each cluster started from or -1 for a new one): Lloyd
    from the carried centres for K-means and GA-K-means (a GA restarted from random populations
    would find another optimum), EM from the mixture they start for the Gaussian mixture."""
    from ..mixture import GaussianMixture

    start, origin = warm.start_centres(previous, pre, sample, k, random_state)
    start = start.astype(fit_rows.dtype)
    if method == "gmm":
        weights, means, precisions = warm.start_mixture(sample, start)
        carried = warm.carried_precisions(previous, pre, origin) if (origin >= 0).all() else None
        if carried is not None:  # the previous mixture itself, in this run's space
            weights = np.asarray(previous.arrays["weights"], dtype=np.float64)[origin]
            weights, precisions = weights / weights.sum(), carried
        model = GaussianMixture(
            k, covariance_type="full", weights_init=weights, means_init=means, precisions_init=precisions,
            random_state=random_state,
        )  # fmt: skip
        return model.fit(sample), False, origin
    if method == "kprototypes":  # from the previous centres read as prototypes
        model = OneHotPrototypes(
            k, layout=layout, gamma=gamma, init=start, n_init=1, random_state=random_state
        )
        return model.fit(fit_rows), True, origin
    return KMeans(k, init=start, n_init=1, random_state=random_state).fit(fit_rows), True, origin


def add_baskets(result):
    """Product pairs per segment, recommendations and (``evaluate``) their hit rate into
    ``result``, from its cleaned purchases; nothing without purchases holding an item column."""
    data, o = result.data, result.options
    tables = basket_tables(
        data.purchases, data.id_column, result.segments, data.frame, seed=o.random_state, evaluate=o.evaluate,
        min_pair_count=o.min_pair_count, min_support=o.min_support, min_confidence=o.min_confidence,
        item_column=data.item_column,
    )  # fmt: skip
    if tables:
        result.pairs = tables["pairs.csv"]
        # ids as the caller's table holds them, as in ``labels``
        result.recommendations = with_source_ids(tables["recommendations.csv"], data.id_column, result.source)
        result.hit_rate = tables.get("hit_rate.csv")
        result.recommendation_metrics = tables.get("recommendation_metrics.csv")
    return result


def basket_tables(
    purchases, id_column, segments, frame, *, seed=0, evaluate=False, min_pair_count=5, min_support=0.0,
    min_confidence=0.0, top=10, item_column="item",
):  # fmt: skip
    """Product pairs per segment (the ``top`` by lift among pairs in at least ``min_pair_count``
    baskets with ``min_support`` and ``min_confidence``), recommendations and (``evaluate``) the
    hit-rate table, from a ``clean_purchases`` table; None when it has no item column.
    Returns and rows without an item are no basket items."""
    from ..basket import hit_rate, holdout_metrics, recommend, rules_by_segment

    if purchases is None or "item" not in purchases.columns:
        return None
    segment_of = dict(zip(frame[id_column], segments))
    keep = ~purchases["is_return"].to_numpy() & purchases["has_item"].to_numpy()
    tx = purchases.loc[keep, ["customer", "basket", "item", "date"]]
    tx = tx[tx["customer"].isin(segment_of.keys())]
    if tx.empty:
        return None
    rules = rules_by_segment(
        tx, segment_of, customer="customer", basket="basket", item="item", min_count=min_pair_count,
        min_support=min_support, min_confidence=min_confidence,
    )  # fmt: skip
    # One row per pair: the direction with the higher confidence (both have the same lift).
    pair = rules["antecedent"].where(rules["antecedent"] < rules["consequent"], rules["consequent"]) + (
        "\x00" + rules["consequent"].where(rules["antecedent"] < rules["consequent"], rules["antecedent"])
    )
    rules = rules.assign(pair=pair).sort_values(
        ["segment", "lift", "confidence", "count", "antecedent", "consequent"],
        ascending=[True, False, False, False, True, True], kind="stable",
    )  # fmt: skip
    pairs = rules.drop_duplicates(["segment", "pair"]).drop(columns="pair").groupby("segment").head(top)
    recs = recommend(tx, customer="customer", item="item", n=10, segment_of=segment_of)
    recs = recs.rename(columns={"customer": id_column, "item": item_column})
    tables = {"pairs.csv": pairs.reset_index(drop=True), "recommendations.csv": recs}
    if evaluate:
        tables["hit_rate.csv"] = hit_rate(
            tx, customer="customer", item="item", segment_of=segment_of, random_state=seed
        )
        if tx["date"].nunique() > 1:
            tables["recommendation_metrics.csv"] = holdout_metrics(
                tx, customer="customer", item="item", date="date", segment_of=segment_of
            )
    return tables
