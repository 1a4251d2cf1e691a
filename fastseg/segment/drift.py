"""Keeping segment numbers across refits: match a new fit's segments to a saved model's, and
measure the drift between them (shares, centre shifts, customers who changed segment)."""

import numpy as np
from scipy.optimize import linear_sum_assignment

from .._pandas import require_pandas as _pandas

# A cluster of a fit not started from the previous centres whose centre lies farther than this
# from its matched previous centre (Euclidean, in the previous model's standardised clustering
# space, so in standard deviations) is a new segment; a segment followed from its previous centre
# (a refit started there) that moved farther than this is "shifted".
MAX_SHIFT = 1.0


def centres_in_previous_space(previous, frame, labels, k):
    """(k, d) means of the new segments' customers in the previous model's clustering space."""
    Z, _ = previous.transform(frame)
    labels = np.asarray(labels)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    sums = np.stack([np.bincount(labels, weights=Z[:, j], minlength=k) for j in range(Z.shape[1])], axis=1)
    return sums / np.maximum(counts, 1)[:, None]


def match_segments(previous, frame, labels, k, max_shift=MAX_SHIFT):
    """Segment numbers for a new fit's clusters, matched to the previous model's segments.

    The new clusters' centres (their customers' means in the previous model's space) are paired
    with the previous centres by the Hungarian algorithm on Euclidean distances; a pair farther
    apart than ``max_shift`` standard deviations is not a match. Matched clusters take the previous
    segment's number; the others are new and numbered after the previous model's largest number.

    Returns
    -------
    numbers : (k,) int64, segment number of each new cluster
    shifts : {segment number: centre shift in standard deviations} for matched segments
    """
    new = centres_in_previous_space(previous, frame, labels, k)
    old = previous.centres_in_space()
    cost = np.sqrt(((old[:, None, :] - new[None, :, :]) ** 2).sum(axis=2))
    rows, cols = linear_sum_assignment(cost)
    old_numbers = previous.segment_numbers
    numbers = np.zeros(k, dtype=np.int64)
    shifts = {}
    for r, c in zip(rows, cols):
        if cost[r, c] <= max_shift:
            numbers[c] = old_numbers[r]
            shifts[int(old_numbers[r])] = float(cost[r, c])
    next_number = int(old_numbers.max()) + 1
    for c in range(k):
        if numbers[c] == 0:
            numbers[c] = next_number
            next_number += 1
    return numbers, shifts


def followed_segments(previous, frame, labels, started_from):
    """(numbers, shifts) as :func:`match_segments` returns them, for a fit whose cluster j started
    from the previous model's cluster ``started_from[j]`` (-1: a new one): each keeps that
    segment's number, whatever its shift; new ones are numbered after the largest."""
    k = len(started_from)
    new = centres_in_previous_space(previous, frame, labels, k)
    old = previous.centres_in_space()
    old_numbers = previous.segment_numbers
    numbers = np.zeros(k, dtype=np.int64)
    shifts = {}
    next_number = int(old_numbers.max()) + 1
    for j, origin in enumerate(started_from):
        if origin >= 0:
            numbers[j] = old_numbers[origin]
            shifts[int(numbers[j])] = float(np.sqrt(((new[j] - old[origin]) ** 2).sum()))
        else:
            numbers[j] = next_number
            next_number += 1
    return numbers, shifts


def drift_table(previous, segments, names, shifts, ids=None, max_shift=MAX_SHIFT):
    """Per segment: status (kept, shifted: kept but its centre moved more than ``max_shift``
    SDs, new, vanished), share before and after, centre shift (SD) and the share of the
    customers present in both runs who were in the segment before and are in another now.

    ``segments``: the new fit's segment number per customer; ``ids``: their ids (text), matched
    against the ids stored in the previous model (no ``changed_share`` when either is missing).
    """
    pd = _pandas()
    segments = np.asarray(segments)
    before = previous.shares
    numbers, counts = np.unique(segments, return_counts=True)
    after = {int(s): c / counts.sum() for s, c in zip(numbers, counts)}
    moved, stayed_in = {}, {}
    both = 0
    if ids is not None and "ids" in previous.arrays:
        old = pd.Series(previous.arrays["segments"], index=pd.Index(previous.arrays["ids"]))
        old = old[~old.index.duplicated()]
        new = pd.Series(segments, index=pd.Index([str(v) for v in ids]))
        new = new[~new.index.duplicated()]
        common = old.index.intersection(new.index)
        both = len(common)
        was, now = old.loc[common].to_numpy(), new.loc[common].to_numpy()
        for s in np.unique(was):
            members = was == s
            stayed_in[int(s)] = int(members.sum())
            moved[int(s)] = int((now[members] != s).sum())
    rows = []
    for s in sorted(set(before) | set(after)):
        status = "kept" if s in before and s in after else ("new" if s in after else "vanished")
        if status == "kept" and shifts.get(s, 0.0) > max_shift:
            status = "shifted"
        rows.append(
            {
                "segment": s,
                "name": names.get(s, previous.names.get(s, "")),
                "status": status,
                "share_before": before.get(s, 0.0),
                "share_after": after.get(s, 0.0),
                "centre_shift_sd": shifts.get(s, np.nan),
                "customers_in_both": stayed_in.get(s, 0),
                "changed_share": moved[s] / stayed_in[s] if stayed_in.get(s) else np.nan,
            }
        )
    table = pd.DataFrame(rows).set_index("segment")
    table.attrs["customers_in_both"] = both
    table.attrs["changed_share"] = sum(moved.values()) / both if both else float("nan")
    return table


def follow_previous(result, previous, max_shift=MAX_SHIFT):
    """Renumber a :class:`~fastseg.segment.job.Segmentation` after ``previous`` (a loaded model),
    in place; returns it.

    Matched segments take the previous number and name; ``result`` gets new ``segment_numbers``
    (per cluster), ``names``, its profiles re-keyed by segment number and ``drift`` (see
    :func:`drift_table`; the customers present in both runs are matched by id).
    """
    k = result.k
    for feature, rows in previous.transform(result.customers)[1].items():
        result.data.report.note(f"{rows:,} customers have a {feature!r} value the previous model never saw")
    if result.started_from is not None:
        numbers, shifts = followed_segments(previous, result.customers, result.clusters, result.started_from)
    else:
        numbers, shifts = match_segments(previous, result.customers, result.clusters, k, max_shift)
    mapping = {j + 1: int(numbers[j]) for j in range(k)}
    old_names = previous.names
    names = {}
    for j in range(k):
        s = mapping[j + 1]
        names[s] = old_names[s] if s in shifts else result.names[j + 1]
    result.segment_numbers = numbers
    result.names = names
    result.feature_profile = result.feature_profile.rename(index=mapping).sort_index()
    result.z_means = result.z_means.rename(index=mapping).sort_index()
    ids = result.customers[result.id_column]
    result.drift = drift_table(previous, result.segments, names, shifts, ids, max_shift)
    return result


def describe_drift(drift, path):
    """What changed since the previous model (saved at ``path``), in a few lines for the screen."""
    kept = drift[drift["status"].isin(["kept", "shifted"])]
    lines = [f"Against the previous model ({path}): {len(kept)} segments kept their numbers and names."]
    shifted = drift[drift["status"] == "shifted"]
    if len(shifted):
        lines.append(
            "Shifted: "
            + ", ".join(
                f"{s} ({row['name']}) by {row['centre_shift_sd']:.1f} SD" for s, row in shifted.iterrows()
            )
        )
    for status, what in (("new", "New segments"), ("vanished", "Vanished segments")):
        rows = drift[drift["status"] == status]
        if len(rows):
            lines.append(f"{what}: " + ", ".join(f"{s} ({name})" for s, name in rows["name"].items()))
    both = drift.attrs.get("customers_in_both", 0)
    if both:
        lines.append(
            f"Of {both:,} customers in both runs, {drift.attrs['changed_share']:.1%} changed segment (drift.csv)."
        )
    return "\n".join(lines)
