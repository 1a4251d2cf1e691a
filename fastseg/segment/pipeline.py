"""Segmenting a DataFrame from code (a scheduled job, a pipeline task): the command's options,
DataFrames back, nothing written."""

from dataclasses import dataclass, field
from datetime import datetime, timezone

from .._pandas import require_pandas as _pandas


@dataclass
class Segmentation:
    """What :func:`segment_frame` returns.

    ``labels`` has one row per customer (id column, ``segment`` 1..K, ``segment_name``);
    ``profile`` one row per segment (name, size, share, mean and median of each feature);
    ``pairs`` the top product pairs per segment and ``recommendations`` ten products per customer
    (both None without purchases with an item column); ``hit_rate`` only with ``evaluate``.
    """

    labels: object
    profile: object
    sweep: object
    k: int
    method: str
    id_column: str
    features: list
    names: dict
    pairs: object = None
    recommendations: object = None
    hit_rate: object = None
    details: dict = field(default_factory=dict, repr=False)

    def table_rows(self, run_at=None):
        """The labels with the run's method, K and time, as ``--write-table`` writes them."""
        return table_rows(self.labels, self.method, self.k, run_at)


def with_source_ids(labels, id_column, source):
    """``labels`` with the ids as ``source`` holds them (type and value: a database's bigint stays
    an integer), where the run read them as text; unchanged when ``source`` has no such column."""
    if id_column not in source.columns:
        return labels
    from .purchases import ids_as_text

    original = dict(zip(ids_as_text(source[id_column]), source[id_column]))
    return labels.assign(**{id_column: labels[id_column].map(original)})


def table_rows(labels, method, k, run_at=None):
    """``labels`` plus the run's ``method``, ``k`` and ``run_at`` (now, UTC, by default)."""
    out = labels.copy()
    out["method"] = method
    out["k"] = int(k)
    out["run_at"] = run_at or datetime.now(timezone.utc)
    return out


def segment_frame(
    frame,
    *,
    id_column=None,
    features=None,
    transactions=False,
    date_column="date",
    date_format=None,
    amount_column=None,
    quantity_column=None,
    price_column=None,
    order_column=None,
    item_column="item",
    strict=False,
    method="kmeans",
    k=None,
    k_range=range(2, 16),
    log_transform=True,
    min_segment_share=0.02,
    outlier_sd=4.0,
    min_pair_count=5,
    random_state=0,
    evaluate=False,
):
    """Segment the customers in ``frame`` with the options of ``fastseg segment``.

    ``frame`` is a customer table (one row per customer) or, with ``transactions=True``, a purchase
    table whose recency/frequency/monetary features are built first (``date_column``,
    ``amount_column`` or ``quantity_column`` x ``price_column``, ``order_column``);
    ``item_column`` then gives product pairs and recommendations. ``frame`` goes through the
    same cleaning and checks as a file given to the command, and it is not modified; the ids in
    ``labels`` are the values of ``frame``'s id column. Returns a :class:`Segmentation`; ``details['data_report']`` lists dropped rows.
    """
    pd = _pandas()
    from . import files
    from .workflow import segment_customers

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}.")
    if isinstance(features, str):
        features = [c.strip() for c in features.split(",")]
    data = files.customers_from_table(
        frame.copy(), id_column=id_column, features=features, transactions=transactions,
        date_column=date_column, date_format=date_format, amount_column=amount_column,
        quantity_column=quantity_column, price_column=price_column, order_column=order_column,
        item_column=item_column, strict=strict,
    )  # fmt: skip
    result = segment_customers(
        data.frame, data.features, k=k, k_range=k_range, method=method, random_state=random_state,
        log_columns="auto" if log_transform else [], min_segment_share=min_segment_share,
        outlier_sd=outlier_sd,
    )  # fmt: skip
    baskets = files.basket_tables(
        data.purchases, data.id_column, result["segments"], data.frame, seed=random_state, evaluate=evaluate,
        min_pair_count=min_pair_count, item_column=data.item_column,
    )  # fmt: skip
    baskets = baskets or {}
    recommendations = baskets.get("recommendations.csv")
    if recommendations is not None:
        recommendations = with_source_ids(recommendations, data.id_column, frame)
    profile = result["profile"].copy()
    profile.insert(0, "name", [result["names"][s] for s in profile.index])
    return Segmentation(
        labels=with_source_ids(
            files.labels_frame(data.frame, data.id_column, result["segments"], result["names"]),
            data.id_column,
            frame,
        ),
        profile=profile,
        sweep=result["sweep"],
        k=result["k"],
        method=method,
        id_column=data.id_column,
        features=list(data.features),
        names=dict(result["names"]),
        pairs=baskets.get("pairs.csv"),
        recommendations=recommendations,
        hit_rate=baskets.get("hit_rate.csv"),
        details={**result, "customers": data.frame, "data_report": data.report.table()},
    )
