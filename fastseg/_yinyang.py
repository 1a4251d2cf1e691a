"""Exact accelerated K-means: Yinyang bounds around Lloyd's update, same labels and centres.

Dense rows only. ``yinyang`` returns what ``_lloyd.lloyd`` returns from the same init: the same
labels and ``n_iter`` and bitwise the same centres and inertia (the kernel accumulates the
per-slot sums exactly as the Lloyd kernels do; update, relocation of empty clusters, stopping
rules and the final inertia are Lloyd's own functions). A memmap is read whole, not streamed.
"""

import logging

import numpy as np

from ._blas import blas_single_thread, score_kernel
from ._kernels import lloyd as _lk
from ._kernels import yinyang as _yk
from ._kernels._config import in_parallel
from ._lloyd import lloyd

logger = logging.getLogger("fastseg")

# Bound computations are rounding-safe with this factor over the textbook error bounds.
_SAFETY = 4.0
# A pass recomputes every row with Lloyd's dense kernel arithmetic (plus fresh bounds) when more
# than this fraction of the rows fail the global filter: after large centre moves the filtered
# pass costs several Lloyd iterations.
DENSE_ABOVE = 0.95


# 'auto' picks Yinyang up to this many features (its measured range) ...
MAX_FEATURES = 256
# ... and only for fits allowed at least this many iterations.
MIN_ITER = 30


def choose_algorithm(n, d, k, max_iter=300):
    """'yinyang' where it measured faster than Lloyd, else 'lloyd' (dense input only).

    Rule, in float32 and float64 alike: k >= 64, 16 <= d <= MAX_FEATURES, n >= 20 k, the bounds
    (8 (k / 10 + 2) bytes per row) within 1 GiB, and ``max_iter >= MIN_ITER``. Whole fits both
    ways come from ``python -m benchmarks.auto_choice``, late iterations from
    ``python -m benchmarks.accelerated`` (the accelerated table of docs/performance.md). Below the rule Lloyd's
    kernels are as fast (at d = 8, k = 64 the fused kernel), and Yinyang's dense passes (the
    first, dearer than a Lloyd iteration, and after large moves) plus the extra assignment pass on
    strict convergence eat small per-iteration gains in a short fit.
    """
    bounds_bytes = 8 * n * (n_groups_for(k) + 2)
    if max_iter < MIN_ITER or k < 64 or not 16 <= d <= MAX_FEATURES or n < 20 * k or bounds_bytes > 2**30:
        return "lloyd"
    return "yinyang"


def n_groups_for(k):
    """Number of centre groups: about k / 10 (Ding et al.), at least one."""
    return max(1, int(round(k / 10)))


def centre_groups(centres, n_groups, n_steps=5):
    """Group the centres by a few Lloyd steps on the centres themselves (deterministic).

    Returns ``group_of`` (k,) int64 with groups numbered 0..t-1, none empty.
    """
    c = np.asarray(centres, dtype=np.float64)
    k = c.shape[0]
    n_groups = min(n_groups, k)
    g_centres = c[np.linspace(0, k - 1, n_groups).astype(np.int64)]
    group_of = np.zeros(k, dtype=np.int64)
    for _ in range(n_steps):
        d2 = ((c[:, None, :] - g_centres[None, :, :]) ** 2).sum(axis=2)
        group_of = d2.argmin(axis=1)
        for g in range(n_groups):
            members = group_of == g
            if members.any():
                g_centres[g] = c[members].mean(axis=0)
    _, group_of = np.unique(group_of, return_inverse=True)
    return group_of.astype(np.int64)


def _layout(group_of):
    """Permuted positions with each group contiguous: (order, position, group starts)."""
    order = np.argsort(group_of, kind="stable").astype(np.int32)
    position = np.empty(group_of.size, dtype=np.int64)
    position[order] = np.arange(group_of.size)
    counts = np.bincount(group_of)
    gstart = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return order, position, gstart


class _Bounds:
    """Yinyang state of one run: groups, layout, lazy bounds and cumulative drifts."""

    def __init__(self, rows, centres, n_groups):
        n, d = rows.n, rows.d
        k = centres.shape[0]
        self.scores = score_kernel(d, k, rows.dtype)
        self.gemm = self.scores != _lk.FUSED  # scores on shifted rows, not distances
        self.x_shift = rows.mean if self.gemm else np.zeros(d, dtype=rows.dtype)
        self.group_of = centre_groups(centres, n_groups)
        t = self.n_groups = int(self.group_of.max()) + 1
        self.order, self.position, self.gstart = _layout(self.group_of)
        self.x_norm = np.zeros(n)
        if self.gemm:
            e = rows.bounds
            in_parallel(
                e.shape[0] - 1,
                lambda a, b: _yk.row_norms_shifted(
                    rows.X[e[a] : e[b]], self.x_shift, self.x_norm[e[a] : e[b]]
                ),
            )
        eps = float(np.finfo(rows.dtype).eps)
        # A squared distance computed directly, in any order: relative error <= (d + 2) eps.
        # A GEMM score after the shift: absolute error <= (d + 2) eps (|c|^2 / 2 + |c| |x|).
        self.gamma = _SAFETY * (d + 4) * eps
        self.m_coef = self.gamma if self.gemm else 0.0
        self.ub = np.empty(n)
        self.lb_all = np.empty(n)
        self.lb = np.empty((n, t))
        self.cum_c = np.zeros(k)
        self.cum_g = np.zeros(t)
        self.cum_all = 0.0
        self.scale = float(self.x_norm.max()) if n else 0.0
        self.first = True
        self.work = np.zeros((rows.bounds.shape[0] - 1, 3), dtype=np.int64)
        self.work_log = []

    def assign(self, rows, sample_weight, centres, labels, stats, changed):
        sums, weights, counts = stats
        c64 = centres.astype(np.float64) - self.x_shift
        cmax = float(np.sqrt((c64 * c64).sum(axis=1).max()))
        dense = self.first
        n_slots = rows.bounds.shape[0] - 1
        if not dense:
            fails = np.empty(n_slots, dtype=np.int64)
            in_parallel(
                n_slots,
                lambda a, b: _yk.global_filter_fails(
                    labels, self.ub, self.lb_all, self.cum_c, self.cum_all, rows.bounds[a : b + 1], fails[a:b]
                ),
            )
            dense = fails.sum() > DENSE_ABOVE * rows.n
        if dense:
            # Fresh bounds for every row: the cumulative drifts start again from zero.
            self.cum_c[:] = 0
            self.cum_g[:] = 0
            self.cum_all = 0.0
            with blas_single_thread():
                in_parallel(
                    n_slots,
                    lambda a, b: _yk.init_bounds(
                        rows.X, sample_weight, centres, self.x_shift, self.scores, self.group_of, self.order,
                        self.gstart, self.gamma, self.m_coef, cmax, self.x_norm, rows.bounds[a : b + 1], labels,
                        self.ub, self.lb_all, self.lb, sums[a:b], weights[a:b], counts[a:b], changed[a:b],
                    ),
                )  # fmt: skip
            self.work[:] = -1  # a dense pass: no filter ran
            self.first = False
        else:
            eps64 = float(np.finfo(np.float64).eps)
            slack = 64 * eps64 * (self.cum_all + self.scale + cmax)
            # Near ties on the GEMM path recompute their chunk's GEMM: BLAS on one thread.
            with blas_single_thread():
                cr = centres[self.order]
                in_parallel(
                    n_slots,
                    lambda a, b: _yk.assign_yinyang(
                        rows.X, sample_weight, centres, cr, self.x_shift, self.order, self.position,
                        self.gstart, self.group_of, self.scores, self.gamma, self.m_coef, cmax, slack,
                        self.x_norm, self.cum_c, self.cum_g, self.cum_all, rows.bounds[a : b + 1], labels,
                        self.ub, self.lb_all, self.lb, sums[a:b], weights[a:b], counts[a:b], changed[a:b],
                        self.work[a:b],
                    ),
                )  # fmt: skip
        self.work_log.append(self.work.sum(axis=0))

    def move(self, centres_old, centres_new):
        """Add the drift of every centre (widened against rounding) to the cumulative drifts."""
        step = centres_new.astype(np.float64) - centres_old.astype(np.float64)
        drift = np.sqrt((step * step).sum(axis=1)) * (1 + 1e-12)
        self.cum_c += drift
        self.cum_g += np.maximum.reduceat(drift[self.order], self.gstart[:-1]) if drift.size else 0
        self.cum_all += float(drift.max())


def yinyang(
    rows,
    sample_weight,
    centres_init,
    max_iter,
    tol,
    verbose=False,
    n_groups=None,
    work=None,
    on_iteration=None,
    spherical=False,
):
    """Yinyang K-means with Lloyd's stopping rules; the result equals ``_lloyd.lloyd``'s.

    ``sample_weight`` may have length 0, meaning unit weights. ``n_groups`` overrides the
    number of centre groups; ``work``, a list, receives per iteration the number of rows past
    the global filter, rows past the tightened filter and (row, group) pairs recomputed (-1 for
    a dense pass). ``on_iteration`` and ``spherical`` are ``lloyd``'s (on unit rows the bounds
    hold as they are: spherical k-means assigns by Euclidean distance between unit vectors).
    On strict convergence it runs one extra assignment pass (``rows.assign``) so that the
    inertia is bitwise Lloyd's. Bounds take ``8 (t + 2)`` bytes per row (t groups).

    Returns (labels int32, inertia float, centres, n_iter).
    """
    if rows.sparse:
        raise TypeError("yinyang needs dense rows; use lloyd for sparse input")
    k, d = np.shape(centres_init)
    state = _Bounds(
        rows,
        np.ascontiguousarray(centres_init, dtype=rows.dtype),
        n_groups_for(k) if n_groups is None else n_groups,
    )
    n_slots = rows.bounds.shape[0] - 1
    stats = rows.slot_stats(k)  # kept across passes, as Lloyd's: both move only changed rows
    changed = np.empty(n_slots, dtype=np.int64)

    def assign(sample_weight, centres, labels):
        state.assign(rows, sample_weight, centres, labels, stats, changed)
        # Slot order, as Lloyd's reduce; no inertia (the bounds skip most distances).
        return stats[0].sum(axis=0), stats[1].sum(axis=0), None, int(changed.sum())

    result = lloyd(
        rows,
        sample_weight,
        centres_init,
        max_iter,
        tol,
        verbose,
        assign=assign,
        moved=state.move,
        on_iteration=on_iteration,
        spherical=spherical,
    )
    if work is not None:
        work.extend(state.work_log)
    return result
