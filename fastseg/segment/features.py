"""Customer features from raw tables: recency / frequency / monetary (RFM) from transactions."""

from .._pandas import require_columns, require_pandas


def rfm(transactions, *, customer="customer_id", date="date", amount="amount", order=None, now=None):
    """Recency, frequency and monetary value of every customer.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per purchase (or per purchased item).
    customer, date, amount : str
        Column names. ``date`` is parsed with ``pandas.to_datetime``; ``amount`` must be numeric.
    order : str or None
        Column of order ids: frequency counts distinct orders. Without it, every row is a purchase.
    now : date-like or None
        Reference date for recency; the day after the last purchase when None.

    Returns
    -------
    pandas.DataFrame indexed by customer with ``recency_days`` (days since the last purchase),
    ``frequency`` (number of purchases) and ``monetary`` (total amount).
    """
    pd = require_pandas()
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(f"transactions must be a pandas DataFrame, got {type(transactions).__name__}.")
    if transactions.empty:
        raise ValueError("the transactions table is empty.")
    require_columns(
        transactions, [customer, date, amount] + ([order] if order else []), "the transactions table"
    )
    try:
        dates = pd.to_datetime(transactions[date])
    except (ValueError, TypeError) as exc:
        raise ValueError(f"column {date!r} does not hold dates: {exc}") from None
    if dates.isna().any():
        raise ValueError(f"column {date!r} has {int(dates.isna().sum())} missing or unreadable dates.")
    amounts = pd.to_numeric(transactions[amount], errors="coerce")
    if amounts.isna().any():
        bad = transactions.loc[amounts.isna(), amount].iloc[0]
        raise ValueError(f"column {amount!r} is not numeric (for example {bad!r}).")
    now = dates.max() + pd.Timedelta(days=1) if now is None else pd.Timestamp(now)
    table = pd.DataFrame({"customer": transactions[customer].to_numpy(), "date": dates, "amount": amounts})
    if order:
        table["order"] = transactions[order].to_numpy()
    grouped = table.groupby("customer", sort=True)
    out = pd.DataFrame(
        {
            "recency_days": (now - grouped["date"].max()).dt.days.astype(float),
            "frequency": (grouped["order"].nunique() if order else grouped.size()).astype(float),
            "monetary": grouped["amount"].sum(),
        }
    )
    out.index.name = customer
    return out
