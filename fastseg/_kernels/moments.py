"""Column moments and the range of X's values in one pass: what validation (finiteness, the
overflow check) and ``tol``'s variances need, read together."""

import numpy as np

from ._config import JIT, NO_FASTMATH
from ._numba import njit


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


@njit(**NO_FASTMATH)
def largest_bits(bits, magnitude, bounds, largest):
    """Per slot: the largest bit pattern of the values with their sign bit cleared.

    Non-negative IEEE floats order as their bit patterns, so this is max |x| as a bit pattern,
    and a pattern at or above infinity's means a NaN or an infinity: the value checks of a fit
    that needs no variances, in one integer pass (SIMD unsigned maxima) instead of a finiteness
    pass, a max and a min.

    bits : (n * d,) uint32|uint64, IN -- the rows of a C-ordered X, flat, as unsigned integers
    magnitude : bits.dtype -- every bit but the sign bit
    bounds : (n_slots + 1,) int64, IN -- slot edges in values (row edges times d)
    largest : (n_slots,) bits.dtype, OUT -- 0 for an empty slot
    """
    for s in range(bounds.shape[0] - 1):
        # Integer operations widen to 64 bits in Numba: each result is cast back to bits' type.
        top = bits.dtype.type(0)
        part = bits[bounds[s] : bounds[s + 1]]  # indices from 0: plain vector loads
        for i in range(part.shape[0]):
            v = bits.dtype.type(part[i] & magnitude)
            top = v if v > top else top
        largest[s] = top
