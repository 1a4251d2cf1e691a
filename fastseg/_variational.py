"""Variational Bayesian Gaussian mixtures as module functions (as scikit-learn's
``_bayesian_mixture.py``): the priors, the variational M-step on the E-step's statistics, the
expected log weights and per-component terms the EM kernel adds to each log-density, and the lower
bound. The E-step is ``_em.e_stats`` with those terms (``log_offset``)."""

import math
from typing import NamedTuple

import numpy as np
from scipy.special import betaln, digamma, gammaln

from . import _em


class Priors(NamedTuple):
    """A fit's priors (scikit-learn's ``*_prior_`` attributes), caller's frame."""

    weight_concentration_prior_type: str
    weight_concentration: float
    mean_precision: float
    mean: np.ndarray
    degrees_of_freedom: float
    covariance: object  # (d, d) full and tied, (d,) diag, a number spherical


class VParams(NamedTuple):
    """A variational mixture's parameters (scikit-learn's ``_get_parameters``), float64."""

    weight_concentration: object  # (k,), or a pair of (k,) for a Dirichlet process
    mean_precision: np.ndarray
    means: np.ndarray
    degrees_of_freedom: object  # (k,); a number when tied
    covariances: np.ndarray
    precisions_cholesky: np.ndarray


def covariance_prior(X, sample_weight, covariance_type):
    """scikit-learn's default covariance prior: the (weighted) sample covariance, ddof=1."""
    if np.all(sample_weight == 1):
        cov = np.atleast_2d(np.cov(X.T)) if covariance_type in ("full", "tied") else np.var(X, axis=0, ddof=1)
    else:  # the covariance of the data with each row repeated by its weight
        w = sample_weight.astype(np.float64)
        xc = X - (w @ X) / w.sum()
        if covariance_type in ("full", "tied"):
            cov = (xc * w[:, None]).T @ xc / (w.sum() - 1)
        else:
            cov = w @ (xc * xc) / (w.sum() - 1)
    return cov.mean() if covariance_type == "spherical" else cov


def m_step(stats, shift, tied_moment, covariance_type, reg_covar, priors):
    """New ``VParams`` from the statistics: scikit-learn's ``_m_step`` (and ``_initialize``)."""
    nk, mu, sk = _em.gaussian_parameters(stats, shift, tied_moment, covariance_type, reg_covar)
    xk = mu + shift
    k = nk.shape[0]
    if priors.weight_concentration_prior_type == "dirichlet_process":
        tail = np.hstack((np.cumsum(nk[::-1])[-2::-1], 0))
        concentration = (1.0 + nk, priors.weight_concentration + tail)
    else:
        concentration = priors.weight_concentration + nk
    mean_precision = priors.mean_precision + nk
    means = (priors.mean_precision * priors.mean + nk[:, None] * xk) / mean_precision[:, None]
    diff = xk - priors.mean
    shrink = priors.mean_precision / mean_precision  # (k,)
    if covariance_type == "full":
        dof = priors.degrees_of_freedom + nk
        outer = diff[:, :, None] * diff[:, None, :]
        cov = priors.covariance + nk[:, None, None] * (sk + shrink[:, None, None] * outer)
        cov /= dof[:, None, None]
    elif covariance_type == "tied":
        dof = priors.degrees_of_freedom + nk.sum() / k
        cov = (
            priors.covariance
            + sk * nk.sum() / k
            + priors.mean_precision / k * np.dot((nk / mean_precision) * diff.T, diff)
        )
        cov /= dof
    elif covariance_type == "diag":
        dof = priors.degrees_of_freedom + nk
        cov = priors.covariance + nk[:, None] * (sk + shrink[:, None] * np.square(diff))
        cov /= dof[:, None]
    else:
        dof = priors.degrees_of_freedom + nk
        cov = priors.covariance + nk * (sk + shrink * np.mean(np.square(diff), 1))
        cov /= dof
    pc = _em.precision_cholesky(cov, covariance_type)
    return VParams(concentration, mean_precision, means, dof, cov, pc)


def log_weights(params, prior_type):
    """E[log pi_k]: scikit-learn's ``_estimate_log_weights``."""
    c = params.weight_concentration
    if prior_type == "dirichlet_process":
        digamma_sum = digamma(c[0] + c[1])
        digamma_b = digamma(c[1])
        return digamma(c[0]) - digamma_sum + np.hstack((0, np.cumsum(digamma_b - digamma_sum)[:-1]))
    return digamma(c) - digamma(np.sum(c))


def log_offset(params, prior_type):
    """What the variational E-step adds to log N(x | mu_k, Sigma_k) for component k:
    E[log pi_k] - d/2 log nu_k + (E[log |Lambda_k|] - d / beta_k) / 2, as scikit-learn's
    ``_estimate_weighted_log_prob`` (the precision is normalised by nu_k)."""
    k, d = params.means.shape
    dof = np.broadcast_to(np.asarray(params.degrees_of_freedom, dtype=np.float64), (k,))
    log_lambda = d * np.log(2.0) + np.sum(digamma(0.5 * (dof - np.arange(d)[:, None])), 0)
    return (
        log_weights(params, prior_type)
        - 0.5 * d * np.log(dof)
        + 0.5 * (log_lambda - d / params.mean_precision)
    )


def weights(params, prior_type):
    """The mixture weights (scikit-learn's ``weights_``) from the concentration."""
    c = params.weight_concentration
    if prior_type == "dirichlet_process":
        total = c[0] + c[1]
        w = c[0] / total * np.hstack((1, np.cumprod((c[1] / total)[:-1])))
        return w / np.sum(w)
    return c / np.sum(c)


def lower_bound(stats, params, covariance_type, prior_type):
    """scikit-learn's ``_compute_lower_bound`` (constant terms removed, as there): the entropy of
    the E-step's responsibilities and the normalisers of the new parameters' distributions."""
    k, d = params.means.shape
    dof = np.broadcast_to(np.asarray(params.degrees_of_freedom, dtype=np.float64), (k,))
    log_det = _em.log_det_cholesky(covariance_type, params.means, params.precisions_cholesky)
    log_det = log_det - 0.5 * d * np.log(dof)
    log_wishart = -np.sum(
        dof * log_det
        + dof * d * 0.5 * math.log(2.0)
        + np.sum(gammaln(0.5 * (dof - np.arange(d)[:, None])), 0)
    )
    c = params.weight_concentration
    if prior_type == "dirichlet_process":
        log_norm_weight = -np.sum(betaln(c[0], c[1]))
    else:
        log_norm_weight = gammaln(np.sum(c)) - np.sum(gammaln(c))
    return float(
        -stats.rlogr - log_wishart - log_norm_weight - 0.5 * d * np.sum(np.log(params.mean_precision))
    )
