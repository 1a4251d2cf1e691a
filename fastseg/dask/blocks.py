"""The functions ``fastseg.dask`` maps over row blocks (module level, so that they pickle) and the
fixed reduction tree that adds their statistics in block order."""

import functools

import dask
import numpy as np
from scipy.special import logsumexp

from .. import _em
from .._kernels._config import threads
from .._rows import Rows, block_moments, merge_moments
from .._validation import largest_abs, unit_rows, unit_weights

# Statistics of this many blocks are added by one task of the reduction tree.
SPLIT_EVERY = 8


def block_rows(block):
    # Blocks that arrived over the network are often read-only: that is a distinct Numba signature
    # (compiled once per process, then cached); copying every block would cost a pass over memory.
    return Rows(np.ascontiguousarray(block))


def writeable(a):
    """Small per-task arguments (centres, weights) as writeable arrays, so that only X's flag adds
    signatures."""
    return a if a.flags.writeable and a.flags.c_contiguous else np.array(a, order="C")


def block_weights(weights, block):
    """The block's sample weights; ``None`` (no ``sample_weight`` given) means ones, made on the worker."""
    return np.ones(block.shape[0], dtype=block.dtype) if weights is None else writeable(weights)


def kernel_weights(weights, block):
    """Weights for the kernels only: no weights are ``_validation.unit_weights`` (nothing allocated)."""
    return unit_weights(block.dtype) if weights is None else writeable(weights)


def nearest(rows, weights, centres):
    """Labels (int32) of the nearest centre for every row of ``rows``, and the weighted SSE."""
    labels = np.full(rows.n, -1, dtype=np.int32)
    _, _, inertia, _ = rows.assign(weights, centres, labels, update=False)
    return labels, inertia


def block_check(block, weights):
    """(X finite, weights finite, smallest weight, summed weight, (rows, column means, column sums
    of squared deviations), largest |x|) of one block; the moments are float64 and only taken when
    X is finite."""
    x_ok = bool(np.isfinite(block).all())
    weights = block_weights(weights, block)
    w_min = float(weights.min()) if weights.size else np.inf
    moments = block_moments(block.astype(np.float64)) if x_ok and block.shape[0] else None
    largest = largest_abs(block) if x_ok else 0.0
    return x_ok, bool(np.isfinite(weights).all()), w_min, float(weights.sum()), moments, largest


def column_variances(moments):
    """Population variances of the columns from per-block (count, mean, M2), merged in block order."""
    n, _, m2 = functools.reduce(merge_moments, moments, (0, 0.0, 0.0))
    return m2 / n


def block_stats(block, weights, centres, num_threads):
    """Lloyd's map on one block: (sums (k, d) float64, weights (k,) float64, inertia)."""
    weights, centres = kernel_weights(weights, block), writeable(centres)
    with threads(num_threads):
        rows = block_rows(block)
        labels = np.full(rows.n, -1, dtype=np.int32)
        sums, totals, inertia, _ = rows.assign(weights, centres, labels, update=True)
    return sums, totals, inertia


def block_farthest(block, weights, centres, m, offset, num_threads):
    """The ``m`` rows of one block farthest from their nearest centre.

    Returns (distances, global row indices, rows as float64, weights, labels) of those rows.
    """
    weights, centres = block_weights(weights, block), writeable(centres)
    with threads(num_threads):
        rows = block_rows(block)
        labels, _ = nearest(rows, weights, centres)
        idx, dist = (
            rows.farthest(centres, labels, min(m, rows.n), weights)
            if m and rows.n
            else (np.empty(0, np.int64),) * 2
        )
    return dist, idx + offset, rows.X[idx].astype(np.float64), weights[idx], labels[idx]


def block_final(block, weights, centres, num_threads):
    """(inertia, unweighted label counts (k,) int64) of one block against the final centres."""
    weights, centres = kernel_weights(weights, block), writeable(centres)
    with threads(num_threads):
        labels, inertia = nearest(block_rows(block), weights, centres)
    return inertia, np.bincount(labels, minlength=centres.shape[0]).astype(np.int64)


def block_labels(block, centres, num_threads):
    centres = writeable(centres)
    with threads(num_threads):
        rows = block_rows(block)
        labels, _ = nearest(rows, unit_weights(rows.dtype), centres)
    return labels


def block_distances(block, centres, num_threads, cosine=False):
    """Euclidean distances of the block's rows to the centres; cosine distances (half the squared
    distance of unit vectors) with ``cosine``."""
    centres = writeable(centres)
    with threads(num_threads):
        sq = block_rows(block).sq_distances(centres)
    return sq / 2 if cosine else np.sqrt(sq)


def block_unit_rows(block, block_info=None):
    """The block's rows scaled to unit length (``metric='cosine'``); a zero row is a ValueError
    naming its row in the whole array."""
    first_row = 0 if block_info is None else int(block_info[0]["array-location"][0][0])
    return unit_rows(np.asarray(block), first_row=first_row)


def block_min_sq_distances(block, weights, candidates, previous, num_threads):
    """Squared distance (float64) of each row to its nearest candidate, folded into ``previous``.

    Only the new candidates are visited, so a k-means|| round costs O(n_b * |new| * d) and keeps
    O(n_b) memory per block whatever the number of candidates.
    """
    candidates = writeable(candidates)
    with threads(num_threads):
        rows = block_rows(block)
        labels, _ = nearest(rows, unit_weights(rows.dtype), candidates)  # labels only
        dist = rows.sq_distances_to_assigned(candidates, labels)
    return dist if previous is None else np.minimum(previous, dist)


def weighted_sum(weights, values):
    return float(values.sum() if weights is None else weights.astype(np.float64) @ values)


def block_rng(entropy, *key):
    # One stream per (purpose, round, block): results do not depend on where or when a task runs.
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=tuple(int(k) for k in key)))


def block_oversample(block, weights, min_sq, phi, oversampling, entropy, round_, b):
    """Rows of one block kept independently with probability min(1, l * w * d^2 / phi)."""
    u = block_rng(entropy, 1, round_, b).random(min_sq.shape[0])
    weights = block_weights(weights, block)
    keep = u < oversampling * weights.astype(np.float64) * min_sq / phi
    return np.ascontiguousarray(block[np.flatnonzero(keep)])


def block_candidate_weights(block, weights, candidates, num_threads):
    """Summed sample weight of the rows closest to each candidate (float64 (|C|,)).

    ``bincount`` over the labels rather than ``assign(update=True)``: that would allocate
    per-slot (|C|, d) sums, which is large at large k.
    """
    weights, candidates = block_weights(weights, block), writeable(candidates)
    with threads(num_threads):
        labels, _ = nearest(block_rows(block), weights, candidates)
    return np.bincount(labels, weights=weights.astype(np.float64), minlength=candidates.shape[0])


def block_weighted_keys(block, weights, k, entropy, b):
    """Efraimidis-Spirakis keys: the ``k`` largest of ``log(u) / w`` are a weighted sample without
    replacement. Returns (keys, rows) of the block's ``k`` best."""
    w = block_weights(weights, block).astype(np.float64)
    u = block_rng(entropy, 2, 0, b).random(w.shape[0])
    with np.errstate(divide="ignore"):
        keys = np.where(w > 0, np.log(u) / np.where(w > 0, w, 1.0), -np.inf)
    top = np.sort(np.argsort(-keys, kind="stable")[:k])
    return keys[top], np.ascontiguousarray(block[top])


def block_bernoulli(block, weights, p, entropy, round_, b):
    weights = block_weights(weights, block)
    keep = block_rng(entropy, 3, round_, b).random(weights.shape[0]) < p
    idx = np.flatnonzero(keep)
    return np.ascontiguousarray(block[idx]), weights[idx]


def add(*parts):
    """Element-wise sum of statistic tuples (or arrays/scalars), in the order given."""
    first = parts[0]
    if isinstance(first, tuple):
        return tuple(add(*fields) for fields in zip(*parts))
    total = first.copy() if isinstance(first, np.ndarray) else first
    for p in parts[1:]:
        total = total + p
    return total


class TreeTop(list):
    """The top level of a reduction tree: at most ``SPLIT_EVERY`` delayed parts, which
    ``Fit.compute`` brings to the client and adds there, in order (one task hop fewer per pass)."""


def tree_sum(parts, split_every=SPLIT_EVERY):
    """A fixed reduction tree of delayed ``add`` calls; ``Fit.compute`` turns it into the total.

    The order of additions depends only on the number of blocks, never on scheduling.
    """
    parts = list(parts)
    while len(parts) > split_every:
        parts = [
            dask.delayed(add, pure=True)(*parts[i : i + split_every])
            for i in range(0, len(parts), split_every)
        ]
    return TreeTop(parts)


# -- Gaussian mixture ------------------------------------------------------------------------------
# ``params`` below is (n_components, covariance_type, weights, means, precisions_cholesky), float64.
def block_em(block, weights, params, shift, num_threads):
    """The EM map on one block: (N_k, sum r w x, sum r w x x^T, weighted log-likelihood), float64,
    in the frame shifted by ``shift``; ``_em.e_stats`` on the block's rows."""
    _, covariance_type, mix_weights, means, precisions_cholesky = params
    weights = block_weights(weights, block)
    with threads(num_threads):
        stats = _em.e_stats(
            block_rows(block), weights, shift, covariance_type, mix_weights, means, precisions_cholesky
        )
    return stats.nk, stats.sx, stats.sxx, stats.loglik


def block_weighted_sums(block, weights):
    """(sum w, sum w x) of one block, float64."""
    w = block_weights(weights, block).astype(np.float64)
    return w.sum(), w @ block


def block_tied_moment(block, weights, shift):
    w = block_weights(weights, block).astype(np.float64)
    xs = block - shift
    return (xs * w[:, None]).T @ xs


def block_hard_stats(block, weights, centres, shift, covariance_type, num_threads):
    """Statistics of hard (nearest-centre) responsibilities, as the in-memory mixture builds them
    from k-means labels (``_em.hard_stats``): (N_k, sum w x, sum w x x^T or its diagonal, 0)."""
    weights = block_weights(weights, block)
    with threads(num_threads):
        labels, _ = nearest(block_rows(block), weights, writeable(centres))
    rw = np.zeros((block.shape[0], centres.shape[0]))
    rw[np.arange(block.shape[0]), labels] = weights
    stats = _em.hard_stats(rw, block - shift, covariance_type)
    return stats.nk, stats.sx, stats.sxx, stats.loglik


def block_log_prob(block, params):
    _, covariance_type, weights, means, precisions_cholesky = params
    return _em.log_prob_rows(
        np.ascontiguousarray(block), covariance_type, weights, means, precisions_cholesky
    )


def block_predict(block, params):
    return block_log_prob(block, params).argmax(axis=1)


def block_score_samples(block, params):
    return logsumexp(block_log_prob(block, params), axis=1).astype(block.dtype, copy=False)


def block_predict_proba(block, params):
    wlp = block_log_prob(block, params)
    return np.exp(wlp - logsumexp(wlp, axis=1)[:, None]).astype(block.dtype, copy=False)
