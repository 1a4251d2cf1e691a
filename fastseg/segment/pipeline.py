"""Segmenting a DataFrame from code (a scheduled job, a pipeline task): the command's options as
keyword arguments, a :class:`~fastseg.segment.job.Segmentation` back, nothing written."""

from .job import Columns, Job, Options


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
    previous=None,
):
    """Segment the customers in ``frame`` with the options of ``fastseg segment``.

    ``frame`` is a customer table (one row per customer) or, with ``transactions=True``, a purchase
    table whose recency/frequency/monetary features are built first (``date_column``,
    ``amount_column`` or ``quantity_column`` x ``price_column``, ``order_column``);
    ``item_column`` then gives product pairs and recommendations. ``frame`` goes through the
    same cleaning and checks as a file given to the command, and it is not modified; the ids in
    ``labels`` are the values of ``frame``'s id column. ``previous``: a loaded model
    (``model.load_model``) whose segment numbers and names carry over. Returns a
    :class:`~fastseg.segment.job.Segmentation`; ``data_report`` lists dropped rows.
    """
    from .workflow import run

    columns = Columns(
        id_column=id_column, features=features, transactions=transactions, date_column=date_column,
        date_format=date_format, amount_column=amount_column, quantity_column=quantity_column,
        price_column=price_column, order_column=order_column, item_column=item_column, strict=strict,
    )  # fmt: skip
    options = Options(
        method=method, k=k, k_range=k_range, log_transform=log_transform, min_segment_share=min_segment_share,
        outlier_sd=outlier_sd, min_pair_count=min_pair_count, random_state=random_state, evaluate=evaluate,
    )  # fmt: skip
    return run(frame, Job(columns, options, previous))
