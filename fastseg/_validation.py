"""Input checks the estimators share (sample weights, streamable memmaps) and the ``verbose`` switch
that shows the ``fastseg`` logger while a fit runs."""

import logging
import sys
from contextlib import contextmanager

import numpy as np
from sklearn.utils.validation import _check_sample_weight

from ._rows import unit_weights

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
