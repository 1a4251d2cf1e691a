"""K-modes (Huang 1998) on integer-coded categories: one run from initial modes, with the
`kmodes` package's steps (points moved one at a time in row order, the modes kept up to date as
each moves, an emptied cluster refilled with a random member of the largest, the run stopped when
nothing moves or the cost does not fall), its draws replayed from NumPy's legacy generator.

Per cluster and attribute the weight of each category is kept in ``counts``; ``seen`` marks the
categories the cluster has counted at all (the keys of the package's frequency dictionaries,
which a mode is chosen among: the largest weight, the smallest code on a tie).
"""

import numpy as np

from ._config import NO_FASTMATH
from ._numba import njit
from .minibatch import bounded


@njit(inline="always", **NO_FASTMATH)
def _nearest(X, i, modes):
    """(index of the first mode with the fewest mismatches to row ``i``, that number)."""
    best, best_d = 0, X.shape[1] + 1
    for c in range(modes.shape[0]):
        d = 0
        for a in range(X.shape[1]):
            if X[i, a] != modes[c, a]:
                d += 1
        if d < best_d:
            best, best_d = c, d
    return best, best_d


@njit(inline="always", **NO_FASTMATH)
def _mode(counts, seen):
    """The category of largest weight among those seen (the smallest code on a tie)."""
    best, best_w = -1, 0.0
    for v in range(counts.shape[0]):
        if seen[v] and (best < 0 or counts[v] > best_w):
            best, best_w = v, counts[v]
    return best


@njit(inline="always", **NO_FASTMATH)
def _move(X, i, to, frm, weight, counts, seen, modes, labels, members):
    """Row ``i`` leaves cluster ``frm`` for ``to``; both clusters' modes follow, as the package's
    ``_move_point_cat`` updates them."""
    labels[i] = to
    members[to] += 1
    members[frm] -= 1
    for a in range(X.shape[1]):
        v = X[i, a]
        counts[to, a, v] += weight
        seen[to, a, v] = True
        current = modes[to, a]
        seen[to, a, current] = True  # looked up, so counted (at 0) from now on
        if counts[to, a, current] < counts[to, a, v]:
            modes[to, a] = v
        counts[frm, a, v] -= weight
        if modes[frm, a] == v:
            modes[frm, a] = _mode(counts[frm, a], seen[frm, a])


@njit(**NO_FASTMATH)
def labels_cost(X, w, unit, modes, labels):
    """Nearest modes (labels OUT) and the weighted number of mismatches to them (float64)."""
    cost = 0.0
    for i in range(X.shape[0]):
        c, d = _nearest(X, i, modes)
        labels[i] = c
        cost += d * (1.0 if unit else w[i])
    return cost


@njit(**NO_FASTMATH)
def run(X, w, unit, n_levels, modes, max_iter, key, pos, labels, epoch_costs):
    """One k-modes run from ``modes``.

    X : (n, m) int32 codes 0 .. n_levels - 1, IN; w : (n,) float64 (unused when ``unit``);
    modes : (k, m) int64, INOUT; key, pos : the generator state (the run's ``RandomState``),
    INOUT; labels : (n,) int32, OUT; epoch_costs : (max_iter + 1,) float64, OUT.
    Returns (cost, iterations).
    """
    n, m = X.shape
    k = modes.shape[0]
    counts = np.zeros((k, m, n_levels))
    seen = np.zeros((k, m, n_levels), dtype=np.bool_)
    members = np.zeros(k, dtype=np.int64)
    member = np.empty(n, dtype=np.int32)  # cluster of each row, kept while points move
    for i in range(n):  # the first assignment, to the initial modes as they are
        c, _ = _nearest(X, i, modes)
        member[i] = c
        members[c] += 1
        for a in range(m):
            counts[c, a, X[i, a]] += 1.0 if unit else w[i]
            seen[c, a, X[i, a]] = True
    for c in range(k):
        for a in range(m):
            if members[c] == 0:  # an empty cluster: the category of a random row
                modes[c, a] = X[bounded(key, pos, n - 1), a]
            else:
                modes[c, a] = _mode(counts[c, a], seen[c, a])
    cost = labels_cost(X, w, unit, modes, labels)
    epoch_costs[0] = cost
    itr = 0
    converged = False
    while itr < max_iter and not converged:
        itr += 1
        moves = 0
        for i in range(n):
            c, _ = _nearest(X, i, modes)
            if member[i] == c:
                continue
            moves += 1
            old = member[i]
            weight = 1.0 if unit else w[i]
            _move(X, i, c, old, weight, counts, seen, modes, member, members)
            if members[old] == 0:  # refill from a random member of the largest cluster
                largest = 0
                for cc in range(1, k):
                    if members[cc] > members[largest]:
                        largest = cc
                r = bounded(key, pos, members[largest] - 1)
                pick = -1
                for j in range(n):
                    if member[j] == largest:
                        if r == 0:
                            pick = j
                            break
                        r -= 1
                # (the package moves it with the weight of the row that emptied the cluster)
                _move(X, pick, old, largest, weight, counts, seen, modes, member, members)
        ncost = labels_cost(X, w, unit, modes, labels)
        converged = moves == 0 or ncost >= cost
        epoch_costs[itr] = ncost
        cost = ncost
    return cost, itr
