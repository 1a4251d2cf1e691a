"""fastseg: K-means, genetic K-means, Gaussian mixtures and customer segmentation on Numba kernels."""

__version__ = "0.1.0"

__all__ = ["GaussianMixture", "GeneticKMeans", "KMeans", "kmeans_plusplus", "select_k", "__version__"]

# Every public name is loaded on first use: ``import fastseg`` alone imports neither Numba nor
# scikit-learn (which brings SciPy's stats and pandas), so a command that only asks for
# ``--help`` or a version starts at once.
_LAZY = {
    "GaussianMixture": "mixture",
    "GeneticKMeans": "genetic",
    "KMeans": "kmeans",
    "kmeans_plusplus": "kmeans",
    "select_k": "segment",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fastseg' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
