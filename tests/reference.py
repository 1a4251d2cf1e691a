"""Slow, obvious NumPy twins of the kernels in fastseg._kernels (one per kernel)."""

import numpy as np


def sq_distances(X, centres):
    X = np.asarray(X, dtype=np.float64)
    C = np.asarray(centres, dtype=np.float64)
    return ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)


def assign(X, sample_weight, centres):
    """Twin of assign_fused / assign_gemm / assign_sparse: labels, sums, weights, inertia."""
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    d2 = sq_distances(X, centres)
    labels = d2.argmin(axis=1).astype(np.int32)
    k, d = centres.shape
    w = np.asarray(sample_weight, dtype=np.float64)
    sums = np.zeros((k, d))
    weights = np.zeros(k)
    for j in range(k):
        members = labels == j
        sums[j] = (w[members, None] * X[members]).sum(axis=0)
        weights[j] = w[members].sum()
    inertia = float((w * d2[np.arange(len(X)), labels]).sum())
    return labels, sums, weights, inertia


def sq_distances_to_assigned(X, centres, labels):
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    return ((np.asarray(X, dtype=np.float64) - np.asarray(centres, dtype=np.float64)[labels]) ** 2).sum(
        axis=1
    )


def kmeans_plusplus(X, sample_weight, first, uniforms):
    """Twin of seeding.kmeans_plusplus: greedy k-means++ with the given draws."""
    X = np.asarray(X, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    indices = [first]
    closest = sq_distances(X, X[[first]])[:, 0]
    for draws in uniforms:
        cumulative = np.cumsum(w * closest)
        cand = np.minimum(np.searchsorted(cumulative, draws * cumulative[-1]), len(X) - 1)
        dist = np.minimum(closest[:, None], sq_distances(X, X[cand]))
        best = int(np.argmin(w @ dist))
        indices.append(int(cand[best]))
        closest = dist[:, best]
    return np.array(indices)
