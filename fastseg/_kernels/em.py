"""EM for Gaussian mixtures: log-densities from the Cholesky factor of the precision,
log-sum-exp per row, responsibilities and the M-step sufficient statistics, in one pass per block.

Rows are shifted by ``shift`` (the data mean) before anything else, so second moments do not
lose precision far from the origin; ``means`` are given in that shifted frame. Arithmetic is
float64 whatever the input dtype.
"""

import numpy as np

from ._config import BLOCK_ROWS, JIT
from ._numba import njit


@njit(**JIT)
def _block_log_prob(xt, means, prec_chol, diag, log_const, diff, y, logp):
    """Weighted log-probability ``log w_k + log N(x | mu_k, Sigma_k)`` of a block of rows.

    xt : (d, B) float64 -- shifted rows, transposed; means : (k, d); prec_chol : (k, d, d) upper
    triangular, precision = U U^T (only the diagonal is read when ``diag``); log_const : (k,)
    ``log w_k + log det U_k - d/2 log(2 pi)``; diff : (d, B), y : (B,) scratch; logp : (k, B) OUT
    """
    n_features, n_block = xt.shape
    for k in range(means.shape[0]):
        for f in range(n_features):
            mu = means[k, f]
            for b in range(n_block):
                diff[f, b] = xt[f, b] - mu
        maha = logp[k]
        maha[:] = 0.0
        if diag:
            for f in range(n_features):
                u = prec_chol[k, f, f]
                for b in range(n_block):
                    v = diff[f, b] * u
                    maha[b] += v * v
        else:
            for j in range(n_features):
                y[:] = 0.0
                for f in range(j + 1):
                    u = prec_chol[k, f, j]
                    for b in range(n_block):
                        y[b] += diff[f, b] * u
                for b in range(n_block):
                    maha[b] += y[b] * y[b]
        c = log_const[k]
        for b in range(n_block):
            maha[b] = c - 0.5 * maha[b]


# exp() of arguments below this is taken at this value (about 1e-304, not 0): the libm slow path
# for underflow costs more than the rest of the E-step, and the difference is far below rounding.
EXP_FLOOR = -700.0


@njit(**JIT)
def _responsibilities(logp, lse, rlogr, top, total):
    """lse[b] = log sum_k exp(logp[k, b]); logp is overwritten with the responsibilities r and
    rlogr[b] = sum_k r log r (the variational lower bound's entropy term).

    One exp per entry: r = exp(logp - max) / sum_k exp(logp - max), so that
    sum_k r log r = sum_k exp(t) t / sum_k exp(t) - log sum_k exp(t) with t = logp - max.
    logp : (k, B) INOUT; lse, rlogr, top, total : (B,) OUT (top and total are scratch)
    """
    n_comp = logp.shape[0]
    for b in range(top.shape[0]):
        top[b] = logp[0, b]
    for k in range(1, n_comp):
        for b in range(top.shape[0]):
            top[b] = max(top[b], logp[k, b])
    total[:] = 0.0
    rlogr[:] = 0.0
    for k in range(n_comp):
        for b in range(top.shape[0]):
            t = max(logp[k, b] - top[b], EXP_FLOOR)
            e = np.exp(t)
            logp[k, b] = e
            total[b] += e
            rlogr[b] += e * t
    for b in range(top.shape[0]):
        log_total = np.log(total[b])
        lse[b] = top[b] + log_total
        total[b] = 1.0 / total[b]
        rlogr[b] = rlogr[b] * total[b] - log_total
    for k in range(n_comp):
        for b in range(top.shape[0]):
            logp[k, b] *= total[b]


@njit(**JIT)
def em_stats(
    X, sample_weight, shift, means, prec_chol, diag, log_const, moments, bounds, nk, sx, sxx, loglik,
    rlogr,
):  # fmt: skip
    """E-step and M-step sufficient statistics of every slot of rows.

    X : (n, d) float32|float64, IN; sample_weight : (n,) X.dtype, IN; shift : (d,) float64, IN
    means, prec_chol, diag, log_const : as ``_block_log_prob``
    moments : int -- second moments to accumulate: 0 none, 1 diagonal (x_f^2), 2 full (x x^T)
    bounds : (n_slots + 1,) int64, IN
    nk : (n_slots, k) float64, OUT -- sum of w * r
    sx : (n_slots, k, d) float64, OUT -- sum of w * r * x (shifted)
    sxx : (n_slots, k, d, d) float64, OUT -- sum of w * r * x x^T (upper triangle, or its diagonal)
    loglik : (n_slots,) float64, OUT -- sum of w * log p(x)
    rlogr : (n_slots,) float64, OUT -- sum of w * sum_k r log r
    """
    n_features = X.shape[1]
    n_comp = means.shape[0]
    n_slots = bounds.shape[0] - 1
    for s in range(n_slots):
        xt = np.zeros((n_features, BLOCK_ROWS))
        diff = np.empty((n_features, BLOCK_ROWS))
        y = np.empty(BLOCK_ROWS)
        logp = np.empty((n_comp, BLOCK_ROWS))
        lse = np.empty(BLOCK_ROWS)
        ent = np.empty(BLOCK_ROWS)
        top = np.empty(BLOCK_ROWS)
        total = np.empty(BLOCK_ROWS)
        wb = np.zeros(BLOCK_ROWS)
        rw = np.empty(BLOCK_ROWS)
        nk[s] = 0.0
        sx[s] = 0.0
        sxx[s] = 0.0
        acc = 0.0
        acc_ent = 0.0
        for start in range(bounds[s], bounds[s + 1], BLOCK_ROWS):
            m = min(BLOCK_ROWS, bounds[s + 1] - start)
            for b in range(m):
                wb[b] = sample_weight[start + b]
                for f in range(n_features):
                    xt[f, b] = X[start + b, f] - shift[f]
            for b in range(m, BLOCK_ROWS):
                wb[b] = 0.0
            _block_log_prob(xt, means, prec_chol, diag, log_const, diff, y, logp)
            _responsibilities(logp, lse, ent, top, total)
            for b in range(m):
                acc += wb[b] * lse[b]
                acc_ent += wb[b] * ent[b]
            for k in range(n_comp):
                block_nk = 0.0
                for b in range(BLOCK_ROWS):
                    rw[b] = wb[b] * logp[k, b]
                    block_nk += rw[b]
                nk[s, k] += block_nk
                for f in range(n_features):
                    t = 0.0
                    for b in range(BLOCK_ROWS):
                        t += rw[b] * xt[f, b]
                    sx[s, k, f] += t
                if moments == 1:
                    for f in range(n_features):
                        t = 0.0
                        for b in range(BLOCK_ROWS):
                            t += rw[b] * xt[f, b] * xt[f, b]
                        sxx[s, k, f, f] += t
                elif moments == 2:
                    for f in range(n_features):
                        for g in range(f, n_features):
                            t = 0.0
                            for b in range(BLOCK_ROWS):
                                t += rw[b] * xt[f, b] * xt[g, b]
                            sxx[s, k, f, g] += t
        loglik[s] = acc
        rlogr[s] = acc_ent


@njit(**JIT)
def weighted_log_prob(X, shift, means, prec_chol, diag, log_const, out):
    """``log w_k + log N(x_i | mu_k, Sigma_k)`` for every row and component.

    X : (n, d) float32|float64, IN; shift, means, prec_chol, diag, log_const : as ``em_stats``;
    out : (n, k) float64, OUT
    """
    n_rows, n_features = X.shape
    n_comp = means.shape[0]
    n_blocks = (n_rows + BLOCK_ROWS - 1) // BLOCK_ROWS
    for blk in range(n_blocks):
        start = blk * BLOCK_ROWS
        m = min(BLOCK_ROWS, n_rows - start)
        xt = np.zeros((n_features, BLOCK_ROWS))
        diff = np.empty((n_features, BLOCK_ROWS))
        y = np.empty(BLOCK_ROWS)
        logp = np.empty((n_comp, BLOCK_ROWS))
        for b in range(m):
            for f in range(n_features):
                xt[f, b] = X[start + b, f] - shift[f]
        _block_log_prob(xt, means, prec_chol, diag, log_const, diff, y, logp)
        for b in range(m):
            for k in range(n_comp):
                out[start + b, k] = logp[k, b]
