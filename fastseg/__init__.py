"""fastseg: K-means, genetic K-means and Gaussian mixtures for customer segmentation, on Numba kernels."""

from .genetic import GeneticKMeans
from .kmeans import KMeans, kmeans_plusplus

__version__ = "0.1.0"

__all__ = ["GeneticKMeans", "KMeans", "kmeans_plusplus", "__version__"]
