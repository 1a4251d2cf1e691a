"""Clustering accuracy against known classes (the GA-K-means paper's Eq. 9, and a one-to-one variant)."""

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics.cluster import contingency_matrix


def clustering_accuracy(y_true, labels, *, method="majority"):
    """Share of rows whose cluster is matched to their true class.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True classes (any hashable labels).
    labels : array-like of shape (n_samples,)
        Cluster labels.
    method : {'majority', 'hungarian'}, default='majority'
        'majority' is Eq. 9 of the GA-K-means paper: every cluster takes the class most of its
        rows belong to (several clusters may take the same class). 'hungarian' matches clusters
        and classes one to one (``scipy.optimize.linear_sum_assignment``), the stricter measure.

    Returns
    -------
    float in [0, 1]
    """
    y_true = np.asarray(y_true)
    labels = np.asarray(labels)
    if y_true.ndim != 1 or labels.ndim != 1:
        raise ValueError("y_true and labels must be 1-D arrays.")
    if y_true.shape != labels.shape:
        raise ValueError(
            f"y_true and labels have different lengths: {y_true.shape[0]} and {labels.shape[0]}."
        )
    if y_true.size == 0:
        raise ValueError("y_true and labels are empty.")
    counts = contingency_matrix(y_true, labels)  # classes x clusters
    if method == "majority":
        matched = counts.max(axis=0).sum()
    elif method == "hungarian":
        rows, cols = linear_sum_assignment(-counts)
        matched = counts[rows, cols].sum()
    else:
        raise ValueError(f"method must be 'majority' or 'hungarian', got {method!r}.")
    return float(matched / y_true.size)
