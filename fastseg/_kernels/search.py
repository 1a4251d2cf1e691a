"""Binary search on sorted running sums (the roulette wheel, weighted draws)."""

from ._config import NO_FASTMATH
from ._numba import njit


@njit(inline="always", **NO_FASTMATH)
def first_above(values, target, hi):
    """The first index i < ``hi`` with ``values[i] > target`` (``hi`` if none): NumPy's
    ``searchsorted(values[:hi], target, side='right')``. values : sorted (n,) float64, IN"""
    lo = 0
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] > target:
            hi = mid
        else:
            lo = mid + 1
    return lo
