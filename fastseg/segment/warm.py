"""A refit that starts where the previous run ended: the previous model's centres (or mixture)
carried through its preprocessing back to feature units and into the new run's preprocessing,
and the rule that keeps the previous K unless another K is clearly better."""

import numpy as np

# With --k omitted, the previous K stays unless the sweep's recommendation has a silhouette higher
# by more than this (silhouettes lie in [-1, 1]; the sweep's K values of one data set usually
# differ by 0.01-0.1), or the previous K is outside the sweep or leaves a segment too small.
KEEP_K_MARGIN = 0.05


def check_features(previous, features):
    """A one-line error when the run's features are not the previous model's."""
    if sorted(previous.features) != sorted(features):
        raise ValueError(
            f"the previous model was fitted on the features {','.join(previous.features)}; this run's are "
            f"{','.join(features)}: give the same features (--features) or leave out --previous"
        )


def choose_k(sweep, previous_k, min_segment_share, margin=KEEP_K_MARGIN):
    """(K, a sentence saying why) for a refit with the K sweep's table ``sweep``: the previous K
    unless the recommended K's silhouette is higher by more than ``margin``."""
    recommended = int(sweep.attrs["recommended_k"])
    if previous_k == recommended:
        return previous_k, f"K = {previous_k}, as in the previous model and the sweep's recommendation."
    if previous_k not in sweep.index:
        return recommended, (
            f"K = {recommended}, the sweep's recommendation: the previous K = {previous_k} is outside the sweep's range."
        )
    if sweep.loc[previous_k, "smallest_share"] < min_segment_share:
        return recommended, (
            f"K = {recommended}, the sweep's recommendation: at the previous K = {previous_k} a segment holds "
            f"{sweep.loc[previous_k, 'smallest_share']:.1%} of the customers (under {min_segment_share:.1%})."
        )
    gain = float(sweep.loc[recommended, "silhouette"] - sweep.loc[previous_k, "silhouette"])
    if gain > margin:
        return recommended, (
            f"K = {recommended}, changed from the previous K = {previous_k}: its silhouette is higher by {gain:.3f} "
            f"(more than {margin})."
        )
    return previous_k, (
        f"K = {previous_k}, kept from the previous model: the sweep's K = {recommended} scores {gain:+.3f} in "
        f"silhouette, not more than {margin} better."
    )


def _old_columns(previous):
    """{feature: values of the previous centres in feature units}, numeric features as (k,)
    arrays, categorical ones as {category: (k,) share}."""
    C = previous.centres_in_space()
    out, j = {}, 0
    for step in previous.meta["preprocessing"]:
        if step["kind"] == "numeric":
            x = C[:, j] * step["scale"] + step["mean"]
            out[step["feature"]] = np.expm1(x) if step["log1p"] else x
            j += 1
            continue
        cats = step["categories"]
        kept = [c for i, c in enumerate(cats) if i != step["drop"]]
        shares = {c: C[:, j + i] / step.get("value", 1.0) for i, c in enumerate(kept)}
        if step["drop"] is not None:  # the dropped category holds the rest
            shares[cats[step["drop"]]] = 1.0 - sum(shares.values())
        out[step["feature"]] = shares
        j += len(kept)
    return out


def carried_centres(previous, preprocessor):
    """(k, d) the previous model's centres (mixture: component means) in the clustering space of
    ``preprocessor`` (the new run's, fitted): back to feature units through the previous
    preprocessing, then through the new one. A category the previous fit never saw has share 0."""
    from .model import _preprocessing

    old = _old_columns(previous)
    columns = []
    for step in _preprocessing(preprocessor):
        feature = step["feature"]
        if step["kind"] == "numeric":
            x = old[feature] if not isinstance(old[feature], dict) else np.zeros(previous.k)
            if step["log1p"]:
                x = np.log1p(np.maximum(x, 0.0))
            columns.append((x - step["mean"]) / step["scale"])
            continue
        shares = old[feature] if isinstance(old[feature], dict) else {}
        for i, cat in enumerate(step["categories"]):
            if i != step["drop"]:
                share = np.asarray(shares.get(cat, np.zeros(previous.k)), dtype=np.float64)
                columns.append(share * step.get("value", 1.0))
    return np.stack(columns, axis=1)


def carried_precisions(previous, preprocessor, keep):
    """(len(keep), d, d) precisions of the previous mixture's components ``keep`` in the new
    run's clustering space, or None when that map is not linear on every column (a feature log-
    transformed in one run only, a category one run lacks) or the previous model is no
    full-covariance mixture. Each column maps as x_new = a x_old + b, so Cov_new = A Cov_old A."""
    from .model import _preprocessing

    if previous.method != "gmm" or previous.meta.get("covariance_type") != "full":
        return None
    index, j = {}, 0  # (feature, category or None) -> (old column, old scale)
    for step in previous.meta["preprocessing"]:
        if step["kind"] == "numeric":
            index[(step["feature"], None)] = (j, step["scale"], step["log1p"])
            j += 1
        else:
            for i, cat in enumerate(step["categories"]):
                if i != step["drop"]:
                    index[(step["feature"], cat)] = (j, step.get("value", 1.0), None)
                    j += 1
    order, factor = [], []
    for step in _preprocessing(preprocessor):
        if step["kind"] == "numeric":
            old = index.get((step["feature"], None))
            if old is None or old[2] != step["log1p"]:
                return None
            order.append(old[0])
            factor.append(old[1] / step["scale"])
        else:
            for i, cat in enumerate(step["categories"]):
                if i == step["drop"]:
                    continue
                old = index.get((step["feature"], cat))
                if old is None:
                    return None
                order.append(old[0])
                factor.append(step.get("value", 1.0) / old[1])
    if len(order) != j:
        return None
    L = np.asarray(previous.arrays["precisions_cholesky"], dtype=np.float64)[keep]
    covariances = np.linalg.inv(L @ np.swapaxes(L, 1, 2))
    a = np.asarray(factor)
    covariances = covariances[:, order][:, :, order] * a[None, :, None] * a[None, None, :]
    return np.linalg.inv(covariances)


def start_mixture(Z, centres, reg_covar=1e-6):
    """(weights, means, precisions) of a full-covariance mixture starting at ``centres``: each row
    of ``Z`` goes to its nearest centre; weights and covariances are those groups' (a group of
    fewer than two rows takes the covariance of all rows)."""
    Z = np.asarray(Z, dtype=np.float64)
    k, d = centres.shape
    nearest = ((Z[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    counts = np.bincount(nearest, minlength=k).astype(np.float64)
    overall = np.cov(Z, rowvar=False).reshape(d, d)
    precisions = np.empty((k, d, d))
    for j in range(k):
        members = Z[nearest == j]
        cov = overall if members.shape[0] < 2 else np.cov(members, rowvar=False, bias=True).reshape(d, d)
        precisions[j] = np.linalg.inv(cov + reg_covar * np.eye(d))
    weights = np.maximum(counts, 1.0)
    return weights / weights.sum(), np.ascontiguousarray(centres, dtype=np.float64), precisions


def start_centres(previous, preprocessor, Z, k, random_state):
    """(k, d) starting centres for a refit with ``k`` segments: the previous centres carried
    into this run's space; for a larger K, extra centres drawn from the rows of ``Z`` the
    k-means++ way (probability proportional to the squared distance to the nearest centre
    so far); for a smaller K, the centres of the ``k`` largest previous segments. Also returns
    the previous cluster index of each kept centre (-1 for an extra one)."""
    centres = carried_centres(previous, preprocessor)
    shares = np.array([previous.shares[int(s)] for s in previous.segment_numbers])
    if k <= centres.shape[0]:
        keep = np.sort(np.argsort(-shares, kind="stable")[:k])
        return np.ascontiguousarray(centres[keep]), keep
    rng = np.random.default_rng(random_state)
    Z = np.asarray(Z, dtype=np.float64)
    chosen = list(centres)
    nearest = ((Z[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).min(axis=1)
    while len(chosen) < k:
        total = nearest.sum()
        i = int(rng.choice(Z.shape[0], p=nearest / total)) if total > 0 else int(rng.integers(Z.shape[0]))
        chosen.append(Z[i])
        nearest = np.minimum(nearest, ((Z - Z[i]) ** 2).sum(axis=1))
    origin = np.concatenate([np.arange(centres.shape[0]), np.full(k - centres.shape[0], -1)])
    return np.ascontiguousarray(np.stack(chosen)), origin
