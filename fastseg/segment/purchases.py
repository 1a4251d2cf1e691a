"""A raw purchase table made usable: ids as text, one date format per column, amounts (or
quantity x price, or items bought), returns netted, baskets, and every dropped row accounted for.

Everything here takes and returns DataFrames, whatever they were read from (a file, a database).
"""

from dataclasses import dataclass, field

import numpy as np

from .._pandas import require_columns
from .._pandas import require_pandas as _pandas

# Tried in this order on a sample of the column; the first that reads every sampled value wins,
# then a day-first / month-first tie is settled on the whole column. One format for the whole
# column: never element-wise guessing.
DATE_FORMATS = (
    "ISO8601",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%m/%d/%y %H:%M",
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%d/%m/%y %H:%M",
    "%d/%m/%y %H:%M:%S",
    "%d/%m/%y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y%m%d",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
)
DATE_SAMPLE = 2000


@dataclass
class DataReport:
    """What happened to the input rows: ``drops`` are (reason, rows) of rows left out,
    ``imputed`` (reason, values) of blanks filled in, ``notes`` are one-line remarks (how a
    column was read, returns netted, ...)."""

    drops: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    imputed: list = field(default_factory=list)

    def drop(self, reason, rows):
        if rows:
            self.drops.append((reason, int(rows)))

    def impute(self, reason, values):
        if values:
            self.imputed.append((reason, int(values)))

    def note(self, text):
        self.notes.append(text)

    def table(self):
        """``reason, rows``: the drops, then the imputed values ("imputed: ..." reasons)."""
        pd = _pandas()
        rows = self.drops + [(f"imputed: {reason}", n) for reason, n in self.imputed]
        return pd.DataFrame(rows, columns=["reason", "rows"])

    def lines(self):
        """One line per reason, then the notes."""
        return (
            [f"dropped {rows:,} rows: {reason}" for reason, rows in self.drops]
            + [f"imputed {n:,} value{'' if n == 1 else 's'}: {reason}" for reason, n in self.imputed]
            + list(self.notes)
        )


def ids_as_text(series):
    """Ids as strings, exactly as written: text stays byte for byte, integers print as integers,
    and a float column that only holds whole numbers (an integer column with gaps, as Parquet and
    databases store it) prints without ``.0``. Missing stays missing."""
    pd = _pandas()
    s = pd.Series(series)
    if pd.api.types.is_bool_dtype(s):
        raise TypeError(f"an id column holds booleans ({s.name!r}); ids must be text or integers.")
    if pd.api.types.is_float_dtype(s):
        values = s.to_numpy(dtype=np.float64)
        known = ~np.isnan(values)
        if np.all(values[known] == np.round(values[known])) and np.all(np.abs(values[known]) < 2**53):
            out = pd.Series(np.full(len(s), None, dtype=object), index=s.index, name=s.name)
            out[known] = values[known].astype(np.int64).astype(str)
            return out
        return s.map(repr, na_action="ignore").astype(object)
    if pd.api.types.is_integer_dtype(s):
        return s.astype(str).astype(object).where(s.notna(), None)
    if pd.api.types.is_string_dtype(s) and not isinstance(s.dtype, np.dtype):
        return s  # pandas' own string type: text already
    if s.dtype == object:
        # Mixed Python objects (as a database driver may return): text stays, numbers are printed
        # as numbers (a whole float without .0).
        def text(v):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                return None
            if isinstance(v, str):
                return v
            if isinstance(v, bytes):
                return v.decode("utf-8")
            if isinstance(v, float) and v.is_integer():
                return str(int(v))
            return str(v)

        if all(isinstance(v, str) for v in s.iloc[:1000]) and s.map(type).eq(str).all():
            return s.where(s.notna(), None)
        return pd.Series([text(v) for v in s], index=s.index, name=s.name, dtype=object)
    return s.astype(str).astype(object).where(s.notna(), None)


def _missing_text(s):
    """Missing, empty or blank cells of a column (blank: text of spaces only)."""
    pd = _pandas()
    missing = s.isna().to_numpy().copy()
    if pd.api.types.is_string_dtype(s) or s.dtype == object:
        missing |= s.fillna("").astype(str).str.strip().eq("").to_numpy()
    return missing


def infer_date_format(values):
    """(format, also) : the one format of ``DATE_FORMATS`` that reads the column (None when none
    reads half of its sample), and the other formats that read it as well (ambiguous dates).

    ``values`` : a Series of strings (missing values allowed). A tie between day-first and
    month-first formats (no day above 12 in the sample) is settled on the whole column, then in
    favour of month-first.
    """
    pd = _pandas()
    present = values.dropna().astype(str)
    present = present[present.str.strip() != ""]
    if present.empty:
        return None, []
    sample = pd.Series(present.unique()[:DATE_SAMPLE])
    read = {}
    for fmt in DATE_FORMATS:
        read[fmt] = int(_to_datetime(sample, fmt).notna().sum())
    best = max(read.values())
    if best < max(1, int(0.5 * len(sample))):
        return None, []
    tied = [fmt for fmt, n in read.items() if n == best]
    if len(tied) > 1:
        whole = pd.Series(present.unique())
        full = {fmt: int(_to_datetime(whole, fmt).notna().sum()) for fmt in tied}
        top = max(full.values())
        tied = [fmt for fmt in tied if full[fmt] == top]
        first = _to_datetime(whole, tied[0])
        # Another format that reads the same dates is no ambiguity ('20110102' as ISO 8601 or %Y%m%d).
        tied = tied[:1] + [fmt for fmt in tied[1:] if not _to_datetime(whole, fmt).equals(first)]
    return tied[0], tied[1:]


def _to_datetime(text, fmt):
    """Strings read in one format, NaT where they do not fit; UTC offsets are applied and dropped."""
    pd = _pandas()
    parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
    return parsed.dt.tz_localize(None)


def parse_dates(values, date_format=None, column="date"):
    """(datetimes, format used, other formats that read every value) with NaT where a value
    does not read in that format.

    A column that already holds datetimes is kept (time zones dropped, local time kept).
    """
    pd = _pandas()
    s = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert(None)
        return s, None, []
    text = s.astype(object).where(s.notna(), None)
    text = text.map(lambda v: v if v is None or isinstance(v, str) else str(v))
    also = []
    if date_format is None:
        date_format, also = infer_date_format(text)
        if date_format is None:
            example = text.dropna()
            example = example.iloc[0] if len(example) else None
            raise ValueError(
                f"column {column!r} does not hold dates in a format we know (for example {example!r}): "
                "give it with --date-format, e.g. --date-format '%d/%m/%Y %H:%M'."
            )
    try:
        parsed = _to_datetime(text, date_format)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"date format {date_format!r} is not usable: {exc}") from None
    return parsed, date_format, also


def _numbers(frame, column, report, strict, keep):
    """A column as float, with rows that hold text dropped (reported); returns (values, keep)."""
    pd = _pandas()
    s = frame[column]
    if pd.api.types.is_bool_dtype(s):
        raise ValueError(f"column {column!r} holds true/false values, not numbers.")
    values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64)
    present = s.notna().to_numpy()
    if (pd.api.types.is_string_dtype(s) or s.dtype == object) and (
        ~np.isfinite(values[present])
    ).mean() > 0.5:
        # European exports write decimal commas ("2,55"); read them so when that reads more values.
        comma = pd.to_numeric(s.astype(str).str.replace(",", ".", regex=False), errors="coerce")
        comma = comma.to_numpy(dtype=np.float64)
        if np.isfinite(comma).sum() > np.isfinite(values).sum():
            values = comma
            report.note(f"column {column!r} read with decimal commas")
    bad = keep & ~np.isfinite(values)
    if bad.any():
        missing = bad & s.isna().to_numpy()
        unreadable = bad & ~missing
        for mask, what in ((missing, "has no value"), (unreadable, "is not numeric")):
            if mask.any():
                example = "" if what == "has no value" else f", e.g. {s[mask].iloc[0]!r}"
                reason = f"column {column!r} {what}{example}"
                if strict:
                    raise ValueError(f"{reason}: {int(mask.sum()):,} rows.")
                report.drop(reason, mask.sum())
        keep = keep & ~bad
    return values, keep


def clean_purchases(
    transactions,
    *,
    customer="customer_id",
    date="date",
    amount=None,
    quantity=None,
    price=None,
    order=None,
    item=None,
    date_format=None,
    strict=False,
):
    """A raw purchase table as (purchases, report).

    ``purchases`` is a DataFrame with the columns ``customer`` (text, as in the input), ``date``
    (datetime64), ``amount`` (float: the ``amount`` column, else ``quantity`` x ``price``, else
    ``quantity``, else 1 per row: items bought), ``basket`` (the ``order`` id, else customer and
    day), ``item`` (text, when ``item`` is given and present) and ``is_return`` (a negative
    quantity or amount: a return or a cancellation). Returns stay in the table so that they net
    against the customer's spend; they are neither purchases nor basket items.

    Rows that cannot be used (no customer id, no or unreadable date, no or unreadable number, no
    order id) are left out and counted in ``report`` (one reason each); ``strict`` makes them
    errors instead.
    """
    pd = _pandas()
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(f"transactions must be a pandas DataFrame, got {type(transactions).__name__}.")
    if transactions.empty:
        raise ValueError("the transactions table is empty.")
    if (quantity is None) != (price is None) and amount is None and price is not None:
        raise ValueError("a price column needs a quantity column (--quantity-column) to make amounts.")
    needed = [customer, date] + [c for c in (amount, quantity, price, order) if c]
    require_columns(transactions, needed, "the transactions table")
    report = DataReport()
    n = len(transactions)
    keep = np.ones(n, dtype=bool)

    def drop(mask, reason):
        nonlocal keep
        mask = mask & keep
        if mask.any():
            if strict:
                raise ValueError(f"{reason}: {int(mask.sum()):,} rows.")
            report.drop(reason, mask.sum())
            keep = keep & ~mask

    ids = ids_as_text(transactions[customer])
    drop(_missing_text(ids), f"no customer id (column {customer!r})")

    dates, used_format, also = parse_dates(transactions[date], date_format, date)
    raw_dates = transactions[date]
    no_date = _missing_text(raw_dates)
    drop(no_date, f"no date (column {date!r})")
    unread = dates.isna().to_numpy() & ~no_date
    if (unread & keep).any():
        example = raw_dates[unread & keep].iloc[0]
        how = f"format {used_format!r}" if used_format else "a date"
        drop(unread, f"date not in {how} (column {date!r}), e.g. {example!r}")
    if used_format and date_format is None:
        read_as = f"dates in column {date!r} read as {used_format!r}"
        if also:
            report.note(f"{read_as}, though {also[0]!r} reads them too: give --date-format if that is meant")
        else:
            report.note(read_as)

    if amount:
        values, keep = _numbers(transactions, amount, report, strict, keep)
        q = None
    elif quantity:
        q, keep = _numbers(transactions, quantity, report, strict, keep)
        if price:
            p, keep = _numbers(transactions, price, report, strict, keep)
            values = q * p
        else:
            values = q
            report.note(
                f"no amount or price column: monetary is the number of items bought (column {quantity!r})"
            )
    else:
        q = None
        values = np.ones(n)
        report.note("no amount column: monetary is the number of items bought (one per row)")
    is_return = (values < 0) | (q < 0 if q is not None else False)
    values = np.where(is_return, -np.abs(values), values)  # a cancellation at a negative price

    out = pd.DataFrame({"customer": ids.array, "date": dates.array, "amount": values, "is_return": is_return})
    if order:  # order ids are only keys: kept as they are
        orders = transactions[order]
        drop(_missing_text(orders), f"no order id (column {order!r})")
        out["basket"] = orders.array
    if item and item in transactions.columns:
        items = ids_as_text(transactions[item])
        no_item = _missing_text(items)
        out["item"] = items.array
        out["has_item"] = ~no_item
        if (no_item & keep & ~is_return).any():
            report.note(
                f"{int((no_item & keep & ~is_return).sum()):,} purchases have no item (column {item!r}): "
                "counted in spend, left out of product pairs"
            )
    out = out[keep].reset_index(drop=True)
    if "basket" not in out.columns:  # one customer's purchases on one day
        who = pd.factorize(out["customer"])[0].astype(np.int64)
        day = out["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
        day -= day.min() if len(day) else 0
        out["basket"] = who * (int(day.max()) + 1 if len(day) else 1) + day
    n_returns = int(out["is_return"].sum())
    if n_returns:
        report.note(
            f"{n_returns:,} rows are returns or cancellations (negative quantity or amount): "
            "netted against spend, not counted as purchases or basket items"
        )
    who = pd.factorize(out["customer"])[0]
    has_purchase = (
        np.bincount(who[~out["is_return"].to_numpy()], minlength=who.max() + 1 if len(who) else 0) > 0
    )
    only_returns = ~has_purchase[who]
    if only_returns.any():
        drop_rows = int(only_returns.sum())
        reason = "returns of customers with no purchase in the period"
        if strict:
            raise ValueError(f"{reason}: {drop_rows:,} rows.")
        report.drop(reason, drop_rows)
        out = out[~only_returns].reset_index(drop=True)
    if out.empty:
        raise ValueError("no usable purchase is left: " + "; ".join(report.lines()))
    return out, report


def rfm_table(purchases, now=None, extra=False):
    """Recency (days since the last purchase, from ``now`` or the day after the last one),
    frequency (distinct baskets) and monetary (spend net of returns, at least 0) per customer
    of a ``clean_purchases`` table, indexed by customer id (text, sorted). With ``extra``, also
    ``tenure_days`` (days from the first purchase to ``now``, the customer's age "T" of CLV
    models) and ``avg_order_value`` (monetary / frequency; 0 without a purchase)."""
    pd = _pandas()
    codes, customers = pd.factorize(purchases["customer"], sort=True)
    k = len(customers)
    bought = ~purchases["is_return"].to_numpy()
    dates = purchases["date"].to_numpy().astype("datetime64[ns]").astype(np.int64)
    last = np.full(k, np.iinfo(np.int64).min)
    np.maximum.at(last, codes[bought], dates[bought])
    if now is None:
        now_ns = int(dates[bought].max()) + 86_400 * 10**9
    else:
        now_ns = int(pd.Timestamp(now).value)
    recency = np.floor((now_ns - last) / (86_400 * 10**9))
    pairs = pd.DataFrame({"c": codes[bought], "b": pd.factorize(purchases["basket"].to_numpy()[bought])[0]})
    frequency = np.bincount(pairs.drop_duplicates()["c"].to_numpy(), minlength=k).astype(float)
    monetary = np.bincount(codes, weights=purchases["amount"].to_numpy(), minlength=k)
    out = pd.DataFrame(
        {
            "recency_days": recency.astype(float),
            "frequency": frequency,
            "monetary": np.maximum(monetary, 0.0),
        },
        index=pd.Index(np.asarray(customers, dtype=object), name="customer"),
    )
    if extra:
        first = np.full(k, np.iinfo(np.int64).max)
        np.minimum.at(first, codes[bought], dates[bought])
        out["tenure_days"] = np.floor((now_ns - first) / (86_400 * 10**9))
        out["avg_order_value"] = np.divide(
            out["monetary"].to_numpy(), frequency, out=np.zeros(k), where=frequency > 0
        )
    out.attrs["net_negative"] = int((monetary < 0).sum())
    return out


def as_of_cutoff(as_of):
    """The instant ``--as-of`` stands for: the end of the day for a date alone, else the time
    given. A value that is not a date is a ValueError naming it."""
    pd = _pandas()
    try:
        stamp = pd.Timestamp(str(as_of))
    except (ValueError, TypeError):
        raise ValueError(f"--as-of {as_of!r} is not a date (for example 2024-03-31).") from None
    if stamp is pd.NaT:
        raise ValueError(f"--as-of {as_of!r} is not a date (for example 2024-03-31).")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(None)
    return stamp + pd.Timedelta(days=1) if stamp == stamp.normalize() and ":" not in str(as_of) else stamp


def purchases_as_of(purchases, as_of, report):
    """The purchases before ``as_of``'s cutoff (``as_of_cutoff``), the later ones counted in
    ``report``; returns (purchases, cutoff). Every purchase after it is a ValueError."""
    cutoff = as_of_cutoff(as_of)
    dates = purchases["date"].to_numpy().astype("datetime64[ns]")
    later = dates >= cutoff.to_datetime64()
    if later.all():
        first = str(purchases["date"].min())
        raise ValueError(f"every purchase is after --as-of {as_of} (the first is on {first}).")
    report.drop(f"purchase after --as-of {as_of}", later.sum())
    kept = purchases[~later].reset_index(drop=True)
    lost = purchases["customer"].nunique() - kept["customer"].nunique()
    if lost:
        report.note(f"{lost:,} customers bought only after --as-of {as_of}: they are not segmented")
    return kept, cutoff
