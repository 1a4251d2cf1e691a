"""Purchase exports as they come from shops: each quirk alone and all together, checked for exact
ids in every output, the rows reported as dropped, spend net of returns and a clean terminal."""

import gzip
import json
import re
import subprocess
import sys

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from fastseg.cli import main  # noqa: E402
from fastseg.segment.files import load_customers, read_table  # noqa: E402
from fastseg.segment.job import Columns  # noqa: E402
from fastseg.segment.purchases import clean_purchases, ids_as_text  # noqa: E402

# Ids a customer table really holds: zero-padded, numeric-looking (an integer, a float, a number
# in scientific notation), text with spaces and punctuation, non-ASCII.
IDS = [f"{i:04d}" for i in range(1, 13)] + [str(17850 + i) for i in range(10)]
IDS += ["1e3", "12.50", "C-77", "ab 12", "Zoë-9", "007", "0", "99999999999999999999"]
ITEMS = ["85123A", "22423", "00042", "POST", "84029E", "71053", "0123", "22752"]
N_MISSING_ID = 5
N_BAD_DATE = 2


def _uci_date(ts):
    """The Online Retail layout: month/day/two-digit year, no zero padding ("12/1/10 8:26")."""
    return f"{ts.month}/{ts.day}/{ts.year % 100:02d} {ts.hour}:{ts.minute:02d}"


def messy_purchases(seed=0):
    """(raw table as the export writes it, expected net spend per id, expected invoices per id).

    Returns are invoices starting with C with negative quantities; some rows have no customer id
    and some an unreadable date.
    """
    rng = np.random.default_rng(seed)
    rows, spend, invoices = [], {}, {}
    start = pd.Timestamp("2010-12-01 08:00")
    invoice = 536365
    for c, cid in enumerate(IDS):
        # Two behaviours, so that the clustering has something to find.
        n_orders = int(rng.integers(1, 4) if c % 2 else rng.integers(6, 10))
        for _ in range(n_orders):
            when = start + pd.Timedelta(minutes=int(rng.integers(0, 360 * 24 * 60)))
            picked = rng.choice(ITEMS, size=int(rng.integers(2, 5)), replace=False)
            for item in picked:
                qty = int(rng.integers(1, 13))
                price = float(rng.choice([0.85, 1.25, 2.55, 4.95, 12.75]))
                rows.append([str(invoice), item, f"ITEM {item}, boxed", qty, _uci_date(when), price, cid])
                spend[cid] = spend.get(cid, 0.0) + qty * price
            invoices[cid] = invoices.get(cid, 0) + 1
            invoice += 1
        if c % 5 == 0:  # a return of the last item bought
            _, item, desc, qty, date, price, _ = rows[-1]
            rows.append([f"C{invoice}", item, desc, -qty, date, price, cid])
            spend[cid] -= qty * price
            invoice += 1
    for k in range(N_MISSING_ID):
        rows.append([str(invoice + k), ITEMS[k], "NO CUSTOMER", 2, "12/3/10 9:00", 1.25, ""])
    for k in range(N_BAD_DATE):
        rows.append([str(invoice + 10 + k), ITEMS[k], "BAD DATE", 1, "31/31/10 9:99", 1.25, IDS[k]])
    columns = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sample(frac=1.0, random_state=seed).reset_index(drop=True), spend, invoices


UCI_FLAGS = [
    "--transactions", "--id-column", "CustomerID", "--date-column", "InvoiceDate",
    "--quantity-column", "Quantity", "--price-column", "UnitPrice", "--order-column", "InvoiceNo",
    "--item-column", "StockCode",
]  # fmt: skip


def write_csv(table, path, *, sep=",", crlf=False, bom=False, gz=False, quote_all=False):
    """The table as a CSV export would write it, every cell as text exactly."""
    import csv

    text = table.astype(str).replace({"nan": ""}).to_csv(
        index=False, sep=sep, lineterminator="\r\n" if crlf else "\n",
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )  # fmt: skip
    data = (("\ufeff" if bom else "") + text).encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


VARIANTS = {
    "plain": dict(),
    "semicolon": dict(sep=";"),
    "tab": dict(sep="\t"),
    "pipe": dict(sep="|"),
    "crlf": dict(crlf=True),
    "bom": dict(bom=True),
    "quoted": dict(quote_all=True),
    "gzip": dict(gz=True),
    "together": dict(sep=";", crlf=True, bom=True, quote_all=True, gz=True),
}


def run(argv, capsys):
    status = main(argv + (["--no-plots"] if argv[0] == "segment" else []))  # none looked at
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_clean_terminal(out, err):
    for line in err.splitlines():
        assert line.startswith("fastseg: "), f"a line that is not ours on stderr: {line!r}"
    for text in (out, err):
        assert "Traceback" not in text and "Warning:" not in text and "warnings.warn" not in text


@pytest.fixture(scope="module")
def export():
    return messy_purchases(0)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_csv_quirk_keeps_ids_and_reports_drops(tmp_path, capsys, export, variant):
    table, spend, _ = export
    name = "export.csv.gz" if VARIANTS[variant].get("gz") else "export.csv"
    path = write_csv(table, tmp_path / name, **VARIANTS[variant])
    out = tmp_path / "out"
    argv = ["segment", "--input", str(path), *UCI_FLAGS, "--k-range", "2-4", "--out", str(out)]
    status, printed, err = run(argv, capsys)
    assert status == 0, err
    assert_clean_terminal(printed, err)
    labels = pd.read_csv(out / "labels.csv", dtype=str, keep_default_na=False)
    assert sorted(labels["CustomerID"]) == sorted(IDS)  # byte for byte, every one
    recs = pd.read_csv(out / "recommendations.csv", dtype=str, keep_default_na=False)
    assert set(recs["CustomerID"]) <= set(IDS) and len(recs) > 0
    assert set(recs["StockCode"]) <= set(ITEMS)
    pairs = pd.read_csv(out / "pairs.csv", dtype={"antecedent": str, "consequent": str})
    assert set(pairs["antecedent"]) | set(pairs["consequent"]) <= set(ITEMS)
    report = pd.read_csv(out / "data_report.csv")
    got = dict(zip(report["reason"], report["rows"]))
    assert got == {
        "no customer id (column 'CustomerID')": N_MISSING_ID,
        "date not in format '%m/%d/%y %H:%M' (column 'InvoiceDate'), e.g. '31/31/10 9:99'": N_BAD_DATE,
    }
    assert f"fastseg: dropped {N_MISSING_ID} rows: no customer id (column 'CustomerID')" in err
    assert "returns or cancellations" in err


def test_rfm_nets_returns_and_counts_only_purchases(tmp_path, export):
    table, spend, invoices = export
    path = write_csv(table, tmp_path / "export.csv")
    data = load_customers(path=path, **_load_args())
    frame = data.frame.set_index("CustomerID")
    assert sorted(frame.index) == sorted(IDS)
    for cid in IDS:
        assert frame.loc[cid, "monetary"] == pytest.approx(spend[cid])
        assert frame.loc[cid, "frequency"] == invoices[cid]  # a return is no purchase
    items = data.purchases.loc[~data.purchases["is_return"], "item"]
    assert set(items) <= set(ITEMS)
    assert data.purchases["is_return"].sum() == sum(1 for c in range(len(IDS)) if c % 5 == 0)


def _load_args(**changes):
    args = dict(
        transactions=True, id_column="CustomerID", date_column="InvoiceDate", quantity_column="Quantity",
        price_column="UnitPrice", order_column="InvoiceNo", item_column="StockCode",
    )  # fmt: skip
    args.update(changes)
    return {"columns": Columns(**args)}


def test_parquet_with_float_ids_and_datetimes(tmp_path, capsys, export):
    pytest.importorskip("pyarrow")
    table, spend, _ = export
    numeric = table[table["CustomerID"].str.fullmatch(r"1785\d")].copy()
    # As pandas writes it when ids are numbers with gaps: float64 with NaN; dates as datetimes.
    numeric.loc[numeric.index[:3], "CustomerID"] = ""
    numeric["CustomerID"] = pd.to_numeric(numeric["CustomerID"]).astype("float64")
    numeric["InvoiceDate"] = pd.to_datetime(numeric["InvoiceDate"], format="%m/%d/%y %H:%M")
    path = tmp_path / "export.parquet"
    numeric.to_parquet(path)
    out = tmp_path / "out"
    status, printed, err = run(
        ["segment", "--input", str(path), *UCI_FLAGS, "--k", "2", "--out", str(out)], capsys
    )
    assert status == 0, err
    assert_clean_terminal(printed, err)
    labels = pd.read_csv(out / "labels.csv", dtype=str)
    assert set(labels["CustomerID"]) <= {str(17850 + i) for i in range(10)}  # never "17850.0"
    assert not labels["CustomerID"].str.contains(r"\.").any()
    assert "dropped 3 rows: no customer id" in err


def test_ids_as_text_exactly():
    assert ids_as_text(pd.Series([17850.0, np.nan, 12.0])).tolist() == ["17850", None, "12"]
    assert ids_as_text(pd.Series([1.5, 2.0])).tolist() == ["1.5", "2.0"]
    assert ids_as_text(pd.Series([7, 8], dtype="Int64")).tolist() == ["7", "8"]
    assert ids_as_text(pd.Series(["0001", 17, 3.0, None], dtype=object)).tolist() == ["0001", "17", "3", None]
    with pytest.raises(TypeError, match="booleans"):
        ids_as_text(pd.Series([True, False]))


@pytest.mark.parametrize(
    "dates, fmt, expected",
    [
        (["2011-01-02", "2011-03-04 10:00"], None, ["2011-01-02", "2011-03-04"]),
        (["13/01/2011", "02/03/2011"], None, ["2011-01-13", "2011-03-02"]),  # day-first
        (["01/13/2011", "02/03/2011"], None, ["2011-01-13", "2011-02-03"]),  # month-first
        (["5.3.2011", "17.3.2011"], None, ["2011-03-05", "2011-03-17"]),
        (["02/03/2011", "04/05/2011"], "%d/%m/%Y", ["2011-03-02", "2011-05-04"]),
    ],
)
def test_one_date_format_per_column(dates, fmt, expected):
    raw = pd.DataFrame({"customer_id": ["a", "b"], "date": dates, "amount": [1.0, 2.0]})
    purchases, report = clean_purchases(raw, amount="amount", date_format=fmt)
    assert purchases["date"].dt.strftime("%Y-%m-%d").tolist() == expected
    assert not report.drops


def test_ambiguous_dates_are_said_and_unknown_ones_are_an_error():
    raw = pd.DataFrame({"customer_id": ["a", "b"], "date": ["01/02/2011", "02/03/2011"], "amount": [1, 2]})
    _, report = clean_purchases(raw, amount="amount")
    assert any("'%d/%m/%Y' reads them too" in note for note in report.notes)
    with pytest.raises(ValueError, match=r"format we know \(for example 'soon'\).*--date-format"):
        clean_purchases(raw.assign(date=["soon", "later"]), amount="amount")


def test_strict_turns_drops_into_errors(tmp_path, capsys, export):
    table, _, _ = export
    path = write_csv(table, tmp_path / "export.csv")
    out = tmp_path / "out"
    argv = ["segment", "--input", str(path), *UCI_FLAGS, "--strict", "--k", "2", "--out", str(out)]
    status, printed, err = run(argv, capsys)
    assert status == 2 and not out.exists()
    assert err.strip() == f"fastseg: error: no customer id (column 'CustomerID'): {N_MISSING_ID} rows."


def test_no_amount_means_items_bought_and_says_so(tmp_path, capsys, export):
    table, _, _ = export
    path = write_csv(table.drop(columns="UnitPrice"), tmp_path / "export.csv")
    out = tmp_path / "out"
    flags = [f for f in UCI_FLAGS if f not in ("--price-column", "UnitPrice")]
    status, printed, err = run(
        ["segment", "--input", str(path), *flags, "--k", "2", "--out", str(out)], capsys
    )
    assert status == 0, err
    assert "monetary is the number of items bought (column 'Quantity')" in err
    assert "monetary is the number of items bought" in (out / "profile.md").read_text()
    data = load_customers(path=path, **_load_args(price_column=None))
    bought = table[(table["CustomerID"] == "0001") & (table["InvoiceDate"] != "31/31/10 9:99")]
    assert data.frame.set_index("CustomerID").loc["0001", "monetary"] == bought["Quantity"].sum()


def test_without_order_column_a_basket_is_a_customer_day(export):
    table, _, _ = export
    raw = table.assign(InvoiceDate=["1/1/11 10:00"] * len(table))  # every purchase on one day
    purchases, _ = clean_purchases(
        raw, customer="CustomerID", date="InvoiceDate", quantity="Quantity", price="UnitPrice",
        item="StockCode",
    )  # fmt: skip
    per_customer = purchases.groupby("customer")["basket"].nunique()
    assert (per_customer == 1).all() and len(per_customer) == len(IDS)


def test_a_customer_table_with_zero_padded_ids(tmp_path, capsys):
    rng = np.random.default_rng(1)
    ids = [f"{i:04d}" for i in range(1, 201)]
    table = pd.DataFrame(
        {
            "CustomerID": ids,
            "Gender": rng.choice(["Male", "Female"], 200),
            "Age": rng.integers(18, 70, 200),
            "Annual Income (k$)": rng.integers(15, 140, 200),
            "Spending Score (1-100)": rng.integers(1, 100, 200),
        }
    )
    path = write_csv(table, tmp_path / "Mall_Customers.csv", crlf=True, bom=True)
    out = tmp_path / "out"
    argv = [
        "segment",
        "--input",
        str(path),
        "--id-column",
        "CustomerID",
        "--k-range",
        "2-5",
        "--out",
        str(out),
    ]
    status, printed, err = run(argv, capsys)
    assert status == 0, err
    assert_clean_terminal(printed, err)
    labels = pd.read_csv(out / "labels.csv", dtype=str)
    assert labels["CustomerID"].tolist() == ids


def test_segment_names_only_name_features_far_from_the_mean():
    from fastseg.segment import segment_names

    Z = np.array([[0.0, 3.0], [0.2, 3.0], [1.0, -1.0], [-1.2, -1.0], [0.0, -4.0], [0.0, 0.0]])
    labels = np.array([0, 0, 1, 1, 2, 2])
    names = segment_names(Z, labels, ["income", "age"])
    # In SDs: segment 1 income +0.16, age +1.22; segment 2 income -0.16, age -0.41; segment 3
    # income 0, age -0.82. Only |z| >= 0.5 is named.
    assert names == {1: "high age", 2: "average", 3: "low age"}
    flat = segment_names(np.zeros((4, 2)) + [[0, 0], [0, 0], [0, 0], [0, 0.1]], [0, 0, 1, 1], ["a", "b"])
    assert set(flat.values()) == {"low b", "high b"}
    same = segment_names(np.array([[0.0], [0.0], [0.0], [0.0]]), [0, 0, 1, 1], ["a"])
    assert same == {1: "average (segment 1)", 2: "average (segment 2)"}


def test_outliers_are_assigned_and_tiny_segments_never_recommended():
    from fastseg.segment import segment_customers

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "spend": np.r_[rng.normal(10, 1, 300), rng.normal(20, 1, 300), [200.0]],
            "visits": rng.normal(5, 1, 601),
        }
    )
    result = segment_customers(frame, ["spend", "visits"], k_range=range(2, 6), log_columns=[])
    assert result.outliers.sum() == 1 and result.outliers[-1]
    assert np.bincount(result.clusters).min() / 601 >= 0.02
    sweep = result.sweep
    assert (sweep.loc[result.k, "smallest_share"] >= 0.02) and "smallest_share" in sweep.columns


_EVERY_COMMAND = r"""
import contextlib, json, sys
from fastseg.cli import main
from fastseg.segment import make_customers

frame, _ = make_customers(600, random_state=5)
frame.to_csv("shop.csv", index=False)
frame.to_parquet("shop.parquet")
quick = ["--k-range", "2-4", "--no-plots"]
runs = {
    "kmeans": ["segment", "--input", "shop.csv", "--k", "3", "--out", "km", "--save-model", "m.fsm"],
    "ga": ["segment", "--input", "shop.csv", "--method", "ga", "--k", "3", "--out", "ga", *quick],
    "gmm": ["segment", "--input", "shop.csv", "--method", "gmm", "--k", "3", "--out", "gmm", *quick],
    "parquet": ["segment", "--input", "shop.parquet", "--out", "parquet", *quick],
    "previous": ["segment", "--input", "shop.csv", "--previous", "m.fsm", "--out", "again", *quick],
    "export": ["segment", "--input", "export.csv", *json.loads(sys.argv[1]), "--k", "3", "--out", "x", *quick],
    "assign": ["assign", "--model", "m.fsm", "--input", "shop.parquet", "--out", "assigned"],
    "reproduce": ["reproduce", "accuracy", "--generations", "3", "--population", "6"],
}
statuses = {}
for name, argv in runs.items():
    with open(f"{name}.err", "w") as err, contextlib.redirect_stderr(err):
        statuses[name] = main(argv)
print(json.dumps(statuses))
"""


@pytest.mark.slow
def test_every_command_keeps_python_warnings_off_the_terminal(tmp_path, export):
    # Every command, in an interpreter that shows every warning (-W always): what each command
    # writes to stderr (warnings included), and the process's own stderr (where the plotting
    # process and native code write), hold our one-line messages only.
    pytest.importorskip("pyarrow")
    write_csv(export[0], tmp_path / "export.csv", sep=";", bom=True)
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", _EVERY_COMMAND, json.dumps(UCI_FLAGS)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    statuses = json.loads(done.stdout.strip().splitlines()[-1])
    assert statuses == dict.fromkeys(statuses, 0) and len(statuses) == 8, statuses
    assert_clean_terminal(done.stdout, done.stderr)
    for name in statuses:
        err = (tmp_path / f"{name}.err").read_text()
        assert_clean_terminal("", err)
        if name not in ("assign", "reproduce"):  # those print their progress on stdout, or none
            assert "fastseg: writing " in err, (name, err)
    assert "fastseg: dropped " in (tmp_path / "export.err").read_text()  # the export's drops, said


def test_read_table_sniffs_and_keeps_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b'\xef\xbb\xbf"id";"note";"value"\r\n"0001";"a;b";"1,5"\r\n"0002";"c";"2"\r\n')
    frame = read_table(path, text_columns=["id"])
    assert list(frame.columns) == ["id", "note", "value"]
    assert frame["id"].tolist() == ["0001", "0002"] and frame["note"].tolist() == ["a;b", "c"]
    latin = tmp_path / "l.csv"
    latin.write_bytes("id,name\n01,Zo\xeb\n".encode("latin-1"))
    from fastseg.segment.purchases import DataReport

    report = DataReport()
    assert read_table(latin, text_columns=["id"], report=report)["name"].tolist() == ["Zoë"]
    assert report.notes == ["l.csv is not UTF-8: read as Latin-1"]


@pytest.mark.parametrize(
    "flags, match",
    [
        (["--min-pair-count", "0"], "--min-pair-count must be 1 or more"),
        (["--min-support", "1.5"], r"--min-support must be in \[0, 1\]"),
        (["--min-confidence", "-1"], r"--min-confidence must be in \[0, 1\]"),
        (["--min-segment-share", "1"], "--min-segment-share"),
        (["--outlier-sd", "-2"], "--outlier-sd"),
        (["--date-format", "%Y-%m-%d"], "no usable purchase is left"),
    ],
)
def test_bad_flags_are_one_line(tmp_path, capsys, export, flags, match):
    table, _, _ = export
    path = write_csv(table, tmp_path / "export.csv")
    status, printed, err = run(
        ["segment", "--input", str(path), *UCI_FLAGS, *flags, "--out", str(tmp_path / "o")], capsys
    )
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert re.search(match, err) and err.startswith("fastseg: error:")


def test_decimal_commas_of_a_european_export(tmp_path, capsys, export):
    table, spend, _ = export
    european = table.assign(UnitPrice=table["UnitPrice"].map(lambda p: f"{p:.2f}".replace(".", ",")))
    path = write_csv(european, tmp_path / "export.csv", sep=";")
    data = load_customers(path=path, **_load_args())
    assert "column 'UnitPrice' read with decimal commas" in data.report.notes
    frame = data.frame.set_index("CustomerID")
    assert frame.loc["C-77", "monetary"] == pytest.approx(spend["C-77"])


def test_library_warnings_become_one_line_of_ours(capsys):
    import warnings

    from fastseg import cli

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn(
            "Could not infer format, so each element will be parsed individually", UserWarning, stacklevel=2
        )
        warnings.warn(
            "Could not infer format, so each element will be parsed individually", UserWarning, stacklevel=2
        )
        warnings.warn("something new\nwith a second line", RuntimeWarning, stacklevel=2)
    cli._report_warnings(caught)
    assert capsys.readouterr().err.splitlines() == [
        "fastseg: warning: dates were read value by value: give --date-format",
        "fastseg: warning: something new",
    ]


# An export with a semicolon delimiter and commas in its header names (sniffing splits the
# header at the commas), an amount column, and one row for each reason a row is left out.
AWKWARD_HEADER = ["Customer", "Order date, local, 24h", "Gross, EUR, incl. VAT", "Order"]


def _awkward_export(path):
    rng = np.random.default_rng(3)
    rows = []
    for c in range(12):
        for o in range(2 + 4 * (c % 2)):
            rows.append(
                [f"K{c:02d}", f"2011-0{1 + o % 9}-1{c % 10} 10:00", f"{rng.uniform(5, 50):.2f}", f"O{c}-{o}"]
            )
    rows.append(["K00", "2011-05-01 09:00", "-1000.00", "R1"])  # returns more than K00 ever bought
    rows.append(["K01", "", "3.00", "X1"])  # no date
    rows.append(["K01", "2011-02-01 10:00", "twelve", "X2"])  # an unreadable number
    rows.append(["K02", "2011-02-01 10:00", "", "X3"])  # no number
    rows.append(["K03", "2011-02-01 10:00", "4.00", ""])  # no order id
    text = ";".join(AWKWARD_HEADER) + "\n" + "\n".join(";".join(r) for r in rows) + "\n"
    path.write_text(text, encoding="utf-8")
    return rows


def test_sep_amount_column_and_every_drop_reason(tmp_path, capsys):
    path = tmp_path / "export.csv"
    rows = _awkward_export(path)
    flags = [
        "--transactions", "--id-column", "Customer", "--date-column", "Order date, local, 24h",
        "--amount-column", "Gross, EUR, incl. VAT", "--order-column", "Order", "--k", "2",
    ]  # fmt: skip
    status, _, err = run(
        ["segment", "--input", str(path), *flags, "--out", str(tmp_path / "sniffed")], capsys
    )
    assert (
        status == 2 and "has no column 'Customer'" in err and not (tmp_path / "sniffed").exists()
    )  # split at commas
    out = tmp_path / "out"
    status, printed, err = run(
        ["segment", "--input", str(path), "--sep", ";", *flags, "--out", str(out)], capsys
    )
    assert status == 0, err
    assert_clean_terminal(printed, err)
    report = pd.read_csv(out / "data_report.csv")
    assert dict(zip(report["reason"], report["rows"])) == {
        "no date (column 'Order date, local, 24h')": 1,
        "column 'Gross, EUR, incl. VAT' has no value": 1,
        "column 'Gross, EUR, incl. VAT' is not numeric, e.g. 'twelve'": 1,
        "no order id (column 'Order')": 1,
    }
    for reason, n in zip(report["reason"], report["rows"]):
        assert f"fastseg: dropped {n} rows: {reason}" in err
    assert "fastseg: 1 customers returned more than they bought in the period: monetary 0" in err
    data = load_customers(path=path, sep=";", columns=Columns(
        transactions=True, id_column="Customer", date_column="Order date, local, 24h",
        amount_column="Gross, EUR, incl. VAT", order_column="Order",
    ))  # fmt: skip
    monetary = data.frame.set_index("Customer")["monetary"]
    kept = [r for r in rows[:-4] if r[2].strip("-").replace(".", "").isdigit()]
    for cid in monetary.index:
        spend = sum(float(r[2]) for r in kept if r[0] == cid)
        assert monetary[cid] == pytest.approx(max(spend, 0.0), rel=1e-12)
    assert monetary["K00"] == 0.0 and monetary["K03"] > 0


def test_which_columns_are_log_transformed(tmp_path, capsys):
    from fastseg.segment.model import load_model

    rng = np.random.default_rng(5)
    n = 300
    table = pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(n)],
            "age": rng.normal(45, 12, n).round(),  # symmetric: kept as it is
            "spend": rng.lognormal(4, 1.2, n).round(2),  # skewed money: logged
            "visits": rng.poisson(rng.exponential(3, n)),  # skewed counts: logged
            "balance": rng.lognormal(3, 1.0, n) - 30,  # skewed but negative values: kept
            "member": rng.integers(0, 2, n),  # two values: kept
            "tenure": rng.gamma(8.0, 30.0, n).round(),  # skewness about 0.7, under the cut of 1: kept
        }
    )
    path = write_csv(table, tmp_path / "customers.csv")
    logged = {}
    for name, extra in (("auto", []), ("off", ["--no-log"])):
        out = tmp_path / name
        argv = ["segment", "--input", str(path), "--id-column", "id", "--k", "3", *extra]
        status, _, err = run(
            [*argv, "--save-model", str(tmp_path / f"{name}.fsm"), "--out", str(out)], capsys
        )
        assert status == 0, err
        steps = load_model(tmp_path / f"{name}.fsm").meta["preprocessing"]
        logged[name] = sorted(s["feature"] for s in steps if s.get("log1p"))
        html = (out / "report.html").read_text()
        assert re.search(r"log-transformed</dt><dd>" + re.escape(", ".join(logged[name]) or "none"), html)
    assert logged == {"auto": ["spend", "visits"], "off": []}
