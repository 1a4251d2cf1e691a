"""Blanks in a customer table's feature columns: ``--missing impute`` (the default: the column's
median, a "missing" category for text), ``drop`` and ``error``; every value counted per column;
a saved model's fill values applied by ``fastseg assign``."""

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from fastseg.cli import main  # noqa: E402
from fastseg.segment.datasets import make_customers  # noqa: E402


@pytest.fixture(scope="module")
def table():
    """The demo's customers with blanks in every column type: integers, floats, text (empty and
    only spaces), and a customer with two blanks."""
    frame, _ = make_customers(1200, random_state=3)
    frame = frame[["customer_id", "age", "monthly_spend", "user_level", "gender"]].copy()
    frame["user_level"] = frame["user_level"].round().astype(int)
    rng = np.random.default_rng(0)
    blanks = {col: rng.choice(len(frame), size=n, replace=False) for col, n in
              (("age", 30), ("monthly_spend", 17), ("user_level", 9), ("gender", 12))}  # fmt: skip
    text = frame.astype(object)
    for col, rows in blanks.items():
        text.loc[rows, col] = "" if col != "gender" else [" ", ""] * (len(rows) // 2)
    return frame, text, blanks


def _write(tmp_path, text, name="customers.csv"):
    path = tmp_path / name
    text.to_csv(path, index=False)
    return path


def _segment(path, out, *extra):
    return main(["segment", "--input", str(path), "--k", "3", "--k-range", "3-4", "--no-plots", "--quiet",
                 "--out", str(out), *extra])  # fmt: skip


def test_impute_fills_medians_and_a_missing_category_and_counts_each_column(tmp_path, table):
    frame, text, blanks = table
    path = _write(tmp_path, text)
    out = tmp_path / "out"
    assert _segment(path, out, "--save-model", str(tmp_path / "m.fsm")) == 0
    labels = pd.read_csv(out / "labels.csv", dtype={"customer_id": str})
    assert labels["customer_id"].tolist() == frame["customer_id"].tolist()  # nobody dropped
    report = pd.read_csv(out / "data_report.csv").set_index("reason")["rows"]
    for col, rows in blanks.items():
        kept = frame[col].drop(index=rows)
        if col == "gender":
            reason = f"imputed: missing in column {col!r}, filled with the category 'missing'"
        else:
            reason = f"imputed: missing in column {col!r}, filled with its median {float(kept.median())!r}"
        assert report[reason] == len(rows), reason
    assert len(report) == len(blanks)
    profile = pd.read_csv(out / "profile.csv")
    assert "gender = missing" in profile.columns
    # the fill values travel with the saved model
    from fastseg.segment.model import load_model

    fills = load_model(tmp_path / "m.fsm").fills
    assert fills["age"] == float(frame["age"].drop(index=blanks["age"]).median())
    assert fills["gender"] == "missing"


def test_drop_leaves_each_customer_out_once_and_counts_by_column(tmp_path, table):
    frame, text, blanks = table
    two = blanks["age"][0]
    text = text.copy()
    text.loc[two, "monthly_spend"] = ""  # one customer with two blanks: counted under age only
    out = tmp_path / "out"
    assert _segment(_write(tmp_path, text), out, "--missing", "drop") == 0
    dropped = set().union(*map(set, blanks.values())) | {two}
    labels = pd.read_csv(out / "labels.csv", dtype={"customer_id": str})
    assert set(labels["customer_id"]) == set(frame["customer_id"]) - set(
        frame["customer_id"].iloc[list(dropped)]
    )
    report = pd.read_csv(out / "data_report.csv").set_index("reason")["rows"]
    assert report.sum() == len(dropped)
    assert report["a missing value in column 'age'"] == len(blanks["age"])


@pytest.mark.parametrize(
    "change, extra, match",
    [
        (None, ["--missing", "error"], "column 'age' has 30 missing values"),
        ("age", [], "column 'age' is entirely blank"),
        ("all", ["--missing", "drop"], "every customer has a missing feature value"),
    ],
)
def test_bad_blanks_are_one_line_errors_and_write_nothing(tmp_path, capsys, table, change, extra, match):
    _, text, _ = table
    text = text.copy()
    if change == "age":
        text["age"] = ""
    elif change == "all":
        text.loc[:, "gender"] = ""
    out = tmp_path / "out"
    assert _segment(_write(tmp_path, text), out, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fastseg: error:") and len(err.splitlines()) == 1 and match in err
    assert not out.exists()


def test_assign_fills_blanks_with_the_model_s_values(tmp_path, table):
    frame, text, blanks = table
    assert _segment(_write(tmp_path, text), tmp_path / "fit", "--save-model", str(tmp_path / "m.fsm")) == 0
    from fastseg.segment.model import load_model

    fills = load_model(tmp_path / "m.fsm").fills
    # New customers whose own medians differ from the model's: their blanks take the model's.
    new = frame.iloc[:300].copy()
    new["age"] = new["age"] + 20
    with_blanks = new.astype(object)
    with_blanks.loc[new.index[:40], "age"] = ""
    filled = new.copy()
    filled.loc[new.index[:40], "age"] = fills["age"]
    for name, table_ in (("blanks.csv", with_blanks), ("filled.csv", filled)):
        path = _write(tmp_path, table_, name)
        assert main(["assign", "--model", str(tmp_path / "m.fsm"), "--input", str(path), "--quiet",
                     "--out", str(tmp_path / name.removesuffix(".csv"))]) == 0  # fmt: skip
    a = pd.read_csv(tmp_path / "blanks" / "labels.csv")
    b = pd.read_csv(tmp_path / "filled" / "labels.csv")
    np.testing.assert_array_equal(a["segment"], b["segment"])
    report = pd.read_csv(tmp_path / "blanks" / "data_report.csv").set_index("reason")["rows"]
    assert report[f"imputed: missing in column 'age', filled with its median {fills['age']!r}"] == 40
