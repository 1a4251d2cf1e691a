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


def labels_frame(frame, id_column, labels, names):
    """Customer id (type and values as read), segment 1..K and segment name."""
    pd = _pandas()
    out = pd.DataFrame({id_column: frame[id_column].to_numpy(), "segment": labels + 1})
    out["segment_name"] = out["segment"].map(names)
    return out


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
    amount_column="amount",
    order_column=None,
    item_column="item",
    method="kmeans",
    k=None,
    k_range=range(2, 16),
    log_transform=True,
    random_state=0,
    evaluate=False,
):
    """Segment the customers in ``frame`` with the options of ``fastseg segment``.

    ``frame`` is a customer table (one row per customer) or, with ``transactions=True``, a purchase
    table whose recency/frequency/monetary features are built first (``date_column``,
    ``amount_column``, ``order_column``); ``item_column`` then gives product pairs and
    recommendations. ``frame`` goes through the same checks as a file given to the command, and
    it is not modified. Returns a :class:`Segmentation`.
    """
    pd = _pandas()
    from . import files
    from .workflow import segment_customers

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}.")
    if isinstance(features, str):
        features = [c.strip() for c in features.split(",")]
    customers, id_column, features, _, purchases = files.load_customers(
        frame=frame.copy(),
        id_column=id_column,
        features=features,
        transactions=transactions,
        date_column=date_column,
        amount_column=amount_column,
        order_column=order_column,
        seed=random_state,
    )
    result = segment_customers(
        customers,
        features,
        k=k,
        k_range=k_range,
        method=method,
        random_state=random_state,
        log_columns="auto" if log_transform else [],
    )
    baskets = files.basket_tables(
        purchases,
        id_column,
        result["labels"],
        customers,
        order_column=order_column,
        item_column=item_column,
        seed=random_state,
        evaluate=evaluate,
    )
    baskets = baskets or {}
    profile = result["profile"].copy()
    profile.insert(0, "name", [result["names"][s] for s in profile.index])
    return Segmentation(
        labels=labels_frame(customers, id_column, result["labels"], result["names"]),
        profile=profile,
        sweep=result["sweep"],
        k=result["k"],
        method=method,
        id_column=id_column,
        features=list(features),
        names=dict(result["names"]),
        pairs=baskets.get("pairs.csv"),
        recommendations=baskets.get("recommendations.csv"),
        hit_rate=baskets.get("hit_rate.csv"),
        details={**result, "customers": customers},
    )
