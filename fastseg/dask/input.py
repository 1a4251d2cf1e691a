"""Input coercion for ``fastseg.dask``: NumPy or dask arrays as float row blocks, sample weights with
the same row blocks."""

import dask.array as da
import numpy as np
from sklearn.utils.validation import check_is_fitted

# NumPy input is cut into blocks of at most this many bytes, and into at least 8 blocks.
NUMPY_BLOCK_BYTES = 64 * 2**20


def as_dask_rows(X):
    """``X`` as a float32/float64 dask array with one block along the columns."""
    if not isinstance(X, da.Array):
        if hasattr(X, "toarray") or hasattr(X, "tocsr"):
            raise TypeError("fastseg.dask.KMeans takes dense arrays; sparse input is not supported.")
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"Expected a 2-D array, got {X.ndim} dimension(s).")
        if X.dtype.kind not in "biuf":
            raise TypeError(f"X must hold numbers, got dtype {X.dtype}.")
        n, d = X.shape
        row_bytes = max(1, d * X.dtype.itemsize)
        rows = max(1, min(-(-n // 8), NUMPY_BLOCK_BYTES // row_bytes))
        X = da.from_array(X, chunks=(rows, d))
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D array, got {X.ndim} dimension(s).")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must hold numbers, got dtype {X.dtype}.")
    if any(np.isnan(c) for c in X.chunks[0]) or np.isnan(X.shape[1]):
        raise ValueError("X has unknown chunk sizes; call X.compute_chunk_sizes() first.")
    if X.shape[1] == 0:
        raise ValueError("X has 0 features; at least one is required.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if X.numblocks[1] > 1:
        # The kernels need whole rows: one block along the columns.
        X = X.rechunk({1: -1})
    return X


def fitted_rows(estimator, X):
    """``X`` as dask rows for a fitted estimator, with its feature count checked."""
    check_is_fitted(estimator)
    X = as_dask_rows(X)
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {estimator.__class__.__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    return X


def as_dask_weights(sample_weight, X):
    """``sample_weight`` as a dask array with X's row blocks and dtype; None stays None (unit weights,
    made inside each task)."""
    if sample_weight is None:
        return None
    if not isinstance(sample_weight, da.Array):
        sample_weight = np.asarray(sample_weight)
        if sample_weight.ndim == 0:
            return da.full(X.shape[0], sample_weight.astype(X.dtype), chunks=(X.chunks[0],))
        if sample_weight.dtype.kind not in "biuf":
            raise TypeError(f"sample_weight must hold numbers, got dtype {sample_weight.dtype}.")
        if sample_weight.shape != (X.shape[0],):
            raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected ({X.shape[0]},).")
        return da.from_array(sample_weight.astype(X.dtype), chunks=(X.chunks[0],))
    if sample_weight.shape != (X.shape[0],):
        raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected ({X.shape[0]},).")
    if sample_weight.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold numbers, got dtype {sample_weight.dtype}.")
    return sample_weight.astype(X.dtype).rechunk((X.chunks[0],))
