"""``--names rfm``: R, F and M scored 1-5 by quintile of rank (five scores even where values
repeat), segments named by the classic RFM groups or a user's ``--rfm-map``; bad maps refused;
"recent" / "lapsed" in feature names."""

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from fastseg.cli import main  # noqa: E402
from fastseg.segment.datasets import make_customers, make_transactions  # noqa: E402
from fastseg.segment.rfm_scores import RFM_GROUPS, group_of, quintile_scores, rfm_segment_names  # noqa: E402


def test_quintiles_by_rank_are_pandas_first_rank_s_and_fill_five_scores():
    rng = np.random.default_rng(0)
    values = np.where(rng.random(1000) < 0.6, 1.0, rng.integers(2, 30, 1000))  # 60% the same value
    with pytest.raises(ValueError):  # where quantile bins fail
        pd.qcut(values, 5)
    scores = quintile_scores(values)
    want = np.ceil(5 * pd.Series(values).rank(method="first").to_numpy() / len(values))
    np.testing.assert_array_equal(scores, want)
    assert np.bincount(scores)[1:].tolist() == [200] * 5
    # ties go by row order; the smallest recency (most recent) scores 5
    np.testing.assert_array_equal(quintile_scores([3, 3, 3, 3, 3]), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(
        quintile_scores([1, 50, 20, 9, 100], higher_is_better=False), [5, 2, 3, 4, 1]
    )


@pytest.mark.parametrize(
    "scores, name",
    [((5, 5, 5), "Champions"), ((3, 4, 4), "Loyal Customers"), ((4, 1, 1), "Potential Loyalist"),
     ((1, 5, 5), "At Risk"), ((1, 1, 1), "Lost"), ((2, 2, 3), "Need Attention"), ((1, 1, 3), "Others")],
)  # fmt: skip
def test_groups_are_the_first_whose_ranges_hold_the_scores(scores, name):
    assert group_of(*scores) == name


def test_segment_names_from_mean_scores_and_repeated_groups_numbered():
    scores = pd.DataFrame({"r_score": [5, 5, 4, 1, 1, 2], "f_score": [5, 4, 5, 1, 2, 1],
                           "m_score": [5, 5, 4, 1, 1, 2]})  # fmt: skip
    names = rfm_segment_names(scores, np.array([0, 0, 1, 2, 2, 1]), RFM_GROUPS)
    # segment 2: means (3, 3, 3) -> Loyal Customers; 1: Champions; 3: means (1, 1.5, 1) -> 1, 2, 1 -> Lost
    assert names == {1: "Champions", 2: "Loyal Customers", 3: "Lost"}
    names = rfm_segment_names(scores, np.array([0, 0, 1, 1, 2, 2]), RFM_GROUPS[:1])
    # 1: means (5, 4.5, 5) -> 5, 5, 5 (halves round up); 2: (2.5, 3, 2.5) and 3: (1.5, 1.5, 1.5) match none
    assert names == {1: "Champions", 2: "Others (segment 2)", 3: "Others (segment 3)"}


@pytest.fixture(scope="module")
def purchases(tmp_path_factory):
    frame, seg = make_customers(600, random_state=5)
    path = tmp_path_factory.mktemp("tx") / "purchases.csv"
    make_transactions(frame, seg, random_state=5).to_csv(path, index=False)
    return path


def _run(path, out, *extra):
    return main(["segment", "--input", str(path), "--transactions", "--order-column", "order_id", "--k", "4",
                 "--no-plots", "--quiet", "--out", str(out), *extra])  # fmt: skip


def test_names_rfm_writes_scores_and_names_each_segment_by_its_group(tmp_path, purchases):
    out = tmp_path / "o"
    assert _run(purchases, out, "--names", "rfm") == 0
    labels = pd.read_csv(out / "labels.csv", dtype={"customer_id": str, "rfm_score": str})
    rfm = pd.read_csv(out / "profile.csv")
    assert set(labels.columns) >= {"r_score", "f_score", "m_score", "rfm_score"}
    for col in ("r_score", "f_score", "m_score"):
        assert np.bincount(labels[col])[1:].tolist() == [120] * 5  # 600 customers, five equal scores
    means = labels.groupby("segment")[["r_score", "f_score", "m_score"]].mean()
    for seg, row in means.iterrows():
        want = group_of(*(int(np.floor(v + 0.5)) for v in row))
        assert labels.loc[labels["segment"] == seg, "segment_name"].iloc[0].startswith(want)
    assert rfm["name"].is_unique
    # a user's own map
    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "name,recency,frequency,monetary\nBest,4-5,4-5,1-5\nRecent,4-5,1-3,1-5\nRest,1-3,1-5,1-5\n"
    )
    assert _run(purchases, tmp_path / "mine", "--names", "rfm", "--rfm-map", str(mapping)) == 0
    mine = pd.read_csv(tmp_path / "mine" / "labels.csv")
    assert set(mine["segment_name"].str.replace(r" \(segment \d\)", "", regex=True)) <= {
        "Best",
        "Recent",
        "Rest",
    }


def test_feature_names_say_recent_and_lapsed_for_recency(tmp_path, purchases):
    out = tmp_path / "o"
    assert _run(purchases, out) == 0
    names = " ".join(pd.read_csv(out / "profile.csv")["name"])
    assert "recency" not in names and ("recent" in names or "lapsed" in names)


@pytest.mark.parametrize(
    "content, match",
    [
        ("name,recency,frequency,monetary\nA,6,1,1\n", "row 2, recency: '6' is not a score"),
        ("name,recency,frequency,monetary\nA,1-5,1,1\nB,1-5,1,1\n", "row 3 repeats the pattern of row 2"),
        ("name,recency,frequency\nA,1,1\n", "needs the columns name, recency, frequency, monetary"),
        (None, "(--names rfm) needs the columns recency_days, frequency and monetary"),
    ],
)
def test_bad_rfm_maps_and_tables_are_one_line_errors(tmp_path, capsys, purchases, content, match):
    out = tmp_path / "o"
    if content is None:  # a customer table without R, F, M
        frame, _ = make_customers(100, random_state=0)
        path = tmp_path / "customers.csv"
        frame.to_csv(path, index=False)
        code = main(["segment", "--input", str(path), "--names", "rfm", "--quiet", "--out", str(out)])
    else:
        mapping = tmp_path / "map.csv"
        mapping.write_text(content)
        code = _run(purchases, out, "--names", "rfm", "--rfm-map", str(mapping))
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fastseg: error:") and len(err.splitlines()) == 1 and match in err, err
    assert not out.exists()
