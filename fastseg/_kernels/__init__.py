"""Numba kernels: pure functions of arrays, no validation, no hidden randomness."""
