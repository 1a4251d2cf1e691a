"""Lloyd's map step on scores of mean-shifted rows, ``|c|^2 / 2 - c . x``, where they beat the
fused kernel's direct distances (large d or k): per chunk of rows one BLAS GEMM
(``assign_gemm``), or, with AVX2 code and few features, a register tile of our own
(``assign_dot``); then the argmin and the statistics as in ``fastseg._kernels.lloyd``.

Slots, statistics modes and the per-slot outputs are those of ``lloyd.assign_fused``.
"""

import numpy as np

from ._config import CHUNK_ROWS, FEATURE_ORDER, JIT
from ._numba import njit
from .lloyd import FEATURE_GROUP, FRESH, clear_slot, take_labels, transpose_rows


@njit(**JIT)
def gemm_centres(centres, x_shift):
    """Centres shifted by ``x_shift`` and their half squared norms, as the GEMM scores use them.

    Every kernel that must reproduce ``assign_gemm``'s scores bit for bit calls this.
    centres : (k, d), IN; x_shift : (d,), IN -> shifted (k, d), half_norms (k,), centres.dtype
    """
    n_clusters, n_features = centres.shape
    shifted = np.empty((n_clusters, n_features), dtype=centres.dtype)
    half_norms = np.zeros(n_clusters, dtype=centres.dtype)
    for j in range(n_clusters):
        for f in range(n_features):
            c = centres[j, f] - x_shift[f]
            shifted[j, f] = c
            half_norms[j] += centres.dtype.type(0.5) * c * c
    return shifted, half_norms


@njit(**JIT)
def gemm_chunk(X, x_shift, shifted, start, stop, chunk, prod):
    """The GEMM scores' product for rows ``[start, stop)``, one chunk: ``prod = shifted @ chunk.T``.

    Every kernel that needs ``assign_gemm``'s numbers calls this with the same chunk edges: a BLAS
    adds each dot product in an order of its own (it differs between CPUs and BLAS kernels), so
    only the same call on the same buffer gives the same numbers. The caller limits BLAS to one
    thread.

    X : (n, d), IN; x_shift : (d,) X.dtype, IN; shifted : (k, d) X.dtype, IN (``gemm_centres``)
    chunk : (CHUNK_ROWS, d) X.dtype, scratch (rows past ``stop - start`` are left as they were)
    prod : (k, CHUNK_ROWS) X.dtype, OUT
    """
    for i in range(stop - start):
        for f in range(X.shape[1]):
            chunk[i, f] = X[start + i, f] - x_shift[f]
    np.dot(shifted, chunk.T, prod)


@njit(inline="always", **JIT)
def label_scored_rows(
    X, sample_weight, centres, best, moves, start, m, labels, slot_sums, slot_weights, slot_counts, update,
    acc, n_changed, exact,
):  # fmt: skip
    """The rows ``start ... start + m`` after scoring (the GEMM and dot kernels): each takes centre
    ``best[i]``, its exact squared distance to it (in X's dtype, feature order) is added to
    ``acc`` (float64, row order; only with ``exact``, else ``acc`` is returned as it came) and
    the statistics follow its label as ``update`` says (``take_labels``, with ``moves`` its scratch).

    Returns the updated ``(acc, n_changed)``.
    """
    one = X.dtype.type(1)
    unit = sample_weight.shape[0] == 0
    if exact:
        for i in range(m):
            row = start + i
            label = best[i]
            w = one if unit else sample_weight[row]
            d2 = X.dtype.type(0)
            for f in range(X.shape[1]):
                t = X[row, f] - centres[label, f]
                d2 += t * t
            acc += w * d2
    n_changed += take_labels(
        X, sample_weight, start, m, best, moves, labels, slot_sums, slot_weights, slot_counts, update
    )
    return acc, n_changed


@njit(**JIT)
def assign_gemm(
    X, sample_weight, centres, x_shift, bounds, labels, sums, weights, counts, inertia, changed, update, exact
):
    """Per-chunk GEMM then argmin, for large ``d * k`` (compute-bound).

    Scores are ``|c|^2 / 2 - c.x`` on rows shifted by ``x_shift`` (the data mean), so the
    expansion does not lose precision far from the origin. The GEMM writes them as
    (k, CHUNK_ROWS) so the argmin runs over rows in SIMD lanes; the inertia of each row is then
    recomputed exactly against its chosen centre. The caller limits BLAS to one thread.

    X : (n, d) float32|float64, IN
    sample_weight : (n,) X.dtype, IN -- or (0,) for unit weights
    centres : (k, d) X.dtype, IN
    x_shift : (d,) X.dtype, IN
    bounds, labels, sums, weights, counts, inertia, changed, update : as ``assign_fused``
    exact : bool -- recompute each row's squared distance to its centre for ``inertia`` (else 0):
        a Lloyd iteration does not need it, and it is a visible part of one at large ``d * k``
        (``python -m benchmarks.compare``)
    """
    n_features = X.shape[1]
    n_clusters = centres.shape[0]
    n_slots = bounds.shape[0] - 1
    shifted, half_norms = gemm_centres(centres, x_shift)
    for s in range(n_slots):
        chunk = np.zeros((CHUNK_ROWS, n_features), dtype=X.dtype)
        prod = np.empty((n_clusters, CHUNK_ROWS), dtype=X.dtype)
        best_score = np.empty(CHUNK_ROWS, dtype=X.dtype)
        best = np.empty(CHUNK_ROWS, dtype=np.int32)
        moves = np.empty((2, CHUNK_ROWS), dtype=np.int32)
        slot_sums = sums[s]
        slot_weights = weights[s]
        slot_counts = counts[s]
        if update == FRESH:
            clear_slot(slot_sums, slot_weights, slot_counts)
        acc = 0.0
        n_changed = 0
        for start in range(bounds[s], bounds[s + 1], CHUNK_ROWS):
            m = min(CHUNK_ROWS, bounds[s + 1] - start)
            gemm_chunk(X, x_shift, shifted, start, start + m, chunk, prod)
            for b in range(CHUNK_ROWS):
                best_score[b] = half_norms[0] - prod[0, b]
                best[b] = 0
            for j in range(1, n_clusters):
                h = half_norms[j]
                pj = prod[j]
                jj = np.int32(j)
                for b in range(CHUNK_ROWS):
                    score = h - pj[b]
                    if score < best_score[b]:
                        best_score[b] = score
                        best[b] = jj
            acc, n_changed = label_scored_rows(
                X, sample_weight, centres, best, moves, start, m, labels, slot_sums, slot_weights,
                slot_counts, update, acc, n_changed, exact,
            )  # fmt: skip
        inertia[s] = acc
        changed[s] = n_changed


# The dot kernel's register tile: DOT_CENTRES centres times FEATURE_GROUP features per pass over
# a chunk's lanes (rows); the partial dot products are stored between passes.
DOT_CENTRES = 4


@njit(**FEATURE_ORDER)
def dot_scores_block(xt, cs, half_norms, acc, best_score, best):
    """Lowest score ``|c|^2 / 2 - c.x`` of every lane of one transposed chunk (first on ties).

    xt : (padded_features(d), CHUNK_ROWS), IN -- shifted rows, padded features zero
    cs : (k, padded_features(d)), IN -- shifted centres (``gemm_centres``), padded features zero
    half_norms : (k,), IN; acc : (DOT_CENTRES, CHUNK_ROWS), scratch
    best_score : (CHUNK_ROWS,), OUT; best : (CHUNK_ROWS,) int32, OUT
    Each dot product is the feature-order chain of fused multiply-adds from 0, which
    ``yinyang._dot_score`` reproduces one row at a time. Four centres by four features per pass
    keep the accumulators and the centre values in registers with AVX2's 16 as with AVX-512's 32
    (other tiles measured slower; the same tile run as two halves of the lanes is not
    vectorised). The dot kernel's pass, natively and with AVX2 code: ``python -m benchmarks.crossover``.
    """
    n_clusters, dp = cs.shape
    a0r, a1r, a2r, a3r = acc[0], acc[1], acc[2], acc[3]
    for b in range(CHUNK_ROWS):
        best_score[b] = np.inf
        best[b] = 0
    for j in range(0, n_clusters, DOT_CENTRES):
        # Past the last centre, the last one again (a tie keeps the first index).
        j1 = min(j + 1, n_clusters - 1)
        j2 = min(j + 2, n_clusters - 1)
        j3 = min(j + 3, n_clusters - 1)
        c0, c1, c2, c3 = cs[j], cs[j1], cs[j2], cs[j3]
        for b in range(CHUNK_ROWS):
            a0r[b] = 0
            a1r[b] = 0
            a2r[b] = 0
            a3r[b] = 0
        for g in range(0, dp, FEATURE_GROUP):
            x0, x1, x2, x3 = xt[g], xt[g + 1], xt[g + 2], xt[g + 3]
            # The tile's centre values as scalars, so LLVM keeps them out of the lane loop
            # (read inside it, they must be reloaded after every store to ``acc``).
            p00, p10, p20, p30 = c0[g], c1[g], c2[g], c3[g]
            p01, p11, p21, p31 = c0[g + 1], c1[g + 1], c2[g + 1], c3[g + 1]
            p02, p12, p22, p32 = c0[g + 2], c1[g + 2], c2[g + 2], c3[g + 2]
            p03, p13, p23, p33 = c0[g + 3], c1[g + 3], c2[g + 3], c3[g + 3]
            for b in range(CHUNK_ROWS):
                a0 = a0r[b]
                a1 = a1r[b]
                a2 = a2r[b]
                a3 = a3r[b]
                v = x0[b]
                a0 += v * p00
                a1 += v * p10
                a2 += v * p20
                a3 += v * p30
                v = x1[b]
                a0 += v * p01
                a1 += v * p11
                a2 += v * p21
                a3 += v * p31
                v = x2[b]
                a0 += v * p02
                a1 += v * p12
                a2 += v * p22
                a3 += v * p32
                v = x3[b]
                a0 += v * p03
                a1 += v * p13
                a2 += v * p23
                a3 += v * p33
                a0r[b] = a0
                a1r[b] = a1
                a2r[b] = a2
                a3r[b] = a3
        h0, h1, h2, h3 = half_norms[j], half_norms[j1], half_norms[j2], half_norms[j3]
        i0, i1, i2, i3 = np.int32(j), np.int32(j1), np.int32(j2), np.int32(j3)
        for b in range(CHUNK_ROWS):
            bs = best_score[b]
            bi = best[b]
            s = h0 - a0r[b]
            lt = s < bs
            bs = s if lt else bs
            bi = i0 if lt else bi
            s = h1 - a1r[b]
            lt = s < bs
            bs = s if lt else bs
            bi = i1 if lt else bi
            s = h2 - a2r[b]
            lt = s < bs
            bs = s if lt else bs
            bi = i2 if lt else bi
            s = h3 - a3r[b]
            lt = s < bs
            best_score[b] = s if lt else bs
            best[b] = i3 if lt else bi


@njit(**JIT)
def assign_dot(
    X, sample_weight, centres, x_shift, bounds, labels, sums, weights, counts, inertia, changed, update, exact
):
    """``assign_gemm`` with the scores from ``dot_scores_block`` instead of BLAS (large ``d * k``
    with AVX2 code, where it is faster: see ``_blas.DOT_MAX_FEATURES``).

    Each chunk of CHUNK_ROWS rows is shifted and transposed into a small buffer, scored, and its
    rows' inertia recomputed exactly against the chosen centre (chunks of CHUNK_ROWS measured
    faster than smaller blocks, larger ones no better; ``python -m benchmarks.crossover`` times
    the pass, natively and with AVX2 code). Arguments as ``assign_gemm``; no
    BLAS is called. The scores of a row do not depend on its block or the CPU's BLAS: each is a
    fixed chain of IEEE operations, so Yinyang recomputes Lloyd's exact numbers for one row.
    """
    n_features = X.shape[1]
    n_clusters = centres.shape[0]
    dp = -(-n_features // FEATURE_GROUP) * FEATURE_GROUP  # padded_features
    shifted, half_norms = gemm_centres(centres, x_shift)
    cs = np.zeros((n_clusters, dp), dtype=X.dtype)
    for j in range(n_clusters):
        for f in range(n_features):
            cs[j, f] = shifted[j, f]
    xt = np.zeros((dp, CHUNK_ROWS), dtype=X.dtype)
    acc_b = np.empty((DOT_CENTRES, CHUNK_ROWS), dtype=X.dtype)
    best_score = np.empty(CHUNK_ROWS, dtype=X.dtype)
    best = np.empty(CHUNK_ROWS, dtype=np.int32)
    moves = np.empty((2, CHUNK_ROWS), dtype=np.int32)
    for s in range(bounds.shape[0] - 1):
        slot_sums = sums[s]
        slot_weights = weights[s]
        slot_counts = counts[s]
        if update == FRESH:
            clear_slot(slot_sums, slot_weights, slot_counts)
        acc = 0.0
        n_changed = 0
        for start in range(bounds[s], bounds[s + 1], CHUNK_ROWS):
            m = min(CHUNK_ROWS, bounds[s + 1] - start)
            transpose_rows(X, start, m, x_shift, xt)
            dot_scores_block(xt, cs, half_norms, acc_b, best_score, best)
            acc, n_changed = label_scored_rows(
                X, sample_weight, centres, best, moves, start, m, labels, slot_sums, slot_weights,
                slot_counts, update, acc, n_changed, exact,
            )  # fmt: skip
        inertia[s] = acc
        changed[s] = n_changed
