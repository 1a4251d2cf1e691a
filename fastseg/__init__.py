"""fastseg: K-means, genetic K-means and customer segmentation on Numba kernels."""

from .genetic import GeneticKMeans
from .kmeans import KMeans, kmeans_plusplus
from .mixture import GaussianMixture

__version__ = "0.1.0"

__all__ = ["GaussianMixture", "GeneticKMeans", "KMeans", "kmeans_plusplus", "select_k", "__version__"]


def __getattr__(name):
    # The segmentation helpers import more of scikit-learn: load them on first use only.
    if name == "select_k":
        from .segment import select_k

        return select_k
    raise AttributeError(f"module 'fastseg' has no attribute {name!r}")
