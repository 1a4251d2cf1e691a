"""fastseg: K-means, genetic K-means, Gaussian mixtures and customer segmentation on Numba kernels."""

from .kmeans import KMeans, kmeans_plusplus

__version__ = "0.1.0"

__all__ = ["GaussianMixture", "GeneticKMeans", "KMeans", "kmeans_plusplus", "select_k", "__version__"]

# Loaded on first use: each pulls in more of SciPy and scikit-learn than KMeans needs.
_LAZY = {"GaussianMixture": "mixture", "GeneticKMeans": "genetic", "select_k": "segment"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'fastseg' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
