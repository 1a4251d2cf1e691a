"""``fastseg.dask.GaussianMixture``: the fused EM kernel mapped over row blocks, the statistics
tree-reduced, the M-step on the client."""

from numbers import Integral

import dask
import dask.array as da
import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from .. import _em
from ..mixture import GaussianMixture as _InMemoryMixture
from .blocks import (
    block_em,
    block_hard_stats,
    block_predict,
    block_predict_proba,
    block_score_samples,
    block_tied_moment,
    block_weighted_sums,
    tree_sum,
)
from .input import as_dask_rows, as_dask_weights, fitted_rows
from .kmeans import Fit, KMeans


class GaussianMixture(_InMemoryMixture):
    """``fastseg.GaussianMixture`` on a ``dask.array``: the fused EM kernel mapped over row blocks.

    Each EM iteration maps ``_em.e_stats`` (N_k, sum r w x, sum r w x x^T and the
    log-likelihood, float64) over the blocks, tree-reduces those statistics and runs the in-memory
    M-step on the totals. Given ``weights_init``, ``means_init`` and ``precisions_init`` the fit
    follows the in-memory EM path (same ``n_iter_`` and ``converged_``; parameters equal up to the
    order of float64 additions). ``init_params='kmeans'`` (the only one offered) starts from
    ``fastseg.dask.KMeans`` (k-means||), so it does not reproduce the in-memory start.

    Parameters are those of ``fastseg.GaussianMixture`` plus ``num_threads`` and ``persist``
    (see ``fastseg.dask.KMeans``). ``fit_predict``, ``predict``, ``predict_proba`` and
    ``score_samples`` return lazy dask arrays for dask input, NumPy arrays for NumPy input.
    """

    _parameter_constraints: dict = {
        **_InMemoryMixture._parameter_constraints,
        "init_params": [StrOptions({"kmeans"})],
        "num_threads": [Interval(Integral, 1, None, closed="left"), None],
        "persist": ["boolean"],
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
        num_threads=1,
        persist=True,
    ):
        super().__init__(
            n_components,
            covariance_type=covariance_type,
            tol=tol,
            reg_covar=reg_covar,
            max_iter=max_iter,
            n_init=n_init,
            init_params=init_params,
            weights_init=weights_init,
            means_init=means_init,
            precisions_init=precisions_init,
            random_state=random_state,
            warm_start=warm_start,
            verbose=verbose,
            verbose_interval=verbose_interval,
        )
        self.num_threads = num_threads
        self.persist = persist

    def _params(self, params=None):
        """What the block functions read: (n_components, covariance_type, weights, means, precision
        Cholesky factors), float64; of ``params`` (``_em.Params``) or of the fitted model."""
        if params is None:
            params = (self.weights_, self.means_, None, self.precisions_cholesky_)
        weights, means, _, precisions_cholesky = params
        f64 = np.float64
        return (
            self.n_components,
            self.covariance_type,
            np.asarray(weights, dtype=f64),
            np.asarray(means, dtype=f64),
            np.asarray(precisions_cholesky, dtype=f64),
        )

    def fit(self, X, y=None, sample_weight=None):
        """Estimate the parameters with EM on a dask (or NumPy) array; see ``fastseg.GaussianMixture.fit``."""
        self._fit(X, sample_weight)
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return the most probable component of each row (lazy for dask input)."""
        return self._rowwise(X, self._fit(X, sample_weight), block_predict, np.int64)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X, sample_weight):
        X = as_dask_rows(X)
        n, d = X.shape
        if n < max(2, self.n_components):
            raise ValueError(
                "Expected n_samples >= n_components (and >= 2) but got "
                f"n_components = {self.n_components}, n_samples = {n}"
            )
        inits = _em.explicit_inits(self, d)
        W = as_dask_weights(sample_weight, X)
        lazy_X = X
        if self.persist:
            X, W = dask.persist(X, W) if W is not None else (X.persist(), None)
        fit = Fit(X, W, self.num_threads)
        ((total_weight, wx),) = fit.compute(tree_sum(fit.map(block_weighted_sums)))
        shift = wx / total_weight
        tied_moment = None
        if self.covariance_type == "tied":
            (tied_moment,) = fit.compute(tree_sum(fit.map(block_tied_moment, shift)))

        def e_step(p):
            (totals,) = fit.compute(tree_sum(fit.map(block_em, self._params(p), shift, self.num_threads)))
            return _em.Stats(*totals)

        _em.fit_mixture(
            self,
            lambda random_state: self._initial_params_from_blocks(
                fit, random_state, shift, tied_moment, total_weight, inits
            ),
            e_step,
            shift,
            tied_moment,
            total_weight,
            X.dtype,
        )
        self.n_features_in_ = d
        return lazy_X

    def _initial_params_from_blocks(self, fit, random_state, shift, tied_moment, total_weight, inits):
        """The initial ``_em.Params`` for init_params='kmeans': hard responsibilities from
        ``fastseg.dask.KMeans``; explicit ``*_init`` parameters override, as in memory."""
        params = None
        if _em.needs_responsibilities(*inits):
            km = KMeans(
                self.n_components, random_state=random_state, num_threads=self.num_threads, persist=False
            )
            centres = km.fit(fit.X, sample_weight=fit.W).cluster_centers_
            (totals,) = fit.compute(
                tree_sum(fit.map(block_hard_stats, centres, shift, self.covariance_type, self.num_threads))
            )
            params = _em.start_from_stats(
                _em.Stats(*totals),
                shift,
                tied_moment,
                self.covariance_type,
                self.reg_covar,
                inits.weights,
                total_weight,
            )
        return _em.init_overrides(params, *inits, self.covariance_type)

    # -- using a fitted model ------------------------------------------------------------------------
    def _rowwise(self, X, Xd, fn, dtype, per_component=False):
        """``fn(block, params)`` over the row blocks of ``Xd``: lazy for dask ``X``, NumPy otherwise."""
        params = self._params()
        if per_component:
            out = Xd.map_blocks(fn, params, dtype=dtype, chunks=(Xd.chunks[0], (self.n_components,)))
        else:
            out = Xd.map_blocks(fn, params, dtype=dtype, drop_axis=1, meta=np.empty(0, dtype))
        return out if isinstance(X, da.Array) else out.compute(scheduler="synchronous")

    def _dask_rows(self, X):
        return fitted_rows(self, X)

    def predict(self, X):
        """Most probable component of each row."""
        return self._rowwise(X, self._dask_rows(X), block_predict, np.int64)

    def predict_proba(self, X):
        """Responsibilities: probability of each component for each row."""
        Xd = self._dask_rows(X)
        return self._rowwise(X, Xd, block_predict_proba, Xd.dtype, per_component=True)

    def score_samples(self, X):
        """Log-likelihood of each row under the mixture."""
        Xd = self._dask_rows(X)
        return self._rowwise(X, Xd, block_score_samples, Xd.dtype)

    def score(self, X, y=None):
        """Mean log-likelihood of the rows of ``X`` (computed)."""
        out = self.score_samples(X)
        return float(out.mean().compute() if isinstance(out, da.Array) else out.mean())
