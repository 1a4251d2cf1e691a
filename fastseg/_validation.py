"""Input checks the estimators share (sample weights, streamable memmaps) and the ``verbose`` switch
that shows the ``fastseg`` logger while a fit runs."""

import logging
import sys
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import _check_sample_weight, assert_all_finite


def unit_weights(dtype):
    """The length-0 weight array that tells the kernels "every row has weight 1"."""
    return np.empty(0, dtype=dtype)


logger = logging.getLogger("fastseg")


@contextmanager
def verbose_logging(verbose):
    """Print the ``fastseg`` logger's INFO records to stdout while ``verbose`` is set, as
    scikit-learn prints its progress (one line per record, nothing else).

    A handler the caller attached to the ``fastseg`` logger takes the records instead; the
    records do not reach the root logger's handlers meanwhile, so nothing is printed twice.
    """
    if not verbose or logger.handlers:
        yield
        return
    handler = logging.StreamHandler(sys.stdout)
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        handler.flush()
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


def check_weights(sample_weight, X, unit_if_none=False):
    """Validated weights of X's dtype; with ``unit_if_none``, None gives ``unit_weights``
    (a length-0 array the kernels read as weight 1 everywhere: no (n,) array allocated)."""
    if sample_weight is None and unit_if_none:
        return unit_weights(X.dtype)
    # Also refuses negative weights and all-zero weights, with messages that say so.
    return _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)


def weights_of(sample_weight, rows):
    """The weights of ``rows`` (indices): ``unit_weights`` stay unit weights."""
    return sample_weight[rows] if sample_weight.shape[0] else sample_weight


def streamable(X):
    """A dense C-ordered float memmap: fitted by streaming batches of rows (see ``_rows.Rows``)."""
    return (
        isinstance(X, np.memmap)
        and X.ndim == 2
        and X.dtype in (np.float32, np.float64)
        and X.flags.c_contiguous
    )


def largest_safe_value(dtype, n_rows, n_features):
    """The largest |value| whose squared distances, summed over ``n_rows`` rows, stay finite.

    Distances are computed in X's dtype (float32 kernels) and summed in float64: every squared
    distance is at most ``n_features * (2 * max|x|) ** 2``, and the inertia ``n_rows`` of them.
    """
    per_row = np.sqrt(np.finfo(dtype).max / max(n_features, 1)) / 2
    total = np.sqrt(np.finfo(np.float64).max / (max(n_features, 1) * max(n_rows, 1))) / 2
    return float(min(per_row, total))


def extremes(values):
    """(max, min) of a non-empty dense array, as floats: two passes, no temporary. A NaN makes
    both NaN."""
    return float(values.max()), float(values.min())


def largest_abs(values):
    """max |values| of a dense array, a sparse matrix or a block, without an |X| temporary."""
    data = values.data if sp.issparse(values) else values
    if data.size == 0:
        return 0.0
    top, bottom = extremes(data)
    return max(abs(top), abs(bottom))


def check_finite_magnitude(X):
    """``assert_all_finite`` then ``check_magnitude`` for a dense ``X``, in two passes (its
    maximum and minimum) instead of three: a NaN or an infinity shows in them, and only then is
    ``X`` searched again, for scikit-learn's message."""
    if X.size == 0:
        return
    top, bottom = extremes(X)
    if not (np.isfinite(top) and np.isfinite(bottom)):
        assert_all_finite(X, input_name="X")
    check_magnitude(X, largest=max(abs(top), abs(bottom)))


def check_magnitude(X, what="Input X", n_rows=None, largest=None, dtype=None):
    """Refuse values so large that squared distances would overflow (inf or NaN results).

    ``n_rows`` rows are summed (default: X's); ``largest`` is max |X| when already known;
    ``dtype`` is the one distances are computed in (default: X's).
    """
    n_rows = X.shape[0] if n_rows is None else n_rows
    largest = largest_abs(X) if largest is None else largest
    dtype = X.dtype if dtype is None else np.dtype(dtype)
    limit = largest_safe_value(dtype, n_rows, X.shape[1])
    if largest > limit:
        raise ValueError(
            f"{what} has values up to {largest:.3g} in absolute value: their squared distances would "
            f"overflow {dtype.name} (the largest safe value here is {limit:.3g}). Scale the "
            "data first, for instance with sklearn.preprocessing.StandardScaler."
        )


def unit_rows(X, first_row=0):
    """X's rows scaled to unit length, a new array (or CSR matrix) of X's dtype: the rows of
    ``metric='cosine'``. A row of length zero has no direction: a ValueError names it (its index
    plus ``first_row``: X's place in larger data)."""
    if sp.issparse(X):
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel())
    else:
        norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))
    zero = np.flatnonzero(norms == 0)
    if zero.size:
        raise ValueError(
            f"metric='cosine' needs rows of non-zero length: {zero.size} row(s) are all zeros "
            f"(the first is row {first_row + int(zero[0])})."
        )
    if sp.issparse(X):
        out = X.copy()
        out.data /= np.repeat(norms, np.diff(out.indptr)).astype(X.dtype)
        return out
    return (X / norms[:, None]).astype(X.dtype, copy=False)
