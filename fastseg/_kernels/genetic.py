"""Genetic-algorithm K-means kernels: population fitness (one pass over X for every
chromosome), roulette and tournament selection, crossover and mutation.

A population is a ``(P, k, d)`` array: chromosome ``p`` holds ``k`` centres. Random numbers are
drawn by the caller and passed in, so these functions are deterministic.
"""

import numpy as np

from ._config import BLOCK_ROWS, FEATURE_ORDER, JIT
from ._numba import njit
from .lloyd import FEATURE_GROUP, block_distances
from .search import first_above

_SMALLEST_NORMAL = np.finfo(np.float64).tiny
_SUBNORMAL_SCALE = 2.0**600


@njit(**FEATURE_ORDER)
def _distances_in_block(xt, centres, dist):
    """Squared distance of every lane of one transposed block to every centre.

    xt : (dp, BLOCK_ROWS), IN; centres : (m, dp) with zero-padded features, IN
    dist : (m, BLOCK_ROWS) xt.dtype, OUT
    ``lloyd.block_distances`` per centre: the numbers ``lloyd._nearest_in_block`` computes
    (without its argmin, which Lloyd needs and the fitness does not).
    """
    for u in range(centres.shape[0]):
        block_distances(xt, centres[u], dist[u])


@njit(**JIT)
def population_assign(X, sample_weight, centres, members, bounds, sse, sums, weights, update):
    """SSE of every chromosome, and (``update``) the cluster sums of one Lloyd step for each.

    Chromosomes share centres (crossover copies them, mutation moves few genes), so a block of
    rows is transposed once, its distances to every distinct centre computed once, and each
    chromosome takes the minimum over its own centres while the block is in cache.

    X : (n, d) float32|float64, IN
    sample_weight : (n,) X.dtype, IN
    centres : (m, d) X.dtype, IN -- the distinct centres of the population
    members : (P, k) int64, IN -- chromosome ``p``'s centre ``j`` is ``centres[members[p, j]]``
    bounds : (n_slots + 1,) int64, IN -- slot edges
    sse : (n_slots, P) float64, OUT -- weighted squared distance to the nearest centre
    sums : (n_slots, P, k, d) float64, OUT -- per-cluster weighted sums (when ``update``)
    weights : (n_slots, P, k) float64, OUT -- per-cluster summed weights (when ``update``)
    update : bool -- nearest centre: the first of the chromosome's on ties
    """
    n_features = X.shape[1]
    n_centres = centres.shape[0]
    n_pop, n_clusters = members.shape
    n_slots = bounds.shape[0] - 1
    zero = X.dtype.type(0)
    dp = -(-n_features // FEATURE_GROUP) * FEATURE_GROUP  # lloyd.padded_features
    # Centres with zero-padded features and a block with zero-padded feature rows: the padding
    # adds (0 - 0)^2 = 0 exactly.
    cp = np.zeros((n_centres, dp), dtype=X.dtype)
    for u in range(n_centres):
        for f in range(n_features):
            cp[u, f] = centres[u, f]
    xt = np.zeros((dp, BLOCK_ROWS), dtype=X.dtype)
    dist = np.empty((n_centres, BLOCK_ROWS), dtype=X.dtype)
    best_dist = np.empty(BLOCK_ROWS, dtype=X.dtype)
    best = np.empty(BLOCK_ROWS, dtype=np.int32)
    wb = np.zeros(BLOCK_ROWS, dtype=X.dtype)
    for s in range(n_slots):
        for p in range(n_pop):
            sse[s, p] = 0.0
            if update:
                for j in range(n_clusters):
                    weights[s, p, j] = 0.0
                    for f in range(n_features):
                        sums[s, p, j, f] = 0.0
        for start in range(bounds[s], bounds[s + 1], BLOCK_ROWS):
            m = min(BLOCK_ROWS, bounds[s + 1] - start)
            # Copies written as loops: a slice assignment between arrays brings in Numba's
            # shape-mismatch error formatting, seconds of compilation on a first run. Lanes past
            # ``m`` keep finite values of earlier rows and weigh 0.
            for b in range(m):
                wb[b] = sample_weight[start + b]
                for f in range(n_features):
                    xt[f, b] = X[start + b, f]
            for b in range(m, BLOCK_ROWS):
                wb[b] = zero
            _distances_in_block(xt, cp, dist)
            for p in range(n_pop):
                # Rows of ``dist`` indexed in place: a view per centre would cost reference-count
                # updates (atomic operations) per chromosome and centre of every block.
                u = members[p, 0]
                for b in range(BLOCK_ROWS):
                    best_dist[b] = dist[u, b]
                if update:
                    for b in range(BLOCK_ROWS):
                        best[b] = 0
                for j in range(1, n_clusters):
                    u = members[p, j]
                    if update:
                        jj = np.int32(j)
                        for b in range(BLOCK_ROWS):
                            if dist[u, b] < best_dist[b]:
                                best_dist[b] = dist[u, b]
                                best[b] = jj
                    else:  # the distance only: a plain minimum, SIMD on every target
                        for b in range(BLOCK_ROWS):
                            best_dist[b] = min(best_dist[b], dist[u, b])
                acc = zero
                for b in range(BLOCK_ROWS):
                    acc += wb[b] * best_dist[b]
                sse[s, p] += acc
                if update:
                    for b in range(m):
                        label = best[b]
                        w = wb[b]
                        weights[s, p, label] += w
                        for f in range(n_features):
                            sums[s, p, label, f] += w * xt[f, b]


@njit(**JIT)
def roulette_select(fitness, uniforms, out):
    """Roulette-wheel selection: row ``i`` is picked with probability ``fitness[i] / sum``.

    A population whose fitness sums to zero (all chromosomes equal) is sampled uniformly.

    fitness : (P,) float64 >= 0, IN; uniforms : (m,) float64 in [0, 1), IN; out : (m,) int64, OUT
    """
    n = fitness.shape[0]
    cumulative = np.empty(n, dtype=np.float64)
    total = 0.0
    for i in range(n):
        total += fitness[i]
        cumulative[i] = total
    if 0.0 < total < _SMALLEST_NORMAL:
        # Subnormal sums have too few digits for ``u * total`` to fall where it should: scale by
        # a power of two (exact, so the wheel's proportions are the same).
        total = 0.0
        for i in range(n):
            total += fitness[i] * _SUBNORMAL_SCALE
            cumulative[i] = total
    for r in range(uniforms.shape[0]):
        if total <= 0.0:
            out[r] = min(int(uniforms[r] * n), n - 1)
            continue
        out[r] = first_above(cumulative, uniforms[r] * total, n - 1)


@njit(**JIT)
def tournament_select(sse, candidates, out):
    """Tournament selection: the candidate with the lowest SSE wins (first one on ties).

    sse : (P,) float64, IN; candidates : (m, t) int64, IN; out : (m,) int64, OUT
    """
    for r in range(candidates.shape[0]):
        best = candidates[r, 0]
        for c in range(1, candidates.shape[1]):
            cand = candidates[r, c]
            if sse[cand] < sse[best]:
                best = cand
        out[r] = best


@njit(**JIT)
def crossover(population, parents, cuts, children):
    """Single-point crossover at centre boundaries.

    Pair ``q`` of ``parents`` gives children ``2q`` and ``2q + 1``: the first ``cuts[q]`` centres
    of one parent followed by the rest of the other's. ``cuts[q] == 0`` copies the parents.

    population : (P, k, d), IN; parents : (m, 2) int64, IN; cuts : (m,) int64 in [0, k), IN
    children : (2m, k, d), OUT
    """
    n_clusters, n_features = population.shape[1], population.shape[2]
    for q in range(parents.shape[0]):
        a = parents[q, 0]
        b = parents[q, 1]
        cut = cuts[q]
        for j in range(n_clusters):
            # The first child's centre j comes from ``a`` before the cut (or with no cut), else from ``b``.
            first, second = (a, b) if j < cut or cut == 0 else (b, a)
            for f in range(n_features):  # element copies: see population_assign
                children[2 * q, j, f] = population[first, j, f]
                children[2 * q + 1, j, f] = population[second, j, f]


@njit(**JIT)
def mutate(population, uniforms, noise, rate, scale, first):
    """Gaussian mutation: each gene of chromosomes ``first:`` moves by ``noise * scale[f]``
    with probability ``rate``.

    population : (P, k, d), INOUT; uniforms, noise : (P, k, d) float64, IN
    rate : float; scale : (d,) float64, IN -- per-feature step (e.g. a fraction of the spread)
    first : int -- chromosomes before it (the elite) are left unchanged
    """
    n_pop, n_clusters, n_features = population.shape
    for p in range(first, n_pop):
        for j in range(n_clusters):
            for f in range(n_features):
                if uniforms[p, j, f] < rate:
                    population[p, j, f] += noise[p, j, f] * scale[f]


@njit(**JIT)
def pnn_merge(centres, sizes, n_clusters, out):
    """Pairwise-nearest-neighbour merging (Ward's criterion) of weighted centroids down to
    ``n_clusters``: the pair whose merge adds the least SSE, ``n_a n_b / (n_a + n_b) |c_a - c_b|^2``,
    is merged into its first member, again and again. Returns the number of centres written.

    centres : (m, d) float64, IN -- centroids of the union of two parents' clusters
    sizes : (m,) float64, IN -- their weights; a centroid of weight 0 is dropped first
    n_clusters : int -- centres to keep
    out : (n_clusters, d) float64, OUT -- the kept centroids, in the order of their first member
        (fewer than n_clusters rows are written when fewer centroids have a weight)

    O(m^2) per merge on an (m, m) cost matrix: m is twice the number of clusters.
    The first pair in row-major order wins ties, so the result is deterministic.
    """
    m, d = centres.shape
    c = centres.copy()
    n = sizes.copy()
    alive = n > 0
    remaining = 0
    for a in range(m):
        if alive[a]:
            remaining += 1
    cost = np.full((m, m), np.inf)
    for a in range(m):
        if alive[a]:
            for b in range(a + 1, m):
                if alive[b]:
                    d2 = 0.0
                    for f in range(d):
                        t = c[a, f] - c[b, f]
                        d2 += t * t
                    cost[a, b] = n[a] * n[b] / (n[a] + n[b]) * d2
    while remaining > n_clusters:
        best, ba, bb = np.inf, -1, -1
        for a in range(m):
            if alive[a]:
                for b in range(a + 1, m):
                    if cost[a, b] < best:
                        best, ba, bb = cost[a, b], a, b
        total = n[ba] + n[bb]
        for f in range(d):
            c[ba, f] = (n[ba] * c[ba, f] + n[bb] * c[bb, f]) / total
        n[ba] = total
        alive[bb] = False
        remaining -= 1
        for e in range(m):  # the merged pair's row and column of costs
            cost[min(e, bb), max(e, bb)] = np.inf
        for e in range(m):
            if alive[e] and e != ba:
                d2 = 0.0
                for f in range(d):
                    t = c[ba, f] - c[e, f]
                    d2 += t * t
                cost[min(e, ba), max(e, ba)] = n[ba] * n[e] / (n[ba] + n[e]) * d2
    j = 0
    for a in range(m):
        if alive[a]:
            for f in range(d):
                out[j, f] = c[a, f]
            j += 1
    return j
