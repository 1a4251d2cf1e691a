"""Product pairs bought together: the basket x item matrix, pair counts, association rules
(support, confidence, lift), per segment, and the co-occurrence / confidence tables."""

import numpy as np
import scipy.sparse as sp

from .._kernels import basket as _bk
from .._kernels._config import in_parallel
from .._pandas import require_columns
from .._pandas import require_pandas as _pandas


# -- the basket x item matrix -------------------------------------------------------------------
def basket_matrix(transactions, *, basket="order_id", item="item"):
    """Binary sparse matrix of baskets x items from a transactions table.

    Returns
    -------
    B : scipy.sparse.csr_matrix of shape (n_baskets, n_items), int32 0/1 (an item counted once per basket)
    baskets : ndarray of basket ids (row order)
    items : ndarray of item names (column order)
    """
    pd = _pandas()
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(f"transactions must be a pandas DataFrame, got {type(transactions).__name__}.")
    require_columns(transactions, [basket, item], "the transactions table")
    if transactions.empty:
        raise ValueError("the transactions table is empty.")
    if transactions[[basket, item]].isna().any().any():
        raise ValueError(f"columns {basket!r} and {item!r} must not have missing values.")
    rows, baskets = pd.factorize(transactions[basket], sort=True)
    cols, items = pd.factorize(transactions[item], sort=True)
    B = sp.csr_matrix((np.ones(rows.size, dtype=np.int32), (rows, cols)), shape=(baskets.size, items.size))
    B.sum_duplicates()
    B.data[:] = 1
    return B, np.asarray(baskets), np.asarray(items)


def item_counts(B):
    """Number of baskets (rows) holding each item (column) of a 0/1 sparse matrix, float64."""
    return np.asarray((B > 0).sum(axis=0), dtype=np.float64).ravel()


def pair_counts(B, min_count=1):
    """Co-occurrence counts of item pairs i < j (baskets holding both), those >= ``min_count``.

    The Numba kernel (a parallel sparse B^T B over the CSR structure); pairs whose items are
    themselves rarer than ``min_count`` are never generated.

    Returns (i, j, count) arrays.
    """
    B = sp.csr_matrix(B)
    keep = np.flatnonzero(item_counts(B) >= min_count)
    Bk = B[:, keep].tocsr()
    Bk.sort_indices()
    C = Bk.tocsc()
    C.sort_indices()
    args = (
        C.indptr.astype(np.int64), C.indices.astype(np.int32, copy=False),
        Bk.indptr.astype(np.int64), Bk.indices.astype(np.int32, copy=False), int(min_count),
    )  # fmt: skip
    row_nnz = np.zeros(keep.size + 1, dtype=np.int64)
    empty32 = np.empty(0, dtype=np.int32)
    in_parallel(keep.size, lambda a, b: _bk.pair_counts(*args, row_nnz, empty32, empty32, False, a, b))
    ptr = np.zeros(keep.size + 1, dtype=np.int64)
    np.cumsum(row_nnz[:-1], out=ptr[1:])
    cols = np.empty(ptr[-1], dtype=np.int32)
    counts = np.empty(ptr[-1], dtype=np.int32)
    in_parallel(keep.size, lambda a, b: _bk.pair_counts(*args, ptr, cols, counts, True, a, b))
    rows = np.repeat(np.arange(keep.size), np.diff(ptr))
    return keep[rows], keep[cols], counts


def association_rules(B, items, *, min_count=1, min_support=0.0, min_confidence=0.0):
    """Pair rules X -> Y with count, support, confidence and lift (both directions of each pair),
    for pairs bought together in at least ``min_count`` baskets and ``min_support`` of them.

    support = n(X and Y) / n_baskets; confidence(X -> Y) = n(X and Y) / n(X);
    lift = support(X, Y) / (support(X) support(Y)).

    Returns a pandas DataFrame sorted by lift, then support.
    """
    pd = _pandas()
    for name, v in (("min_support", min_support), ("min_confidence", min_confidence)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {v!r}.")
    if isinstance(min_count, bool) or not isinstance(min_count, int | np.integer) or min_count < 1:
        raise ValueError(f"min_count must be an integer >= 1, got {min_count!r}.")
    n = B.shape[0]
    if n == 0:
        raise ValueError("no baskets.")
    min_count = max(int(min_count), int(np.ceil(min_support * n - 1e-9)))
    i, j, c = pair_counts(B, min_count)
    item_count = item_counts(B)
    ant = np.concatenate([i, j])
    con = np.concatenate([j, i])
    cnt = np.concatenate([c, c]).astype(np.int64)
    support = cnt / n
    confidence = cnt / item_count[ant]
    lift = support / ((item_count[ant] / n) * (item_count[con] / n))
    rules = pd.DataFrame(
        {
            "antecedent": np.asarray(items)[ant],
            "consequent": np.asarray(items)[con],
            "count": cnt,
            "support": support,
            "confidence": confidence,
            "lift": lift,
        }
    )
    rules = rules[(rules["support"] >= min_support) & (rules["confidence"] >= min_confidence)]
    return rules.sort_values(
        ["lift", "support", "antecedent", "consequent"], ascending=[False, False, True, True]
    ).reset_index(drop=True)


def rules_by_segment(
    transactions, segment_of, *, customer="customer_id", basket="order_id", item="item", **kwargs
):
    """``association_rules`` within each segment's baskets; ``segment_of`` maps customer -> segment."""
    pd = _pandas()
    require_columns(transactions, [customer], "the transactions table")
    # Each customer looked up once (a transactions table repeats them).
    codes, customers = pd.factorize(transactions[customer])
    segment = pd.Series(customers).map(segment_of)
    if (codes < 0).any() or segment.isna().any():
        raise ValueError("some customers of the transactions have no segment.")
    seg = pd.Series(segment.to_numpy()[codes], index=transactions.index)
    parts = []
    for s in sorted(seg.unique()):
        B, _, items = basket_matrix(transactions[seg == s], basket=basket, item=item)
        parts.append(association_rules(B, items, **kwargs).assign(segment=s))
    return pd.concat(parts, ignore_index=True)[["segment", *parts[0].columns.drop("segment")]]


def cooccurrence_table(baskets):
    """Items x items counts of baskets holding both (diagonal: baskets holding the item).

    baskets : mapping of basket -> list of items. Returns a pandas DataFrame.
    """
    pd = _pandas()
    rows = [(b, it) for b, its in baskets.items() for it in its]
    B, _, items = basket_matrix(pd.DataFrame(rows, columns=["basket", "item"]), basket="basket", item="item")
    C = (B.T @ B).toarray()
    return pd.DataFrame(C, index=items, columns=items)


def confidence_table(cooccurrence):
    """confidence(X -> Y) = n(X and Y) / n(X) from a co-occurrence table (diagonal = n(X))."""
    C = np.asarray(cooccurrence, dtype=float)
    conf = C / np.diag(C)[:, None]
    np.fill_diagonal(conf, np.nan)
    return conf
