"""Classic RFM scoring: recency, frequency and monetary scored 1-5 by quintile of rank, and
segments named by the RFM groups their scores fall in (Champions, Loyal Customers, At Risk, ...),
or by a user's own mapping (``--rfm-map``)."""

import numpy as np

from .._pandas import require_pandas as _pandas

RFM_COLUMNS = ("recency_days", "frequency", "monetary")

# (name, R range, F range, M range): the first group whose three ranges hold a segment's
# (rounded) mean scores names it; none: "Others". The ten groups of the example in the
# documentation of R's ``rfm`` package (``rfm_segment``), in its order.
RFM_GROUPS = (
    ("Champions", (4, 5), (4, 5), (4, 5)),
    ("Loyal Customers", (2, 5), (3, 5), (3, 5)),
    ("Potential Loyalist", (3, 5), (1, 3), (1, 3)),
    ("New Customers", (4, 5), (1, 1), (1, 1)),
    ("Promising", (3, 4), (1, 1), (1, 1)),
    ("Need Attention", (2, 3), (2, 3), (2, 3)),
    ("About To Sleep", (2, 3), (1, 2), (1, 2)),
    ("At Risk", (1, 2), (2, 5), (2, 5)),
    ("Can't Lose Them", (1, 1), (4, 5), (4, 5)),
    ("Lost", (1, 2), (1, 2), (1, 2)),
)
OTHERS = "Others"


def quintile_scores(values, higher_is_better=True):
    """Scores 1-5 by quintile of rank: the n values ranked 1..n, rank r scores ceil(5 r / n).

    Ranks are ordinal, so repeated values (on which quantile bins such as pandas' ``qcut`` fail)
    still fill five scores of equal size; ties are broken by the order of the rows (customer ids
    in sorted order, as a run holds them). ``higher_is_better=False`` (recency in days) gives
    the smallest values 5.
    """
    values = np.asarray(values, dtype=np.float64)
    n = values.size
    key = values if higher_is_better else -values
    order = np.argsort(key, kind="stable")  # equal values keep the rows' order
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)
    return np.ceil(5 * rank / n).astype(np.int64)


def rfm_scores(frame):
    """``r_score``, ``f_score``, ``m_score`` (1-5) and ``rfm_score`` ("545") of each customer of a
    frame with recency_days, frequency and monetary."""
    missing = [c for c in RFM_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"names='rfm' (--names rfm) needs the columns recency_days, frequency and monetary (a purchase table read with "
            f"--transactions); missing: {', '.join(missing)}."
        )
    pd = _pandas()
    out = pd.DataFrame(
        {
            "r_score": quintile_scores(frame["recency_days"], higher_is_better=False),
            "f_score": quintile_scores(frame["frequency"]),
            "m_score": quintile_scores(frame["monetary"]),
        },
        index=frame.index,
    )
    out["rfm_score"] = out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
    return out


def _score_range(text, where):
    """'4-5' or '3' as (lo, hi) within 1..5; anything else a ValueError naming ``where``."""
    parts = str(text).strip().split("-")
    try:
        lo, hi = (int(parts[0]), int(parts[-1])) if len(parts) in (1, 2) else (None, None)
    except ValueError:
        lo = hi = None
    if lo is None or not 1 <= lo <= hi <= 5:
        raise ValueError(
            f"{where}: {text!r} is not a score or a range of scores within 1-5 (such as 4 or 4-5)."
        )
    return lo, hi


def read_rfm_map(path):
    """A user's RFM groups from a CSV with columns ``name, recency, frequency, monetary`` (each a
    score 1-5 or a range such as 4-5), in the order they are tried. Unknown scores, a missing
    column or two rows of the same pattern are a ValueError naming the row."""
    pd = _pandas()
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise ValueError(f"cannot read --rfm-map {str(path)!r}: {str(exc).splitlines()[0]}") from None
    table.columns = [c.strip().lower() for c in table.columns]
    needed = ["name", "recency", "frequency", "monetary"]
    if [c for c in needed if c not in table.columns] or table.empty:
        raise ValueError(
            f"--rfm-map {str(path)!r} needs the columns {', '.join(needed)} and at least one row."
        )
    groups, seen = [], {}
    for i, row in table.iterrows():
        where = f"--rfm-map row {i + 2}"
        ranges = tuple(_score_range(row[c], f"{where}, {c}") for c in needed[1:])
        if ranges in seen:
            raise ValueError(f"{where} repeats the pattern of row {seen[ranges]} ({row['name']!r}).")
        seen[ranges] = i + 2
        name = row["name"].strip()
        if not name:
            raise ValueError(f"{where} has no name.")
        groups.append((name, *ranges))
    return tuple(groups)


def group_of(r, f, m, groups=RFM_GROUPS):
    """The name of the first group whose ranges hold the scores (``OTHERS`` for none)."""
    for name, (r0, r1), (f0, f1), (m0, m1) in groups:
        if r0 <= r <= r1 and f0 <= f <= f1 and m0 <= m <= m1:
            return name
    return OTHERS


def rfm_segment_names(scores, labels, groups=RFM_GROUPS):
    """{segment (1..K): name}: the group of the segment's mean R, F and M scores, each rounded
    (half up); a group that names two segments gets their numbers after it."""
    pd = _pandas()
    frame = scores[["r_score", "f_score", "m_score"]].groupby(np.asarray(labels) + 1).mean()
    names = {
        int(seg): group_of(*(int(np.floor(v + 0.5)) for v in row), groups=groups)
        for seg, row in frame.iterrows()
    }
    counts = pd.Series(names).value_counts()
    return {seg: name if counts[name] == 1 else f"{name} (segment {seg})" for seg, name in names.items()}
