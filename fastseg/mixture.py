"""``fastseg.GaussianMixture``: scikit-learn's GaussianMixture on the fused Numba EM kernel,
with weighted EM (``fit(X, sample_weight=...)``) besides."""

from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _em, _rows, _seeding
from ._validation import check_magnitude
from ._validation import check_weights as _check_sample_weights
from .kmeans import KMeans


class FitInput(NamedTuple):
    """A mixture fit's validated rows, weights and frame (see ``_Mixture._fit_input``)."""

    X: np.ndarray
    sample_weight: np.ndarray
    rows: _rows.Rows
    total_weight: float
    shift: np.ndarray
    tied_moment: np.ndarray | None


def initial_stats(model, data, random_state):
    """``_em.Stats`` of a mixture's initial responsibilities from its ``init_params``, with
    scikit-learn's draws: the same rows and uniforms from the same random state."""
    X, sample_weight = data.X, data.sample_weight
    n, k = X.shape[0], model.n_components
    resp = np.zeros((n, k))
    if model.init_params == "kmeans":
        labels = KMeans(k, n_init=1, random_state=random_state).fit(X, sample_weight=sample_weight).labels_
        resp[np.arange(n), labels] = 1
    elif model.init_params == "random":
        resp = random_state.uniform(size=(n, k))
        resp /= resp.sum(axis=1)[:, None]
    elif model.init_params == "random_from_data":
        # Unit weights: scikit-learn's draw. Others: in proportion to the weight, so that a row
        # of weight 0 is never a start.
        unit = bool(np.all(sample_weight == 1))
        p = None if unit else sample_weight / sample_weight.sum()
        resp[random_state.choice(n, size=k, replace=False, p=p), np.arange(k)] = 1
    else:  # k-means++
        _, indices = _seeding.kmeans_plusplus(_rows.Rows(X), sample_weight, k, random_state)
        resp[indices, np.arange(k)] = 1
    if model.init_params in ("kmeans", "random"):
        resp = resp * sample_weight.astype(np.float64)[:, None]
    # else each row drawn (never one of weight 0) counts as one row whatever its weight, as one
    # of its repeated copies would.
    return _em.hard_stats(resp, X - data.shift, model.covariance_type)


class _Mixture(DensityMixin, BaseEstimator):
    """What fastseg's Gaussian mixtures share: the fit's checked input and frame, the outputs of a
    fitted model, ``sample``. A subclass gives ``_log_prob_rows(X)``, (n, k) weighted
    log-probabilities of validated rows."""

    _output_in_input_dtype = True  # float32 input, float32 outputs (scikit-learn's GaussianMixture)

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
    }

    def _fit_input(self, X, sample_weight):
        """``FitInput`` of the rows a fit is given: validated, weights checked, the weighted mean
        as the frame's shift and, for a tied covariance, the second moment about it."""
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2, order="C")
        check_magnitude(X)  # float32 input keeps float32 covariances: |x|^2 must fit
        if X.shape[0] < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got "
                f"n_components = {self.n_components}, n_samples = {X.shape[0]}"
            )
        sample_weight = _check_sample_weights(sample_weight, X)
        w64 = sample_weight.astype(np.float64)
        total_weight = float(w64.sum())
        shift = (w64 @ X) / total_weight
        tied_moment = None
        if self.covariance_type == "tied":
            Xs = X - shift
            tied_moment = (Xs * w64[:, None]).T @ Xs
        return FitInput(X, sample_weight, _rows.Rows(X), total_weight, shift, tied_moment)

    def fit(self, X, y=None, sample_weight=None):
        """Estimate the parameters (``n_init`` starts, the best lower bound is kept).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights: a weight of 2 equals repeating the row.

        Returns
        -------
        self
        """
        self.fit_predict(X, sample_weight=sample_weight)
        return self

    # -- using a fitted model --------------------------------------------------------------------
    def _weighted_log_prob(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False, order="C")
        check_magnitude(X)  # float32 input keeps float32 covariances: |x|^2 must fit
        return self._log_prob_rows(X), (X.dtype if self._output_in_input_dtype else np.float64)

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


class GaussianMixture(_Mixture):
    """Gaussian mixture fitted by EM; a drop-in for ``sklearn.mixture.GaussianMixture``.

    Parameters, attributes and methods mean what they mean in scikit-learn; given the same
    ``weights_init``, ``means_init`` and ``precisions_init`` the fit follows the same EM path
    (same ``n_iter_`` and ``converged_``). ``init_params='kmeans'`` uses fastseg's KMeans.

    Beyond scikit-learn, ``fit``/``fit_predict`` take ``sample_weight``: weighted EM, in which a
    weight of 2 on a row is the same as repeating the row in EM. The random starts draw
    scikit-learn's rows and uniforms for the same ``random_state``, whatever the data (see
    ``KMeans``).

    Each EM iteration is one fused pass per block of rows (log-densities from the Cholesky factor
    of the precision, log-sum-exp, responsibilities, and the statistics N_k, sum r x, sum r x x^T
    accumulated in float64 and reduced in slot order); the M-step on those totals is small NumPy.
    Computations run in float64; float32 input gives float32 attributes and outputs, as in
    scikit-learn.
    """

    _parameter_constraints: dict = {
        **_Mixture._parameter_constraints,
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
    def _initial_params(self, data, random_state, inits):
        """A run's initial ``_em.Params``: responsibilities from ``init_params`` (unless every
        ``*_init`` is given), an M-step on them, then the explicit ``*_init`` parameters."""
        params = None
        if _em.needs_responsibilities(*inits):
            stats = initial_stats(self, data, random_state)
            params = _em.start_from_stats(
                stats, data.shift, data.tied_moment, self.covariance_type, self.reg_covar,
                inits.weights, data.total_weight,
            )  # fmt: skip
        return _em.init_overrides(params, *inits, self.covariance_type)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return the most probable component of each row."""
        data = self._fit_input(X, sample_weight)
        inits = _em.explicit_inits(self, data.X.shape[1])
        cov_type = self.covariance_type
        _em.fit_mixture(
            self,
            lambda random_state: self._initial_params(data, random_state, inits),
            lambda p: _em.e_stats(
                data.rows, data.sample_weight, data.shift, cov_type, p.weights, p.means,
                p.precisions_cholesky,
            ),
            data.shift,
            data.tied_moment,
            data.total_weight,
            data.X.dtype,
        )  # fmt: skip
        return self._log_prob_rows(data.X).argmax(axis=1)  # X is validated already

    def _log_prob_rows(self, X):
        """(n, k) weighted log-probabilities of validated rows."""
        return _em.log_prob_rows(
            X, self.covariance_type, self.weights_, self.means_, self.precisions_cholesky_
        )

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
