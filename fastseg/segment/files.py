"""Reading customer files for ``fastseg segment`` and writing its output folder."""

import shutil
import tempfile
from pathlib import Path

import numpy as np

from .._pandas import require_pandas as _pandas


def _read_table(path):
    pd = _pandas()
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"input file {str(path)!r} does not exist.")
    if path.stat().st_size == 0:
        raise ValueError(f"input file {str(path)!r} is empty.")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        elif suffix in (".csv", ".txt", ".tsv"):
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
        else:
            raise ValueError(f"cannot read {path.name!r}: use a .csv or .parquet file.")
    except pd.errors.EmptyDataError:
        raise ValueError(f"input file {str(path)!r} has no data.") from None
    except pd.errors.ParserError as exc:
        raise ValueError(f"input file {str(path)!r} is not valid CSV: {str(exc).splitlines()[0]}") from None
    except ImportError as exc:
        raise ValueError(f"cannot read Parquet ({exc}); install pyarrow or use CSV.") from None
    if frame.empty:
        raise ValueError(f"input file {str(path)!r} has a header but no rows.")
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


def load_customers(
    *,
    demo=False,
    path=None,
    frame=None,
    id_column=None,
    features=None,
    transactions=False,
    date_column="date",
    amount_column="amount",
    order_column=None,
    seed=0,
):
    """(frame, id_column, features, true_segments or None, transactions or None).

    ``demo`` draws the synthetic customers (seeded by ``seed``), otherwise the table is read from
    ``path`` (CSV or Parquet) or given as ``frame`` (a table read elsewhere, e.g. from a database;
    it goes through the same checks as a file). ``features`` is a list of column names, or None for the demo's
    features or every column but the id. With ``transactions`` the file is a purchase table and the
    features are its RFM columns (``date_column``, ``amount_column``, ``order_column``).
    Transactions come with the demo and with ``transactions``.
    """
    from .datasets import FEATURES, make_customers, make_transactions

    if demo:
        frame, truth = make_customers(4000, random_state=seed)
        features = FEATURES if not features else list(features)
        _check_features(frame, features)
        return frame, "customer_id", features, truth, make_transactions(frame, truth, random_state=seed)
    frame = _read_table(path) if frame is None else frame
    purchases = frame if transactions else None
    if transactions:
        from .features import rfm

        customer = id_column or "customer_id"
        features_frame = rfm(
            frame,
            customer=customer,
            date=date_column,
            amount=amount_column,
            order=order_column,
        ).reset_index()
        frame, id_column = features_frame, customer
        features = ["recency_days", "frequency", "monetary"]
    else:
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
            frame.insert(0, "row", np.arange(1, len(frame) + 1))
            id_column = "row"
    _check_features(frame, features)
    return frame, id_column, features, None, purchases


def basket_tables(
    transactions, id_column, labels, frame, *, order_column=None, item_column="item", seed=0, evaluate=False
):
    """Top product pairs per segment, recommendations and (``evaluate``) the hit-rate table, or
    None when the transactions have no item column."""
    from ..basket import hit_rate, recommend, rules_by_segment

    if transactions is None or item_column not in transactions.columns:
        return None
    segment_of = dict(zip(frame[id_column], labels + 1))
    tx = transactions[transactions[id_column].isin(segment_of.keys())]
    basket = order_column or id_column
    rules = rules_by_segment(
        tx, segment_of, customer=id_column, basket=basket, item=item_column, min_support=0.01
    )
    pairs = rules[rules["antecedent"] < rules["consequent"]].groupby("segment", sort=True).head(10)
    recs = recommend(tx, customer=id_column, item=item_column, n=10, segment_of=segment_of)
    tables = {"pairs.csv": pairs, "recommendations.csv": recs}
    if evaluate:
        tables["hit_rate.csv"] = hit_rate(
            tx, customer=id_column, item=item_column, segment_of=segment_of, random_state=seed
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


def write_outputs(out, frame, id_column, features, result, extra=None, finish=None):
    """Write everything into a fresh temporary folder, then move it into ``out``: an error on the
    way leaves ``out`` as it was. ``finish(folder)`` runs last on the filled temporary folder (the
    report reads the written tables there). Returns the written paths."""
    pd = _pandas()
    from .plots import write_plots

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".fastseg-") as tmp:
        tmp = Path(tmp)
        labels = pd.DataFrame({id_column: frame[id_column].to_numpy(), "segment": result["labels"] + 1})
        labels["segment_name"] = labels["segment"].map(result["names"])
        labels.to_csv(tmp / "labels.csv", index=False)
        profile = result["profile"].copy()
        profile.insert(0, "name", [result["names"][s] for s in profile.index])
        profile.to_csv(tmp / "profile.csv")
        (tmp / "profile.md").write_text(
            f"# Segment profiles ({result['k']} segments)\n\nMeans and medians in the input's own units.\n\n"
            + markdown_table(profile.assign(share=[f"{v:.1%}" for v in profile["share"]]))
            + "\n"
        )
        result["sweep"].to_csv(tmp / "k_sweep.csv")
        write_plots(
            tmp,
            result["sweep"],
            result["z_means"],
            result["names"],
            result["Z"],
            result["labels"],
            result["k"],
        )
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
    lines = [f"K sweep: {result['sweep'].attrs['reason']}", ""]
    lines.append(markdown_table(_profile_for_print(result)))
    if baskets is not None:
        pairs = baskets["pairs.csv"].groupby("segment").head(2)
        shown = pairs.set_index("segment")[["antecedent", "consequent", "support", "confidence", "lift"]]
        lines += [
            "",
            "Top product pairs per segment (by lift; all in pairs.csv):",
            "",
            markdown_table(shown, "{:.3f}"),
        ]
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
