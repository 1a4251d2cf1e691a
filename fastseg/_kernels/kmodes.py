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


# -- k-prototypes (Huang 1998): numeric and categorical columns --------------------------------
@njit(inline="always", **NO_FASTMATH)
def _sq_block(Xnum, i, centroids, c, lo, hi):
    """sum over a in [lo, hi) (at most 128) of (centroids[c, a] - Xnum[i, a])**2, added as
    NumPy's ``sum`` adds a row: in order under 8 terms, else 8 running sums, combined in pairs."""
    n = hi - lo
    res = 0.0
    if n < 8:
        for a in range(lo, hi):
            d = centroids[c, a] - Xnum[i, a]
            res += d * d
        return res
    d0 = centroids[c, lo] - Xnum[i, lo]
    d1 = centroids[c, lo + 1] - Xnum[i, lo + 1]
    d2 = centroids[c, lo + 2] - Xnum[i, lo + 2]
    d3 = centroids[c, lo + 3] - Xnum[i, lo + 3]
    d4 = centroids[c, lo + 4] - Xnum[i, lo + 4]
    d5 = centroids[c, lo + 5] - Xnum[i, lo + 5]
    d6 = centroids[c, lo + 6] - Xnum[i, lo + 6]
    d7 = centroids[c, lo + 7] - Xnum[i, lo + 7]
    r0, r1, r2, r3, r4, r5, r6, r7 = d0 * d0, d1 * d1, d2 * d2, d3 * d3, d4 * d4, d5 * d5, d6 * d6, d7 * d7
    a = lo + 8
    while a < hi - (n % 8):
        d0 = centroids[c, a] - Xnum[i, a]
        d1 = centroids[c, a + 1] - Xnum[i, a + 1]
        d2 = centroids[c, a + 2] - Xnum[i, a + 2]
        d3 = centroids[c, a + 3] - Xnum[i, a + 3]
        d4 = centroids[c, a + 4] - Xnum[i, a + 4]
        d5 = centroids[c, a + 5] - Xnum[i, a + 5]
        d6 = centroids[c, a + 6] - Xnum[i, a + 6]
        d7 = centroids[c, a + 7] - Xnum[i, a + 7]
        r0 += d0 * d0
        r1 += d1 * d1
        r2 += d2 * d2
        r3 += d3 * d3
        r4 += d4 * d4
        r5 += d5 * d5
        r6 += d6 * d6
        r7 += d7 * d7
        a += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while a < hi:
        d = centroids[c, a] - Xnum[i, a]
        res += d * d
        a += 1
    return res


@njit(**NO_FASTMATH)
def _sq_tree(Xnum, i, centroids, c):
    """``_pairwise_sq`` above 128 columns: NumPy's halving (each half a multiple of 8 long),
    walked with a stack instead of recursion."""
    p = Xnum.shape[1]
    todo = np.empty((64, 3), dtype=np.int64)  # (lo, hi, children summed)
    values = np.empty(64)
    t, v = 0, 0
    todo[0, 0], todo[0, 1], todo[0, 2] = 0, p, 0
    t = 1
    while t > 0:
        t -= 1
        lo, hi, done = todo[t, 0], todo[t, 1], todo[t, 2]
        if hi - lo <= 128:
            values[v] = _sq_block(Xnum, i, centroids, c, lo, hi)
            v += 1
        elif done:
            v -= 1
            values[v - 1] = values[v - 1] + values[v]
        else:
            half = (hi - lo) // 2
            mid = lo + half - half % 8
            todo[t, 0], todo[t, 1], todo[t, 2] = lo, hi, 1
            todo[t + 1, 0], todo[t + 1, 1], todo[t + 1, 2] = mid, hi, 0
            todo[t + 2, 0], todo[t + 2, 1], todo[t + 2, 2] = lo, mid, 0
            t += 3
    return values[0]


@njit(inline="always", **NO_FASTMATH)
def _pairwise_sq(Xnum, i, centroids, c):
    """sum over the p numeric columns of (centroids[c, a] - Xnum[i, a])**2, added as NumPy's
    ``sum`` adds a row (its pairwise summation)."""
    if Xnum.shape[1] <= 128:
        return _sq_block(Xnum, i, centroids, c, 0, Xnum.shape[1])
    return _sq_tree(Xnum, i, centroids, c)


@njit(inline="always", **NO_FASTMATH)
def _nearest_mixed(Xnum, Xcat, i, centroids, modes, gamma):
    """(first prototype of the lowest squared distance + gamma x mismatches to row ``i``, it)."""
    best, best_d = 0, np.inf
    for c in range(modes.shape[0]):
        mismatches = 0
        for a in range(Xcat.shape[1]):
            if Xcat[i, a] != modes[c, a]:
                mismatches += 1
        d = _pairwise_sq(Xnum, i, centroids, c) + gamma * mismatches
        if d < best_d:
            best, best_d = c, d
    return best, best_d


@njit(**NO_FASTMATH)
def labels_cost_mixed(Xnum, Xcat, w, unit, gamma, centroids, modes, labels):
    """Nearest prototypes (labels OUT) and the weighted sum of their distances (float64)."""
    cost = 0.0
    for i in range(Xnum.shape[0]):
        c, d = _nearest_mixed(Xnum, Xcat, i, centroids, modes, gamma)
        labels[i] = c
        cost += d if unit else d * w[i]
    return cost


@njit(inline="always", **NO_FASTMATH)
def _move_sums(Xnum, i, to, frm, weight, attr_sum, memb_sum):
    """The package's ``_move_point_num``: the sums move with the weight, the sizes by one."""
    for a in range(Xnum.shape[1]):
        attr_sum[to, a] += Xnum[i, a] * weight
        attr_sum[frm, a] -= Xnum[i, a] * weight
    memb_sum[to] += 1.0
    memb_sum[frm] -= 1.0


@njit(**NO_FASTMATH)
def run_prototypes(Xnum, Xcat, w, unit, n_levels, gamma, centroids, modes, max_iter, key, pos, labels,
                   epoch_costs):  # fmt: skip
    """One k-prototypes run from ``centroids`` (numeric) and ``modes`` (categorical), with the
    `kmodes` package's steps: as ``run`` above, with each numeric centre the mean of its rows
    kept up to date as rows move.

    Xnum : (n, p) float64; Xcat : (n, m) int32 codes; centroids : (k, p) float64, INOUT;
    modes : (k, m) int64, INOUT; the rest as ``run``. Returns (cost, iterations), iterations -1
    (nothing else done) when the first assignment leaves a cluster empty: the caller draws again.
    """
    n, p = Xnum.shape
    m = Xcat.shape[1]
    k = modes.shape[0]
    counts = np.zeros((k, m, n_levels))
    seen = np.zeros((k, m, n_levels), dtype=np.bool_)
    members = np.zeros(k, dtype=np.int64)
    member = np.empty(n, dtype=np.int32)
    attr_sum = np.zeros((k, p))
    memb_sum = np.zeros(k)
    for i in range(n):  # the first assignment, to the initial prototypes as they are
        c, _ = _nearest_mixed(Xnum, Xcat, i, centroids, modes, gamma)
        member[i] = c
        members[c] += 1
        weight = 1.0 if unit else w[i]
        memb_sum[c] += weight
        for a in range(p):
            attr_sum[c, a] += Xnum[i, a] * weight
        for a in range(m):
            counts[c, a, Xcat[i, a]] += weight
            seen[c, a, Xcat[i, a]] = True
    for c in range(k):
        if members[c] == 0:
            return 0.0, -1
    for c in range(k):
        for a in range(p):
            centroids[c, a] = attr_sum[c, a] / memb_sum[c]
        for a in range(m):
            modes[c, a] = _mode(counts[c, a], seen[c, a])
    cost = labels_cost_mixed(Xnum, Xcat, w, unit, gamma, centroids, modes, labels)
    epoch_costs[0] = cost
    itr = 0
    converged = False
    while itr < max_iter and not converged:
        itr += 1
        moves = 0
        for i in range(n):
            c, _ = _nearest_mixed(Xnum, Xcat, i, centroids, modes, gamma)
            if member[i] == c:
                continue
            moves += 1
            old = member[i]
            weight = 1.0 if unit else w[i]
            _move_sums(Xnum, i, c, old, weight, attr_sum, memb_sum)
            _move(Xcat, i, c, old, weight, counts, seen, modes, member, members)
            for a in range(p):
                for cc in (np.int64(c), np.int64(old)):
                    centroids[cc, a] = attr_sum[cc, a] / memb_sum[cc] if memb_sum[cc] != 0.0 else 0.0
            if memb_sum[old] == 0.0:  # refill from a random member of the largest cluster
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
                # (moved with the weight of the row that emptied the cluster; the numeric centres
                # are left as they are until a row next moves in or out, as the package leaves them)
                _move_sums(Xnum, pick, old, largest, weight, attr_sum, memb_sum)
                _move(Xcat, pick, old, largest, weight, counts, seen, modes, member, members)
        ncost = labels_cost_mixed(Xnum, Xcat, w, unit, gamma, centroids, modes, labels)
        converged = moves == 0 or ncost >= cost
        epoch_costs[itr] = ncost
        cost = ncost
    return cost, itr


# -- coding text ------------------------------------------------------------------------------
@njit(**NO_FASTMATH)
def hash_words(words, out):
    """A 64-bit hash (FNV-1a over 32-bit words, trailing zero words skipped as NumPy's fixed-width
    text pads with them) of each cell of ``words`` (n, m, W) unsigned, OUT ``out`` (m, n) uint64
    (one row per column); the cells are read in memory order."""
    for i in range(words.shape[0]):
        for a in range(words.shape[1]):
            end = words.shape[2]
            while end > 0 and words[i, a, end - 1] == 0:
                end -= 1
            h = np.uint64(14695981039346656037)
            for j in range(end):
                h = (h ^ np.uint64(words[i, a, j])) * np.uint64(1099511628211)
            out[a, i] = h ^ np.uint64(end)


@njit(**NO_FASTMATH)
def same_words(words, codes, member):
    """Whether every cell (i, a) of ``words`` (n, m, W) equals cell (member[a, codes[a, i]], a):
    the hashes' coding holds. codes : (m, n); member : (m, L) a row of each code."""
    for i in range(words.shape[0]):
        for a in range(words.shape[1]):
            j = member[a, codes[a, i]]
            for t in range(words.shape[2]):
                if words[i, a, t] != words[j, a, t]:
                    return False
    return True
