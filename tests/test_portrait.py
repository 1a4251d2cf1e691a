"""``--portrait``: the GA-K-means paper's purchase features per customer (monthly spend, purchase
frequency, mean purchase interval, purchase count) from purchase rows, against a row-by-row Python
twin; the command clusters them; bad flag combinations are one-line errors."""

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from fastseg.cli import main  # noqa: E402
from fastseg.segment.portrait import PORTRAIT, portrait_table  # noqa: E402
from fastseg.segment.purchases import clean_purchases  # noqa: E402


def _purchases(seed, n_customers=60):
    """Messy purchase rows: multi-row baskets, returns, one-basket customers, times of day."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        for b in range(int(rng.integers(1, 6))):
            day = pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=int(rng.integers(0, 200 * 1440)))
            for _ in range(int(rng.integers(1, 4))):
                amount = float(np.round(rng.gamma(2, 20), 2))
                rows.append(
                    (f"0{c:03d}", f"o{c}-{b}", day + pd.Timedelta(minutes=int(rng.integers(0, 30))), amount)
                )
            if rng.random() < 0.1:
                rows.append((f"0{c:03d}", f"C{c}-{b}", day + pd.Timedelta(days=3), -amount))  # a return
    return pd.DataFrame(rows, columns=["customer_id", "order_id", "date", "amount"])


def _twin(raw, now):
    """Customer by customer in plain Python."""
    out = {}
    for c, rows in raw.groupby("customer_id"):
        bought = rows[rows["amount"] > 0]
        times = sorted(bought.groupby("order_id")["date"].min())
        count = len(times)
        months = max((now - times[0]) / pd.Timedelta(days=1) / (365.25 / 12), 1.0)
        spend = max(rows["amount"].sum(), 0.0)
        interval = (
            (now - times[0]) / pd.Timedelta(days=1)
            if count == 1
            else float(np.mean(np.diff([t.value for t in times]))) / 86_400e9
        )
        out[c] = [spend / months, count / months, interval, count]
    return pd.DataFrame.from_dict(out, orient="index", columns=PORTRAIT)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("as_of", [None, "2024-09-30"])
def test_portrait_matches_a_python_twin(seed, as_of):
    raw = _purchases(seed)
    purchases, _ = clean_purchases(
        raw, customer="customer_id", date="date", amount="amount", order="order_id"
    )
    now = None if as_of is None else pd.Timestamp(as_of) + pd.Timedelta(days=1)
    got = portrait_table(purchases, now=now)
    bought_dates = raw.loc[raw["amount"] > 0, "date"]
    want = _twin(raw, now if now is not None else bought_dates.max() + pd.Timedelta(days=1))
    assert list(got.index) == sorted(raw["customer_id"].unique())  # ids as text, leading zeros kept
    np.testing.assert_allclose(got[PORTRAIT].to_numpy(), want.loc[got.index, PORTRAIT].to_numpy(), rtol=1e-9)
    singles = int((raw[raw["amount"] > 0].groupby("customer_id")["order_id"].nunique() == 1).sum())
    assert got.attrs["single_purchase"] == singles > 0


def test_segment_clusters_the_portrait(tmp_path, capsys):
    raw = _purchases(5, n_customers=300)
    raw.to_csv(tmp_path / "purchases.csv", index=False)
    out = tmp_path / "out"
    argv = ["segment", "--input", str(tmp_path / "purchases.csv"), "--transactions", "--order-column", "order_id",
            "--portrait", "--k", "3", "--no-plots", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert "bought once: their purchase interval is the days since that purchase" in capsys.readouterr().err
    profile = pd.read_csv(out / "profile.csv")
    for feature in PORTRAIT:
        assert f"{feature} mean" in profile.columns
    assert "recency_days mean" not in profile.columns
    labels = pd.read_csv(out / "labels.csv", dtype=str)
    assert set(labels["customer_id"]) == set(raw["customer_id"])


@pytest.mark.parametrize(
    "extra, match",
    [(["--transactions", "--rfm-extra"], "two feature sets"), ([], "it needs --transactions")],
)
def test_bad_portrait_flags_are_one_line_errors(tmp_path, capsys, extra, match):
    _purchases(1).to_csv(tmp_path / "purchases.csv", index=False)
    out = tmp_path / "out"
    argv = ["segment", "--input", str(tmp_path / "purchases.csv"), "--portrait", *extra, "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0], err
    assert not out.exists()


def test_a_customer_table_joins_the_portrait_by_exact_id(tmp_path, capsys):
    raw = _purchases(6, n_customers=200)
    raw.to_csv(tmp_path / "purchases.csv", index=False)
    ids = sorted(raw["customer_id"].unique())
    rng = np.random.default_rng(6)
    table = pd.DataFrame({"customer_id": ids[10:] + ["0999", "00001"],  # two customers who never bought
                          "gender": rng.choice(["F", "M"], len(ids) - 10 + 2),
                          "age": rng.integers(18, 70, len(ids) - 10 + 2).astype(float),
                          "user_level": rng.integers(0, 4, len(ids) - 10 + 2)})  # fmt: skip
    table.loc[3, "age"] = np.nan
    table.to_csv(tmp_path / "customers.csv", index=False)
    out = tmp_path / "out"
    argv = ["segment", "--input", str(tmp_path / "purchases.csv"), "--transactions", "--order-column", "order_id",
            "--portrait", "--customers", str(tmp_path / "customers.csv"), "--k", "3", "--no-plots", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert (
        "10 customers with purchases are not in customers.csv: their gender, age, user_level are blank" in err
    )
    report = pd.read_csv(out / "data_report.csv").set_index("reason")["rows"]
    assert report["in customers.csv but without a purchase"] == 2  # "00001" is not "0001": ids are text
    assert report["imputed: missing in column 'age', filled with its median " + repr(
        float(pd.concat([table["age"].iloc[:-2]]).drop(3).median())) ] == 11  # fmt: skip
    profile = pd.read_csv(out / "profile.csv")
    for feature in [*PORTRAIT, "age", "user_level"]:
        assert f"{feature} mean" in profile.columns
    labels = pd.read_csv(out / "labels.csv", dtype=str)
    assert sorted(labels["customer_id"]) == ids
    # --customer-columns picks columns; an absent one is a one-line error that writes nothing
    assert main([*argv[:-2], "--customer-columns", "age", "--out", str(tmp_path / "b")]) == 0
    assert "gender" not in " ".join(pd.read_csv(tmp_path / "b" / "profile.csv").columns)
    capsys.readouterr()
    assert main([*argv[:-2], "--customer-columns", "income", "--out", str(tmp_path / "c")]) == 2
    assert "no column 'income' in customers.csv" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def _with_items_and_events(seed, n_customers=80):
    """Purchases with items, and view / cart events before (and some after) them, messy rows too."""
    rng = np.random.default_rng(seed)
    raw = _purchases(seed, n_customers).assign(
        item=lambda f: [f"SKU{v:02d}" for v in rng.integers(0, 15, len(f))]
    )
    events = []
    for c, i, t, a in raw[["customer_id", "item", "date", "amount"]].itertuples(index=False):
        if a > 0 and rng.random() < 0.7:
            for _ in range(int(rng.integers(1, 3))):
                events.append((c, (t - pd.Timedelta(minutes=float(rng.gamma(2, 30)))).isoformat(), "View", i))
        if rng.random() < 0.2:
            events.append((c, (t + pd.Timedelta(days=1)).isoformat(), "view", i))  # a view after the purchase
        if rng.random() < 0.2:
            events.append((c, t.isoformat(), "cart", i))
    events += [("", "2024-02-01T10:00:00", "view", "SKU01"), ("0001", "not a time", "view", "SKU01"),
               ("9999", "2024-02-01T10:00:00", "view", "SKU01")]  # fmt: skip
    return raw, pd.DataFrame(events, columns=["customer_id", "time", "event", "item"])


def _hesitation_twin(raw, events):
    views = events[events["event"].str.lower() == "view"].copy()
    views["time"] = pd.to_datetime(views["time"], errors="coerce", format="ISO8601")
    out = {}
    for c in sorted(raw["customer_id"].unique()):
        deltas = []
        bought = raw[(raw["customer_id"] == c) & (raw["amount"] > 0)]
        for i in sorted(bought["item"].unique()):
            seen = views[(views["customer_id"] == c) & (views["item"] == i)]["time"].dropna()
            if seen.empty:
                continue
            later = bought[(bought["item"] == i) & (bought["date"] >= seen.min())]["date"]
            if len(later):
                deltas.append((later.min() - seen.min()).total_seconds() / 60)
        if deltas:
            out[c] = float(np.median(deltas))
    return pd.Series(out)


def test_hesitation_matches_a_python_twin():
    from fastseg.segment.portrait import hesitation_table
    from fastseg.segment.purchases import DataReport

    raw, events = _with_items_and_events(7)
    purchases, _ = clean_purchases(raw, customer="customer_id", date="date", amount="amount", order="order_id",
                                   item="item")  # fmt: skip
    report = DataReport()
    got = hesitation_table(events, purchases, report=report)
    want = _hesitation_twin(raw, events)
    assert list(got.index) == list(want.index) and len(got) > 40
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9)
    assert dict(report.drops) == {"an event without a customer id (column 'customer_id')": 1,
                                  "an event without a readable time (column 'time')": 1}  # fmt: skip


def test_events_add_hesitation_time_to_the_portrait(tmp_path, capsys):
    raw, events = _with_items_and_events(8, n_customers=150)
    raw.to_csv(tmp_path / "purchases.csv", index=False)
    events.to_csv(tmp_path / "events.csv", index=False)
    out = tmp_path / "out"
    argv = ["segment", "--input", str(tmp_path / "purchases.csv"), "--transactions", "--order-column", "order_id",
            "--portrait", "--events", str(tmp_path / "events.csv"), "--k", "3", "--no-plots", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "hesitation_time blank" in err
    report = pd.read_csv(out / "data_report.csv").set_index("reason")["rows"]
    assert report["an event in events.csv of a customer without a purchase"] == 1  # "9999"
    assert "hesitation_time mean" in pd.read_csv(out / "profile.csv").columns
    capsys.readouterr()
    events.rename(columns={"time": "ts"}).to_csv(tmp_path / "events.csv", index=False)
    assert main([*argv[:-2], "--out", str(tmp_path / "b")]) == 2
    assert "no column 'time' in the events" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
