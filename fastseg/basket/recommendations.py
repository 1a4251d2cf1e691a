"""Collaborative-filtering recommendations (cosine similarity, user- or item-based, optionally
within each segment), their leave-one-out hit rate and their precision@k, recall@k and catalogue
coverage on a time-ordered holdout."""

import numpy as np
import scipy.sparse as sp

from .._kernels import basket as _bk
from .._kernels._config import in_parallel
from .._pandas import require_pandas as _pandas
from .rules import basket_matrix, item_counts, pair_counts


def user_item_matrix(transactions, *, customer="customer_id", item="item"):
    """Binary sparse customers x items matrix (bought at least once). Returns (U, customers, items)."""
    return basket_matrix(transactions, basket=customer, item=item)


def _exclude_owned_top_n(scores_csr, U, n):
    """Top-n columns of each row of a sparse score matrix, skipping items the user owns."""
    S = sp.csr_matrix(scores_csr, dtype=np.float64)
    S.sort_indices()
    out_items = np.empty((U.shape[0], n), dtype=np.int64)
    out_scores = np.empty((U.shape[0], n))
    s_ptr, s_cols, o_ptr, o_cols = (a.astype(np.int64) for a in (S.indptr, S.indices, U.indptr, U.indices))
    in_parallel(
        U.shape[0],
        lambda a, b: _bk.top_n_unowned(
            s_ptr[a : b + 1],
            s_cols,
            S.data,
            o_ptr[a : b + 1],
            o_cols,
            int(n),
            out_items[a:b],
            out_scores[a:b],
        ),
    )
    return out_items, out_scores


def top_n(U, *, n=10, method="user", n_neighbours=50, groups=None, max_item_users=200):
    """Top-n unbought items per user of a binary users x items matrix.

    method : 'user' (user-based CF, cosine similarity, ``n_neighbours`` nearest users, within the
        user's group when ``groups`` is given; an item bought by more than ``max_item_users``
        users links each user to ``max_item_users`` of its buyers only, so that a best-seller
        does not make the neighbour search quadratic), 'item' (item-based CF: score = sum of the
        cosine similarities of an item to the user's items) or 'popularity' (most-bought items).
    Returns (items (n_users, n) int64 with -1 padding, scores (n_users, n)).
    """
    U = sp.csr_matrix(U, dtype=np.float64)
    U.data[:] = 1.0
    U.sort_indices()
    if n < 1 or n_neighbours < 1 or max_item_users < 1:
        raise ValueError("n, n_neighbours and max_item_users must be positive.")
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
        args = (
            Un.indptr.astype(np.int64), Un.indices.astype(np.int64), Un.data,
            C.indptr.astype(np.int64), C.indices.astype(np.int64), C.data,
            groups is not None, g, int(n_neighbours), int(max_item_users), int(n), items, scores,
        )  # fmt: skip
        in_parallel(U.shape[0], lambda a, b: _bk.user_based_topn(*args, a, b))
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
        ranked = np.lexsort((np.arange(popularity.size), -popularity)).astype(np.int64)
        items = np.empty((U.shape[0], n), dtype=np.int64)
        scores = np.empty((U.shape[0], n))
        o_ptr, o_cols = U.indptr.astype(np.int64), U.indices.astype(np.int64)
        in_parallel(
            U.shape[0],
            lambda a, b: _bk.top_popular_unowned(
                ranked, popularity, o_ptr[a : b + 1], o_cols, int(n), items[a:b], scores[a:b]
            ),
        )
        return items, scores
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
    max_item_users=200,
):
    """Top-n recommendations per customer as a DataFrame (customer, rank, item, score).

    ``segment_of`` (customer -> segment) restricts user-based neighbours to the customer's segment;
    ``max_item_users`` is ``top_n``'s bound on the buyers of one item that a customer is compared with.
    """
    pd = _pandas()
    U, customers, items = user_item_matrix(transactions, customer=customer, item=item)
    groups = None
    if segment_of is not None:
        groups = pd.Series(customers).map(segment_of)
        if groups.isna().any():
            raise ValueError("some customers have no segment.")
        groups = pd.factorize(groups)[0]
    rec, score = top_n(
        U, n=n, method=method, n_neighbours=n_neighbours, groups=groups, max_item_users=max_item_users
    )
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


def _holdout_split(transactions, customer, item, date):
    """(training rows, customers held out, their held-out items as a list of arrays): each
    customer with purchases on two or more dates has the items of the last date that they had
    not bought before held out; the training rows are every row but those last-date rows."""
    pd = _pandas()
    tx = transactions[[customer, item, date]]
    last = tx.groupby(customer, sort=False)[date].transform("max")
    first = tx.groupby(customer, sort=False)[date].transform("min")
    test = (tx[date] == last).to_numpy() & (first < last).to_numpy()
    train = tx[~test]
    seen = pd.MultiIndex.from_frame(train[[customer, item]])
    new = tx[test]
    new = new[~pd.MultiIndex.from_frame(new[[customer, item]]).isin(seen)]
    new = new.drop_duplicates([customer, item])
    held = new.groupby(customer, sort=True)[item].agg(lambda s: s.to_numpy())
    return train, held.index.to_numpy(), list(held.to_numpy())


def ranking_metrics(recommended, relevant, n_items):
    """(precision@k, recall@k, catalogue coverage) of top-k lists.

    ``recommended``: (users, k) item positions, -1 where a list is shorter; ``relevant``: one
    array of distinct item positions per user, none of them among the user's training items, -1
    for an item no list can hold (one the training rows never sold). precision@k is hits / k and
    recall@k hits / len(relevant), each averaged over the users; coverage is the share of the
    ``n_items`` items that appear in at least one list."""
    recommended = np.asarray(recommended, dtype=np.int64)
    users, k = recommended.shape
    if users != len(relevant) or users == 0:
        raise ValueError("need one relevant set per user, and at least one user.")
    sizes = np.array([len(r) for r in relevant], dtype=np.int64)
    if (sizes == 0).any():
        raise ValueError("every user needs at least one relevant item.")
    flat = np.concatenate(relevant).astype(np.int64)
    known = flat >= 0
    truth = sp.csr_matrix(
        (np.ones(known.sum()), (np.repeat(np.arange(users), sizes)[known], flat[known])),
        shape=(users, n_items),
    )
    rows, ranks = np.nonzero(recommended >= 0)
    hits = np.zeros(users)
    np.add.at(hits, rows, np.asarray(truth[rows, recommended[rows, ranks]]).ravel())
    coverage = np.unique(recommended[rows, ranks]).size / n_items
    return float(np.mean(hits / k)), float(np.mean(hits / sizes)), float(coverage)


def holdout_metrics(
    transactions,
    *,
    customer="customer_id",
    item="item",
    date="date",
    segment_of=None,
    n=10,
    n_neighbours=50,
):
    """precision@n, recall@n and catalogue coverage of each recommender on a time-ordered
    holdout: each customer's last purchase date (when they bought on two or more dates) is held
    out, the recommenders are fitted on everything before it and on the other customers' rows,
    and the relevant items are those bought that day and never before (an item first sold that
    day cannot be recommended and counts as a miss). Coverage: the share of the training
    catalogue in the evaluated customers' lists.

    Returns a pandas DataFrame, one row per method, as ``hit_rate``.
    """
    pd = _pandas()
    missing = [c for c in (customer, item, date) if c not in transactions.columns]
    if missing:
        raise ValueError(f"no column {', '.join(map(repr, missing))} in the purchases.")
    train, held_customers, held_items = _holdout_split(transactions, customer, item, date)
    if held_customers.size == 0:
        raise ValueError("no customer bought a new item on a later date: nothing to hold out.")
    U, customers, items = user_item_matrix(train, customer=customer, item=item)
    position = pd.Index(customers).get_indexer(held_customers)
    catalogue = pd.Index(items)
    relevant = [catalogue.get_indexer(x) for x in held_items]  # -1: first sold on the held-out day
    methods = [
        ("popularity", "popularity", None),
        ("item-based CF", "item", None),
        ("user-based CF", "user", None),
    ]
    if segment_of is not None:
        groups = pd.Series(customers).map(segment_of)
        if groups.isna().any():
            raise ValueError("some customers have no segment.")
        methods.append(("user-based CF within segment", "user", pd.factorize(groups)[0]))
    rows = []
    for label, method, groups in methods:
        rec, _ = top_n(U, n=n, method=method, n_neighbours=n_neighbours, groups=groups)
        precision, recall, coverage = ranking_metrics(rec[position], relevant, U.shape[1])
        rows.append({"method": label, f"precision@{n}": precision, f"recall@{n}": recall,
                     f"coverage@{n}": coverage, "customers": held_customers.size})  # fmt: skip
    return pd.DataFrame(rows)
