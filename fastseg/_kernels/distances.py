"""Plain squared distances between rows and centres (dense and CSR), for ``transform``, the
relocation of empty clusters and the k-means++ of sparse rows: no statistics, no argmin."""

import numpy as np

from ._config import JIT
from ._numba import njit


@njit(**JIT)
def sq_distances(X, centres, out):
    """Squared Euclidean distance of every row to every centre (the user asked for n x k).

    X : (n, d) float32|float64, IN; centres : (k, d) X.dtype, IN; out : (n, k) X.dtype, OUT
    """
    n_rows, n_features = X.shape
    n_clusters = centres.shape[0]
    for i in range(n_rows):
        for j in range(n_clusters):
            d2 = 0.0
            for f in range(n_features):
                t = X[i, f] - centres[j, f]
                d2 += t * t
            out[i, j] = d2


@njit(**JIT)
def sq_distances_sparse(data, indices, indptr, centres, out):
    """``sq_distances`` for CSR rows. Arguments as ``assign_sparse``; out : (n, k) OUT."""
    n_rows = indptr.shape[0] - 1
    n_clusters, n_features = centres.shape
    norms = np.zeros(n_clusters, dtype=np.float64)
    for j in range(n_clusters):
        for f in range(n_features):
            norms[j] += np.float64(centres[j, f]) * centres[j, f]
    for i in range(n_rows):
        x_norm = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            x_norm += np.float64(data[p]) * data[p]
        for j in range(n_clusters):
            dot = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                dot += np.float64(data[p]) * centres[j, indices[p]]
            out[i, j] = max(x_norm - 2.0 * dot + norms[j], 0.0)


@njit(**JIT)
def sq_distances_to_assigned(X, centres, labels, out):
    """Squared distance of each row to its own centre (ranks rows for relocation).

    X : (n, d), IN; centres : (k, d), IN; labels : (n,) int32, IN; out : (n,) float64, OUT
    """
    n_rows, n_features = X.shape
    for i in range(n_rows):
        d2 = 0.0
        for f in range(n_features):
            t = np.float64(X[i, f]) - centres[labels[i], f]
            d2 += t * t
        out[i] = d2


@njit(**JIT)
def sq_distances_to_assigned_sparse(data, indices, indptr, centres, labels, out):
    """``sq_distances_to_assigned`` for CSR rows."""
    n_rows = indptr.shape[0] - 1
    n_features = centres.shape[1]
    for i in range(n_rows):
        c = labels[i]
        d2 = 0.0
        for f in range(n_features):
            d2 += np.float64(centres[c, f]) * centres[c, f]
        for p in range(indptr[i], indptr[i + 1]):
            v = np.float64(data[p])
            cf = np.float64(centres[c, indices[p]])
            d2 += v * v - 2.0 * v * cf
        out[i] = max(d2, 0.0)
