"""``fastseg.GaussianMixture``: scikit-learn's GaussianMixture on the fused Numba EM kernel,
with weighted EM (``fit(X, sample_weight=...)``) besides."""

import logging
import math
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _blas, _rows, _seeding
from ._kernels import em as _em
from ._validation import check_weights as _check_sample_weights
from ._validation import verbose_logging
from .kmeans import KMeans

logger = logging.getLogger("fastseg")

_SINGULAR = (
    "Fitting the mixture model failed because some components have ill-defined empirical covariance "
    "(for instance caused by singleton or collapsed samples). Try to decrease the number of components, "
    "increase reg_covar, or scale the input data."
)


def _flip(a):
    return a[::-1, ::-1]


class _Stats:
    """Sufficient statistics of one E-step, reduced over slots (shifted frame, float64)."""

    def __init__(self, nk, sx, sxx, loglik):
        self.nk, self.sx, self.sxx, self.loglik = nk, sx, sxx, loglik


class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by EM; a drop-in for ``sklearn.mixture.GaussianMixture``.

    Parameters, attributes and methods mean what they mean in scikit-learn; given the same
    ``weights_init``, ``means_init`` and ``precisions_init`` the fit follows the same EM path
    (same ``n_iter_`` and ``converged_``). ``init_params='kmeans'`` uses fastseg's KMeans.

    Beyond scikit-learn, ``fit``/``fit_predict`` take ``sample_weight``: weighted EM, in which a
    weight of 2 on a row is the same as repeating the row.

    Each EM iteration is one fused pass per block of rows (log-densities from the Cholesky factor
    of the precision, log-sum-exp, responsibilities, and the statistics N_k, sum r x, sum r x x^T
    accumulated in float64 and reduced in slot order); the M-step on those totals is small NumPy.
    Computations run in float64; float32 input gives float32 attributes and outputs, as in
    scikit-learn.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical"})],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [StrOptions({"kmeans", "random", "random_from_data", "k-means++"})],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
    }

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval

    # -- parameters <-> kernel arguments ----------------------------------------------------
    def _check_initial_parameters(self, X):
        # scikit-learn's own checks, for its error messages (imported here: sklearn.mixture is slow to import)
        from sklearn.mixture._gaussian_mixture import _check_means, _check_precisions, _check_weights

        n_features = X.shape[1]
        k = self.n_components
        self._weights_init = (
            None if self.weights_init is None else _check_weights(self.weights_init, k, xp=np)
        )
        self._means_init = (
            None if self.means_init is None else _check_means(self.means_init, k, n_features, xp=np)
        )
        self._precisions_init = (
            None
            if self.precisions_init is None
            else _check_precisions(self.precisions_init, self.covariance_type, k, n_features, xp=np)
        )

    def _full_prec_chol(self):
        """Precision Cholesky factors as (k, d, d) upper-triangular, for the kernel."""
        k, d = self.means_.shape
        pc = np.asarray(self.precisions_cholesky_, dtype=np.float64)
        if self.covariance_type == "full":
            return np.ascontiguousarray(pc)
        if self.covariance_type == "tied":
            return np.ascontiguousarray(np.broadcast_to(pc, (k, d, d)))
        diag = pc if self.covariance_type == "diag" else np.repeat(pc[:, None], d, axis=1)
        out = np.zeros((k, d, d))
        idx = np.arange(d)
        out[:, idx, idx] = diag
        return out

    def _log_const(self):
        d = self.means_.shape[1]
        pc = np.asarray(self.precisions_cholesky_, dtype=np.float64)
        if self.covariance_type == "full":
            log_det = np.log(np.diagonal(pc, axis1=1, axis2=2)).sum(axis=1)
        elif self.covariance_type == "tied":
            log_det = np.full(self.n_components, np.log(np.diag(pc)).sum())
        elif self.covariance_type == "diag":
            log_det = np.log(pc).sum(axis=1)
        else:
            log_det = d * np.log(pc)
        with np.errstate(divide="ignore"):
            log_w = np.log(np.asarray(self.weights_, dtype=np.float64))
        return log_w + log_det - 0.5 * d * math.log(2 * math.pi)

    def _kernel_args(self, shift):
        means = np.asarray(self.means_, dtype=np.float64) - shift
        diag = self.covariance_type in ("diag", "spherical")
        return np.ascontiguousarray(means), self._full_prec_chol(), diag, self._log_const()

    # -- E and M steps -----------------------------------------------------------------------
    def _e_stats(self, rows, sample_weight, shift):
        k, d = self.n_components, rows.d
        n_slots = rows.bounds.size - 1
        moments = {"full": 2, "tied": 0, "diag": 1, "spherical": 1}[self.covariance_type]
        nk = np.empty((n_slots, k))
        sx = np.empty((n_slots, k, d))
        sxx = np.empty((n_slots, k, d, d) if moments else (n_slots, k, 0, 0))
        loglik = np.empty(n_slots)
        _em.em_stats(
            rows.X, sample_weight, shift, *self._kernel_args(shift), moments, rows.bounds, nk, sx, sxx, loglik
        )
        return _Stats(nk.sum(0), sx.sum(0), sxx.sum(0), loglik.sum())

    def _m_step(self, stats, shift, tied_moment):
        """New weights, means, covariances and precision Cholesky factors from the statistics."""
        eps = 10 * np.finfo(np.float64).eps
        nk_raw = stats.nk
        nk = nk_raw + eps
        mu = stats.sx / nk[:, None]  # shifted frame
        d = mu.shape[1]
        reg = self.reg_covar
        if self.covariance_type == "full":
            sxx = np.triu(stats.sxx) + np.triu(stats.sxx, 1).transpose(0, 2, 1)
            outer = mu[:, :, None] * mu[:, None, :]
            cov = (sxx - (2 * nk - nk_raw)[:, None, None] * outer) / nk[:, None, None]
            cov[:, np.arange(d), np.arange(d)] += reg
        elif self.covariance_type == "tied":
            cov = (tied_moment - (nk[:, None, None] * mu[:, :, None] * mu[:, None, :]).sum(0)) / nk.sum()
            cov[np.arange(d), np.arange(d)] += reg
        else:
            second = np.diagonal(stats.sxx, axis1=1, axis2=2)
            cov = (second - (2 * nk - nk_raw)[:, None] * mu**2) / nk[:, None] + reg
            if self.covariance_type == "spherical":
                cov = cov.mean(axis=1)
        self.weights_ = nk / nk.sum()
        self.means_ = mu + shift
        self.covariances_ = cov
        self.precisions_cholesky_ = self._precision_cholesky(cov)

    def _precision_cholesky(self, cov):
        if self.covariance_type in ("full", "tied"):
            covs = cov if self.covariance_type == "full" else cov[None]
            out = np.empty_like(covs)
            eye = np.eye(covs.shape[-1])
            for k, c in enumerate(covs):
                try:
                    chol = linalg.cholesky(c, lower=True)
                except linalg.LinAlgError:
                    raise ValueError(_SINGULAR) from None
                out[k] = linalg.solve_triangular(chol, eye, lower=True).T
            return out if self.covariance_type == "full" else out[0]
        if np.any(cov <= 0.0):
            raise ValueError(_SINGULAR)
        return 1.0 / np.sqrt(cov)

    def _precision_cholesky_from_precisions(self, precisions):
        p = np.asarray(precisions, dtype=np.float64)
        if self.covariance_type == "full":
            return np.stack([_flip(linalg.cholesky(_flip(pk), lower=True)) for pk in p])
        if self.covariance_type == "tied":
            return _flip(linalg.cholesky(_flip(p), lower=True))
        return np.sqrt(p)

    def _initialize(self, X, sample_weight, random_state, shift, tied_moment):
        n, k = X.shape[0], self.n_components
        resp = None
        if self._weights_init is None or self._means_init is None or self._precisions_init is None:
            resp = np.zeros((n, k))
            if self.init_params == "kmeans":
                labels = (
                    KMeans(k, n_init=1, random_state=random_state).fit(X, sample_weight=sample_weight).labels_
                )
                resp[np.arange(n), labels] = 1
            elif self.init_params == "random":
                resp = random_state.uniform(size=(n, k))
                resp /= resp.sum(axis=1)[:, None]
            elif self.init_params == "random_from_data":
                resp[random_state.choice(n, size=k, replace=False), np.arange(k)] = 1
            else:  # k-means++
                rows = _rows.Rows(X)
                _, indices = _seeding.kmeans_plusplus(rows, sample_weight, k, random_state)
                resp[indices, np.arange(k)] = 1
            w = sample_weight.astype(np.float64)
            Xs = X - shift
            rw = resp * w[:, None]
            stats = _Stats(rw.sum(0), rw.T @ Xs, None, 0.0)
            if self.covariance_type == "full":
                stats.sxx = np.einsum("nk,nf,ng->kfg", rw, Xs, Xs)
            elif self.covariance_type in ("diag", "spherical"):
                stats.sxx = np.zeros((k, X.shape[1], X.shape[1]))
                idx = np.arange(X.shape[1])
                stats.sxx[:, idx, idx] = rw.T @ (Xs * Xs)
            self._m_step(stats, shift, tied_moment)
            if self._weights_init is None:
                self.weights_ = stats.nk + 10 * np.finfo(np.float64).eps
                self.weights_ = self.weights_ / w.sum()
        if self._weights_init is not None:
            self.weights_ = np.asarray(self._weights_init, dtype=np.float64)
        if self._means_init is not None:
            self.means_ = np.asarray(self._means_init, dtype=np.float64)
        if self._precisions_init is not None:
            self.precisions_cholesky_ = self._precision_cholesky_from_precisions(self._precisions_init)

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None):
        """Estimate the parameters with EM (``n_init`` starts, the best lower bound is kept).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights: weighted EM (a weight of 2 equals repeating the row).

        Returns
        -------
        self
        """
        self.fit_predict(X, sample_weight=sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return the most probable component of each row."""
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2, order="C")
        if X.shape[0] < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got "
                f"n_components = {self.n_components}, n_samples = {X.shape[0]}"
            )
        self._check_initial_parameters(X)
        sample_weight = _check_sample_weights(sample_weight, X)
        w64 = sample_weight.astype(np.float64)
        total_weight = float(w64.sum())
        shift = (w64 @ X) / total_weight
        rows = _rows.Rows(X)
        tied_moment = None
        if self.covariance_type == "tied":
            Xs = X - shift
            tied_moment = (Xs * w64[:, None]).T @ Xs

        self._run_em(
            lambda random_state: self._initialize(X, sample_weight, random_state, shift, tied_moment),
            lambda: self._e_stats(rows, sample_weight, shift),
            shift,
            tied_moment,
            total_weight,
            X.dtype,
        )
        return self._log_prob_rows(X).argmax(axis=1)  # X is validated already

    def _run_em(self, initialize, e_stats, shift, tied_moment, total_weight, dtype):
        """The EM runs of ``fit``: ``n_init`` initialisations (``initialize(random_state)``), EM
        iterations from the statistics ``e_stats()`` returns, the best run's parameters kept.

        Shared by the in-memory fit and ``fastseg.dask.GaussianMixture`` (statistics of blocks).
        """
        do_init = not (self.warm_start and hasattr(self, "converged_"))
        n_init = self.n_init if do_init else 1
        if not do_init:  # continue from the fitted parameters, in float64
            for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
                setattr(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        random_state = check_random_state(self.random_state)
        best, max_lower_bound, self.converged_ = None, -np.inf, False
        # The M-step's small LAPACK calls would leave BLAS threads spinning on the cores the EM
        # kernel needs next: one BLAS thread is plenty for k matrices of d x d.
        with verbose_logging(self.verbose), _blas.blas_single_thread():
            for init in range(n_init):
                if do_init:
                    initialize(random_state)
                lower_bound = -np.inf if do_init else self.lower_bound_
                bounds, converged, n_iter = [], False, 0
                for n_iter in range(1, self.max_iter + 1):
                    previous = lower_bound
                    stats = e_stats()
                    self._m_step(stats, shift, tied_moment)
                    lower_bound = stats.loglik / total_weight
                    bounds.append(lower_bound)
                    if self.verbose and n_iter % self.verbose_interval == 0:
                        logger.info(
                            "  Iteration %d\t lower bound change %.5f", n_iter, lower_bound - previous
                        )
                    if abs(lower_bound - previous) < self.tol:
                        converged = True
                        break
                if self.verbose:
                    logger.info(
                        "Initialization %d: converged %s, lower bound %.5f", init, converged, lower_bound
                    )
                if lower_bound > max_lower_bound or max_lower_bound == -np.inf:
                    max_lower_bound = lower_bound
                    best = (
                        self.weights_,
                        self.means_,
                        getattr(self, "covariances_", None),
                        self.precisions_cholesky_,
                    )
                    best_n_iter, best_bounds, self.converged_ = n_iter, bounds, converged
        if not self.converged_ and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different init parameters, or increase "
                "max_iter, tol, or check for degenerate data.",
                ConvergenceWarning,
                stacklevel=4,
            )
        self.weights_, self.means_, covariances, self.precisions_cholesky_ = best
        if covariances is None:  # max_iter=0 with precisions_init: covariances from the precisions
            covariances = self._covariances_from_precision_cholesky()
        self.covariances_ = covariances
        self._set_precisions(dtype)
        self.n_iter_ = best_n_iter
        self.lower_bound_ = max_lower_bound
        self.lower_bounds_ = best_bounds

    def _covariances_from_precision_cholesky(self):
        pc = np.asarray(self.precisions_cholesky_, dtype=np.float64)
        if self.covariance_type == "full":
            return np.stack([np.linalg.inv(u @ u.T) for u in pc])
        if self.covariance_type == "tied":
            return np.linalg.inv(pc @ pc.T)
        return 1.0 / pc**2

    def _set_precisions(self, dtype):
        pc = np.asarray(self.precisions_cholesky_, dtype=np.float64)
        if self.covariance_type == "full":
            precisions = np.einsum("kij,klj->kil", pc, pc)
        elif self.covariance_type == "tied":
            precisions = pc @ pc.T
        else:
            precisions = pc**2
        self.precisions_ = precisions
        for name in ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=dtype))

    # -- using a fitted model --------------------------------------------------------------------
    def _weighted_log_prob(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False, order="C")
        return self._log_prob_rows(X), X.dtype

    def _log_prob_rows(self, X):
        """(n, k) weighted log-probabilities of validated rows."""
        shift = np.asarray(X.mean(axis=0), dtype=np.float64)
        out = np.empty((X.shape[0], self.n_components))
        _em.weighted_log_prob(X, shift, *self._kernel_args(shift), out)
        return out

    def score_samples(self, X):
        """Log-likelihood of each row under the mixture."""
        wlp, dtype = self._weighted_log_prob(X)
        return logsumexp(wlp, axis=1).astype(dtype, copy=False)

    def score(self, X, y=None):
        """Mean log-likelihood of the rows of ``X``."""
        return float(self.score_samples(X).mean())

    def predict(self, X):
        """Most probable component of each row."""
        wlp, _ = self._weighted_log_prob(X)
        return wlp.argmax(axis=1)

    def predict_proba(self, X):
        """Responsibilities: probability of each component for each row."""
        wlp, dtype = self._weighted_log_prob(X)
        log_resp = wlp - logsumexp(wlp, axis=1)[:, None]
        return np.exp(log_resp).astype(dtype, copy=False)

    def sample(self, n_samples=1):
        """Draw ``n_samples`` rows from the fitted mixture; returns (X, component labels)."""
        check_is_fitted(self)
        if n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples}. The sampling requires at least one sample."
            )
        _, n_features = self.means_.shape
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        if self.covariance_type == "full":
            parts = [
                rng.multivariate_normal(m, c, int(s))
                for m, c, s in zip(self.means_, self.covariances_, counts)
            ]
        elif self.covariance_type == "tied":
            parts = [
                rng.multivariate_normal(m, self.covariances_, int(s)) for m, s in zip(self.means_, counts)
            ]
        else:
            parts = [
                m + rng.standard_normal(size=(s, n_features)) * np.sqrt(c)
                for m, c, s in zip(self.means_, self.covariances_, counts)
            ]
        y = np.concatenate([np.full(s, j, dtype=int) for j, s in enumerate(counts)])
        return np.vstack(parts), y

    def _n_parameters(self):
        k, d = self.means_.shape
        cov = {"full": k * d * (d + 1) / 2.0, "diag": k * d, "tied": d * (d + 1) / 2.0, "spherical": k}
        return int(cov[self.covariance_type] + d * k + k - 1)

    def bic(self, X):
        """Bayesian information criterion of the model on ``X`` (lower is better)."""
        return -2 * self.score(X) * X.shape[0] + self._n_parameters() * np.log(X.shape[0])

    def aic(self, X):
        """Akaike information criterion of the model on ``X`` (lower is better)."""
        return -2 * self.score(X) * X.shape[0] + 2 * self._n_parameters()
