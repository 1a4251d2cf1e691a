"""``--as-of`` and ``--rfm-extra`` for purchase tables: recency and tenure measured at the as-of
date, later purchases left out and counted, tenure and average order value checked against a
pandas twin; bad dates are one-line errors."""

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from fastseg.cli import main  # noqa: E402
from fastseg.segment.datasets import make_customers, make_transactions  # noqa: E402


@pytest.fixture(scope="module")
def purchases(tmp_path_factory):
    frame, seg = make_customers(500, random_state=4)
    tx = make_transactions(frame, seg, random_state=4)
    tx.loc[tx.index[::97], "amount"] *= -1  # some returns
    path = tmp_path_factory.mktemp("tx") / "purchases.csv"
    tx.to_csv(path, index=False)
    return tx, path


def twin(tx, cutoff):
    """Plain pandas RFM at ``cutoff`` (returns net against spend; neither purchases nor baskets)."""
    tx = tx.assign(date=pd.to_datetime(tx["date"]))
    before = tx[tx["date"] < cutoff]
    bought = before[before["amount"] > 0]
    g = bought.groupby("customer_id")
    day = pd.Timedelta(days=1)
    out = pd.DataFrame(
        {
            "recency_days": np.floor((cutoff - g["date"].max()) / day),
            "frequency": g["order_id"].nunique().astype(float),
            "tenure_days": np.floor((cutoff - g["date"].min()) / day),
        }
    )
    out["monetary"] = before.groupby("customer_id")["amount"].sum().clip(lower=0)
    out["avg_order_value"] = out["monetary"] / out["frequency"]
    return out, int((tx["date"] >= cutoff).sum())


@pytest.mark.parametrize(
    "as_of, cutoff", [("2024-02-29", "2024-03-01"), ("2024-02-15 12:00", "2024-02-15 12:00")]
)
def test_as_of_and_extra_features_are_a_pandas_twin_s(tmp_path, purchases, as_of, cutoff):
    tx, path = purchases
    out = tmp_path / "o"
    args = ["segment", "--input", str(path), "--transactions", "--order-column", "order_id", "--k", "3",
            "--no-plots", "--quiet", "--out", str(out), "--as-of", as_of, "--rfm-extra", "--save-model",
            str(tmp_path / "m.fsm")]  # fmt: skip
    assert main(args) == 0
    want, later = twin(tx, pd.Timestamp(cutoff))
    report = pd.read_csv(out / "data_report.csv").set_index("reason")["rows"]
    assert report[f"purchase after --as-of {as_of}"] == later > 0
    from fastseg.segment.model import load_model

    features = {"recency_days", "frequency", "monetary", "tenure_days", "avg_order_value"}
    assert set(load_model(tmp_path / "m.fsm").features) == features
    labels = pd.read_csv(out / "labels.csv", dtype={"customer_id": str})
    assert sorted(labels["customer_id"]) == sorted(want.index)
    profile = pd.read_csv(out / "profile.csv", index_col="segment")
    seg = labels.set_index("customer_id")["segment"]
    for col in want.columns:
        np.testing.assert_allclose(
            profile[f"{col} mean"].sort_index(),
            want[col].groupby(seg).mean().sort_index(),
            rtol=1e-9,
            err_msg=col,
        )


@pytest.mark.parametrize(
    "as_of, match",
    [
        ("2023-06-30", "every purchase is after --as-of 2023-06-30"),
        ("end of Q1", "--as-of 'end of Q1' is not a date"),
    ],
)
def test_bad_as_of_is_a_one_line_error_and_writes_nothing(tmp_path, capsys, purchases, as_of, match):
    _, path = purchases
    out = tmp_path / "o"
    assert main(["segment", "--input", str(path), "--transactions", "--as-of", as_of, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fastseg: error:") and len(err.splitlines()) == 1 and match in err
    assert not out.exists()
