"""Basket analytics: pair counting, rules, the paper's tables, recommendations."""

import numpy as np
import pytest
import scipy.sparse as sp

pd = pytest.importorskip("pandas")

from fastseg import basket  # noqa: E402
from fastseg._kernels._config import threads  # noqa: E402
from fastseg.basket import paper  # noqa: E402

from . import reference  # noqa: E402


def random_baskets(rng, n_baskets, n_items, per_basket=4):
    rows = np.repeat(np.arange(n_baskets), per_basket)
    cols = np.minimum(rng.zipf(1.3, rows.size) - 1, n_items - 1)
    B = sp.csr_matrix((np.ones(rows.size, np.int32), (rows, cols)), shape=(n_baskets, n_items))
    B.data[:] = 1
    return B


@pytest.mark.parametrize(
    "n_baskets,n_items,min_count", [(1, 3, 1), (50, 7, 1), (3000, 200, 1), (3000, 200, 5)]
)
def test_pair_counts_match_reference(rng, n_baskets, n_items, min_count):
    B = random_baskets(rng, n_baskets, n_items)
    got = basket.pair_counts(B, min_count)
    want = reference.pair_counts(B, min_count)
    order = np.lexsort((got[1], got[0]))
    np.testing.assert_array_equal(order, np.arange(order.size))  # by item i, then j ascending
    for a, b in zip((g[order] for g in got), want):
        np.testing.assert_array_equal(a, b)
    with threads(1):
        one = basket.pair_counts(B, min_count)
    for a, b in zip(one, got):
        np.testing.assert_array_equal(a, b)


def test_rules_support_confidence_lift_by_hand():
    tx = pd.DataFrame({"order_id": [1, 1, 2, 2, 3, 4], "item": ["a", "b", "a", "b", "a", "c"]})
    B, _, items = basket.basket_matrix(tx)
    rules = basket.association_rules(B, items).set_index(["antecedent", "consequent"])
    ab = rules.loc[("a", "b")]
    assert ab["count"] == 2 and ab["support"] == 0.5
    assert ab["confidence"] == pytest.approx(2 / 3) and ab["lift"] == pytest.approx(0.5 / (0.75 * 0.5))
    assert rules.loc[("b", "a"), "confidence"] == 1.0
    assert ("a", "c") not in rules.index  # never together
    assert len(basket.association_rules(B, items, min_support=0.6)) == 0
    assert set(basket.association_rules(B, items, min_confidence=0.9).index) == {0}
    with pytest.raises(ValueError, match="min_support"):
        basket.association_rules(B, items, min_support=2)
    with pytest.raises(ValueError, match="no column 'sku'"):
        basket.basket_matrix(tx, item="sku")


def test_rules_agree_with_mlxtend(rng):
    # mlxtend is in the 'test' extra: this cross-check runs with the normal test command.
    import mlxtend.frequent_patterns as mlx

    B = random_baskets(rng, 2000, 30)
    items = np.array([f"i{k}" for k in range(30)])
    ours = basket.association_rules(B, items, min_support=0.01, min_confidence=0.05)
    df = pd.DataFrame(B.toarray().astype(bool), columns=items)
    freq = mlx.apriori(df, min_support=0.01, use_colnames=True, max_len=2)
    theirs = mlx.association_rules(freq, metric="confidence", min_threshold=0.05)
    theirs = theirs[(theirs["antecedents"].map(len) == 1) & (theirs["consequents"].map(len) == 1)]
    theirs = theirs.assign(
        antecedent=theirs["antecedents"].map(lambda s: next(iter(s))),
        consequent=theirs["consequents"].map(lambda s: next(iter(s))),
    ).set_index(["antecedent", "consequent"])
    ours = ours.set_index(["antecedent", "consequent"])
    assert set(ours.index) == set(theirs.index)
    for col in ("support", "confidence", "lift"):
        np.testing.assert_allclose(ours[col], theirs.loc[ours.index, col], rtol=1e-12)


def test_paper_table3_follows_from_table2_exactly():
    conf = basket.confidence_table(paper.PAPER_TABLE2)
    np.testing.assert_array_equal(np.round(conf, 3), paper.PAPER_TABLE3)


def test_paper_table2_from_table1():
    as_printed = basket.cooccurrence_table(paper.PAPER_TABLE1)
    # As printed, Table I names six products, Table II five: they cannot be the same table.
    assert len(as_printed) == 6 and set(as_printed.index) != set(paper.PAPER_ITEMS)
    mapped = {c: [paper.PAPER_NAME_MAP[i] for i in its] for c, its in paper.PAPER_TABLE1.items()}
    table = basket.cooccurrence_table(mapped).loc[paper.PAPER_ITEMS, paper.PAPER_ITEMS]
    np.testing.assert_array_equal(table.to_numpy(), paper.PAPER_TABLE2)


def test_user_based_topn_matches_reference(rng):
    U = random_baskets(rng, 300, 40, per_basket=6)
    for groups in (None, rng.integers(0, 3, 300)):
        got, _ = basket.top_n(U, n=5, n_neighbours=7, groups=groups, max_item_users=300)  # every buyer
        want = reference.user_based_topn(U, 5, 7, groups)
        np.testing.assert_array_equal(got, want)
    owned = U.toarray() > 0
    got, _ = basket.top_n(U, n=5, method="item")
    rows = np.repeat(np.arange(300), 5)
    valid = got.ravel() >= 0
    assert not owned[rows[valid], got.ravel()[valid]].any()  # never recommends what was bought


def test_user_based_topn_bounds_the_buyers_of_popular_items(rng):
    U = random_baskets(rng, 200, 30, per_basket=5).tolil()
    U[:, 0] = 1  # a best-seller everyone bought
    U = sp.csr_matrix(U)
    for cap in (7, 40):
        got, _ = basket.top_n(U, n=4, n_neighbours=6, max_item_users=cap)
        np.testing.assert_array_equal(got, reference.user_based_topn_capped(U, 4, 6, cap))
    uncapped, _ = basket.top_n(U, n=4, n_neighbours=6, max_item_users=10_000)
    np.testing.assert_array_equal(uncapped, reference.user_based_topn(U, 4, 6))


def test_popularity_matches_reference_without_a_score_matrix(rng):
    U = random_baskets(rng, 120, 25, per_basket=4)
    got, scores = basket.top_n(U, n=6, method="popularity")
    popularity = np.asarray((U > 0).sum(axis=0), dtype=float).ravel()
    want = reference.top_n_unowned(np.tile(popularity, (120, 1)), U.toarray() > 0, 6)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(scores[got >= 0], popularity[got[got >= 0]])


def test_recommend_and_hit_rate_on_demo():
    from fastseg.segment.datasets import make_customers, make_transactions

    customers, seg = make_customers(600, random_state=1)
    tx = make_transactions(customers, seg, random_state=1)
    segment_of = dict(zip(customers["customer_id"], seg))
    rec = basket.recommend(tx, n=10, segment_of=segment_of)
    assert set(rec.columns) == {"customer_id", "rank", "item", "score"}
    assert rec.groupby("customer_id")["rank"].max().max() <= 10
    bought = set(zip(tx["customer_id"], tx["item"]))
    assert not any((c, i) in bought for c, i in zip(rec["customer_id"], rec["item"]))
    table = basket.hit_rate(tx, segment_of=segment_of, n=10)
    assert list(table["method"]) == [
        "popularity",
        "item-based CF",
        "user-based CF",
        "user-based CF within segment",
    ]
    assert table["hit_rate@10"].between(0, 1).all()
    assert table.set_index("method").loc["user-based CF within segment", "hit_rate@10"] > 0.05


def test_top_n_unowned_matches_reference(rng):
    from fastseg._kernels import basket as kernels

    scores = np.round(rng.random((50, 30)), 1) * (rng.random((50, 30)) < 0.5)  # ties and zeros
    owned = rng.random((50, 30)) < 0.2
    S = sp.csr_matrix(scores)
    own = sp.csr_matrix(owned.astype(np.int32))
    own.sort_indices()
    items = np.empty((50, 4), dtype=np.int64)
    values = np.empty((50, 4))
    kernels.top_n_unowned(
        S.indptr.astype(np.int64), S.indices.astype(np.int64), S.data,
        own.indptr.astype(np.int64), own.indices.astype(np.int64), 4, items, values,
    )  # fmt: skip
    np.testing.assert_array_equal(items, reference.top_n_unowned(scores, owned, 4))


def test_rules_by_segment_split_by_each_customers_segment():
    tx = pd.DataFrame(
        {
            "customer_id": ["u1", "u1", "u2", "u2", "u3", "u3"],
            "order_id": [1, 1, 2, 2, 3, 3],
            "item": ["a", "b", "a", "b", "a", "c"],
        }
    )
    rules = basket.rules_by_segment(tx, {"u1": 1, "u2": 1, "u3": 2})
    pairs = {(s, a, c) for s, a, c in rules[["segment", "antecedent", "consequent"]].itertuples(index=False)}
    assert pairs == {(1, "a", "b"), (1, "b", "a"), (2, "a", "c"), (2, "c", "a")}
    with pytest.raises(ValueError, match="no segment"):
        basket.rules_by_segment(tx, {"u1": 1, "u2": 1})
    with pytest.raises(ValueError, match="no segment"):
        basket.rules_by_segment(
            tx.assign(customer_id=[None, "u1", "u2", "u2", "u3", "u3"]), {"u1": 1, "u2": 1, "u3": 2}
        )


def _item_based_twin(owned, n):
    """Item-based CF on a dense 0/1 matrix: cosine similarity of the item columns (no self
    similarity), a user's score for an item the sum of its similarities to the user's items."""
    U = owned.astype(np.float64)
    co = U.T @ U
    bought = np.diag(co).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.where(co > 0, co / np.sqrt(np.outer(bought, bought)), 0.0)
    np.fill_diagonal(sim, 0.0)
    scores = U @ sim
    return reference.top_n_unowned(scores, owned, n), scores


def test_item_based_topn_matches_a_numpy_twin(rng):
    U = random_baskets(rng, 250, 35, per_basket=5)
    owned = U.toarray() > 0
    got, got_scores = basket.top_n(U, n=6, method="item")
    want, scores = _item_based_twin(owned, 6)
    np.testing.assert_array_equal(got, want)  # the same items in the same order (ties by item index)
    rows = np.repeat(np.arange(owned.shape[0])[:, None], 6, axis=1)
    valid = want >= 0
    np.testing.assert_allclose(got_scores[valid], scores[rows[valid], want[valid]], rtol=1e-12)


def _recommender_twins(train, groups):
    """The top 10 of each recommender's NumPy twin on a dense 0/1 training matrix."""
    popularity = train.sum(axis=0).astype(float)
    train_csr = sp.csr_matrix(train.astype(np.int32))
    return {
        "popularity": reference.top_n_unowned(np.tile(popularity, (train.shape[0], 1)), train, 10),
        "item-based CF": _item_based_twin(train, 10)[0],
        "user-based CF": reference.user_based_topn(train_csr, 10, 50),
        "user-based CF within segment": reference.user_based_topn(train_csr, 10, 50, groups),
    }


def test_hit_rate_matches_a_numpy_twin_of_the_leave_one_out():
    from fastseg.segment.datasets import make_customers, make_transactions

    customers, seg = make_customers(300, random_state=4)
    tx = make_transactions(customers, seg, random_state=4)
    segment_of = dict(zip(customers["customer_id"], seg))
    got = basket.hit_rate(tx, segment_of=segment_of, n=10, random_state=3).set_index("method")

    # The twin: the same customers x items matrix, one bought item hidden per customer with two
    # or more (the draw: the k-th of the customer's items in item order, k ~ rng.integers(count)).
    U, users, _ = basket.user_item_matrix(tx)
    owned = U.toarray() > 0
    rng = np.random.default_rng(3)
    eligible = [u for u in range(owned.shape[0]) if owned[u].sum() >= 2]
    held = np.array([np.flatnonzero(owned[u])[rng.integers(owned[u].sum())] for u in eligible])
    train = owned.copy()
    train[eligible, held] = False
    tops = _recommender_twins(train, pd.factorize(pd.Series(users).map(segment_of))[0])
    for method, top in tops.items():
        want = (top[eligible] == held[:, None]).any(axis=1).mean()
        assert got.loc[method, "hit_rate@10"] == pytest.approx(want, abs=1e-12), method
        assert got.loc[method, "customers"] == len(eligible)


def _ranking_twin(recommended, relevant, n_items):
    """precision@k, recall@k and coverage with Python sets, user by user."""
    k = recommended.shape[1]
    precision, recall, shown = [], [], set()
    for rec, rel in zip(recommended, relevant):
        listed = {int(i) for i in rec if i >= 0}
        shown |= listed
        hits = len(listed & {int(i) for i in rel if i >= 0})
        precision.append(hits / k)
        recall.append(hits / len(rel))
    return np.mean(precision), np.mean(recall), len(shown) / n_items


def test_ranking_metrics_match_a_python_twin(rng):
    users, k, n_items = 200, 5, 40
    recommended = np.array([rng.choice(n_items, k, replace=False) for _ in range(users)])
    recommended[rng.random((users, k)) < 0.15] = -1  # short lists
    recommended[:7] = -1  # no list at all
    relevant = [rng.choice(np.arange(-1, n_items), rng.integers(1, 8), replace=False) for _ in range(users)]
    got = basket.ranking_metrics(recommended, relevant, n_items)
    np.testing.assert_allclose(got, _ranking_twin(recommended, relevant, n_items), rtol=1e-12)
    assert got[0] > 0 and got[1] > 0  # the draw has hits: the comparison is not of zeros
    with pytest.raises(ValueError, match="one relevant set per user"):
        basket.ranking_metrics(recommended, relevant[:-1], n_items)
    with pytest.raises(ValueError, match="at least one relevant item"):
        basket.ranking_metrics(recommended[:2], [relevant[0], np.array([], dtype=int)], n_items)


def test_holdout_metrics_match_a_numpy_twin_of_the_time_ordered_holdout():
    from fastseg.segment.datasets import make_customers, make_transactions

    customers, seg = make_customers(300, random_state=5)
    tx = make_transactions(customers, seg, random_state=5)
    segment_of = dict(zip(customers["customer_id"], seg))
    got = basket.holdout_metrics(tx, segment_of=segment_of, n=10).set_index("method")

    # The twin: per customer with two or more dates, the items of the last date that were not
    # bought earlier are held out; training is every other row.
    tx = tx.assign(date=pd.to_datetime(tx["date"]))
    train_rows, held = [], {}
    for c, rows in tx.groupby("customer_id"):
        last = rows["date"].max()
        if rows["date"].min() == last:
            train_rows.append(rows)
            continue
        before = rows[rows["date"] < last]
        train_rows.append(before)
        new = sorted(set(rows.loc[rows["date"] == last, "item"]) - set(before["item"]))
        if new:
            held[c] = new
    train = pd.concat(train_rows)
    U, users, items = basket.user_item_matrix(train)
    owned = U.toarray() > 0
    column = {item: j for j, item in enumerate(items)}
    row = {u: i for i, u in enumerate(users)}
    evaluated = [row[c] for c in held]
    relevant = [np.array([column.get(i, -1) for i in held[c]]) for c in held]
    tops = _recommender_twins(owned, pd.factorize(pd.Series(users).map(segment_of))[0])
    assert list(got.index) == list(tops)
    for method, top in tops.items():
        want = _ranking_twin(top[evaluated], relevant, owned.shape[1])
        row_got = got.loc[method]
        np.testing.assert_allclose(
            [row_got["precision@10"], row_got["recall@10"], row_got["coverage@10"]],
            want,
            rtol=1e-12,
            err_msg=method,
        )
        assert row_got["customers"] == len(held)
    assert got["recall@10"].max() > 0.05  # the demo's segments carry signal a recommender finds
