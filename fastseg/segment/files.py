"""Reading the customers ``fastseg segment`` clusters: files (CSV, Parquet) and tables read
from a database, cleaned and checked into a :class:`CustomerData`."""

import csv
import gzip
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._pandas import require_pandas as _pandas
from .job import MISSING_CATEGORY, Columns
from .portrait import PORTRAIT, portrait_table
from .purchases import DataReport, clean_purchases, ids_as_text, purchases_as_of, rfm_table

DELIMITERS = ",;\t|"


def _open_text(path):
    """(first 64 kB of text, encoding, compression) of a CSV file, plain or gzip."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    compression = "gzip" if magic == b"\x1f\x8b" else None
    opener = gzip.open if compression else open
    with opener(path, "rb") as fh:
        head = fh.read(1 << 16)
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError as exc:
            if len(head) == 1 << 16 and exc.start >= len(head) - 3:  # a character cut by the sample
                text = head[: exc.start].decode(encoding)
            else:
                continue
        return text, encoding, compression
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def sniff_delimiter(text):
    """The delimiter among , ; tab | that splits the header line into the most fields (quotes
    respected); a comma when none splits it."""
    lines = text.splitlines()
    header = lines[0] if lines else ""
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        fields = len(next(csv.reader([header], delimiter=delimiter), []))
        if fields > best_fields:
            best, best_fields = delimiter, fields
    return best


def read_table(path, *, sep=None, text_columns=(), report=None):
    """A CSV (any of , ; tab |, sniffed unless ``sep``; quoted fields, CRLF, a UTF-8 BOM, gzip) or
    Parquet file as a DataFrame. ``text_columns`` that are present are read as text, exactly as
    written (leading zeros and all); Parquet columns are cast to text later by ``ids_as_text``.
    A file that is not UTF-8 is read as Latin-1 and ``report`` says so."""
    pd = _pandas()
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"input file {str(path)!r} does not exist.")
    if path.stat().st_size == 0:
        raise ValueError(f"input file {str(path)!r} is empty.")
    suffixes = [x.lower() for x in path.suffixes[-2:]]
    with open(path, "rb") as fh:
        magic = fh.read(4)
    try:
        if magic == b"PAR1" or suffixes[-1:] in ([".parquet"], [".pq"]):
            frame = pd.read_parquet(path)
        elif magic[:2] == b"\x1f\x8b" or suffixes[-1:] in ([".csv"], [".txt"], [".tsv"]):
            text, encoding, compression = _open_text(path)
            if encoding != "utf-8-sig" and report is not None:
                report.note(f"{path.name} is not UTF-8: read as Latin-1")
            if sep is None:
                sep = "\t" if ".tsv" in suffixes else sniff_delimiter(text)
            options = dict(sep=sep, encoding=encoding, compression=compression)
            header = pd.read_csv(path, nrows=0, **options).columns
            dtype = {c: str for c in text_columns if c in header}
            try:
                frame = pd.read_csv(path, dtype=dtype, low_memory=False, **options)
            except UnicodeDecodeError:  # not UTF-8 after all, past the sample
                if report is not None:
                    report.note(f"{path.name} is not UTF-8: read as Latin-1")
                frame = pd.read_csv(path, dtype=dtype, low_memory=False, **{**options, "encoding": "latin-1"})
        else:
            raise ValueError(f"cannot read {path.name!r}: use a .csv (or .csv.gz) or .parquet file.")
    except pd.errors.EmptyDataError:
        raise ValueError(f"input file {str(path)!r} has no data.") from None
    except pd.errors.ParserError as exc:
        raise ValueError(f"input file {str(path)!r} is not valid CSV: {str(exc).splitlines()[0]}") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"cannot read {str(path)!r}: {exc}") from None
    except ImportError as exc:
        raise ValueError(f"cannot read Parquet ({exc}); pip install 'fastseg[parquet]' or use CSV.") from None
    if frame.empty:
        raise ValueError(f"input file {str(path)!r} has a header but no rows.")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _require_features(frame, features):
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise ValueError(
            f"no column {', '.join(map(repr, missing))} in the input; its columns are {', '.join(map(str, frame.columns))}."
        )


def blanks(series):
    """True where a value is missing: NaN/None, or text that is empty or only spaces."""
    pd = _pandas()
    missing = series.isna().to_numpy().copy()
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(series.dtype):
        missing |= series.str.strip().eq("").to_numpy(dtype=bool, na_value=False)
    elif not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        missing |= series.fillna("").astype(str).str.strip().eq("").to_numpy()
    return missing


def fill_values(frame, features, found=None):
    """What ``missing='impute'`` fills each feature's blanks with: the median of a numeric
    column's values, the "missing" category for a text one (the values a saved model keeps).
    ``found``: each column's ``blanks`` when already known."""
    pd = _pandas()
    out = {}
    for col in features:
        s = frame[col]
        numeric = pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
        if not numeric:
            out[col] = MISSING_CATEGORY
            continue
        mask = found[col] if found is not None else blanks(s)
        values = s.to_numpy(dtype=float) if not mask.any() else s[~mask].to_numpy(dtype=float)
        out[col] = float(np.median(values))
    return out


def fill_blanks(frame, features, mode, report, fills=None):
    """``frame`` with the blanks of its feature columns handled as ``mode`` says (see
    ``job.Columns``), each imputed or dropped value counted per column in ``report``; ``fills``
    (a saved model's) instead of this table's own fill values. Returns (frame, fill values)."""
    _require_features(frame, features)
    found = {col: blanks(frame[col]) for col in features}
    if mode == "error":
        for col, mask in found.items():
            if mask.any():
                raise ValueError(
                    f"column {col!r} has {int(mask.sum())} missing values; fill or drop them first "
                    "(or --missing impute / drop)."
                )
        return frame, fill_values(frame, features, found)
    if mode == "drop":
        seen = np.zeros(len(frame), dtype=bool)
        for col, mask in found.items():
            report.drop(f"a missing value in column {col!r}", (mask & ~seen).sum())
            seen |= mask
        if seen.all():
            raise ValueError("every customer has a missing feature value: nothing is left to segment.")
        frame = frame[~seen].reset_index(drop=True)
        return frame, fill_values(frame, features)
    for col, mask in found.items():
        if mask.all() and fills is None:
            raise ValueError(f"column {col!r} is entirely blank: there is nothing to impute it from.")
    fills = fills or fill_values(frame, features, found)
    frame = frame.copy(deep=False)  # columns are replaced, never written into
    for col, mask in found.items():
        if mask.any():
            value = fills[col]
            with_value = "the category" if isinstance(value, str) else "its median"
            filled = frame[col].where(~mask, value)
            frame[col] = filled if isinstance(value, str) else filled.astype(float)
            report.impute(f"missing in column {col!r}, filled with {with_value} {value!r}", mask.sum())
    return frame, fills


def _check_features(frame, features):
    pd = _pandas()
    _require_features(frame, features)
    for col in features:
        s = frame[col]
        if s.isna().any():
            raise ValueError(
                f"column {col!r} has {int(s.isna().sum())} missing values; fill or drop them first."
            )
        if not pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            as_number = pd.to_numeric(s, errors="coerce")
            if as_number.notna().mean() >= 0.8:  # a numeric column with a few bad entries
                bad = s[as_number.isna()].iloc[0]
                raise ValueError(f"column {col!r} is numeric except for values such as {bad!r}.")
            if s.nunique() > 50:
                raise ValueError(
                    f"column {col!r} is not numeric and has {s.nunique()} distinct values: "
                    "leave it out with --features, or encode it."
                )
        elif pd.api.types.is_numeric_dtype(s) and not np.all(np.isfinite(s.astype(float))):
            raise ValueError(f"column {col!r} contains infinite values.")
    if len(frame) < 3:
        raise ValueError(f"need at least 3 customers to segment, got {len(frame)}.")


@dataclass
class CustomerData:
    """What ``fastseg segment`` clusters: one row per customer (``frame``, ids as text in
    ``id_column``), the feature columns, the generating segments of the demo (else None), the
    cleaned purchases (``purchases.clean_purchases``; None for a customer table) and the
    ``DataReport`` of the rows left out."""

    frame: object
    id_column: str
    features: list
    truth: object = None
    purchases: object = None
    report: DataReport = field(default_factory=DataReport)
    item_column: str = "item"
    fills: dict | None = None  # the value a blank in each feature takes (``fill_values``)


def load_customers(*, demo=False, path=None, sep=None, seed=0, columns=None):
    """The demo customers (seeded by ``seed``) or the table in ``path`` (CSV or Parquet) as a
    ``CustomerData``, read with ``columns`` (a ``job.Columns``)."""
    from .datasets import FEATURES, make_customers, make_transactions

    columns = columns or Columns()
    if demo:
        frame, truth = make_customers(4000, random_state=seed)
        features = list(columns.features or FEATURES)
        _check_features(frame, features)
        tx = make_transactions(frame, truth, random_state=seed)
        purchases, report = clean_purchases(
            tx, customer="customer_id", date="date", amount="amount", order="order_id", item="item"
        )
        return CustomerData(frame, "customer_id", features, truth, purchases, DataReport())
    report = DataReport()
    text_columns = [columns.id_column or "customer_id"]
    if columns.transactions:
        text_columns += [columns.order_column, columns.item_column]
    frame = read_table(path, sep=sep, text_columns=[c for c in text_columns if c], report=report)
    data = customers_from_table(frame, columns)
    data.report.notes[:0] = report.notes
    return data


def _join_customers(frame, customer, features, cols, report):
    """The purchase-derived ``frame`` joined by id (exact text) with the columns of the customer
    table ``cols.customers`` (``cols.customer_columns``, default all but the id): customers of
    that table without a purchase are left out, customers with purchases but not in it get blanks,
    handled as ``cols.missing`` says; both counted in ``report``. Returns (frame, the joined
    columns, their fill values)."""
    name = Path(cols.customers).name
    table = read_table(cols.customers, text_columns=[customer], report=report)
    if customer not in table.columns:
        raise ValueError(f"--customers file {name!r} has no id column {customer!r}.")
    ids = ids_as_text(table[customer])
    blank = ids.isna().to_numpy() | ids.fillna("").str.strip().eq("").to_numpy()
    report.drop(f"a row of {name} without a customer id", blank.sum())
    table, ids = table[~blank], ids[~blank]
    if ids.duplicated().any():
        raise ValueError(f"customer id {ids[ids.duplicated()].iloc[0]!r} appears more than once in {name}.")
    extra = [c for c in (cols.customer_columns or []) if c] or [c for c in table.columns if c != customer]
    absent = [c for c in extra if c not in table.columns]
    if absent:
        raise ValueError(
            f"no column {', '.join(map(repr, absent))} in {name}; its columns are {', '.join(map(str, table.columns))}."
        )
    clash = [c for c in extra if c in features]
    if clash:
        raise ValueError(f"{name} has a column {clash[0]!r} that the purchases already give: leave it out.")
    if not extra:
        raise ValueError(f"{name} has no column besides the id {customer!r} to join.")
    bought = set(frame[customer])
    report.drop(f"in {name} but without a purchase", (~ids.isin(bought)).sum())
    joined = frame.merge(table[extra].assign(**{customer: ids.to_numpy()}), how="left", on=customer)
    unmatched = int((~frame[customer].isin(set(ids))).sum())
    if unmatched:
        report.note(
            f"{unmatched:,} customers with purchases are not in {name}: their {', '.join(extra)} are blank"
        )
    joined, fills = fill_blanks(joined, extra, cols.missing, report, fills=cols.fills)
    return joined, extra, fills


def _join_hesitation(frame, customer, purchases, cols, report):
    """``frame`` with each customer's ``hesitation_time`` (``portrait.hesitation_table``) from
    the events file ``cols.events``: events of customers without a purchase are counted, customers
    with no viewed-then-bought item get a blank, handled as ``cols.missing`` says. Returns
    (frame, its fill value)."""
    from .portrait import hesitation_table

    name = Path(cols.events).name
    item = cols.event_item_column or cols.item_column or "item"
    events = read_table(cols.events, text_columns=[customer, item], report=report)
    hesitation = hesitation_table(
        events, purchases, customer=customer, time=cols.event_time_column, event=cols.event_type_column, item=item,
        report=report,
    )  # fmt: skip
    others = ids_as_text(events[customer]).dropna()
    report.drop(
        f"an event in {name} of a customer without a purchase", (~others.isin(set(frame[customer]))).sum()
    )
    joined = frame.assign(hesitation_time=frame[customer].map(hesitation).astype(float))
    unmatched = int(joined["hesitation_time"].isna().sum())
    if unmatched == len(joined):
        raise ValueError(f"no customer viewed an item in {name} and bought it later: no hesitation time.")
    if unmatched:
        report.note(
            f"{unmatched:,} customers never bought an item they had viewed ({name}): hesitation_time blank"
        )
    return fill_blanks(joined, ["hesitation_time"], cols.missing, report, fills=cols.fills)


def customers_from_table(table, columns=None):
    """A DataFrame (read from a file or a database) as a ``CustomerData``, read with
    ``columns`` (a ``job.Columns``).

    A customer table has one row per customer: ``id_column`` (default ``customer_id`` when
    present, else row numbers) and ``features`` (default every other column). With
    ``transactions`` it is a purchase table, cleaned by ``purchases.clean_purchases`` (amounts
    from ``amount_column``, else ``quantity_column`` x ``price_column``, else items bought), and
    the features are recency, frequency and monetary. Ids are text, as written; rows without an
    id are left out and reported (``strict``: an error).
    """
    cols = columns or Columns()
    id_column, features, strict, item_column = cols.id_column, cols.features, cols.strict, cols.item_column
    report = DataReport()
    if cols.transactions:
        customer = id_column or "customer_id"
        amount_column = cols.amount_column
        if amount_column is None and cols.quantity_column is None and "amount" in table.columns:
            amount_column = "amount"
        purchases, report = clean_purchases(
            table, customer=customer, date=cols.date_column, amount=amount_column, quantity=cols.quantity_column,
            price=cols.price_column, order=cols.order_column, item=item_column, date_format=cols.date_format,
            strict=strict,
        )  # fmt: skip
        now = None
        if cols.as_of is not None:
            purchases, now = purchases_as_of(purchases, cols.as_of, report)
        if cols.portrait:
            if cols.rfm_extra:
                raise ValueError("--portrait and --rfm-extra are two feature sets: give one.")
            rfm = portrait_table(purchases, now=now)
            features = list(PORTRAIT)
            if rfm.attrs["single_purchase"]:
                report.note(
                    f"{rfm.attrs['single_purchase']:,} customers bought once: their purchase interval is the days "
                    "since that purchase"
                )
        else:
            rfm = rfm_table(purchases, now=now, extra=cols.rfm_extra)
            features = ["recency_days", "frequency", "monetary"]
            if cols.rfm_extra:
                features += ["tenure_days", "avg_order_value"]
        if rfm.attrs["net_negative"]:
            report.note(
                f"{rfm.attrs['net_negative']:,} customers returned more than they bought in the period: "
                + ("monthly spend 0" if cols.portrait else "monetary 0")
            )
        frame = rfm.reset_index().rename(columns={"customer": customer})
        fills = None
        if cols.customers:
            frame, extra, fills = _join_customers(frame, customer, features, cols, report)
            features = features + extra
        if cols.events:
            frame, hesitation_fill = _join_hesitation(frame, customer, purchases, cols, report)
            features = features + ["hesitation_time"]
            fills = {**(fills or {}), **hesitation_fill}
        _check_features(frame, features)
        return CustomerData(
            frame, customer, features, None, purchases, report, item_column or "item", fills=fills
        )
    frame = table
    id_column = id_column or ("customer_id" if "customer_id" in frame.columns else None)
    if id_column is not None and id_column not in frame.columns:
        raise ValueError(
            f"no id column {id_column!r} in the input; its columns are {', '.join(map(str, frame.columns))}."
        )
    if features:
        features = [c for c in features if c]
    else:
        features = [c for c in frame.columns if c != id_column]
    if id_column is None:
        frame = frame.reset_index(drop=True)
        frame.insert(0, "row", [str(i) for i in range(1, len(frame) + 1)])
        id_column = "row"
    else:
        ids = ids_as_text(frame[id_column])
        no_id = ids.isna().to_numpy() | ids.fillna("").str.strip().eq("").to_numpy()
        if no_id.any():
            reason = f"no customer id (column {id_column!r})"
            if strict:
                raise ValueError(f"{reason}: {int(no_id.sum()):,} rows.")
            report.drop(reason, no_id.sum())
        frame = frame.assign(**{id_column: ids})[~no_id].reset_index(drop=True)
        if frame.empty:
            raise ValueError(f"no row has a customer id (column {id_column!r}).")
        dup = frame[id_column].duplicated()
        if dup.any():
            raise ValueError(
                f"customer id {frame.loc[dup, id_column].iloc[0]!r} appears more than once in column "
                f"{id_column!r}: a customer table has one row per customer (for purchases, use --transactions)."
            )
    frame, fills = fill_blanks(frame, features, cols.missing, report, fills=cols.fills)
    _check_features(frame, features)
    return CustomerData(frame, id_column, features, None, None, report, fills=fills)
