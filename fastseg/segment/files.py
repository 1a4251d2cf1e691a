"""Reading customer files for ``fastseg segment`` and writing its output folder."""

import csv
import gzip
import shutil
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._pandas import require_pandas as _pandas
from .purchases import DataReport, clean_purchases, ids_as_text, rfm_table

DELIMITERS = ",;\t|"


def labels_frame(frame, id_column, segments, names):
    """Customer id, segment number and segment name."""
    pd = _pandas()
    out = pd.DataFrame({id_column: frame[id_column].to_numpy(), "segment": segments})
    out["segment_name"] = out["segment"].map(names)
    return out


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


def _check_features(frame, features):
    pd = _pandas()
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise ValueError(
            f"no column {', '.join(map(repr, missing))} in the input; its columns are {', '.join(map(str, frame.columns))}."
        )
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


def load_customers(*, demo=False, path=None, sep=None, seed=0, **columns):
    """The demo customers (seeded by ``seed``) or the table in ``path`` (CSV or Parquet) as a
    ``CustomerData``; ``columns`` are the keyword arguments of ``customers_from_table``."""
    from .datasets import FEATURES, make_customers, make_transactions

    if demo:
        frame, truth = make_customers(4000, random_state=seed)
        features = list(columns.get("features") or FEATURES)
        _check_features(frame, features)
        tx = make_transactions(frame, truth, random_state=seed)
        purchases, report = clean_purchases(
            tx, customer="customer_id", date="date", amount="amount", order="order_id", item="item"
        )
        return CustomerData(frame, "customer_id", features, truth, purchases, DataReport())
    report = DataReport()
    text_columns = [columns.get("id_column") or "customer_id"]
    if columns.get("transactions"):
        text_columns += [columns.get("order_column"), columns.get("item_column", "item")]
    frame = read_table(path, sep=sep, text_columns=[c for c in text_columns if c], report=report)
    data = customers_from_table(frame, **columns)
    data.report.notes[:0] = report.notes
    return data


def customers_from_table(
    table,
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
):
    """A DataFrame (read from a file or a database) as a ``CustomerData``.

    A customer table has one row per customer: ``id_column`` (default ``customer_id`` when
    present, else row numbers) and ``features`` (default every other column). With
    ``transactions`` it is a purchase table, cleaned by ``purchases.clean_purchases`` (amounts
    from ``amount_column``, else ``quantity_column`` x ``price_column``, else items bought), and
    the features are recency, frequency and monetary. Ids are text, as written; rows without an
    id are left out and reported (``strict``: an error).
    """
    pd = _pandas()
    report = DataReport()
    if transactions:
        customer = id_column or "customer_id"
        if amount_column is None and quantity_column is None and "amount" in table.columns:
            amount_column = "amount"
        purchases, report = clean_purchases(
            table, customer=customer, date=date_column, amount=amount_column, quantity=quantity_column,
            price=price_column, order=order_column, item=item_column, date_format=date_format, strict=strict,
        )  # fmt: skip
        rfm = rfm_table(purchases)
        if rfm.attrs["net_negative"]:
            report.note(
                f"{rfm.attrs['net_negative']:,} customers returned more than they bought in the period: "
                "monetary 0"
            )
        frame = rfm.reset_index().rename(columns={"customer": customer})
        features = ["recency_days", "frequency", "monetary"]
        _check_features(frame, features)
        return CustomerData(frame, customer, features, None, purchases, report, item_column or "item")
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
    _check_features(frame, features)
    del pd
    return CustomerData(frame, id_column, features, None, None, report)


def basket_tables(
    purchases, id_column, segments, frame, *, seed=0, evaluate=False, min_pair_count=5, min_support=0.0,
    min_confidence=0.0, top=10, item_column="item",
):  # fmt: skip
    """Product pairs per segment (the ``top`` by lift among pairs in at least ``min_pair_count``
    baskets with ``min_support`` and ``min_confidence``), recommendations and (``evaluate``) the
    hit-rate table, from a ``clean_purchases`` table; None when it has no item column.
    Returns and rows without an item are no basket items."""
    from ..basket import hit_rate, recommend, rules_by_segment

    if purchases is None or "item" not in purchases.columns:
        return None
    segment_of = dict(zip(frame[id_column], segments))
    keep = ~purchases["is_return"].to_numpy() & purchases["has_item"].to_numpy()
    tx = purchases.loc[keep, ["customer", "basket", "item"]]
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
    return tables


def markdown_table(frame, floatfmt="{:,.2f}", index_name=None):
    """A DataFrame as a GitHub markdown table (no extra dependency)."""
    cols = [index_name or frame.index.name or ""] + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" + "---:|" * len(frame.columns)]
    for idx, *row in frame.itertuples(name=None):  # keeps each column's own type
        cells = [floatfmt.format(v) if isinstance(v, float | np.floating) else str(v) for v in row]
        lines.append(f"| {idx} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _profile_for_print(result):
    """Size, share and feature means (medians are in profile.csv)."""
    profile = result["profile"]
    keep = ["size", "share"] + [c for c in profile.columns if c.endswith(" mean") or " = " in c]
    short = profile[keep].rename(
        columns=lambda c: c.removesuffix(" mean").replace("_days", "").replace("_", " ")
    )
    short.insert(0, "name", [result["names"][s] for s in profile.index])
    short["share"] = [f"{v:.1%}" for v in short["share"]]
    return short


def write_outputs(out, frame, id_column, features, result, extra=None, notes=(), finish=None, plots=None):
    """Write everything into a fresh temporary folder, then move it into ``out``: an error on the
    way leaves ``out`` as it was. ``finish(folder)`` runs last on the filled temporary folder (the
    report reads the written tables there); ``plots``, a ``plots.PlotProcess`` already handed the
    plots, gives them instead of drawing them here. Returns the written paths."""
    from .plots import write_plots

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".fastseg-") as tmp:
        tmp = Path(tmp)
        labels = labels_frame(frame, id_column, result["segments"], result["names"])
        if "outliers" in result:
            labels["outlier"] = result["outliers"]
        labels.to_csv(tmp / "labels.csv", index=False)
        profile = result["profile"].copy()
        profile.insert(0, "name", [result["names"][s] for s in profile.index])
        profile.to_csv(tmp / "profile.csv")
        (tmp / "profile.md").write_text(
            f"# Segment profiles ({result['k']} segments)\n\nMeans and medians in the input's own units.\n\n"
            + "".join(f"- {note}\n" for note in notes)
            + ("\n" if notes else "")
            + markdown_table(profile.assign(share=[f"{v:.1%}" for v in profile["share"]]))
            + "\n"
        )
        result["sweep"].to_csv(tmp / "k_sweep.csv")
        if plots is not None:
            plots.finish(tmp)
        else:
            write_plots(
                tmp, result["sweep"], result["z_means"], result["names"], result["Z"], result["segments"],
                result["k"],
            )  # fmt: skip
        for name, table in (extra or {}).items():
            table.to_csv(tmp / name, index=False)
        if finish is not None:
            finish(tmp)
        out.mkdir(exist_ok=True)
        written = []
        for f in sorted(tmp.iterdir()):
            target = out / f.name
            if target.exists():
                target.unlink()
            shutil.move(str(f), str(target))
            written.append(target)
    return written


def describe(frame, id_column, features, result, truth, demo, baskets=None):
    """The text the command prints: sweep, profile table, basket findings and, for the demo, the
    paper comparison."""
    lines = [f"K sweep: {result['sweep'].attrs['reason']}"]
    n_out = int(np.sum(result.get("outliers", 0)))
    if n_out:
        lines.append(
            f"Outliers: {n_out} customers far out on a feature were left out of the fit and given their "
            "nearest segment (labels.csv, column outlier)."
        )
    if result.get("smallest_share", 1.0) < result.get("min_segment_share", 0.0):
        lines.append(f"Note: the smallest segment holds {result['smallest_share']:.1%} of the customers.")
    lines += ["", markdown_table(_profile_for_print(result))]
    if baskets is not None:
        pairs = baskets["pairs.csv"].groupby("segment").head(2)
        columns = ["antecedent", "consequent", "count", "support", "confidence", "lift"]
        shown = pairs.set_index("segment")[columns]
        lines += ["", "Top product pairs per segment (by lift; all in pairs.csv):", ""]
        lines.append(markdown_table(shown, "{:.3f}") if len(shown) else "(no pair meets the minimums)")
        if "hit_rate.csv" in baskets:
            hits = baskets["hit_rate.csv"].set_index("method")
            lines += ["", "Recommendations, leave-one-out hit rate@10:", "", markdown_table(hits, "{:.3f}")]
    if demo and truth is not None:
        from sklearn.metrics import adjusted_rand_score

        lines += [
            "",
            f"Adjusted Rand index against the generating segments: {adjusted_rand_score(truth, result['labels']):.3f}",
        ]
        if result["k"] == 4:
            lines += ["", paper_comparison(frame, result)]
    return "\n".join(lines)


def paper_comparison(frame, result):
    """Our 4 segments beside the GA-K-means paper's Table 5 (matched by closest profile)."""
    pd = _pandas()
    from scipy.optimize import linear_sum_assignment

    from .datasets import TABLE5

    feats = [f for f in TABLE5 if f != "size"]
    paper = pd.DataFrame({f: TABLE5[f] for f in feats}, index=[1, 2, 3, 4]).astype(float)
    ours = result["profile"][[f"{f} mean" for f in feats]].set_axis(feats, axis=1)
    scale = frame[feats].astype(float).std(ddof=0)
    cost = (((paper.to_numpy()[:, None, :] - ours.to_numpy()[None, :, :]) / scale.to_numpy()) ** 2).sum(-1)
    paper_idx, ours_idx = linear_sum_assignment(cost)
    rows = {"customers": []}
    rows.update({f: [] for f in feats})
    cols = []
    for p, o in zip(paper_idx, ours_idx):
        seg = ours.index[o]
        cols += [f"paper cluster {p + 1}", f"ours: segment {seg}"]
        rows["customers"] += [TABLE5["size"][p], int(result["profile"].loc[seg, "size"])]
        for f in feats:
            rows[f] += [TABLE5[f][p], float(ours.loc[seg, f])]
    table = pd.DataFrame(rows, index=cols).T
    return (
        "Beside the GA-K-means paper's Table 5 (segment means; paper sizes are of 4000 users, the demo data is "
        "synthetic and generated from that table):\n\n"
        + markdown_table(table, floatfmt="{:,.1f}", index_name="mean of")
    )
