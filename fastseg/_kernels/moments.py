"""Column moments and the range of X's values in one pass: what validation (finiteness, the
overflow check) and ``tol``'s variances need, read together."""

import numpy as np

from ._config import JIT, njit


@njit(**JIT)
def column_moments(X, bounds, shifted_sums, shifted_squares, largest, smallest):
    """Per slot: sums and sums of squares of the rows minus the slot's first row, max and min.

    Shifting by a row of the slot keeps the squares small relative to the spread, so the
    variance ``(squares - sums**2 / rows) / rows`` loses no precision far from the origin. A NaN
    or an infinity makes that slot's sums non-finite (the caller checks them).

    X : (n, d) float32|float64, IN
    bounds : (n_slots + 1,) int64, IN -- slot edges (``_config.slot_bounds``)
    shifted_sums, shifted_squares : (n_slots, d) float64, OUT -- sum of (x - x_first), of its square
    largest, smallest : (n_slots,) float64, OUT -- max and min of the slot's values (-inf/inf if empty)
    """
    n_features = X.shape[1]
    for s in range(bounds.shape[0] - 1):
        lo = bounds[s]
        hi = bounds[s + 1]
        top = -np.inf
        bottom = np.inf
        for f in range(n_features):
            shifted_sums[s, f] = 0.0
            shifted_squares[s, f] = 0.0
        if hi > lo:
            for i in range(lo, hi):
                for f in range(n_features):
                    v = np.float64(X[i, f])
                    t = v - X[lo, f]
                    shifted_sums[s, f] += t
                    shifted_squares[s, f] += t * t
                    top = max(top, v)
                    bottom = min(bottom, v)
        largest[s] = top
        smallest[s] = bottom
