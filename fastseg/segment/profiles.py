"""Describing segments: per-segment profiles in the data's units, standardised means, names, and
per-feature tests of whether the segments differ."""

import numpy as np

from .._pandas import require_pandas as _pandas
from .sweep import split_columns


def profile_table(frame, labels, features):
    """Per segment (1..K): size, share, and the mean and median of each feature in its own units.

    Categorical features give the share of each value instead (``gender = M``).
    """
    pd = _pandas()
    numeric, categorical = split_columns(frame, features)
    seg = pd.Series(np.asarray(labels) + 1, index=frame.index, name="segment")
    grouped = frame.groupby(seg)
    out = pd.DataFrame({"size": grouped.size()})
    out["share"] = out["size"] / out["size"].sum()
    for col in numeric:
        out[f"{col} mean"] = grouped[col].mean()
        out[f"{col} median"] = grouped[col].median()
    for col in categorical:
        for value in sorted(frame[col].astype(str).unique()):
            out[f"{col} = {value}"] = (frame[col].astype(str) == value).groupby(seg).mean()
    out.index.name = "segment"
    return out


# A feature separates the segments when its one-way ANOVA has p below this and eta squared (the
# share of the feature's variance between segments) at least SMALL_EFFECT, Cohen's "small".
ALPHA = 0.05
SMALL_EFFECT = 0.01


def feature_tests(frame, labels, features, skewed=()):
    """Per numeric feature: the one-way ANOVA of the feature across segments (``F``, ``p``), its
    effect size ``eta_squared`` (between-segment sum of squares / total), for the ``skewed``
    features also Kruskal-Wallis (``kruskal_H``, ``kruskal_p``; blank for the others), and
    ``separates`` (p < ALPHA and eta squared >= SMALL_EFFECT). scipy's tests; a feature constant
    within every segment has F infinite (p 0) or, constant overall, blank statistics."""
    import warnings

    from scipy import stats

    pd = _pandas()
    numeric, _ = split_columns(frame, features)
    labels = np.asarray(labels)
    present = np.unique(labels)
    rows = {}
    for col in numeric:
        values = frame[col].to_numpy(dtype=np.float64)
        groups = [values[labels == c] for c in present]
        total = float(np.sum((values - values.mean()) ** 2))
        between = float(sum(g.size * (g.mean() - values.mean()) ** 2 for g in groups))
        row = {"F": np.nan, "p": np.nan, "eta_squared": between / total if total > 0 else np.nan,
               "kruskal_H": np.nan, "kruskal_p": np.nan}  # fmt: skip
        if len(groups) > 1:
            with warnings.catch_warnings():  # constant input: scipy warns and returns inf or nan
                warnings.simplefilter("ignore")
                row["F"], row["p"] = (float(v) for v in stats.f_oneway(*groups))
                if col in skewed and total > 0:
                    row["kruskal_H"], row["kruskal_p"] = (float(v) for v in stats.kruskal(*groups))
        row["separates"] = bool(row["p"] < ALPHA and row["eta_squared"] >= SMALL_EFFECT)
        rows[col] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "feature"
    return out


def standardised_means(frame, labels, features):
    """Segment means of each numeric feature in standard deviations from the overall mean."""
    pd = _pandas()
    numeric, _ = split_columns(frame, features)
    values = frame[numeric].astype(float)
    z = (values - values.mean()) / values.std(ddof=0).replace(0, 1)
    return z.groupby(pd.Series(np.asarray(labels) + 1, index=frame.index)).mean()


def clustering_space_means(Z, labels, columns):
    """Segment means (1..K) of each column of the clustering space ``Z`` (after the log
    transforms and scaling; one-hot columns too), in standard deviations from the overall mean."""
    pd = _pandas()
    Z = np.asarray(Z, dtype=np.float64)
    sd = Z.std(axis=0)
    z = (Z - Z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    frame = pd.DataFrame(z, columns=list(columns))
    return frame.groupby(np.asarray(labels) + 1).mean()


def feature_words(feature):
    return feature.replace("_days", "").replace("_", " ")


def direction_words(column, high):
    """ "high X" / "low X"; for recency (days since the last purchase) "lapsed" / "recent"."""
    if column == "recency_days":
        return "lapsed" if high else "recent"
    return f"{'high' if high else 'low'} {feature_words(column)}"


def segment_names(Z, labels, columns, *, threshold=0.5, max_words=2):
    """Segment names (1..K) from the clustering space: "high X" / "low X" for the features whose
    segment mean is at least ``threshold`` standard deviations from the overall mean, the
    ``max_words`` farthest joined by " / ", else "average". Names are unique: where two would be
    equal the next such feature is added, then the segment number."""
    z = clustering_space_means(Z, labels, columns)
    words = {}
    for seg, row in z.iterrows():
        far = row[row.abs() >= threshold]
        order = far.abs().sort_values(ascending=False, kind="stable").index
        words[seg] = [direction_words(c, row[c] > 0) for c in order]
    names = {seg: " / ".join(w[:max_words]) or "average" for seg, w in words.items()}
    longer = dict(names)
    for seg, name in names.items():
        if list(names.values()).count(name) > 1 and len(words[seg]) > max_words:
            longer[seg] = " / ".join(words[seg][: max_words + 1])
    return {
        seg: name if list(longer.values()).count(name) == 1 else f"{name} (segment {seg})"
        for seg, name in longer.items()
    }
