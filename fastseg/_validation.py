"""Input checks the estimators share (sample weights, streamable memmaps) and the ``verbose`` switch
that shows the ``fastseg`` logger while a fit runs."""

import logging
from contextlib import contextmanager

import numpy as np
from sklearn.utils.validation import _check_sample_weight

from ._rows import unit_weights

logger = logging.getLogger("fastseg")


@contextmanager
def verbose_logging(verbose):
    """Show the ``fastseg`` logger's INFO records on stderr while ``verbose`` is set."""
    if not verbose or logger.handlers:
        yield
        return
    handler = logging.StreamHandler()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def check_weights(sample_weight, X, unit_if_none=False):
    """Validated weights of X's dtype; with ``unit_if_none``, None gives ``_rows.unit_weights``
    (a length-0 array the kernels read as weight 1 everywhere: no (n,) array allocated)."""
    if sample_weight is None and unit_if_none:
        return unit_weights(X.dtype)
    # Also refuses negative weights and all-zero weights, with messages that say so.
    return _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)


def streamable(X):
    """A dense C-ordered float memmap: fitted by streaming batches of rows (see ``_rows.Rows``)."""
    return (
        isinstance(X, np.memmap)
        and X.ndim == 2
        and X.dtype in (np.float32, np.float64)
        and X.flags.c_contiguous
    )
