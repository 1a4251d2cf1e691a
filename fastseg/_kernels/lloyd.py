"""Lloyd's map step: assign rows to their nearest centre and accumulate per-slot statistics.

Every kernel here walks the fixed slots of ``bounds`` (see ``_config.slot_bounds``) and writes
slot ``s`` of its statistic buffers only; the caller runs parts of the slots on several threads
(``_config.in_parallel``: pass ``bounds[a:b + 1]`` and the per-slot outputs ``[a:b]``, row
arrays whole), adds the slots in order (the reduce) and turns the totals into centres (the
update). Kernels over rows or blocks are split the same way, by slicing their rows.
"""

import numpy as np

from ._config import BLOCK_ROWS, FEATURE_ORDER, JIT
from ._numba import njit

# Features are taken FEATURE_GROUP at a time by the fused kernel: each step of its SIMD loop over
# a block's rows adds that many squared differences in registers before one store.
FEATURE_GROUP = 4


def padded_features(n_features):
    """Feature rows of a transposed block: ``n_features`` rounded up to ``FEATURE_GROUP``."""
    return -(-n_features // FEATURE_GROUP) * FEATURE_GROUP


# Which kernel scores the rows of a pass (``_blas.score_kernel`` picks one per shape): the fused
# kernel's distances, or the scores ``|c|^2 / 2 - c.x`` on shifted rows from a BLAS GEMM or from
# the dot kernel.
FUSED = 0
GEMM = 1
DOT = 2

# What a pass does with the per-slot statistics (the ``update`` argument of the assign kernels).
NO_STATS = 0  # labels, inertia and changed only
FRESH = 1  # the statistics of every row, from zero
# The statistics passed in are those of the labels passed in; each row whose label changes moves
# from its old cluster to its new one (rows that stay cost nothing: late Lloyd passes move few).
MOVES = 2


@njit(inline="always", **JIT)
def clear_slot(slot_sums, slot_weights, slot_counts):
    """Zero one slot's statistics: (k, d) float64, (k,) float64, (k,) int64, OUT."""
    for j in range(slot_sums.shape[0]):
        slot_weights[j] = 0.0
        slot_counts[j] = 0
        for f in range(slot_sums.shape[1]):
            slot_sums[j, f] = 0.0


@njit(inline="always", **JIT)
def move_rows(X, sample_weight, start, n_moves, moves, news, slot_sums, slot_weights, slot_counts):
    """The statistics' side of ``n_moves`` assignments, in order: row ``start + moves[0, t]``
    leaves cluster ``moves[1, t]`` (none when -1) and joins ``news[moves[0, t]]``.

    X : (n, d), IN; sample_weight : (n,) X.dtype or (0,) for unit weights, IN
    moves : (2, >= n_moves) int32, IN; news : int32, IN
    slot_sums, slot_weights, slot_counts : one slot's statistics, INOUT
    ``slot_counts`` counts the rows of positive weight: at zero a cluster's sums and weight are
    set to exact zeros, so no rounding residue survives and an empty cluster has weight 0.

    One call per block of rows, the loop inside: an inlined helper that takes arrays adds
    reference-count updates (atomic operations) at every call site, and called once per row
    they cost more than the pass's own work (the pass that adds every row: ``python -m
    benchmarks.crossover``).
    """
    one = X.dtype.type(1)
    unit = sample_weight.shape[0] == 0
    n_features = X.shape[1]
    for t in range(n_moves):
        b = moves[0, t]
        old = moves[1, t]
        new = news[b]
        i = start + b
        w = one if unit else sample_weight[i]
        if old >= 0:
            if w > 0:
                slot_counts[old] -= 1
            if slot_counts[old] == 0:
                slot_weights[old] = 0.0
                for f in range(n_features):
                    slot_sums[old, f] = 0.0
            else:
                slot_weights[old] -= w
                for f in range(n_features):
                    slot_sums[old, f] -= w * X[i, f]
        slot_weights[new] += w
        for f in range(n_features):
            slot_sums[new, f] += w * X[i, f]
        if w > 0:
            slot_counts[new] += 1


@njit(inline="always", **JIT)
def take_labels(
    X, sample_weight, start, m, best, moves, labels, slot_sums, slot_weights, slot_counts, update
):
    """Rows ``start ... start + m`` take the labels ``best[:m]``, and the statistics follow as
    ``update`` says: FRESH adds every row (to statistics cleared by ``clear_slot``), MOVES moves
    the rows whose label changed from their old cluster (none for -1) to their new one, in row
    order (``move_rows``); NO_STATS leaves them alone. ``moves`` : (2, >= m) int32, scratch.

    The rows that move are listed while the labels are compared, so a late pass, where few
    labels change, runs one tight loop.

    Returns the number of labels that changed.
    """
    n_changed = 0
    n_moves = 0
    if update == FRESH:
        for b in range(m):
            moves[0, b] = b
            moves[1, b] = -1
        n_moves = m
    for b in range(m):
        i = start + b
        old = labels[i]
        new = best[b]
        if old != new:
            n_changed += 1
            labels[i] = new
            if update == MOVES:
                moves[0, n_moves] = b
                moves[1, n_moves] = old
                n_moves += 1
    move_rows(X, sample_weight, start, n_moves, moves, best, slot_sums, slot_weights, slot_counts)
    return n_changed


# Rows per tile of ``transpose_rows``: each feature's values of a tile are written as whole SIMD
# vectors.
TRANSPOSE_TILE = 16


@njit(inline="always", **JIT)
def transpose_rows(X, start, m, x_shift, xt):
    """``xt[f, b] = X[start + b, f] - x_shift[f]`` for the ``m`` rows from ``start``.

    X : (n, d), IN; x_shift : (d,) X.dtype, IN (zeros: a plain copy, ``x - 0 == x``)
    xt : (>= d, >= m) X.dtype, OUT -- feature rows ``d ...`` and lanes ``m ...`` left as they were
    Tiles of TRANSPOSE_TILE rows, feature by feature: a tile's values of one feature are gathered
    and written as whole SIMD vectors, where a row-by-row copy makes one strided store per value
    (the dot kernel's pass with AVX2 code: ``python -m benchmarks.crossover``).
    """
    n_features = X.shape[1]
    tiled = m - m % TRANSPOSE_TILE
    for b0 in range(0, tiled, TRANSPOSE_TILE):
        for f in range(n_features):
            sh = x_shift[f]
            for bb in range(TRANSPOSE_TILE):
                xt[f, b0 + bb] = X[start + b0 + bb, f] - sh
    for b in range(tiled, m):
        for f in range(n_features):
            xt[f, b] = X[start + b, f] - x_shift[f]


@njit(**JIT)
def transpose_blocks(X, xb):
    """Rows of ``X`` as transposed blocks of ``BLOCK_ROWS`` rows, the fused kernel's input.

    X : (n, d) float32|float64, IN
    xb : (ceil(n / BLOCK_ROWS), padded_features(d), BLOCK_ROWS) X.dtype, OUT -- block ``q``
        holds rows ``q * BLOCK_ROWS ...`` feature by feature; feature rows ``d ...`` and the
        lanes past the last row are left as they were (the caller zeroes them once)
    """
    n_rows, n_features = X.shape
    for q in range(xb.shape[0]):
        start = q * BLOCK_ROWS
        xt = xb[q]
        for b in range(min(BLOCK_ROWS, n_rows - start)):
            for f in range(n_features):
                xt[f, b] = X[start + b, f]


@njit(inline="always", **FEATURE_ORDER)
def _two_per_pass(xt, cp, zero, best_dist, best, width):
    """``_nearest_in_block`` for ``width`` (4 or 8, a literal) feature rows: two centres per pass
    over the lanes, each feature of a lane loaded once for both."""
    n_clusters = cp.shape[0]
    for j in range(0, n_clusters, 2):
        j2 = min(j + 1, n_clusters - 1)  # odd k: the last centre twice (a tie keeps the first)
        c = cp[j]
        e = cp[j2]
        jj = np.int32(j)
        jk = np.int32(j2)
        for b in range(BLOCK_ROWS):
            a = zero
            a2 = zero
            for f in range(width):
                v = xt[f, b]
                t = v - c[f]
                a += t * t
                t = v - e[f]
                a2 += t * t
            bd = best_dist[b]
            bi = best[b]
            lt = a < bd
            bd = a if lt else bd
            bi = jj if lt else bi
            lt = a2 < bd
            best_dist[b] = a2 if lt else bd
            best[b] = jk if lt else bi


@njit(inline="always", **FEATURE_ORDER)
def block_distances(xt, c, acc):
    """Squared distance of every lane of a transposed block to one centre, summed in feature
    order, ``FEATURE_GROUP`` features per step with fused multiply-adds (the numbers Yinyang and
    the GA reproduce).

    xt : (dp, BLOCK_ROWS), IN; c : (dp,) zero-padded centre, IN; acc : (BLOCK_ROWS,), OUT
    """
    for b in range(BLOCK_ROWS):
        acc[b] = 0
    for g in range(0, c.shape[0], FEATURE_GROUP):
        c0 = c[g]
        c1 = c[g + 1]
        c2 = c[g + 2]
        c3 = c[g + 3]
        x0 = xt[g]
        x1 = xt[g + 1]
        x2 = xt[g + 2]
        x3 = xt[g + 3]
        for b in range(BLOCK_ROWS):
            a = acc[b]
            t = x0[b] - c0
            a += t * t
            t = x1[b] - c1
            a += t * t
            t = x2[b] - c2
            a += t * t
            t = x3[b] - c3
            a += t * t
            acc[b] = a


@njit(**FEATURE_ORDER)
def _nearest_in_block(xt, cp, acc, best_dist, best):
    """Nearest centre of every lane of one transposed block (first index on ties).

    xt : (dp, BLOCK_ROWS), IN; cp : (k, dp) centres with zero-padded features, IN
    acc, best_dist : (BLOCK_ROWS,) X.dtype, scratch / OUT; best : (BLOCK_ROWS,) int32, OUT
    Padded features add (0 - 0)^2 = 0 exactly, so each distance is the feature-order sum.

    With 4 or 8 feature rows (d <= 8, the segmentation case) two centres are taken per pass over
    the lanes: the features stay in registers, each load of a row feeds both centres and the
    running minimum is updated in the same loop, instead of a pass per centre that stores its
    partial distances. Larger ``dp`` adds ``FEATURE_GROUP`` features per pass into ``acc``, then
    takes the minimum (updating it in the last feature pass was slower there). Both choices are
    timed by the fused kernel's pass in ``python -m benchmarks.crossover``.
    """
    n_clusters, dp = cp.shape
    # An exact zero that LLVM cannot fold (the centres are finite): ``zero + t * t`` then becomes
    # one fused multiply-add like every later term, so each sum is the feature-order FMA chain.
    zero = cp[0, 0] * xt.dtype.type(0)
    for b in range(BLOCK_ROWS):
        best_dist[b] = np.inf
        best[b] = 0
    if dp == 8:
        _two_per_pass(xt, cp, zero, best_dist, best, 8)
        return
    if dp == 4:
        _two_per_pass(xt, cp, zero, best_dist, best, 4)
        return
    for j in range(n_clusters):
        block_distances(xt, cp[j], acc)
        jj = np.int32(j)
        for b in range(BLOCK_ROWS):
            if acc[b] < best_dist[b]:
                best_dist[b] = acc[b]
                best[b] = jj


@njit(**JIT)
def assign_fused(
    X, xb, sample_weight, centres, bounds, labels, sums, weights, counts, inertia, changed, update, fill
):
    """Fused distance -> argmin -> accumulate pass over transposed blocks, for small ``d * k``.

    SIMD lanes run over a block's rows whatever ``d`` and ``k`` are, and the rows are read in
    the transposed layout ``transpose_blocks`` writes. With ``fill`` the pass writes that layout
    itself, block by block just before using it (the first pass of a fit, or every pass where the
    copy is not kept), so transposing costs no pass over X of its own. With no blocks at all
    (``xb`` of length 0) each block is transposed from X into one block in cache just before use:
    the pass reads X only, one stream instead of the copy's page-sized blocks.

    The slot loop and the row loops are one function, and the only kernel it calls is
    ``_nearest_in_block`` (which keeps its own fastmath flags): on a first run Numba optimises
    and generates the code of every kernel once more inside each kernel that calls it, so nested
    kernels add compilation to every first run (per kernel: ``python -m benchmarks.compile_times``).

    X : (n, d) float32|float64, IN -- the rows (read for the sums, and to fill ``xb``)
    xb : (n_blocks, padded_features(d), BLOCK_ROWS) X.dtype, IN (OUT with ``fill``) -- the same
        rows, transposed; padded feature rows must be zero (lanes past the last row are ignored);
        or (0, padded_features(d), BLOCK_ROWS): no copy, ``fill`` unused
    sample_weight : (n,) xb.dtype, IN -- or (0,): every row has weight 1 (nothing allocated)
    centres : (k, d) xb.dtype, IN
    bounds : (n_slots + 1,) int64, IN -- slot edges, multiples of BLOCK_ROWS but the last
    labels : (n,) int32, INOUT -- previous labels in, nearest centre out (first one on ties)
    sums : (n_slots, k, d) float64, OUT (INOUT for MOVES) -- weighted sums of each cluster's rows
    weights : (n_slots, k) float64, OUT (INOUT for MOVES) -- summed weights of each cluster
    counts : (n_slots, k) int64, OUT (INOUT for MOVES) -- rows of positive weight per cluster
    inertia : (n_slots,) float64, OUT -- weighted squared distance to the nearest centre
    changed : (n_slots,) int64, OUT -- number of labels that differ from the ones passed in
    update : NO_STATS, FRESH or MOVES -- what happens to the statistics (unused ones may be (0,))
    fill : bool -- write ``xb`` from ``X`` in this pass
    """
    n_clusters, n_features = centres.shape
    cp = np.zeros((n_clusters, xb.shape[1]), dtype=xb.dtype)
    for j in range(n_clusters):
        for f in range(n_features):
            cp[j, f] = centres[j, f]
    unit = sample_weight.shape[0] == 0
    scratch = xb.shape[0] == 0
    for s in range(bounds.shape[0] - 1):
        # Scratch made per slot: made once for all slots, the float64 pass was slower
        # (``python -m benchmarks.crossover``).
        acc_b = np.empty(BLOCK_ROWS, dtype=xb.dtype)
        best_dist = np.empty(BLOCK_ROWS, dtype=xb.dtype)
        best = np.empty(BLOCK_ROWS, dtype=np.int32)
        moves = np.empty((2, BLOCK_ROWS), dtype=np.int32)
        # No copy kept: each block is transposed from X into this one block, in cache, as it is used.
        block_t = np.zeros((xb.shape[1], BLOCK_ROWS), dtype=xb.dtype)
        slot_sums = sums[s]
        slot_weights = weights[s]
        slot_counts = counts[s]
        if update == FRESH:
            clear_slot(slot_sums, slot_weights, slot_counts)
        acc = 0.0
        n_changed = 0
        for start in range(bounds[s], bounds[s + 1], BLOCK_ROWS):
            m = min(BLOCK_ROWS, bounds[s + 1] - start)
            xt = block_t if scratch else xb[start // BLOCK_ROWS]
            if fill or scratch:  # ``transpose_blocks`` for this block, written out (no nested kernel)
                for b in range(m):
                    for f in range(n_features):
                        xt[f, b] = X[start + b, f]
            _nearest_in_block(xt, cp, acc_b, best_dist, best)
            n_changed += take_labels(
                X, sample_weight, start, m, best, moves, labels, slot_sums, slot_weights, slot_counts, update
            )
            # The block's inertia in a loop of its own, a SIMD sum: one serial add per row is a
            # visible part of a pass (``python -m benchmarks.crossover``).
            block = 0.0
            if unit:
                for b in range(m):
                    block += best_dist[b]
            else:
                for b in range(m):
                    block += sample_weight[start + b] * best_dist[b]
            acc += block
        inertia[s] = acc
        changed[s] = n_changed


@njit(**JIT)
def assign_sparse(
    data, indices, indptr, sample_weight, centres, bounds, labels, sums, weights, inertia, changed, update
):
    """Assignment and accumulation for CSR rows, touching only the stored entries.

    data : (nnz,) float32|float64, IN; indices : (nnz,) int32, IN; indptr : (n + 1,) int32, IN
    sample_weight : (n,) data.dtype, IN -- or (0,) for unit weights
    centres : (k, d) data.dtype, IN
    bounds, labels, sums, weights, inertia, changed : as ``assign_fused``
    update : NO_STATS or FRESH (no per-slot counts: sparse fits recompute every pass)
    """
    n_clusters, n_features = centres.shape
    n_slots = bounds.shape[0] - 1
    one = data.dtype.type(1)
    unit = sample_weight.shape[0] == 0
    norms = np.zeros(n_clusters, dtype=np.float64)
    for j in range(n_clusters):
        for f in range(n_features):
            norms[j] += np.float64(centres[j, f]) * centres[j, f]
    for s in range(n_slots):
        slot_sums = sums[s]
        slot_weights = weights[s]
        if update:
            slot_sums[:] = 0.0
            slot_weights[:] = 0.0
        acc = 0.0
        n_changed = 0
        for i in range(bounds[s], bounds[s + 1]):
            lo = indptr[i]
            hi = indptr[i + 1]
            x_norm = 0.0
            for p in range(lo, hi):
                x_norm += np.float64(data[p]) * data[p]
            best = 0
            best_score = np.inf
            for j in range(n_clusters):
                dot = 0.0
                for p in range(lo, hi):
                    dot += np.float64(data[p]) * centres[j, indices[p]]
                score = norms[j] - 2.0 * dot
                if score < best_score:
                    best_score = score
                    best = j
            if labels[i] != best:
                n_changed += 1
                labels[i] = best
            w = one if unit else sample_weight[i]
            acc += w * max(x_norm + best_score, 0.0)
            if update:
                slot_weights[best] += w
                for p in range(lo, hi):
                    slot_sums[best, indices[p]] += w * data[p]
        inertia[s] = acc
        changed[s] = n_changed
