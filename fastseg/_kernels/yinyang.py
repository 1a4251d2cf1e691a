"""Yinyang K-means assignment (Ding et al. 2015): bounds skip distance work, labels stay Lloyd's.

Centres are split into groups. Each row keeps an upper bound on the distance to its own centre,
a global lower bound to every other centre and one lower bound per group. All bounds are stored
*lazily*, relative to the cumulative drift of the centres, so rows that pass the global filter
only read three numbers. Rows that fail it get fast distances (any summation order, bounded
error) to the groups whose bound fails; when two centres are within rounding of each other, the
exact numbers of the Lloyd kernel that ``_blas.score_kernel`` picks decide (for the GEMM kernel:
its chunk's GEMM, recomputed, since BLAS kernels add the products in an order of their own that
differs between CPUs; for the dot kernel: the same feature-order chain of fused multiply-adds),
so every argmin (first index on ties) agrees with Lloyd. The per-slot
statistics move the rows whose label changed, in Lloyd's row order with Lloyd's own functions
(``lloyd.move_rows``), so the centres agree bitwise.

Layout: centres are permuted so each group is contiguous (``cr``), and ``order[p]`` is the
original index of permuted position ``p``.
"""

import numpy as np

from ._config import BLOCK_ROWS, CHUNK_ROWS, FEATURE_ORDER, JIT
from ._numba import njit
from .lloyd import DOT, FUSED, GEMM, MOVES, move_rows, take_labels, transpose_rows
from .scores import gemm_centres, gemm_chunk


@njit(**FEATURE_ORDER)
def _score_one(xs, cr, p):
    """The fused Lloyd kernel's distance of one row to the centre at position ``p``, summed in
    feature order with fused multiply-adds.

    xs : (d,) X.dtype, IN; cr : (k, d) X.dtype, IN -- centres in permuted order
    """
    acc = xs.dtype.type(0)
    for f in range(xs.shape[0]):
        t = xs[f] - cr[p, f]
        acc += t * t
    return acc


@njit(**FEATURE_ORDER)
def _dot_score(xs, shifted, half_norms, j):
    """The dot kernel's score of one shifted row for centre ``j`` (``scores.dot_scores_block``):
    its dot product is the feature-order chain of fused multiply-adds from 0.

    xs : (d,) X.dtype, IN -- the row minus ``x_shift``; shifted, half_norms : ``gemm_centres``
    """
    acc = xs.dtype.type(0)
    for f in range(xs.shape[0]):
        acc += xs[f] * shifted[j, f]
    return half_norms[j] - acc


@njit(**JIT)
def row_norms_shifted(X, x_shift, out):
    """Euclidean norm of each row minus ``x_shift``, in float64 from the X.dtype differences.

    X : (n, d), IN; x_shift : (d,) X.dtype, IN; out : (n,) float64, OUT
    """
    for i in range(X.shape[0]):
        s = 0.0
        for f in range(X.shape[1]):
            t = np.float64(X[i, f] - x_shift[f])
            s += t * t
        out[i] = np.sqrt(s)


@njit(**JIT)
def init_bounds(
    X, sample_weight, centres, x_shift, scores, group_of, order, gstart, gamma, m_coef, cmax, x_norm,
    bounds, labels, ub, lb_all, lb, sums, weights, counts, changed,
):  # fmt: skip
    """Dense pass: Lloyd's assignment (same blocks, same arithmetic) plus every bound, fresh.

    Used first and whenever most rows would fail the global filter (after large centre moves).

    The distance/score block and the argmin repeat ``lloyd.assign_fused`` (``scores`` FUSED,
    ``BLOCK_ROWS`` rows, lanes over rows), ``scores.assign_gemm`` (GEMM: ``CHUNK_ROWS`` rows, one
    GEMM; the caller limits BLAS to one thread) or ``scores.assign_dot`` (DOT: each score's
    feature-order chain of fused multiply-adds, lanes over rows). The bounds come from each group's smallest value
    (SIMD lanes over rows), for the row's own group the smallest over its other centres.

    X : (n, d) float32|float64, IN; sample_weight : (n,) or (0,) X.dtype, IN (0: unit weights)
    centres : (k, d) X.dtype, IN; x_shift : (d,) X.dtype, IN (GEMM, DOT: the data mean)
    scores : FUSED, GEMM or DOT -- the Lloyd kernel whose numbers decide
    group_of : (k,) int64, IN; order, gstart : the group layout (see ``assign_yinyang``), IN
    gamma, m_coef, cmax, x_norm : rounding model, see ``assign_yinyang``
    bounds : (n_slots + 1,) int64, IN
    ub, lb_all : (n,) float64, OUT; lb : (n, t) float64, OUT -- stored for zero cumulative drift
    labels : (n,) int32, INOUT -- the previous labels in (-1 at first), Lloyd's labels out
    sums, weights, counts, changed : as ``lloyd.assign_fused`` with ``update=MOVES``, INOUT / OUT
    """
    shifted, half_norms = gemm_centres(centres, x_shift)
    # The slots' loop and body in one kernel: a nested kernel is compiled again inside its caller
    # on a first run (see ``lloyd.assign_fused``).
    for s in range(bounds.shape[0] - 1):
        n_groups = gstart.shape[0] - 1
        n_features = X.shape[1]
        n_clusters = centres.shape[0]
        zero = X.dtype.type(0)
        up_rel = 1.0 / np.sqrt(1.0 - gamma)
        lo_rel = 1.0 / np.sqrt(1.0 + gamma)
        by_score = scores != FUSED  # scores |c|^2 / 2 - c.x on shifted rows, not distances
        block = CHUNK_ROWS if by_score else BLOCK_ROWS  # the Lloyd kernel's chunks or blocks
        xt = np.zeros((n_features, block), dtype=X.dtype)
        chunk = np.zeros((block, n_features), dtype=X.dtype)
        dist = np.empty((n_clusters, block), dtype=X.dtype)
        best_dist = np.empty(block, dtype=X.dtype)
        best = np.empty(block, dtype=np.int32)
        moves = np.empty((2, block), dtype=np.int32)
        m1 = np.empty((n_groups, block), dtype=X.dtype)
        lbt = np.empty((n_groups, block))
        up = np.empty(block)
        low = np.empty(block)
        mh = np.empty(block)
        xn2 = np.empty(block)
        slot_sums = sums[s]
        slot_weights = weights[s]
        slot_counts = counts[s]
        n_changed = 0
        for start in range(bounds[s], bounds[s + 1], block):
            m = min(block, bounds[s + 1] - start)
            if scores == GEMM:
                gemm_chunk(X, x_shift, shifted, start, start + m, chunk, dist)
                for j in range(n_clusters):
                    h = half_norms[j]
                    dj = dist[j]
                    for b in range(block):
                        dj[b] = h - dj[b]
            elif scores == DOT:
                transpose_rows(X, start, m, x_shift, xt)
                for j in range(n_clusters):
                    dj = dist[j]
                    for b in range(block):
                        dj[b] = zero
                    for f in range(n_features):
                        c = shifted[j, f]
                        xf = xt[f]
                        for b in range(block):
                            dj[b] += xf[b] * c
                    h = half_norms[j]
                    for b in range(block):
                        dj[b] = h - dj[b]
            else:
                for b in range(m):
                    for f in range(n_features):
                        xt[f, b] = X[start + b, f]
                for j in range(n_clusters):
                    dj = dist[j]
                    for b in range(block):
                        dj[b] = zero
                    for f in range(n_features):
                        c = centres[j, f]
                        xf = xt[f]
                        for b in range(block):
                            t = xf[b] - c
                            dj[b] += t * t
            for b in range(block):
                best_dist[b] = dist[0, b]
                best[b] = 0
            for j in range(1, n_clusters):
                dj = dist[j]
                jj = np.int32(j)
                for b in range(block):
                    if dj[b] < best_dist[b]:
                        best_dist[b] = dj[b]
                        best[b] = jj
            for g in range(n_groups):
                for b in range(block):
                    m1[g, b] = np.inf
            for j in range(n_clusters):
                dj = dist[j]
                g1 = m1[group_of[j]]
                for b in range(block):
                    g1[b] = min(g1[b], dj[b])
            for b in range(block):
                i = start + min(b, m - 1)
                mh[b] = m_coef * (cmax + x_norm[i]) ** 2 if by_score else 0.0
                xn2[b] = x_norm[i] * x_norm[i] if by_score else 0.0
                label = best[b]
                own = group_of[label]
                # The own group's bound is over its other centres (equal values count).
                second = X.dtype.type(np.inf)
                for p in range(gstart[own], gstart[own + 1]):
                    if order[p] != label:
                        second = min(second, dist[order[p], b])
                m1[own, b] = second
            # Bounds with SIMD lanes over rows (a square root per row and group).
            for b in range(block):
                v = best_dist[b]
                d2 = 2.0 * v + xn2[b] if by_score else np.float64(v)
                up[b] = np.sqrt(max(d2 * up_rel * up_rel + mh[b], 0.0))
                low[b] = np.inf
            for g in range(n_groups):
                mg = m1[g]
                lg = lbt[g]
                for b in range(block):
                    v = mg[b]
                    d2 = 2.0 * v + xn2[b] if by_score else np.float64(v)
                    lg[b] = np.sqrt(max(d2 * lo_rel * lo_rel - mh[b], 0.0))
                    low[b] = min(low[b], lg[b])
            for b in range(m):
                i = start + b
                ub[i] = up[b]
                lb_all[i] = low[b]
                for g in range(n_groups):
                    lb[i, g] = lbt[g, b]
            n_changed += take_labels(
                X, sample_weight, start, m, best, moves, labels, slot_sums, slot_weights, slot_counts, MOVES
            )
        changed[s] = n_changed


@njit(inline="always", **JIT)
def _sq_dist(X, i, centres, j):
    """Squared distance of row i to centre j in X.dtype, any summation order (for bounds only)."""
    acc = X.dtype.type(0)
    for f in range(X.shape[1]):
        t = X[i, f] - centres[j, f]
        acc += t * t
    return acc


@njit(**JIT)
def assign_yinyang(
    X, sample_weight, centres, cr, x_shift, order, position, gstart, group_of, scores, gamma, m_coef,
    cmax, slack, x_norm, cum_c, cum_g, cum_all, bounds, labels, ub, lb_all, lb, sums, weights, counts, changed,
    work,
):  # fmt: skip
    """Filtered assignment of every row, then Lloyd's per-slot accumulation.

    Bounds on true Euclidean distances are stored lazily: the current upper bound of row i is
    ``ub[i] + cum_c[labels[i]]``, its global lower bound ``lb_all[i] - cum_all`` and its bound for
    group g ``lb[i, g] - cum_g[g]`` (``cum_*`` only grow). Computed values are widened by their
    worst-case rounding error before they become bounds, and a group is skipped only if
    ``l > u_eff``, with ``u_eff`` covering the rounding of the Lloyd kernel's own comparison.

    X : (n, d) float32|float64, IN
    sample_weight : (n,) or (0,) X.dtype, IN -- length 0 means unit weights
    centres : (k, d) X.dtype, IN; cr : (k, d) X.dtype, IN -- centres in permuted order
    x_shift : (d,) X.dtype, IN -- data mean (GEMM, DOT) or zeros (FUSED)
    order : (k,) int32, IN -- original index of each permuted position
    position : (k,) int64, IN -- permuted position of each centre
    gstart : (t + 1,) int64, IN -- group g holds positions ``[gstart[g], gstart[g + 1])``
    group_of : (k,) int64, IN
    scores : FUSED, GEMM or DOT -- compare the distances of the fused kernel, or the scores
        ``|c|^2 / 2 - c.x`` of the GEMM or dot kernel
    gamma : float -- relative error bound of a squared distance computed directly in X.dtype
    m_coef, cmax : float -- (scores) a squared distance from a score is within
        ``m_coef * (cmax + |x|)^2`` of the true one; two scores compare right beyond twice that
    slack : float -- absolute slack for the lazy bound arithmetic (float64 cancellation)
    x_norm : (n,) float64, IN -- |x - x_shift| (scores) or zeros
    cum_c : (k,) float64, IN; cum_g : (t,) float64, IN; cum_all : float
    bounds : (n_slots + 1,) int64, IN
    labels : (n,) int32, INOUT
    ub : (n,) float64, INOUT; lb_all : (n,) float64, INOUT; lb : (n, t) float64, INOUT
    sums, weights, counts : the statistics of the labels passed in, moved as ``lloyd.assign_fused``
        moves them (``update=MOVES``), INOUT
    changed : (n_slots,) int64, OUT
    work : (n_slots, 3) int64, OUT -- rows past the global filter, rows past the tightened
        filter, groups recomputed (for benchmarks and tests)
    """
    shifted, half_norms = gemm_centres(centres, x_shift)
    # The slots' loop and body in one kernel: a nested kernel is compiled again inside its caller
    # on a first run (see ``lloyd.assign_fused``).
    for s in range(bounds.shape[0] - 1):
        n_features = X.shape[1]
        kp = order.shape[0]
        n_groups = gstart.shape[0] - 1
        up_rel = 1.0 / np.sqrt(1.0 - gamma)
        lo_rel = 1.0 / np.sqrt(1.0 + gamma)
        # Comparisons: the fused kernel's distances are relatively accurate, the scores absolutely.
        by_score = scores != FUSED
        cmp_rel = 1.0 if by_score else np.sqrt((1.0 + gamma) / (1.0 - gamma))
        cmp2 = cmp_rel * cmp_rel
        xs = np.empty(n_features, dtype=X.dtype)
        # Lloyd's GEMM scores of the chunk of the last near tie (chunk edges as in ``assign_gemm``).
        chunk = np.zeros((CHUNK_ROWS if scores == GEMM else 0, n_features), dtype=X.dtype)
        prod = np.empty((kp, CHUNK_ROWS if scores == GEMM else 0), dtype=X.dtype)
        chunk_start = np.int64(-1)
        fast = np.empty(kp)
        cur = np.empty(n_groups, dtype=np.float64)
        fresh = np.zeros(n_groups, dtype=np.bool_)
        slot_sums = sums[s]
        slot_weights = weights[s]
        slot_counts = counts[s]
        n_changed = 0
        n_tight = 0
        n_rows = 0
        n_groups_done = 0
        moves = np.empty((2, CHUNK_ROWS), dtype=np.int32)
        n_moves = 0
        run = bounds[s]  # first row of the chunk whose statistics are not yet moved
        for i in range(bounds[s], bounds[s + 1]):
            a = labels[i]
            old = a
            m_half = m_coef * (cmax + x_norm[i]) ** 2 if by_score else 0.0
            # Skip when l > u_eff = sqrt(u^2 cmp_rel^2 + 2 m_half) + slack, tested on squares.
            u = ub[i] + cum_c[a]
            l_all = lb_all[i] - cum_all - slack
            if not (l_all > 0.0 and l_all * l_all > u * u * cmp2 + 2.0 * m_half):
                n_tight += 1
                # Tighten the upper bound with a fast direct distance, then filter again.
                fa = np.float64(_sq_dist(X, i, centres, a))
                u_eff2 = fa * up_rel * up_rel * cmp2 + 2.0 * m_half
                ub[i] = np.sqrt(fa) * up_rel - cum_c[a]
                u_eff = 0.0
                low = np.inf
                if not (l_all > 0.0 and l_all * l_all > u_eff2):
                    u_eff = np.sqrt(u_eff2) + slack
                    # The group bounds decay by their own drift only: their minimum is tighter.
                    for g in range(n_groups):
                        cur[g] = lb[i, g] - cum_g[g]
                        low = min(low, cur[g])
                    lb_all[i] = low + cum_all
                if not (low > u_eff):
                    n_rows += 1
                    own = group_of[a]
                    # Fast distances (any summation order, relative error <= gamma) to the centres
                    # of every group whose bound fails.
                    fb = fa
                    for g in range(n_groups):
                        fresh[g] = not (cur[g] > u_eff)
                        if fresh[g]:
                            n_groups_done += 1
                            for p in range(gstart[g], gstart[g + 1]):
                                v = np.float64(_sq_dist(X, i, cr, p))
                                fast[p] = v
                                fb = min(fb, v)
                    # Candidates: the centres the Lloyd kernel's rounded comparison could pick.
                    limit = (fb * up_rel * up_rel * cmp_rel * cmp_rel + 2.0 * m_half) / (lo_rel * lo_rel)
                    limit = limit * (1.0 + 1e-12)
                    n_cand = 0
                    best = a
                    if not fresh[own] and fa <= limit:
                        n_cand += 1
                    for g in range(n_groups):
                        if fresh[g]:
                            for p in range(gstart[g], gstart[g + 1]):
                                if fast[p] <= limit:
                                    n_cand += 1
                                    best = order[p]
                    if n_cand > 1:
                        # Near tie: Lloyd's own numbers decide, first index on equal values.
                        b = 0
                        if scores == GEMM:
                            start = bounds[s] + (i - bounds[s]) // CHUNK_ROWS * CHUNK_ROWS
                            b = i - start
                            if start != chunk_start:
                                stop = min(start + CHUNK_ROWS, bounds[s + 1])
                                gemm_chunk(X, x_shift, shifted, start, stop, chunk, prod)
                                chunk_start = start
                        else:
                            for f in range(n_features):
                                xs[f] = X[i, f] - x_shift[f]  # zeros for FUSED: X exactly
                        best = -1
                        best_v = X.dtype.type(np.inf)
                        if not fresh[own] and fa <= limit:
                            best = a
                            if scores == GEMM:
                                best_v = half_norms[a] - prod[a, b]
                            elif scores == DOT:
                                best_v = _dot_score(xs, shifted, half_norms, a)
                            else:
                                best_v = _score_one(xs, cr, position[a])
                        for g in range(n_groups):
                            if fresh[g]:
                                for p in range(gstart[g], gstart[g + 1]):
                                    if fast[p] <= limit:
                                        j = order[p]
                                        if scores == GEMM:
                                            v = half_norms[j] - prod[j, b]
                                        elif scores == DOT:
                                            v = _dot_score(xs, shifted, half_norms, j)
                                        else:
                                            v = _score_one(xs, cr, p)
                                        if v < best_v or (v == best_v and j < best):
                                            best_v = v
                                            best = j
                    # New bounds from the fast distances, widened by their error.
                    f_best = fa if best == a and not fresh[own] else fast[position[best]]
                    ub[i] = np.sqrt(f_best) * up_rel - cum_c[best]
                    for g in range(n_groups):
                        if fresh[g]:
                            m = np.inf
                            for p in range(gstart[g], gstart[g + 1]):
                                if order[p] != best:
                                    m = min(m, fast[p])
                            cur[g] = np.sqrt(m) * lo_rel
                            lb[i, g] = cur[g] + cum_g[g]
                    if best != a and not fresh[own]:
                        # The old centre is now one of the others: its group bound must cover it.
                        lg = np.sqrt(fa) * lo_rel
                        if lg < cur[own]:
                            cur[own] = lg
                            lb[i, own] = lg + cum_g[own]
                    low = np.inf
                    for g in range(n_groups):
                        low = min(low, cur[g])
                        fresh[g] = False
                    lb_all[i] = low + cum_all
                    if best != a:
                        n_changed += 1
                        labels[i] = best
                        a = best
            # Lloyd's statistics: the same moves in the same order, a chunk of rows at a time.
            if old != a:
                moves[0, n_moves] = i - run
                moves[1, n_moves] = old
                n_moves += 1
            if i + 1 == min(run + CHUNK_ROWS, bounds[s + 1]):
                move_rows(
                    X, sample_weight, run, n_moves, moves, labels[run : i + 1], slot_sums, slot_weights,
                    slot_counts,
                )  # fmt: skip
                n_moves = 0
                run = i + 1
        changed[s] = n_changed
        work[s, 0] = n_tight
        work[s, 1] = n_rows
        work[s, 2] = n_groups_done


@njit(**JIT)
def global_filter_fails(labels, ub, lb_all, cum_c, cum_all, bounds, out):
    """Rows per slot whose global bounds fail (margins left out): decides a dense pass.

    labels : (n,) int32, IN; ub, lb_all : (n,) float64, IN; cum_c : (k,) float64, IN
    bounds : (n_slots + 1,) int64, IN; out : (n_slots,) int64, OUT
    """
    for s in range(bounds.shape[0] - 1):
        count = 0
        for i in range(bounds[s], bounds[s + 1]):
            if not (lb_all[i] - cum_all > ub[i] + cum_c[labels[i]]):
                count += 1
        out[s] = count
