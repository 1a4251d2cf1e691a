"""k-means++ seeding (greedy, with local trials): the per-slot passes the seeding loop is made of.

The loop over centres runs in Python (``fastseg._seeding.seed_indices``), so the same passes
serve data held in memory and data streamed in batches of slots.
"""

import numpy as np

from ._config import JIT, njit


@njit(**JIT)
def sample_row(closest, sample_weight, slot_pot, bounds, target):
    """First row whose running sum of ``w * closest`` reaches ``target`` (searchsorted 'left').

    closest : (n,) float32|float64, IN -- squared distance of each row to its nearest centre
    sample_weight : (n,) or (0,) for unit weights, IN
    slot_pot : (n_slots,) float64, IN -- ``sum w * closest`` of each slot
    bounds : (n_slots + 1,) int64, IN
    """
    n_slots = bounds.shape[0] - 1
    unit = sample_weight.shape[0] == 0
    running = 0.0
    for s in range(n_slots):
        if running + slot_pot[s] >= target:
            inner = running
            for i in range(bounds[s], bounds[s + 1]):
                w = 1.0 if unit else np.float64(sample_weight[i])
                inner += w * np.float64(closest[i])
                if inner >= target:
                    return i
        running += slot_pot[s]
    return bounds[n_slots] - 1


@njit(**JIT)
def closer(X, sample_weight, centre, bounds, closest, slot_pot):
    """Lower ``closest`` to the squared distance to ``centre`` where that is nearer, and refresh
    the per-slot potential ``slot_pot[s] = sum w * closest``.

    X : (n, d) float32|float64, IN
    sample_weight : (n,) X.dtype or (0,) for unit weights, IN
    centre : (d,) X.dtype, IN
    bounds : (n_slots + 1,) int64, IN -- slot edges within X
    closest : (n,) X.dtype, INOUT -- every value is a distance computed in X.dtype (or inf)
    slot_pot : (n_slots,) float64, OUT
    """
    n_features = X.shape[1]
    unit = sample_weight.shape[0] == 0
    for s in range(bounds.shape[0] - 1):
        acc = 0.0
        for i in range(bounds[s], bounds[s + 1]):
            d2 = X.dtype.type(0)
            for f in range(n_features):
                t = X[i, f] - centre[f]
                d2 += t * t
            if d2 < closest[i]:
                closest[i] = d2
            w = 1.0 if unit else np.float64(sample_weight[i])
            acc += w * np.float64(closest[i])
        slot_pot[s] = acc


@njit(**JIT)
def candidate_potentials(X, sample_weight, closest, cand_rows, bounds, cand_pot):
    """Potential ``sum w * min(closest, d(x, candidate)^2)`` of each candidate, per slot.

    X : (n, d) float32|float64, IN
    sample_weight : (n,) X.dtype or (0,) for unit weights, IN
    closest : (n,) X.dtype, IN
    cand_rows : (L, d) X.dtype, IN -- the candidate centres
    bounds : (n_slots + 1,) int64, IN -- slot edges within X
    cand_pot : (n_slots, L) float64, OUT
    """
    n_features = X.shape[1]
    n_trials = cand_rows.shape[0]
    unit = sample_weight.shape[0] == 0
    for s in range(bounds.shape[0] - 1):
        pot = cand_pot[s]
        pot[:] = 0.0
        for i in range(bounds[s], bounds[s + 1]):
            ci = closest[i]
            wi = 1.0 if unit else np.float64(sample_weight[i])
            for t in range(n_trials):
                d2 = X.dtype.type(0)
                for f in range(n_features):
                    u = X[i, f] - cand_rows[t, f]
                    d2 += u * u
                pot[t] += wi * np.float64(min(ci, d2))
