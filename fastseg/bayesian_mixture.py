"""``fastseg.BayesianGaussianMixture``: scikit-learn's variational Gaussian mixture with the E-step
on the fused Numba EM kernel, and weighted fits (``fit(X, sample_weight=...)``) besides."""

from numbers import Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions

from . import _em, _variational
from .mixture import _Mixture, initial_stats


class BayesianGaussianMixture(_Mixture):
    """Variational Bayesian Gaussian mixture; a drop-in for
    ``sklearn.mixture.BayesianGaussianMixture``.

    Parameters, attributes and methods mean what they mean in scikit-learn (both
    ``weight_concentration_prior_type``s, four covariance types, the priors and their fitted
    ``*_prior_`` attributes, ``lower_bound_``); for the same ``random_state`` a fit follows the
    same variational path (same ``n_iter_`` and ``converged_``, the same parameters to rounding).

    Each iteration is one fused pass over the rows (the kernel of ``fastseg.GaussianMixture``,
    with the expected log weights and the Wishart terms as each component's constant, and
    sum r log r for the lower bound); the variational M-step on the totals is small NumPy.
    Beyond scikit-learn, ``fit`` takes ``sample_weight``: a weight of 2 on a row is the same as
    repeating the row, priors included. ``lower_bound_`` is a float for every covariance type
    (scikit-learn's is a one-element array when tied).
    """

    _output_in_input_dtype = False  # scikit-learn's variational mixture answers in float64

    _parameter_constraints: dict = {
        **_Mixture._parameter_constraints,
        "weight_concentration_prior_type": [StrOptions({"dirichlet_process", "dirichlet_distribution"})],
        "weight_concentration_prior": [None, Interval(Real, 0.0, None, closed="neither")],
        "mean_precision_prior": [None, Interval(Real, 0.0, None, closed="neither")],
        "mean_prior": [None, "array-like"],
        "degrees_of_freedom_prior": [None, Interval(Real, 0.0, None, closed="neither")],
        "covariance_prior": [None, "array-like", Interval(Real, 0.0, None, closed="neither")],
    }

    def __init__(
        self,
        *,
        n_components=1,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=None,
        mean_precision_prior=None,
        mean_prior=None,
        degrees_of_freedom_prior=None,
        covariance_prior=None,
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
        self.weight_concentration_prior_type = weight_concentration_prior_type
        self.weight_concentration_prior = weight_concentration_prior
        self.mean_precision_prior = mean_precision_prior
        self.mean_prior = mean_prior
        self.degrees_of_freedom_prior = degrees_of_freedom_prior
        self.covariance_prior = covariance_prior
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval

    # -- priors ---------------------------------------------------------------------------------------
    def _check_parameters(self, X, sample_weight=None):
        """The priors (scikit-learn's checks and messages), set as the ``*_prior_`` attributes."""
        from sklearn.mixture._base import _check_shape
        from sklearn.mixture._gaussian_mixture import _check_precision_matrix, _check_precision_positivity

        d = X.shape[1]
        if sample_weight is None:
            sample_weight = np.ones(X.shape[0], dtype=X.dtype)
        unit = bool(np.all(sample_weight == 1))
        k, cov_type = self.n_components, self.covariance_type
        self.weight_concentration_prior_ = (
            1.0 / k if self.weight_concentration_prior is None else self.weight_concentration_prior
        )
        self.mean_precision_prior_ = 1.0 if self.mean_precision_prior is None else self.mean_precision_prior
        if self.mean_prior is None:
            w = sample_weight.astype(np.float64)
            self.mean_prior_ = X.mean(axis=0) if unit else ((w @ X) / w.sum()).astype(X.dtype)
        else:
            self.mean_prior_ = check_array(self.mean_prior, dtype=[np.float64, np.float32], ensure_2d=False)
            _check_shape(self.mean_prior_, (d,), "means")
        if self.degrees_of_freedom_prior is None:
            self.degrees_of_freedom_prior_ = d
        elif self.degrees_of_freedom_prior > d - 1.0:
            self.degrees_of_freedom_prior_ = self.degrees_of_freedom_prior
        else:
            raise ValueError(
                "The parameter 'degrees_of_freedom_prior' should be greater than "
                f"{d - 1}, but got {self.degrees_of_freedom_prior:.3f}."
            )
        if self.covariance_prior is None:
            self.covariance_prior_ = _variational.covariance_prior(X, sample_weight, cov_type)
        elif cov_type in ("full", "tied"):
            self.covariance_prior_ = check_array(
                self.covariance_prior, dtype=[np.float64, np.float32], ensure_2d=False
            )
            _check_shape(self.covariance_prior_, (d, d), f"{cov_type} covariance_prior")
            _check_precision_matrix(self.covariance_prior_, cov_type)
        elif cov_type == "diag":
            self.covariance_prior_ = check_array(
                self.covariance_prior, dtype=[np.float64, np.float32], ensure_2d=False
            )
            _check_shape(self.covariance_prior_, (d,), f"{cov_type} covariance_prior")
            _check_precision_positivity(self.covariance_prior_, cov_type)
        else:
            self.covariance_prior_ = self.covariance_prior
        return _variational.Priors(
            self.weight_concentration_prior_type,
            float(self.weight_concentration_prior_),
            float(self.mean_precision_prior_),
            np.asarray(self.mean_prior_, dtype=np.float64),
            float(self.degrees_of_freedom_prior_),
            np.asarray(self.covariance_prior_, dtype=np.float64),
        )

    # -- fitting ----------------------------------------------------------------------------------------
    def _initial_params(self, data, priors, random_state):
        """A run's initial ``VParams``: the variational M-step on the responsibilities of
        ``init_params``, as scikit-learn's ``_initialize``."""
        stats = initial_stats(self, data, random_state)
        tied_moment = _em.start_tied_moment(stats, data.shift, data.tied_moment, data.total_weight)
        return _variational.m_step(
            stats, data.shift, tied_moment, self.covariance_type, self.reg_covar, priors
        )

    def _initialize_parameters(self, X, random_state):
        """scikit-learn's step of the same name (code that inspects a start calls it): the
        initial parameters of one run, set as the fitted attributes."""
        data = self._fit_input(X, None)
        self._set_parameters(self._initial_params(data, self._check_parameters(data.X), random_state))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return the most probable component of each row."""
        data = self._fit_input(X, sample_weight)
        priors = self._check_parameters(data.X, data.sample_weight)
        cov_type, prior_type, reg_covar = (
            self.covariance_type,
            self.weight_concentration_prior_type,
            self.reg_covar,
        )
        start = None
        if self.warm_start and hasattr(self, "converged_"):
            start = (self._get_parameters(), self.lower_bound_)
        best = _em.run_fit(
            self,
            lambda random_state: self._initial_params(data, priors, random_state),
            lambda p: _em.e_stats(
                data.rows, data.sample_weight, data.shift, cov_type, None, p.means, p.precisions_cholesky,
                _variational.log_offset(p, prior_type),
            ),
            lambda stats: _variational.m_step(stats, data.shift, data.tied_moment, cov_type, reg_covar, priors),
            data.total_weight,
            start,
            bound=lambda stats, p: _variational.lower_bound(stats, p, cov_type, prior_type),
        )  # fmt: skip
        self._set_parameters(best)
        return self._log_prob_rows(data.X).argmax(axis=1)  # X is validated already

    def _get_parameters(self):
        """The fitted ``VParams`` (each field is the attribute of its name plus ``_``)."""
        return _variational.VParams(*(getattr(self, f"{name}_") for name in _variational.VParams._fields))

    def _set_parameters(self, params):
        for name, value in zip(_variational.VParams._fields, params):
            setattr(self, f"{name}_", value)
        self.weights_ = _variational.weights(params, self.weight_concentration_prior_type)
        self.precisions_ = _em.precisions_from_cholesky(self.precisions_cholesky_, self.covariance_type)

    def _log_prob_rows(self, X):
        """(n, k) weighted log-probabilities of validated rows (the variational E-step's)."""
        params = self._get_parameters()
        return _em.log_prob_rows(
            X, self.covariance_type, None, params.means, params.precisions_cholesky,
            log_offset=_variational.log_offset(params, self.weight_concentration_prior_type),
        )  # fmt: skip
