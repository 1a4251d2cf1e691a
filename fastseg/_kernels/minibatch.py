"""Mini-batch K-means: NumPy's legacy Mersenne Twister draws (so a fit draws scikit-learn's
mini-batches from the same ``RandomState``), one mini-batch step, and a whole fit's steps with
scikit-learn's stopping rules, in one call.

Arithmetic follows scikit-learn's ``_k_means_minibatch.pyx``: centres, counts and batch sums in
X's dtype, rows added in batch order, the rescale by ``1 / count``.
"""

import numpy as np

from ._config import NO_FASTMATH
from ._numba import njit
from .search import first_above

_N = 624
_M = 397


@njit(**NO_FASTMATH)
def _twist(key):
    for i in range(_N):
        y = (np.uint64(key[i]) & np.uint64(0x80000000)) | (
            np.uint64(key[(i + 1) % _N]) & np.uint64(0x7FFFFFFF)
        )
        v = np.uint64(key[(i + _M) % _N]) ^ (y >> np.uint64(1))
        if y & np.uint64(1):
            v ^= np.uint64(0x9908B0DF)
        key[i] = np.uint32(v)


@njit(**NO_FASTMATH)
def next_uint32(key, pos):
    """The next 32-bit output of MT19937 (NumPy's legacy ``RandomState``).

    key : (624,) uint32, IN/OUT; pos : (1,) int64 (the state's position), IN/OUT
    """
    if pos[0] >= _N:
        _twist(key)
        pos[0] = 0
    y = np.uint64(key[pos[0]])
    pos[0] += 1
    y ^= y >> np.uint64(11)
    y ^= (y << np.uint64(7)) & np.uint64(0x9D2C5680)
    y ^= (y << np.uint64(15)) & np.uint64(0xEFC60000)
    y ^= y >> np.uint64(18)
    return y & np.uint64(0xFFFFFFFF)


@njit(inline="always", **NO_FASTMATH)
def _mask(rng):
    mask = np.uint64(rng)
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> np.uint64(shift)
    return mask


@njit(**NO_FASTMATH)
def bounded(key, pos, rng):
    """A draw in [0, rng] as NumPy's legacy ``randint`` and ``shuffle`` make it: the 32-bit output
    masked to the bits of ``rng``, redrawn while above it (rng < 2^32; 0 draws nothing)."""
    if rng == 0:
        return 0
    mask = _mask(rng)
    while True:
        v = next_uint32(key, pos) & mask
        if v <= np.uint64(rng):
            return np.int64(v)


@njit(**NO_FASTMATH)
def randint(key, pos, high, out):
    """``RandomState.randint(0, high, size=out.shape[0])``. out : (m,) int64, OUT"""
    for i in range(out.shape[0]):
        out[i] = bounded(key, pos, high - 1)


@njit(**NO_FASTMATH)
def uniform(key, pos):
    """``RandomState.random_sample()``: a double in [0, 1) from two 32-bit outputs."""
    a = next_uint32(key, pos) >> np.uint64(5)
    b = next_uint32(key, pos) >> np.uint64(6)
    return (float(a) * 67108864.0 + float(b)) / 9007199254740992.0


@njit(**NO_FASTMATH)
def choice(key, pos, cdf, out):
    """``RandomState.choice(n, size=out.shape[0], p=p, replace=True)`` given NumPy's ``cdf`` of
    ``p`` (``p.cumsum() / p.cumsum()[-1]`` in float64): the first index whose cdf exceeds a
    uniform draw. cdf : (n,) float64, IN; out : (m,) int64, OUT"""
    for i in range(out.shape[0]):
        out[i] = first_above(cdf, uniform(key, pos), cdf.shape[0])


@njit(**NO_FASTMATH)
def permutation(key, pos, n, out):
    """``RandomState.permutation(n)`` (a Fisher-Yates shuffle of ``arange(n)``). out : (n,) int64, OUT"""
    for i in range(n):
        out[i] = i
    for i in range(n - 1, 0, -1):
        j = bounded(key, pos, i)
        t = out[i]
        out[i] = out[j]
        out[j] = t


@njit(**NO_FASTMATH)
def pairwise_sum(a):
    """``np.sum`` of a contiguous 1-D array, with NumPy's pairwise summation order and rounding
    (blocks of 128, eight partial sums)."""
    n = a.shape[0]
    if n < 8:
        res = a.dtype.type(0) if n == 0 else a[0]
        for i in range(1, n):
            res += a[i]
        return res
    if n <= 128:
        r = a[:8].copy()
        i = 8
        while i < n - (n % 8):
            for j in range(8):
                r[j] += a[i + j]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            res += a[i]
            i += 1
        return res
    half = n // 2
    half -= half % 8
    return pairwise_sum(a[:half]) + pairwise_sum(a[half:])


@njit(inline="always", **NO_FASTMATH)
def _nearest(X, centres, labels, best):
    """Nearest centre of each row (the first on ties) and its squared distance.

    The rows are transposed so that SIMD lanes run over rows; each distance is still summed over
    the features in order (the rounding of one distance at a time, without its chain of dependent
    adds). X : (b, d), IN; centres : (k, d) X.dtype, IN; labels : (b,) int32, OUT;
    best : (b,) X.dtype, OUT.
    """
    b, d = X.shape
    xt = np.empty((d, b), X.dtype)
    for i in range(b):
        for f in range(d):
            xt[f, i] = X[i, f]
    acc = np.empty(b, X.dtype)
    for c in range(centres.shape[0]):
        acc[:] = 0
        for f in range(d):
            cf = centres[c, f]
            for i in range(b):
                t = xt[f, i] - cf
                acc[i] += t * t
        if c == 0:
            for i in range(b):
                best[i] = acc[i]
                labels[i] = 0
        else:
            for i in range(b):
                if acc[i] < best[i]:
                    best[i] = acc[i]
                    labels[i] = c


@njit(**NO_FASTMATH)
def labels_inertia(X, w, unit, centres, labels):
    """Nearest centres of the rows of a small batch (``partial_fit``'s labels), one thread.

    X : (b, d), IN; w : (b,) X.dtype (unused when ``unit``); centres : (k, d) X.dtype, IN;
    labels : (b,) int32, OUT. Returns the weighted inertia, summed in float64.
    """
    best = np.empty(X.shape[0], X.dtype)
    _nearest(X, centres, labels, best)
    inertia = 0.0
    for i in range(X.shape[0]):
        inertia += float(best[i]) * (1.0 if unit else float(w[i]))
    return inertia


@njit(**NO_FASTMATH)
def step(Xb, w, unit, centres, centres_new, counts, reassign, ratio, key, pos, labels, order, one, spherical):
    """One mini-batch step (scikit-learn's ``_mini_batch_step``): nearest centres, the update of
    the centres and counts, and, with ``reassign``, the move of clusters of low count to random
    rows of the batch. ``centres_new`` may be ``centres`` (``partial_fit`` updates in place).
    ``spherical``: each updated centre is scaled to unit length (rows of unit length).

    Xb : (b, d) float32|float64, IN; w : (b,) Xb.dtype, IN (unused when ``unit``);
    centres, centres_new : (k, d) Xb.dtype, IN / OUT; counts : (k,) Xb.dtype, IN/OUT;
    ratio : (1,) Xb.dtype, ``reassignment_ratio`` rounded to Xb's dtype (NumPy's rule for a Python
    float times a float32); key, pos : the generator state, IN/OUT; labels : (b,) int32, OUT;
    order : (b,) int64, scratch; one : (1,) Xb.dtype, the constant 1 in Xb's dtype.
    Returns the batch inertia (Xb's dtype).
    """
    b, d = Xb.shape
    k = centres.shape[0]
    zero = one[0] - one[0]
    inertia = zero
    best = np.empty(b, Xb.dtype)
    _nearest(Xb, centres, labels, best)
    for i in range(b):
        inertia += best[i] * (one[0] if unit else w[i])
    # The update in one pass over the rows: each centre still adds its rows in batch order.
    wsum = np.zeros(k, centres.dtype)
    for i in range(b):
        wsum[labels[i]] += one[0] if unit else w[i]
    for c in range(k):
        for f in range(d):
            centres_new[c, f] = centres[c, f] * counts[c] if wsum[c] > 0 else centres[c, f]
    for i in range(b):
        c = labels[i]
        wi = one[0] if unit else w[i]
        for f in range(d):
            centres_new[c, f] += Xb[i, f] * wi
    for c in range(k):
        if wsum[c] > 0:
            counts[c] += wsum[c]
            alpha = one[0] / counts[c]
            for f in range(d):
                centres_new[c, f] *= alpha
            if spherical:
                _unit(centres_new[c])
    if reassign and ratio > 0:
        low = counts < ratio[0] * counts.max()
        if low.sum() > 0.5 * b:
            keep = np.argsort(counts)[int(0.5 * b) :]
            low[keep] = False
        n_low = low.sum()
        if n_low:
            permutation(key, pos, b, order)
            r = 0
            for c in range(k):
                if low[c]:
                    for f in range(d):
                        centres_new[c, f] = Xb[order[r], f]
                    r += 1
        smallest = zero
        first = True
        for c in range(k):
            if not low[c] and (first or counts[c] < smallest):
                smallest = counts[c]
                first = False
        for c in range(k):
            if low[c]:
                counts[c] = smallest
    return inertia


@njit(inline="always", **NO_FASTMATH)
def _unit(centre):
    """Scale ``centre`` to unit length in its dtype, the norm taken in float64 (a zero centre is
    left as it is), as ``fastseg._lloyd.unit_centres``."""
    sq = 0.0
    for f in range(centre.shape[0]):
        sq += float(centre[f]) * float(centre[f])
    if sq > 0.0:
        norm = np.sqrt(sq)
        for f in range(centre.shape[0]):
            centre[f] = centre[f] / norm


@njit(inline="always", **NO_FASTMATH)
def gather_dense(X, rows, Xb):
    for i in range(rows.shape[0]):
        for f in range(X.shape[1]):
            Xb[i, f] = X[rows[i], f]


@njit(inline="always", **NO_FASTMATH)
def gather_sparse(data, indices, indptr, rows, Xb):
    Xb[:] = 0
    for i in range(rows.shape[0]):
        for p in range(indptr[rows[i]], indptr[rows[i] + 1]):
            Xb[i, indices[p]] = data[p]


@njit(**NO_FASTMATH)
def fit(
    X, data, indices, indptr, sparse, n_samples, cdf, sample_weight, unit, centres, counts, n_steps, batch,
    reassignment_ratio, tol, max_no_improvement, key, pos, since_reassign, one, spherical,
):  # fmt: skip
    """The steps of ``MiniBatchKMeans.fit``: each draws ``batch`` rows, runs ``step`` on them and
    applies scikit-learn's stopping rules (centre shift within ``tol``; no better exponentially
    weighted batch inertia for ``max_no_improvement`` steps, or never if < 0). The rows are drawn
    in proportion to their weight (``choice`` on ``cdf``) and counted once each, as scikit-learn
    1.9 draws them, or, with an empty ``cdf``, uniformly (``randint``) and counted with their weight
    (``sample_weight``, unless ``unit``), as scikit-learn 1.8 draws them. ``spherical``: as
    ``step``.

    X : (n, d) dense rows, IN (or (0, d) with ``sparse``: CSR ``data``, ``indices``, ``indptr``);
    cdf : (n,) or (0,) float64, IN; sample_weight : (n,) or (0,), IN;
    centres : (k, d), IN/OUT (the last centres are returned);
    counts : (k,), IN/OUT; key, pos : generator state, IN/OUT; since_reassign : (1,) int64, IN/OUT.
    Returns the number of steps run, the last exponentially weighted batch inertia (NaN if none),
    the centres and why the fit stopped (0: all steps run, 1: small centre change, 2: no
    improvement).
    """
    weighted_draws = cdf.shape[0] > 0
    unit = unit or weighted_draws
    k, d = centres.shape
    rows = np.empty(batch, np.int64)
    Xb = np.empty((batch, d), centres.dtype)
    wb = np.empty(0 if unit else batch, centres.dtype)
    labels = np.empty(batch, np.int32)
    order = np.empty(batch, np.int64)
    new = centres.copy()
    ewa = np.nan
    ewa_min = np.nan
    no_improvement = 0
    alpha = min(batch * 2.0 / (n_samples + 1), 1.0)
    diff = np.empty(k * d, centres.dtype)
    steps = 0
    stop = 0
    for s in range(n_steps):
        if weighted_draws:
            choice(key, pos, cdf, rows)
        else:
            randint(key, pos, n_samples, rows)
            if not unit:
                for i in range(batch):
                    wb[i] = sample_weight[rows[i]]
        if sparse:
            gather_sparse(data, indices, indptr, rows, Xb)
        else:
            gather_dense(X, rows, Xb)
        since_reassign[0] += batch
        reassign = False
        for c in range(k):
            if counts[c] == 0:
                reassign = True
        if reassign or since_reassign[0] >= 10 * k:
            since_reassign[0] = 0
            reassign = True
        inertia = step(
            Xb, wb, unit, centres, new, counts, reassign, reassignment_ratio, key, pos, labels, order, one,
            spherical,
        )  # fmt: skip
        shift = 0.0
        if tol > 0.0:
            for c in range(k):
                for f in range(d):
                    t = new[c, f] - centres[c, f]
                    diff[c * d + f] = t * t
            shift = float(pairwise_sum(diff))
        centres, new = new, centres
        steps = s + 1
        mean_inertia = float(inertia) / batch
        if s == 0:
            continue
        if np.isnan(ewa):
            ewa = mean_inertia
        else:
            ewa = ewa * (1 - alpha) + mean_inertia * alpha
        if tol > 0.0 and shift <= tol:
            stop = 1
            break
        if np.isnan(ewa_min) or ewa < ewa_min:
            no_improvement = 0
            ewa_min = ewa
        else:
            no_improvement += 1
        if max_no_improvement >= 0 and no_improvement >= max_no_improvement:
            stop = 2
            break
    return steps, ewa, centres, stop
