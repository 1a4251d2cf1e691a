"""Customer features from raw tables: recency / frequency / monetary (RFM) from transactions."""

from .purchases import clean_purchases, rfm_table


def rfm(
    transactions,
    *,
    customer="customer_id",
    date="date",
    amount="amount",
    quantity=None,
    price=None,
    order=None,
    date_format=None,
    now=None,
):
    """Recency, frequency and monetary value of every customer.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per purchase (or per purchased item); negative quantities or amounts are returns.
    customer, date : str
        Column names. Customer ids are kept as text, exactly as written. Dates are read in one
        format for the whole column: ``date_format`` (strptime), else the one of
        ``purchases.DATE_FORMATS`` that reads the column.
    amount : str or None
        Column of amounts. With None, amount = ``quantity`` x ``price`` (or the quantity alone:
        items bought).
    order : str or None
        Column of order ids: frequency counts distinct orders. Without it, a basket is one
        customer's purchases on one day.
    now : date-like or None
        Reference date for recency; the day after the last purchase when None.

    Returns
    -------
    pandas.DataFrame indexed by customer with ``recency_days`` (days since the last purchase),
    ``frequency`` (number of purchases) and ``monetary`` (total amount net of returns, at least 0).
    A row that cannot be used (no id, no readable date or number) is a ``ValueError``; use
    ``purchases.clean_purchases`` to drop such rows with a report instead.
    """
    if amount is not None and (quantity is not None or price is not None):
        amount = None if amount == "amount" and amount not in transactions.columns else amount
    purchases, _ = clean_purchases(
        transactions, customer=customer, date=date, amount=amount, quantity=quantity, price=price,
        order=order, date_format=date_format, strict=True,
    )  # fmt: skip
    out = rfm_table(purchases, now=now)
    out.index.name = customer
    return out
