"""k-means++ seeding (greedy, with local trials): the per-slot passes the seeding loop is made of.

The loop over centres runs in Python (``fastseg._seeding.seed_indices``), so the same passes
serve data held in memory and data streamed in batches of slots.

Squared distances are summed in float64 and then rounded to X's dtype, as scikit-learn's
float32 distances (computed on float64 copies of its chunks), so float32 input draws the same
rows. ``shift`` (d,) is subtracted from every row first, in X's dtype: the rounding of
scikit-learn's centred copy of X (zeros: no centring).
"""

import numpy as np

from ._config import JIT, NO_FASTMATH
from ._numba import njit


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
def closer(X, sample_weight, shift, centre, bounds, closest, slot_pot):
    """Lower ``closest`` to the squared distance to ``centre`` where that is nearer, and refresh
    the per-slot potential ``slot_pot[s] = sum w * closest``.

    X : (n, d) float32|float64, IN
    sample_weight : (n,) X.dtype or (0,) for unit weights, IN
    shift : (d,) X.dtype, IN -- subtracted from each row (see the module docstring)
    centre : (d,) X.dtype, IN -- already shifted
    bounds : (n_slots + 1,) int64, IN -- slot edges within X
    closest : (n,) X.dtype, INOUT -- every value is a distance rounded to X.dtype (or inf)
    slot_pot : (n_slots,) float64, OUT
    """
    n_features = X.shape[1]
    unit = sample_weight.shape[0] == 0
    for s in range(bounds.shape[0] - 1):
        acc = 0.0
        for i in range(bounds[s], bounds[s + 1]):
            d2 = 0.0
            for f in range(n_features):
                t = np.float64(X[i, f] - shift[f]) - np.float64(centre[f])
                d2 += t * t
            d2x = closest.dtype.type(d2)
            if d2x < closest[i]:
                closest[i] = d2x
            w = 1.0 if unit else np.float64(sample_weight[i])
            acc += w * np.float64(closest[i])
        slot_pot[s] = acc


@njit(**NO_FASTMATH)
def draw_candidates(closest, sample_weight, targets, order, cand):
    """``cand = np.searchsorted(np.cumsum(w * closest), targets)`` without the (n,) running sums:
    they are added one by one in closest's dtype, as ``np.cumsum`` adds them, and compared with
    the float64 targets in float64, as ``np.searchsorted`` compares them.

    closest : (n,) float32|float64, IN
    sample_weight : (n,) closest.dtype or (0,) for unit weights, IN -- ``w * closest`` is rounded
        to closest's dtype before it is added, as NumPy's product is
    targets : (L,) float64, IN
    order : (L,) int64, IN -- ``np.argsort(targets)``
    cand : (L,) int64, OUT -- n where a target is above every running sum
    """
    n = closest.shape[0]
    unit = sample_weight.shape[0] == 0
    running = closest[0] - closest[0]  # a zero of closest's dtype
    j = 0
    for i in range(n):
        if j == order.shape[0]:
            break
        running += closest[i] if unit else sample_weight[i] * closest[i]
        while j < order.shape[0] and np.float64(running) >= targets[order[j]]:
            cand[order[j]] = i
            j += 1
    while j < order.shape[0]:
        cand[order[j]] = n
        j += 1


@njit(**JIT)
def candidate_distances(X, shift, closest, cand_rows, bounds, out):
    """``out[t, i] = min(closest[i], |x_i - cand_rows[t]|^2)``, the distance rounded to X.dtype:
    scikit-learn's ``np.minimum(closest, distance_to_candidates)``.

    X : (n, d) float32|float64, IN
    shift : (d,) X.dtype, IN -- subtracted from each row (see the module docstring)
    closest : (n,) X.dtype, IN -- may be ``out[t]`` itself (each entry is read before written)
    cand_rows : (L, d) X.dtype, IN -- the candidate centres, already shifted
    bounds : (n_slots + 1,) int64, IN -- slot edges within X
    out : (L, n) X.dtype, OUT
    """
    n_features = X.shape[1]
    n_trials = cand_rows.shape[0]
    cand = cand_rows.astype(np.float64)
    for s in range(bounds.shape[0] - 1):
        x = np.empty(n_features)  # the row in float64, once: the loops below then vectorise
        for i in range(bounds[s], bounds[s + 1]):
            for f in range(n_features):
                x[f] = np.float64(X[i, f] - shift[f])
            ci = closest[i]
            # Two candidates per pass over the row: each x[f] is loaded once for both (timed by
            # ``python -m benchmarks.seeding``); each distance is still its own sum, so the numbers
            # do not change.
            t = 0
            while t + 1 < n_trials:
                d2a = 0.0
                d2b = 0.0
                for f in range(n_features):
                    u = x[f] - cand[t, f]
                    d2a += u * u
                    v = x[f] - cand[t + 1, f]
                    d2b += v * v
                a = closest.dtype.type(d2a)
                b = closest.dtype.type(d2b)
                out[t, i] = a if a < ci else ci
                out[t + 1, i] = b if b < ci else ci
                t += 2
            if t < n_trials:
                d2 = 0.0
                for f in range(n_features):
                    u = x[f] - cand[t, f]
                    d2 += u * u
                d2x = closest.dtype.type(d2)
                out[t, i] = d2x if d2x < ci else ci


@njit(**JIT)
def candidate_potentials(X, sample_weight, shift, closest, cand_rows, bounds, cand_pot):
    """Potential ``sum w * min(closest, d(x, candidate)^2)`` of each candidate, per slot.

    X : (n, d) float32|float64, IN
    sample_weight : (n,) X.dtype or (0,) for unit weights, IN
    shift : (d,) X.dtype, IN -- subtracted from each row (see the module docstring)
    closest : (n,) X.dtype, IN
    cand_rows : (L, d) X.dtype, IN -- the candidate centres, already shifted
    bounds : (n_slots + 1,) int64, IN -- slot edges within X
    cand_pot : (n_slots, L) float64, OUT
    """
    n_features = X.shape[1]
    n_trials = cand_rows.shape[0]
    unit = sample_weight.shape[0] == 0
    cand = cand_rows.astype(np.float64)
    for s in range(bounds.shape[0] - 1):
        pot = cand_pot[s]
        pot[:] = 0.0
        x = np.empty(n_features)
        for i in range(bounds[s], bounds[s + 1]):
            for f in range(n_features):
                x[f] = np.float64(X[i, f] - shift[f])
            ci = closest[i]
            wi = 1.0 if unit else np.float64(sample_weight[i])
            for t in range(n_trials):
                d2 = 0.0
                for f in range(n_features):
                    u = x[f] - cand[t, f]
                    d2 += u * u
                d2x = closest.dtype.type(d2)
                pot[t] += wi * np.float64(d2x if d2x < ci else ci)
