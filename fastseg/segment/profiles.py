"""Describing segments: per-segment profiles in the data's units, standardised means, names."""

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


def standardised_means(frame, labels, features):
    """Segment means of each numeric feature in standard deviations from the overall mean."""
    pd = _pandas()
    numeric, _ = split_columns(frame, features)
    values = frame[numeric].astype(float)
    z = (values - values.mean()) / values.std(ddof=0).replace(0, 1)
    return z.groupby(pd.Series(np.asarray(labels) + 1, index=frame.index)).mean()


def feature_words(feature):
    return feature.replace("_days", "").replace("_", " ")


def segment_names(frame, labels, features):
    """Short names from the two most distinctive features of each segment ("high monthly spend /
    low hesitation time"); a third feature is added where two names would collide."""
    z = standardised_means(frame, labels, features)
    names = {}
    for seg, row in z.iterrows():
        order = row.abs().sort_values(ascending=False).index
        names[seg] = [f"{'high' if row[c] > 0 else 'low'} {feature_words(c)}" for c in order[:3]]
    short = {seg: " / ".join(words[:2]) for seg, words in names.items()}
    counts = {}
    for name in short.values():
        counts[name] = counts.get(name, 0) + 1
    return {seg: (" / ".join(names[seg]) if counts[short[seg]] > 1 else short[seg]) for seg in short}
