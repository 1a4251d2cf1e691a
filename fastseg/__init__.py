"""fastseg: K-means, genetic K-means, Gaussian mixtures and customer segmentation on Numba kernels."""

__version__ = "0.1.0"

__all__ = [
    "BayesianGaussianMixture",
    "BisectingKMeans",
    "GaussianMixture",
    "GeneticKMeans",
    "KMeans",
    "KModes",
    "KPrototypes",
    "MiniBatchKMeans",
    "k_means",
    "kmeans_plusplus",
    "patch_sklearn",
    "select_k",
    "unpatch_sklearn",
    "__version__",
]

# Every public name is loaded on first use: ``import fastseg`` alone imports neither Numba nor
# scikit-learn (which brings SciPy's stats and pandas), so a command that only asks for
# ``--help`` or a version starts at once.
_LAZY = {
    "BayesianGaussianMixture": "bayesian_mixture",
    "BisectingKMeans": "bisecting",
    "GaussianMixture": "mixture",
    "GeneticKMeans": "genetic",
    "KMeans": "kmeans",
    "KModes": "kmodes",
    "KPrototypes": "kprototypes",
    "MiniBatchKMeans": "minibatch",
    "k_means": "kmeans",
    "kmeans_plusplus": "kmeans",
    "patch_sklearn": "patch",
    "select_k": "segment",
    "unpatch_sklearn": "patch",
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
