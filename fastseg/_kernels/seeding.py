"""k-means++ seeding (greedy, with local trials) as one kernel over the fixed row slots."""

import numpy as np
from numba import prange

from ._config import JIT, njit


@njit(**JIT)
def _sample_row(closest, sample_weight, slot_pot, bounds, target):
    """First row whose running sum of ``w * closest`` reaches ``target`` (searchsorted 'left')."""
    n_slots = bounds.shape[0] - 1
    running = 0.0
    for s in range(n_slots):
        if running + slot_pot[s] >= target:
            inner = running
            for i in range(bounds[s], bounds[s + 1]):
                inner += sample_weight[i] * closest[i]
                if inner >= target:
                    return i
        running += slot_pot[s]
    return bounds[n_slots] - 1


@njit(parallel=True, **JIT)
def _closer(X, sample_weight, centre, bounds, closest, slot_pot):
    """Lower ``closest`` to the squared distance to ``centre`` where that is nearer, and refresh
    the per-slot potential ``slot_pot[s] = sum w * closest``."""
    n_features = X.shape[1]
    for s in prange(bounds.shape[0] - 1):
        acc = 0.0
        for i in range(bounds[s], bounds[s + 1]):
            d2 = X.dtype.type(0)
            for f in range(n_features):
                t = X[i, f] - centre[f]
                d2 += t * t
            if np.float64(d2) < closest[i]:
                closest[i] = d2
            acc += sample_weight[i] * closest[i]
        slot_pot[s] = acc


@njit(parallel=True, **JIT)
def kmeans_plusplus(X, sample_weight, first, uniforms, bounds, indices):
    """Greedy k-means++: each new centre is the best of ``L`` D^2-sampled candidates.

    X : (n, d) float32|float64, IN
    sample_weight : (n,) X.dtype, IN
    first : int -- row of the first centre (drawn by the caller)
    uniforms : (k - 1, L) float64 in [0, 1), IN -- one row of draws per further centre
    bounds : (n_slots + 1,) int64, IN
    indices : (k,) int64, OUT -- rows chosen as centres, in order
    """
    n_rows, n_features = X.shape
    n_centres = indices.shape[0]
    n_trials = uniforms.shape[1]
    n_slots = bounds.shape[0] - 1
    closest = np.full(n_rows, np.inf)
    slot_pot = np.empty(n_slots, dtype=np.float64)
    cand_pot = np.empty((n_slots, n_trials), dtype=np.float64)
    cand = np.empty(n_trials, dtype=np.int64)
    cand_rows = np.empty((n_trials, n_features), dtype=X.dtype)

    indices[0] = first
    _closer(X, sample_weight, X[first].copy(), bounds, closest, slot_pot)
    for c in range(1, n_centres):
        current_pot = 0.0
        for s in range(n_slots):
            current_pot += slot_pot[s]
        for t in range(n_trials):
            cand[t] = _sample_row(closest, sample_weight, slot_pot, bounds, uniforms[c - 1, t] * current_pot)
            cand_rows[t] = X[cand[t]]

        for s in prange(n_slots):
            pot = cand_pot[s]
            pot[:] = 0.0
            for i in range(bounds[s], bounds[s + 1]):
                ci = closest[i]
                wi = sample_weight[i]
                for t in range(n_trials):
                    d2 = X.dtype.type(0)
                    for f in range(n_features):
                        u = X[i, f] - cand_rows[t, f]
                        d2 += u * u
                    pot[t] += wi * min(ci, np.float64(d2))

        best_t = 0
        best_pot = np.inf
        for t in range(n_trials):
            total = 0.0
            for s in range(n_slots):
                total += cand_pot[s, t]
            if total < best_pot:
                best_pot = total
                best_t = t
        indices[c] = cand[best_t]
        _closer(X, sample_weight, cand_rows[best_t].copy(), bounds, closest, slot_pot)
