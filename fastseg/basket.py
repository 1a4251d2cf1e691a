"""Basket analytics: product pairs bought together (co-occurrence, support, confidence, lift)
and collaborative-filtering recommendations with cosine similarity, optionally per segment."""

import numpy as np
import scipy.sparse as sp

from ._kernels import basket as _bk
from .features import _require_columns
from .features import require_pandas as _pandas


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
    _require_columns(transactions, [basket, item], "the transactions table")
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
    _bk.pair_counts(*args, row_nnz, empty32, empty32, False)
    ptr = np.zeros(keep.size + 1, dtype=np.int64)
    np.cumsum(row_nnz[:-1], out=ptr[1:])
    cols = np.empty(ptr[-1], dtype=np.int32)
    counts = np.empty(ptr[-1], dtype=np.int32)
    _bk.pair_counts(*args, ptr, cols, counts, True)
    rows = np.repeat(np.arange(keep.size), np.diff(ptr))
    return keep[rows], keep[cols], counts


def association_rules(B, items, *, min_support=0.0, min_confidence=0.0):
    """Pair rules X -> Y with count, support, confidence and lift (both directions of each pair).

    support = n(X and Y) / n_baskets; confidence(X -> Y) = n(X and Y) / n(X);
    lift = support(X, Y) / (support(X) support(Y)).

    Returns a pandas DataFrame sorted by lift, then support.
    """
    pd = _pandas()
    for name, v in (("min_support", min_support), ("min_confidence", min_confidence)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {v!r}.")
    n = B.shape[0]
    if n == 0:
        raise ValueError("no baskets.")
    min_count = max(1, int(np.ceil(min_support * n - 1e-9)))
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
    _require_columns(transactions, [customer], "the transactions table")
    seg = transactions[customer].map(segment_of)
    if seg.isna().any():
        raise ValueError("some customers of the transactions have no segment.")
    parts = []
    for s in sorted(seg.unique()):
        B, _, items = basket_matrix(transactions[seg == s], basket=basket, item=item)
        parts.append(association_rules(B, items, **kwargs).assign(segment=s))
    return pd.concat(parts, ignore_index=True)[["segment", *parts[0].columns.drop("segment")]]


# -- the paper's worked example (seed 002, Tables I-III) ----------------------------------------
PAPER_TABLE1 = {
    "A": ["Day cream", "Facial cleanser", "Evening cream"],
    "B": ["Shampoo", "Night cream", "Shower gel"],
    "C": ["Facial cleanser", "Evening cream"],
    "D": ["Shampoo", "Shower gel", "Facial cleanser", "Day cream"],
    "E": ["Shampoo"],
    "F": ["Shampoo", "Shower gel"],
}
PAPER_ITEMS = ["Facial Cleanser", "Sun frost", "Night Cream", "Shampoo", "Shower Gel"]
PAPER_TABLE2 = np.array(
    [[3, 2, 2, 1, 1], [2, 2, 1, 1, 1], [2, 1, 3, 1, 1], [1, 1, 1, 4, 3], [1, 1, 1, 3, 3]], dtype=float
)
PAPER_TABLE3 = np.array(
    [
        [np.nan, 0.667, 0.667, 0.333, 0.333],
        [1.0, np.nan, 0.5, 0.5, 0.5],
        [0.667, 0.333, np.nan, 0.333, 0.333],
        [0.25, 0.25, 0.25, np.nan, 0.75],
        [0.333, 0.333, 0.333, 1.0, np.nan],
    ]
)
# Item names of Table I as they appear in Table II (the English renderings of one product differ).
PAPER_NAME_MAP = {
    "Facial cleanser": "Facial Cleanser",
    "Day cream": "Sun frost",
    "Evening cream": "Night Cream",
    "Night cream": "Night Cream",
    "Shampoo": "Shampoo",
    "Shower gel": "Shower Gel",
}


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


# -- recommendations ------------------------------------------------------------------------------
def user_item_matrix(transactions, *, customer="customer_id", item="item"):
    """Binary sparse customers x items matrix (bought at least once). Returns (U, customers, items)."""
    return basket_matrix(transactions, basket=customer, item=item)


def _exclude_owned_top_n(scores_csr, U, n):
    """Top-n columns of each row of a sparse score matrix, skipping items the user owns."""
    S = sp.csr_matrix(scores_csr, dtype=np.float64)
    S.sort_indices()
    out_items = np.empty((U.shape[0], n), dtype=np.int64)
    out_scores = np.empty((U.shape[0], n))
    _bk.top_n_unowned(
        S.indptr.astype(np.int64), S.indices.astype(np.int64), S.data,
        U.indptr.astype(np.int64), U.indices.astype(np.int64), int(n), out_items, out_scores,
    )  # fmt: skip
    return out_items, out_scores


def top_n(U, *, n=10, method="user", n_neighbours=50, groups=None):
    """Top-n unbought items per user of a binary users x items matrix.

    method : 'user' (user-based CF, cosine similarity, ``n_neighbours`` nearest users, within the
        user's group when ``groups`` is given), 'item' (item-based CF: score = sum of the cosine
        similarities of an item to the user's items) or 'popularity' (most-bought items).
    Returns (items (n_users, n) int64 with -1 padding, scores (n_users, n)).
    """
    U = sp.csr_matrix(U, dtype=np.float64)
    U.data[:] = 1.0
    U.sort_indices()
    if n < 1 or n_neighbours < 1:
        raise ValueError("n and n_neighbours must be positive.")
    if method == "user":
        norms = np.sqrt(np.asarray(U.sum(axis=1)).ravel())
        Un = sp.diags(1.0 / np.maximum(norms, 1e-300)) @ U
        Un = Un.tocsr()
        Un.sort_indices()
        C = Un.tocsc()
        C.sort_indices()
        g = np.zeros(U.shape[0], dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
        items = np.empty((U.shape[0], n), dtype=np.int64)
        scores = np.empty((U.shape[0], n))
        _bk.user_based_topn(
            Un.indptr.astype(np.int64), Un.indices.astype(np.int64), Un.data,
            C.indptr.astype(np.int64), C.indices.astype(np.int64), C.data,
            groups is not None, g, int(n_neighbours), int(n), items, scores,
        )  # fmt: skip
        return items, scores
    if method == "item":
        i, j, c = pair_counts(U, 1)
        counts = item_counts(U)
        sim = c / np.sqrt(counts[i] * counts[j])
        S = sp.coo_matrix(
            (np.concatenate([sim, sim]), (np.concatenate([i, j]), np.concatenate([j, i]))),
            shape=(U.shape[1],) * 2,
        )
        return _exclude_owned_top_n(U @ S.tocsr(), U, n)
    if method == "popularity":
        popularity = item_counts(U)
        scores = sp.csr_matrix(np.ones((U.shape[0], 1))) @ sp.csr_matrix(popularity[None, :])
        return _exclude_owned_top_n(scores, U, n)
    raise ValueError(f"method must be 'user', 'item' or 'popularity', got {method!r}.")


def recommend(
    transactions,
    *,
    customer="customer_id",
    item="item",
    n=10,
    method="user",
    n_neighbours=50,
    segment_of=None,
):
    """Top-n recommendations per customer as a DataFrame (customer, rank, item, score).

    ``segment_of`` (customer -> segment) restricts user-based neighbours to the customer's segment.
    """
    pd = _pandas()
    U, customers, items = user_item_matrix(transactions, customer=customer, item=item)
    groups = None
    if segment_of is not None:
        groups = pd.Series(customers).map(segment_of)
        if groups.isna().any():
            raise ValueError("some customers have no segment.")
        groups = pd.factorize(groups)[0]
    rec, score = top_n(U, n=n, method=method, n_neighbours=n_neighbours, groups=groups)
    users, ranks = np.nonzero(rec >= 0)
    return pd.DataFrame(
        {
            customer: customers[users],
            "rank": ranks + 1,
            item: items[rec[users, ranks]],
            "score": score[users, ranks],
        }
    )


def hit_rate(
    transactions,
    *,
    customer="customer_id",
    item="item",
    segment_of=None,
    n=10,
    n_neighbours=50,
    random_state=0,
):
    """Leave-one-out hit rate@n: one bought item per customer (with 2+ items) is hidden, the
    models are fitted on the rest, and a hit is the hidden item among the customer's top n.

    Returns a pandas DataFrame with one row per method: popularity, item-based CF, user-based CF,
    and (with ``segment_of``) user-based CF within each segment.
    """
    pd = _pandas()
    U, customers, items = user_item_matrix(transactions, customer=customer, item=item)
    U = U.tocsr()
    rng = np.random.default_rng(random_state)
    counts = np.diff(U.indptr)
    eligible = np.flatnonzero(counts >= 2)
    if eligible.size == 0:
        raise ValueError("no customer bought two or more items: nothing to hold out.")
    held = np.array([U.indices[U.indptr[u] + rng.integers(counts[u])] for u in eligible])
    train = U.tolil()
    train[eligible, held] = 0
    train = train.tocsr()
    train.eliminate_zeros()
    methods = [
        ("popularity", "popularity", None),
        ("item-based CF", "item", None),
        ("user-based CF", "user", None),
    ]
    if segment_of is not None:
        groups = pd.factorize(pd.Series(customers).map(segment_of))[0]
        methods.append(("user-based CF within segment", "user", groups))
    rows = []
    for label, method, groups in methods:
        rec, _ = top_n(train, n=n, method=method, n_neighbours=n_neighbours, groups=groups)
        hits = (rec[eligible] == held[:, None]).any(axis=1)
        rows.append({"method": label, f"hit_rate@{n}": hits.mean(), "customers": eligible.size})
    return pd.DataFrame(rows)
