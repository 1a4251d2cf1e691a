"""The GA-K-means paper's user portrait from raw data: its purchase features per customer
(``portrait_table``) and the hesitation time from browsing events (``hesitation_table``)."""

import numpy as np

from .._pandas import require_pandas as _pandas
from .purchases import DataReport, ids_as_text, parse_dates, rfm_table

# Seed 001's purchase-derived features of the user portrait (Table 3), as ``portrait_table`` names them.
PORTRAIT = ["monthly_spend", "purchase_frequency", "purchase_interval_days", "purchase_count"]
DAY_NS = 86_400 * 10**9
MONTH_DAYS = 365.25 / 12


def portrait_table(purchases, now=None):
    """The GA-K-means paper's purchase features per customer of a ``clean_purchases`` table,
    indexed by customer id (text, sorted), with ``now`` as ``rfm_table`` takes it:

    - ``purchase_count``: distinct baskets bought (returns are not purchases);
    - ``monthly_spend``: spend net of returns (at least 0) per month of the customer's tenure
      (first purchase to ``now``, at least one month: 365.25 / 12 days);
    - ``purchase_frequency``: purchases per month of the same tenure;
    - ``purchase_interval_days``: the mean time between the customer's consecutive baskets (each
      at its first row's time), that is (last - first) / (count - 1); for a customer with one basket,
      the days from it to ``now`` (the interval is at least that long), counted in
      ``attrs['single_purchase']``.
    """
    pd = _pandas()
    bought = ~purchases["is_return"].to_numpy()
    rfm = rfm_table(purchases, now=now)
    codes = pd.Index(rfm.index).get_indexer(purchases["customer"].to_numpy()[bought])
    dates = purchases["date"].to_numpy()[bought].astype("datetime64[ns]").astype(np.int64)
    baskets = pd.DataFrame({"c": codes, "b": purchases["basket"].to_numpy()[bought], "t": dates})
    times = baskets.groupby(["c", "b"], sort=False)["t"].min().reset_index()
    k = len(rfm)
    first = np.full(k, np.iinfo(np.int64).max)
    last = np.full(k, np.iinfo(np.int64).min)
    np.minimum.at(first, times["c"].to_numpy(), times["t"].to_numpy())
    np.maximum.at(last, times["c"].to_numpy(), times["t"].to_numpy())
    now_ns = int(dates.max()) + DAY_NS if now is None else int(pd.Timestamp(now).value)
    count = rfm["frequency"].to_numpy()
    months = np.maximum((now_ns - first) / DAY_NS / MONTH_DAYS, 1.0)
    single = count <= 1
    interval = np.where(single, (now_ns - first) / DAY_NS, (last - first) / DAY_NS / np.maximum(count - 1, 1))
    out = pd.DataFrame(
        {
            "monthly_spend": rfm["monetary"].to_numpy() / months,
            "purchase_frequency": count / months,
            "purchase_interval_days": interval,
            "purchase_count": count,
        },
        index=rfm.index,
    )
    out.attrs["single_purchase"] = int(single.sum())
    out.attrs["net_negative"] = rfm.attrs["net_negative"]
    return out


VIEW_EVENTS = ("view",)


def hesitation_table(events, purchases, *, customer="customer_id", time="time", event="event", item="item",
                     report=None):  # fmt: skip
    """Hesitation time per customer, in minutes: the median, over the items the customer viewed
    and later bought, of the time from the first view of the item (an ``events`` row whose
    ``event`` is ``view``, any case) to its first purchase at or after that view (a row of the
    ``clean_purchases`` table). Events rows without a customer, a readable time or an item are
    left out and counted in ``report``. Returns a Series indexed by customer id (text), with the
    customers who have such a pair only."""
    pd = _pandas()
    report = report if report is not None else DataReport()
    missing = [c for c in (customer, time, event, item) if c not in events.columns]
    if missing:
        raise ValueError(
            f"no column {', '.join(map(repr, missing))} in the events; its columns are "
            f"{', '.join(map(str, events.columns))} (name them with --event-time-column / --event-type-column)."
        )
    if "item" not in purchases.columns:
        raise ValueError("hesitation time needs the purchases' items: give --item-column.")
    when, _, _ = parse_dates(events[time], column=time)
    who = ids_as_text(events[customer])
    what = ids_as_text(events[item])
    bad_who = who.isna().to_numpy() | who.fillna("").str.strip().eq("").to_numpy()
    bad_when = pd.Series(when).isna().to_numpy() & ~bad_who
    bad_what = (what.isna().to_numpy() | what.fillna("").str.strip().eq("").to_numpy()) & ~bad_who & ~bad_when
    report.drop(f"an event without a customer id (column {customer!r})", bad_who.sum())
    report.drop(f"an event without a readable time (column {time!r})", bad_when.sum())
    report.drop(f"an event without an item (column {item!r})", bad_what.sum())
    view = (
        events[event]
        .astype("string")
        .str.strip()
        .str.lower()
        .isin(VIEW_EVENTS)
        .to_numpy(dtype=bool, na_value=False)
    )
    keep = view & ~bad_who & ~bad_when & ~bad_what
    views = pd.DataFrame({"c": who.to_numpy()[keep], "i": what.to_numpy()[keep],
                          "v": pd.Series(when).to_numpy()[keep].astype("datetime64[ns]")})  # fmt: skip
    first_view = views.groupby(["c", "i"], sort=False)["v"].min().reset_index()
    bought = purchases[purchases["has_item"].to_numpy() & ~purchases["is_return"].to_numpy()]
    buys = pd.DataFrame({"c": bought["customer"].to_numpy(), "i": bought["item"].to_numpy(),
                         "p": bought["date"].to_numpy().astype("datetime64[ns]")})  # fmt: skip
    pairs = first_view.merge(buys, on=["c", "i"])
    pairs = pairs[pairs["p"] >= pairs["v"]]
    first_buy = pairs.groupby(["c", "i"], sort=False).agg(v=("v", "first"), p=("p", "min"))
    minutes = (first_buy["p"] - first_buy["v"]).dt.total_seconds() / 60.0
    out = minutes.groupby(level="c").median().sort_index()
    out.index = out.index.astype(object)
    out.index.name = "customer"
    return out.rename("hesitation_time")
