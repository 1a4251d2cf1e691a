"""``fastseg.dask``: K-means and Gaussian mixtures on ``dask.array`` -- the in-memory kernels mapped
over row blocks, the per-block statistics tree-reduced, the small update done on the client.

Import it as ``import fastseg.dask`` (needs the ``dask`` extra); ``import fastseg`` never imports dask.
"""

from .kmeans import KMeans
from .mixture import GaussianMixture

__all__ = ["GaussianMixture", "KMeans"]
