"""EM for Gaussian mixtures as module functions (as scikit-learn's ``_gaussian_mixture.py``): the E
statistics over the fused kernel, the M-step on their totals, precision Cholesky factors, the
statistics of hard responsibilities, the ``*_init`` overrides and the EM loop.

The in-memory ``GaussianMixture`` and ``fastseg.dask.GaussianMixture`` both run these; a model's
parameters travel as plain arrays (``covariance_type``, weights, means, precision Cholesky factors).
"""

import logging
import math
import time
import warnings
from typing import NamedTuple

import numpy as np
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._blas import blas_single_thread
from ._kernels import em as _ek
from ._kernels._config import in_parallel, slot_bounds
from ._validation import verbose_logging

logger = logging.getLogger("fastseg")

SINGULAR = (
    "Fitting the mixture model failed because some components have ill-defined empirical covariance "
    "(for instance caused by singleton or collapsed samples). Try to decrease the number of components, "
    "increase reg_covar, or scale the input data."
)
# Added to N_k before dividing by it, as scikit-learn does.
EPS = 10 * np.finfo(np.float64).eps


class Stats:
    """Sufficient statistics of one E-step, reduced over slots (shifted frame, float64):
    N_k, sum r x, sum r x x^T, the log-likelihood and sum r log r (the entropy term of the
    variational lower bound)."""

    def __init__(self, nk, sx, sxx, loglik, rlogr=0.0):
        self.nk, self.sx, self.sxx, self.loglik, self.rlogr = nk, sx, sxx, loglik, rlogr


class Params(NamedTuple):
    """A mixture's parameters, float64; ``covariances`` may be None (known by precisions only)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray | None
    precisions_cholesky: np.ndarray


def _flip(a):
    return a[::-1, ::-1]


# -- parameters <-> kernel arguments ------------------------------------------------------------
def full_prec_chol(covariance_type, means, precisions_cholesky):
    """Precision Cholesky factors as (k, d, d) upper-triangular, for the kernel."""
    k, d = np.shape(means)
    pc = np.asarray(precisions_cholesky, dtype=np.float64)
    if covariance_type == "full":
        return np.ascontiguousarray(pc)
    if covariance_type == "tied":
        return np.ascontiguousarray(np.broadcast_to(pc, (k, d, d)))
    diag = pc if covariance_type == "diag" else np.repeat(pc[:, None], d, axis=1)
    out = np.zeros((k, d, d))
    idx = np.arange(d)
    out[:, idx, idx] = diag
    return out


def log_det_cholesky(covariance_type, means, precisions_cholesky):
    """log det of each component's precision Cholesky factor, (k,) (tied: the one, k times)."""
    k, d = np.shape(means)
    pc = np.asarray(precisions_cholesky, dtype=np.float64)
    if covariance_type == "full":
        log_det = np.log(np.diagonal(pc, axis1=1, axis2=2)).sum(axis=1)
    elif covariance_type == "tied":
        log_det = np.full(k, np.log(np.diag(pc)).sum())
    elif covariance_type == "diag":
        log_det = np.log(pc).sum(axis=1)
    else:
        log_det = d * np.log(pc)
    return log_det


def log_const(covariance_type, weights, means, precisions_cholesky, log_offset=None):
    """log w_k + log det(precision Cholesky) - d/2 log(2 pi) per component; ``log_offset`` (k,)
    in place of log w_k when given (a variational mixture's expected log weights and terms)."""
    d = np.shape(means)[1]
    if log_offset is None:
        with np.errstate(divide="ignore"):
            log_offset = np.log(np.asarray(weights, dtype=np.float64))
    log_det = log_det_cholesky(covariance_type, means, precisions_cholesky)
    return log_offset + log_det - 0.5 * d * math.log(2 * math.pi)


def kernel_args(covariance_type, weights, means, precisions_cholesky, shift, log_offset=None):
    """(shifted means, (k, d, d) precision Cholesky, diagonal?, log constants) for the EM kernels."""
    shifted = np.asarray(means, dtype=np.float64) - shift
    diag = covariance_type in ("diag", "spherical")
    return (
        np.ascontiguousarray(shifted),
        full_prec_chol(covariance_type, means, precisions_cholesky),
        diag,
        log_const(covariance_type, weights, means, precisions_cholesky, log_offset),
    )


# -- E and M steps --------------------------------------------------------------------------------
def e_stats(rows, sample_weight, shift, covariance_type, weights, means, precisions_cholesky,
            log_offset=None):  # fmt: skip
    """The EM map and reduce over ``rows`` (``fastseg._rows.Rows``): ``Stats`` in the frame shifted
    by ``shift``, slots added in slot order (``log_offset``: as ``log_const``)."""
    k, d = np.shape(means)[0], rows.d
    n_slots = rows.bounds.size - 1
    moments = {"full": 2, "tied": 0, "diag": 1, "spherical": 1}[covariance_type]
    nk = np.empty((n_slots, k))
    sx = np.empty((n_slots, k, d))
    sxx = np.empty((n_slots, k, d, d) if moments else (n_slots, k, 0, 0))
    loglik = np.empty(n_slots)
    rlogr = np.empty(n_slots)
    args = kernel_args(covariance_type, weights, means, precisions_cholesky, shift, log_offset)
    in_parallel(
        n_slots,
        lambda a, b: _ek.em_stats(
            rows.X, sample_weight, shift, *args, moments, rows.bounds[a : b + 1], nk[a:b], sx[a:b],
            sxx[a:b], loglik[a:b], rlogr[a:b],
        ),
    )  # fmt: skip
    return Stats(nk.sum(0), sx.sum(0), sxx.sum(0), loglik.sum(), rlogr.sum())


def log_prob_rows(X, covariance_type, weights, means, precisions_cholesky, shift=None, log_offset=None):
    """(n, k) weighted log-probabilities of validated C-ordered rows (``log_offset``: as
    ``log_const``).

    ``shift`` (d,) float64 is subtracted from rows and means before the products (rounding only);
    the rows' own mean when None. A fixed shift makes a row's result independent of the others.
    """
    if shift is None:
        shift = X.mean(axis=0)
    shift = np.asarray(shift, dtype=np.float64)
    out = np.empty((X.shape[0], np.shape(means)[0]))
    args = kernel_args(covariance_type, weights, means, precisions_cholesky, shift, log_offset)
    e = slot_bounds(X.shape[0])  # edges on block edges: each block's rows as in one call
    in_parallel(
        e.shape[0] - 1,
        lambda a, b: _ek.weighted_log_prob(X[e[a] : e[b]], shift, *args, out[e[a] : e[b]]),
    )
    return out


def hard_stats(rw, xs, covariance_type):
    """``Stats`` of given (weighted) responsibilities ``rw`` (n, k) of shifted rows ``xs`` (n, d)."""
    k, d = rw.shape[1], xs.shape[1]
    sxx = None
    if covariance_type == "full":
        sxx = np.einsum("nk,nf,ng->kfg", rw, xs, xs)
    elif covariance_type in ("diag", "spherical"):
        sxx = np.zeros((k, d, d))
        idx = np.arange(d)
        sxx[:, idx, idx] = rw.T @ (xs * xs)
    return Stats(rw.sum(0), rw.T @ xs, sxx, 0.0)


def gaussian_parameters(stats, shift, tied_moment, covariance_type, reg_covar):
    """scikit-learn's ``_estimate_gaussian_parameters`` on the statistics: N_k + eps, the means in
    the shifted frame and the covariances (reg_covar added)."""
    nk_raw = stats.nk
    nk = nk_raw + EPS
    mu = stats.sx / nk[:, None]  # shifted frame
    d = mu.shape[1]
    reg = reg_covar
    if covariance_type == "full":
        sxx = np.triu(stats.sxx) + np.triu(stats.sxx, 1).transpose(0, 2, 1)
        outer = mu[:, :, None] * mu[:, None, :]
        cov = (sxx - (2 * nk - nk_raw)[:, None, None] * outer) / nk[:, None, None]
        cov[:, np.arange(d), np.arange(d)] += reg
    elif covariance_type == "tied":
        cov = (tied_moment - (nk[:, None, None] * mu[:, :, None] * mu[:, None, :]).sum(0)) / nk.sum()
        cov[np.arange(d), np.arange(d)] += reg
    else:
        # scikit-learn's form, E[x^2] - mu^2: a component on one row keeps a tiny positive
        # variance (what its regression test for a diverging start expects), where the
        # centred form can round to zero or below.
        second = np.diagonal(stats.sxx, axis1=1, axis2=2)
        cov = second / nk[:, None] - mu**2 + reg
        if covariance_type == "spherical":
            cov = cov.mean(axis=1)
    return nk, mu, cov


def m_step(stats, shift, tied_moment, covariance_type, reg_covar):
    """New ``Params`` (weights, means, covariances, precision Cholesky factors) from the statistics."""
    nk, mu, cov = gaussian_parameters(stats, shift, tied_moment, covariance_type, reg_covar)
    return Params(nk / nk.sum(), mu + shift, cov, precision_cholesky(cov, covariance_type))


def precision_cholesky(cov, covariance_type):
    """Cholesky factors of the precisions from covariances; a singular one is a ValueError."""
    if covariance_type in ("full", "tied"):
        covs = cov if covariance_type == "full" else cov[None]
        out = np.empty_like(covs)
        eye = np.eye(covs.shape[-1])
        for k, c in enumerate(covs):
            try:
                chol = linalg.cholesky(c, lower=True)
            except linalg.LinAlgError:
                raise ValueError(SINGULAR) from None
            out[k] = linalg.solve_triangular(chol, eye, lower=True).T
        return out if covariance_type == "full" else out[0]
    if np.any(cov <= 0.0):
        raise ValueError(SINGULAR)
    return 1.0 / np.sqrt(cov)


def precision_cholesky_from_precisions(precisions, covariance_type):
    p = np.asarray(precisions, dtype=np.float64)
    if covariance_type == "full":
        return np.stack([_flip(linalg.cholesky(_flip(pk), lower=True)) for pk in p])
    if covariance_type == "tied":
        return _flip(linalg.cholesky(_flip(p), lower=True))
    return np.sqrt(p)


def covariances_from_precision_cholesky(precisions_cholesky, covariance_type):
    pc = np.asarray(precisions_cholesky, dtype=np.float64)
    if covariance_type == "full":
        return np.stack([np.linalg.inv(u @ u.T) for u in pc])
    if covariance_type == "tied":
        return np.linalg.inv(pc @ pc.T)
    return 1.0 / pc**2


def precisions_from_cholesky(precisions_cholesky, covariance_type):
    pc = np.asarray(precisions_cholesky, dtype=np.float64)
    if covariance_type == "full":
        return np.einsum("kij,klj->kil", pc, pc)
    if covariance_type == "tied":
        return pc @ pc.T
    return pc**2


# -- initialisation ---------------------------------------------------------------------------------
def needs_responsibilities(weights_init, means_init, precisions_init):
    """True unless every parameter is given explicitly."""
    return weights_init is None or means_init is None or precisions_init is None


def start_tied_moment(stats, shift, tied_moment, total_weight):
    """The tied moment for the M-step on initial responsibilities.

    scikit-learn's tied covariance is (X^T X - sum N_k mu_k mu_k^T) / sum N_k in the caller's
    frame. A start that gives responsibilities to a few rows only (k-means++, 'random_from_data')
    has sum N_k < the total weight, and then that form is not shift-invariant: the frame change,
    with sum_i w_i (x_i - shift) = 0."""
    if tied_moment is None:
        return None
    total_sx = stats.sx.sum(axis=0)
    lost = total_weight - (stats.nk + EPS).sum()
    return tied_moment - np.outer(total_sx, shift) - np.outer(shift, total_sx) + lost * np.outer(shift, shift)


def start_from_stats(stats, shift, tied_moment, covariance_type, reg_covar, weights_init, total_weight):
    """The initial ``Params``: an M-step on the initial responsibilities' statistics; without
    ``weights_init`` the weights are ``(N_k + eps) / total_weight``, as scikit-learn's."""
    tied_moment = start_tied_moment(stats, shift, tied_moment, total_weight)
    params = m_step(stats, shift, tied_moment, covariance_type, reg_covar)
    if weights_init is None:
        weights = stats.nk + EPS
        params = params._replace(weights=weights / total_weight)
    return params


def init_overrides(params, weights_init, means_init, precisions_init, covariance_type):
    """``params`` with the explicit ``*_init`` parameters (checked already) put in."""
    weights, means, covariances, pc = params if params is not None else (None, None, None, None)
    if weights_init is not None:
        weights = np.asarray(weights_init, dtype=np.float64)
    if means_init is not None:
        means = np.asarray(means_init, dtype=np.float64)
    if precisions_init is not None:
        pc = precision_cholesky_from_precisions(precisions_init, covariance_type)
    return Params(weights, means, covariances, pc)


# -- the EM loop -------------------------------------------------------------------------------------
def run_em(initialize, e_step, m_step, total_weight, *, n_init, max_iter, tol, random_state, verbose=0,
           verbose_interval=10, start=None, bound=None):  # fmt: skip
    """``n_init`` EM runs, the one with the best lower bound kept.

    ``initialize(random_state)`` returns a run's initial ``Params``, ``e_step(params)`` the ``Stats``
    of the data under ``params`` (in memory or over dask blocks) and ``m_step(stats)`` new
    ``Params``. ``start=(params, lower_bound)`` continues a fit instead (warm start: one run, no
    initialisation). A run stops when the lower bound changes by less than ``tol``. The lower bound
    is ``bound(stats, new params)``; by default the mean log-likelihood of the E-step.

    Returns (best params, n_iter, lower bound, lower bounds per iteration, converged).
    """
    best, max_lower_bound, best_converged = None, -np.inf, False
    best_n_iter, best_bounds = 0, []
    # The M-step's small LAPACK calls would leave BLAS threads spinning on the cores the EM
    # kernel needs next: one BLAS thread is plenty for k matrices of d x d.
    with blas_single_thread():
        for init in range(n_init):
            if start is None:
                params = initialize(random_state)
                lower_bound = -np.inf
            else:
                params, lower_bound = start
            if verbose:
                logger.info("Initialization %d", init)
                started = time.perf_counter()
                iter_started = started
            bounds, converged, n_iter = [], False, 0
            for n_iter in range(1, max_iter + 1):
                previous = lower_bound
                stats = e_step(params)
                params = m_step(stats)
                lower_bound = stats.loglik / total_weight if bound is None else bound(stats, params)
                bounds.append(lower_bound)
                if verbose and n_iter % verbose_interval == 0:
                    if verbose == 1:
                        logger.info("  Iteration %d", n_iter)
                    else:
                        now = time.perf_counter()
                        logger.info(
                            "  Iteration %d\t time lapse %.5fs\t ll change %.5f",
                            n_iter,
                            now - iter_started,
                            lower_bound - previous,
                        )
                        iter_started = now
                if abs(lower_bound - previous) < tol:
                    converged = True
                    break
            if verbose and max_iter > 0:
                message = "converged" if converged else "did not converge"
                if verbose == 1:
                    logger.info("Initialization %s.", message)
                else:
                    logger.info(
                        "Initialization %s. time lapse %.5fs\t lower bound %.5f.",
                        message,
                        time.perf_counter() - started,
                        lower_bound,
                    )
            if lower_bound > max_lower_bound or max_lower_bound == -np.inf:
                max_lower_bound = lower_bound
                best = params
                best_n_iter, best_bounds, best_converged = n_iter, bounds, converged
    return best, best_n_iter, max_lower_bound, best_bounds, best_converged


class Inits(NamedTuple):
    """A mixture's explicit ``weights_init``, ``means_init`` and ``precisions_init``, checked
    (None where not given)."""

    weights: object
    means: object
    precisions: object


def explicit_inits(model, n_features):
    """``Inits`` of a ``GaussianMixture``, checked by scikit-learn's own checks (for its error
    messages; imported here: sklearn.mixture is slow to import)."""
    from sklearn.mixture._gaussian_mixture import _check_means, _check_precisions, _check_weights

    k = model.n_components
    return Inits(
        None if model.weights_init is None else _check_weights(model.weights_init, k, xp=np),
        None if model.means_init is None else _check_means(model.means_init, k, n_features, xp=np),
        None
        if model.precisions_init is None
        else _check_precisions(model.precisions_init, model.covariance_type, k, n_features, xp=np),
    )


def run_fit(model, initialize, e_step, m_step, total_weight, start=None, bound=None, stacklevel=5):
    """``run_em`` with a mixture's settings (``verbose``, ``n_init``, ``max_iter``, ``tol``,
    ``random_state``), scikit-learn's warning when the best run did not converge, and the fitted
    ``converged_``, ``n_iter_``, ``lower_bound_``, ``lower_bounds_``. Returns the best parameters."""
    with verbose_logging(model.verbose):
        best, n_iter, lower_bound, bounds, converged = run_em(
            initialize,
            e_step,
            m_step,
            total_weight,
            n_init=1 if start is not None else model.n_init,
            max_iter=model.max_iter,
            tol=model.tol,
            random_state=check_random_state(model.random_state),
            verbose=model.verbose,
            verbose_interval=model.verbose_interval,
            start=start,
            bound=bound,
        )
    model.converged_ = converged
    if not model.converged_ and model.max_iter > 0:
        warnings.warn(
            "Best performing initialization did not converge. Try different init parameters, or increase "
            "max_iter, tol, or check for degenerate data.",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
    model.n_iter_ = n_iter
    model.lower_bound_ = lower_bound
    model.lower_bounds_ = bounds
    return best


def fit_mixture(model, initialize, e_step, shift, tied_moment, total_weight, dtype):
    """``run_fit`` of a ``GaussianMixture`` (``initialize(random_state)`` and ``e_step(params)``
    from the in-memory rows or from dask blocks), then its fitted parameters."""
    start = None
    if model.warm_start and hasattr(model, "converged_"):  # continue from the fitted parameters
        fitted = [
            np.asarray(getattr(model, name), dtype=np.float64)
            for name in ("weights_", "means_", "covariances_", "precisions_cholesky_")
        ]
        start = (Params(*fitted), model.lower_bound_)
    cov_type, reg_covar = model.covariance_type, model.reg_covar
    best = run_fit(
        model,
        initialize,
        e_step,
        lambda stats: m_step(stats, shift, tied_moment, cov_type, reg_covar),
        total_weight,
        start,
        stacklevel=6,
    )
    covariances = best.covariances
    if covariances is None:  # max_iter=0 with precisions_init: covariances from the precisions
        covariances = covariances_from_precision_cholesky(best.precisions_cholesky, cov_type)
    model.weights_, model.means_, model.precisions_cholesky_ = (
        best.weights,
        best.means,
        best.precisions_cholesky,
    )
    model.covariances_ = covariances
    model.precisions_ = precisions_from_cholesky(model.precisions_cholesky_, cov_type)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_"):
        setattr(model, name, np.asarray(getattr(model, name), dtype=dtype))
