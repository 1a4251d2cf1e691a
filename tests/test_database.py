"""`fastseg segment` on databases: SQLite (always) and a real PostgreSQL server (tests/services.py).

Tables are created with SQL, the command runs against them, and the segments written back are
read with SQL. No mock stands in for a database.
"""

import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")
sa = pytest.importorskip("sqlalchemy")

from fastseg.cli import main  # noqa: E402
from fastseg.segment import db, segment_frame  # noqa: E402
from fastseg.segment.datasets import make_customers, make_transactions  # noqa: E402
from tests.services import assert_report_renders  # noqa: E402

N = 240
FAST = ["--k-range", "2-4", "--quiet"]


def customers(n=N, seed=3):
    """Customers with bigint ids far beyond int32, to see ids come back with type and value."""
    frame, segments = make_customers(n, random_state=seed)
    frame["customer_id"] = 9_000_000_000 + 7 * np.arange(n, dtype=np.int64)
    return frame, segments


def orders(frame, segments):
    tx = make_transactions(frame, segments, months=2, random_state=1)
    return tx.rename(columns={"date": "order_date"})


def run(capsys, *argv, plots=False):
    """``fastseg segment`` with ``argv``; with the PNG plots only when a test looks at them."""
    code = main(["segment", *map(str, argv), *([] if plots else ["--no-plots"])])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code, err, match, out_dir):
    assert code == 2
    err = err.strip()
    assert err.startswith("fastseg: error:") and len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert re.search(match, err), err
    assert not out_dir.exists()
    assert not [p for p in out_dir.parent.iterdir() if p.name.startswith(".fastseg-")]


def sqlite_rows(path, sql):
    with sqlite3.connect(path) as con:
        return con.execute(sql).fetchall()


# -- SQLite -------------------------------------------------------------------------------------
@pytest.fixture
def shop_sqlite(tmp_path):
    frame, segments = customers()
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, gender TEXT, age INTEGER, "
            "monthly_spend REAL, purchase_frequency REAL, purchase_interval_days REAL, "
            "purchase_count INTEGER, user_level INTEGER, hesitation_time REAL)"
        )
        frame.to_sql("customers", con, if_exists="append", index=False)
        orders(frame, segments).to_sql("orders", con, index=False)
    return path, frame


def test_sqlite_table_gives_what_the_same_csv_gives(tmp_path, capsys, shop_sqlite):
    path, frame = shop_sqlite
    csv = tmp_path / "customers.csv"
    frame.to_csv(csv, index=False)
    code, _, err = run(capsys, "--input", csv, "--out", tmp_path / "from_csv", *FAST)
    assert code == 0, err
    url = f"sqlite:///{path}"
    code, _, err = run(
        capsys, "--input", url, "--table", "customers", "--write-table", "segments",
        "--out", tmp_path / "from_db", *FAST,
    )  # fmt: skip
    assert code == 0, err
    for name in ("labels.csv", "profile.csv", "k_sweep.csv"):
        pd.testing.assert_frame_equal(
            pd.read_csv(tmp_path / "from_db" / name), pd.read_csv(tmp_path / "from_csv" / name)
        )
    labels = pd.read_csv(tmp_path / "from_db" / "labels.csv")
    rows = sqlite_rows(
        path,
        "SELECT customer_id, typeof(customer_id), segment, segment_name, method, k, run_at "
        "FROM segments ORDER BY customer_id",
    )
    assert len(rows) == N
    assert [r[0] for r in rows] == sorted(frame["customer_id"].tolist())  # same values
    assert {r[1] for r in rows} == {"integer"}  # same type
    by_id = labels.set_index("customer_id")
    assert all(by_id.loc[r[0], "segment"] == r[2] and by_id.loc[r[0], "segment_name"] == r[3] for r in rows)
    k = labels["segment"].nunique()
    assert {(r[4], r[5]) for r in rows} == {("kmeans", k)} and len({r[6] for r in rows}) == 1
    assert (tmp_path / "from_db" / "report.html").is_file()


@pytest.fixture
def sqlite_query_run(tmp_path, capsys, shop_sqlite):
    """Purchases read with a query (a join and a filter), RFM features, labels written back."""
    path, frame = shop_sqlite
    query = (
        "SELECT o.customer_id, o.order_date AS date, o.amount, o.item, o.order_id FROM orders o "
        "JOIN customers c ON c.customer_id = o.customer_id WHERE c.age >= 20"
    )
    out = tmp_path / "query_out"
    code, _, err = run(
        capsys, "--input", f"sqlite:///{path}", "--query", query, "--transactions",
        "--order-column", "order_id", "--write-table", "query_segments", "--out", out, *FAST, plots=True,
    )  # fmt: skip
    assert code == 0, err
    expected = sqlite_rows(
        path,
        "SELECT DISTINCT o.customer_id FROM orders o JOIN customers c ON c.customer_id = o.customer_id "
        "WHERE c.age >= 20 ORDER BY 1",
    )
    return path, out, [r[0] for r in expected]


def test_sqlite_query_with_purchases(sqlite_query_run):
    path, out, expected = sqlite_query_run
    rows = sqlite_rows(path, "SELECT customer_id, segment FROM query_segments ORDER BY customer_id")
    assert [r[0] for r in rows] == expected and 0 < len(expected) < N
    assert {f.name for f in out.iterdir()} >= {"pairs.csv", "recommendations.csv", "report.html"}
    labels = pd.read_csv(out / "labels.csv").sort_values("customer_id")
    assert labels["segment"].tolist() == [r[1] for r in rows]


@pytest.mark.slow  # a Chromium process
def test_report_of_a_sqlite_query_renders_in_chromium(sqlite_query_run, chromium, tmp_path):
    _, out, _ = sqlite_query_run
    n_segments = len(pd.read_csv(out / "profile.csv"))
    assert_report_renders(chromium, out / "report.html", n_segments, tmp_path)


def test_if_exists_fail_replace_append(tmp_path, capsys, shop_sqlite):
    path, _ = shop_sqlite
    argv = ["--input", f"sqlite:///{path}", "--table", "customers", "--write-table", "segs",
            "--k", "3", "--k-range", "3-3", "--quiet"]  # fmt: skip
    assert run(capsys, *argv, "--out", tmp_path / "o1")[0] == 0
    first = sqlite_rows(path, "SELECT run_at FROM segs LIMIT 1")[0][0]
    # the early check creates or replaces the table in a transaction it rolls back
    db.check_writable(f"sqlite:///{path}", "segs", "replace")
    db.check_writable(f"sqlite:///{path}", "other", "fail")
    assert sqlite_rows(path, "SELECT count(*), min(run_at) FROM segs") == [(N, first)]
    assert sqlite_rows(path, "SELECT count(*) FROM sqlite_master WHERE name = 'other'") == [(0,)]
    code, _, err = run(capsys, *argv, "--out", tmp_path / "o2")  # default: fail
    assert_one_line_error(code, err, "table 'segs' already exists", tmp_path / "o2")
    assert sqlite_rows(path, "SELECT count(*), min(run_at) FROM segs") == [(N, first)]
    assert run(capsys, *argv, "--if-exists", "replace", "--out", tmp_path / "o3")[0] == 0
    count, runs, oldest = sqlite_rows(path, "SELECT count(*), count(DISTINCT run_at), min(run_at) FROM segs")[
        0
    ]
    assert (count, runs) == (N, 1) and oldest > first
    assert run(capsys, *argv, "--if-exists", "append", "--out", tmp_path / "o4")[0] == 0
    assert sqlite_rows(path, "SELECT count(*), count(DISTINCT run_at) FROM segs") == [(2 * N, 2)]


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--input", "notadb://host/x", "--table", "t"], "no SQLAlchemy dialect 'notadb'"),
        (["--input", "sqlite:///{tmp}/missing.db", "--table", "t"], "missing.db' does not exist"),
        (["--input", "{url}", "--table", "nope"], "no table 'nope'"),
        (["--input", "{url}", "--query", "SELEC * FROM customers"], "running the query .*syntax error"),
        (["--input", "{url}", "--query", "SELECT * FROM customers WHERE age > 500"], "returned no rows"),
        (["--input", "{url}"], "--table NAME or --query"),
        (["--input", "{url}", "--table", "customers", "--query", "SELECT 1"], "--table NAME or --query"),
        (["--input", "{csv}", "--write-table", "x"], "--write-table needs a database URL"),
        (["--demo", "--table", "customers"], "--table needs a database URL"),
        (["--input", "{url}", "--table", "customers", "--id-column", "nope"], "no id column 'nope'"),
        (
            ["--input", "sqlite:///file:{tmp}/shop.db?mode=ro&uri=true", "--table", "customers",
             "--write-table", "segs"],
            "checking table 'segs'.*readonly database",  # found before any work
        ),
    ],
)  # fmt: skip
def test_database_errors_are_one_line_and_write_nothing(tmp_path, capsys, shop_sqlite, argv, match):
    path, frame = shop_sqlite
    csv = tmp_path / "c.csv"
    frame.to_csv(csv, index=False)
    argv = [a.format(tmp=tmp_path, url=f"sqlite:///{path}", csv=csv) for a in argv]
    out = tmp_path / "out"
    code, _, err = run(capsys, *argv, "--out", out, *FAST)
    assert_one_line_error(code, err, match, out)
    tables = {r[0] for r in sqlite_rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"customers", "orders"}


def test_a_failing_write_leaves_the_table_as_it_was(tmp_path, capsys, shop_sqlite):
    path, _ = shop_sqlite
    url = f"sqlite:///{path}"
    argv = ["--input", url, "--table", "customers", "--write-table", "segs", "--k", "3", "--k-range", "3-3",
            "--quiet"]  # fmt: skip
    assert run(capsys, *argv, "--out", tmp_path / "o1")[0] == 0
    with sqlite3.connect(path) as con:  # rows of segment 2 are refused: the rows before them were sent
        con.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON segs WHEN NEW.segment = 2 "
            "BEGIN SELECT RAISE(ABORT, 'segment 2 refused'); END"
        )
    code, _, err = run(capsys, *argv, "--if-exists", "append", "--out", tmp_path / "o2")
    assert_one_line_error(code, err, "segment 2 refused", tmp_path / "o2")
    assert sqlite_rows(path, "SELECT count(*), count(DISTINCT run_at) FROM segs") == [(N, 1)]
    # a new table: a value the driver cannot bind in the last chunk; no table is left behind
    frame = pd.DataFrame(
        {"id": np.arange(12_000), "note": pd.Series(["ok"] * 11_999 + [{"x": 1}], dtype=object)}
    )
    for if_exists in ("fail", "replace"):
        for table in ("fresh", "segs"):
            if table == "segs" and if_exists == "fail":
                continue
            with pytest.raises(ValueError, match="writing table .*not supported"):
                db.write_table(url, table, frame, if_exists=if_exists)
    names = {r[0] for r in sqlite_rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "fresh" not in names
    assert sqlite_rows(path, "SELECT count(*) FROM segs") == [(N,)]


def test_segment_frame_for_pipelines(shop_sqlite):
    path, frame = shop_sqlite
    read, types = db.read_database(f"sqlite:///{path}", table="customers", chunk_rows=50)
    assert all(type(c) is str for c in read.columns)  # as a file's, whatever pandas' string storage
    before = read.copy()
    result = segment_frame(read, id_column="customer_id", k=3, k_range=range(2, 4), random_state=0)
    pd.testing.assert_frame_equal(read, before)  # the caller's frame is not modified
    assert isinstance(types["customer_id"], sa.Integer)
    assert list(result.labels.columns) == ["customer_id", "segment", "segment_name"]
    assert result.labels["customer_id"].tolist() == frame["customer_id"].tolist()
    assert result.k == 3 and result.profile["size"].sum() == N and len(result.profile) == 3
    assert set(result.labels["segment"]) == {1, 2, 3}
    assert result.pairs is None and result.recommendations is None
    rows = result.table_rows()
    assert list(rows.columns) == ["customer_id", "segment", "segment_name", "method", "k", "run_at"]
    assert (rows["k"] == 3).all() and (rows["method"] == "kmeans").all() and rows["run_at"].nunique() == 1
    again = segment_frame(read, id_column="customer_id", k=3, k_range=range(2, 4), random_state=0)
    pd.testing.assert_frame_equal(result.labels, again.labels)
    tx = pd.read_sql(
        "SELECT customer_id, order_date AS date, amount, item, order_id FROM orders", sqlite3.connect(path)
    )
    baskets = segment_frame(tx, transactions=True, order_column="order_id", k=3, k_range=range(3, 4))
    assert baskets.pairs is not None and {"antecedent", "consequent", "lift"} <= set(baskets.pairs.columns)
    assert baskets.recommendations["customer_id"].isin(baskets.labels["customer_id"]).all()
    with pytest.raises(TypeError, match="DataFrame"):
        segment_frame(read.to_numpy())
    with pytest.raises(ValueError, match="no column 'nope'"):
        segment_frame(read, features=["nope"])


# -- PostgreSQL ---------------------------------------------------------------------------------
def pg_engine(url):
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.pool.NullPool)


def pg_rows(url, sql, **params):
    engine = pg_engine(url)
    try:
        with engine.connect() as con:
            return [tuple(r) for r in con.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def pg_execute(url, *statements):
    engine = pg_engine(url)
    try:
        with engine.begin() as con:
            for sql in statements:
                con.execute(sa.text(sql))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def pg_shop(postgres):
    """A database 'shop' with customers (bigint ids), orders (numeric amounts, dates) and a role
    that may read the customers but create nothing."""
    url = postgres.url()
    engine = pg_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as con:
        con.execute(sa.text("DROP DATABASE IF EXISTS shop"))
        con.execute(sa.text("CREATE DATABASE shop"))
    engine.dispose()
    shop = postgres.url(database="shop")
    frame, segments = customers()
    tx = orders(frame, segments)
    pg_execute(
        shop,
        "CREATE TABLE customers (customer_id bigint PRIMARY KEY, gender text, age integer, "
        "monthly_spend double precision, purchase_frequency double precision, "
        "purchase_interval_days double precision, purchase_count integer, user_level integer, "
        "hesitation_time double precision)",
        "CREATE TABLE orders (order_id text, customer_id bigint REFERENCES customers, order_date date, "
        "item varchar(40), amount numeric(12, 2))",
        "CREATE TABLE codes (code varchar(12) PRIMARY KEY, spend numeric(10, 2), visits integer)",
        "CREATE ROLE reader LOGIN",
        "CREATE ROLE nobody LOGIN",
        "GRANT SELECT ON customers TO reader",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    )
    engine = pg_engine(shop)
    with engine.begin() as con:
        frame.to_sql("customers", con, if_exists="append", index=False)
        tx.assign(amount=tx["amount"].round(2)).to_sql("orders", con, if_exists="append", index=False)
        rng = np.random.default_rng(0)
        pd.DataFrame(
            {
                "code": [f"C-{i:04d}-X" for i in range(60)],
                "spend": rng.gamma(2.0, 50.0, 60).round(2),
                "visits": rng.integers(1, 30, 60),
            }
        ).to_sql("codes", con, if_exists="append", index=False)
    engine.dispose()
    return shop, frame


@pytest.fixture(scope="module")
def postgres_table_run(pg_shop, tmp_path_factory):
    shop, frame = pg_shop
    out = tmp_path_factory.mktemp("pg") / "out"
    code = main(
        ["segment", "--input", shop, "--table", "customers", "--write-table", "public.segments",
         "--out", str(out), *FAST]
    )  # fmt: skip
    assert code == 0
    return shop, frame, out


def test_postgres_table_in_segments_back(postgres_table_run):
    shop, frame, out = postgres_table_run
    rows = pg_rows(
        shop, "SELECT customer_id, segment, segment_name, method, k, run_at FROM segments ORDER BY 1"
    )
    assert [r[0] for r in rows] == sorted(frame["customer_id"].tolist())
    column_type = pg_rows(
        shop,
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'segments' "
        "AND column_name = 'customer_id'",
    )
    assert column_type == [("bigint",)]
    labels = pd.read_csv(out / "labels.csv").set_index("customer_id")
    assert all(labels.loc[r[0], "segment"] == r[1] and labels.loc[r[0], "segment_name"] == r[2] for r in rows)
    assert {(r[3], r[4]) for r in rows} == {("kmeans", labels["segment"].nunique())}
    assert len({r[5] for r in rows}) == 1 and rows[0][5].tzinfo is not None
    joined = pg_rows(
        shop, "SELECT count(*) FROM customers c JOIN segments s USING (customer_id) WHERE s.segment >= 1"
    )
    assert joined == [(N,)]


@pytest.mark.slow  # a Chromium process
def test_report_of_a_postgres_table_renders_in_chromium(postgres_table_run, chromium, tmp_path):
    _, _, out = postgres_table_run
    n_segments = len(pd.read_csv(out / "profile.csv"))
    assert_report_renders(chromium, out / "report.html", n_segments, tmp_path)


def test_postgres_reads_in_chunks_through_a_server_side_cursor(pg_shop):
    shop, frame = pg_shop
    cursors = []

    def seen(conn, cursor, *args):
        cursors.append(type(cursor).__name__)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", seen)
    try:
        chunked, types = db.read_database(shop, table="customers", chunk_rows=50)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", seen)
    whole, _ = db.read_database(shop, query="SELECT * FROM customers", chunk_rows=100_000)
    assert "ServerCursor" in cursors  # psycopg's named (server-side) cursor
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked["customer_id"].tolist() == frame["customer_id"].tolist()
    assert isinstance(types["customer_id"], sa.BigInteger)


def test_postgres_query_of_purchases_and_text_ids(pg_shop, tmp_path, capsys):
    shop, _ = pg_shop
    query = (
        "SELECT o.customer_id, o.order_date AS date, o.amount, o.item, o.order_id "
        "FROM orders o JOIN customers c USING (customer_id) WHERE c.user_level >= 2"
    )
    code, _, err = run(
        capsys, "--input", shop, "--query", query, "--transactions", "--order-column", "order_id",
        "--write-table", "purchase_segments", "--out", tmp_path / "q", *FAST,
    )  # fmt: skip
    assert code == 0, err
    expected = pg_rows(
        shop,
        "SELECT DISTINCT customer_id FROM orders JOIN customers USING (customer_id) "
        "WHERE user_level >= 2 ORDER BY 1",
    )
    assert pg_rows(shop, "SELECT customer_id FROM purchase_segments ORDER BY 1") == expected
    assert (tmp_path / "q" / "pairs.csv").is_file()
    # text ids with a declared length come back as the same SQL type
    code, _, err = run(
        capsys, "--input", shop, "--table", "codes", "--id-column", "code", "--k", "2", "--k-range", "2-2",
        "--write-table", "code_segments", "--out", tmp_path / "c", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    column = pg_rows(
        shop,
        "SELECT data_type, character_maximum_length FROM information_schema.columns "
        "WHERE table_name = 'code_segments' AND column_name = 'code'",
    )
    assert column == [("character varying", 12)]
    assert pg_rows(shop, "SELECT count(*) FROM code_segments s JOIN codes c USING (code)") == [(60,)]


def test_postgres_errors_are_one_line_and_write_nothing(pg_shop, postgres, tmp_path, capsys):
    from tests.services import free_port

    shop, _ = pg_shop
    host = f"127.0.0.1:{postgres.port}"
    cases = [
        (
            [f"postgresql://postgres@127.0.0.1:{free_port()}/shop", "--table", "customers"],
            "connecting .*refused",
        ),
        ([f"postgresql://postgres@{host}/nodb", "--table", "customers"], 'database "nodb" does not exist'),
        ([shop, "--table", "missing"], "no table 'missing'"),
        ([shop, "--query", "SELECT nope FROM customers"], 'column "nope" does not exist'),
        (
            [f"postgresql://nobody@{host}/shop", "--table", "customers"],
            "permission denied for table customers",
        ),
        (
            [f"postgresql://reader@{host}/shop", "--table", "customers", "--write-table", "reader_segments"],
            "checking table 'reader_segments'.*permission denied for schema public",
        ),
        ([f"postgresql://postgres:secret@{host}/shop", "--table", "nope"], r"postgres:\*\*\*@"),
    ]
    for i, (argv, match) in enumerate(cases):
        out = tmp_path / f"out{i}"
        code, _, err = run(capsys, "--input", *argv, "--out", out, *FAST)
        assert_one_line_error(code, err, match, out)
        assert "secret" not in err
    assert pg_rows(shop, "SELECT to_regclass('public.reader_segments') IS NULL") == [(True,)]


def test_postgres_failed_write_leaves_no_partial_table(pg_shop):
    shop, _ = pg_shop
    frame = pd.DataFrame({"id": np.arange(12_000), "note": ["ok"] * 11_999 + ["bad\x00byte"]})
    with pytest.raises(ValueError, match="writing table 'fresh'.*NUL"):
        db.write_table(shop, "fresh", frame)
    assert pg_rows(shop, "SELECT to_regclass('public.fresh') IS NULL") == [(True,)]
    db.write_table(shop, "kept", frame.iloc[:10])
    for if_exists in ("replace", "append"):
        with pytest.raises(ValueError, match="NUL"):
            db.write_table(shop, "kept", frame, if_exists=if_exists)
        assert pg_rows(shop, "SELECT count(*) FROM kept") == [(10,)]


@pytest.mark.slow
def test_the_real_command_prints_no_warning_or_traceback(tmp_path, shop_sqlite):
    """In a subprocess, where library warnings would reach the terminal."""
    import os
    import subprocess
    import sys

    path, _ = shop_sqlite
    # (the plotting process's terminal is checked in test_messy_inputs)
    base = [
        sys.executable,
        "-m",
        "fastseg.cli",
        "segment",
        "--input",
        f"sqlite:///{path}",
        "--quiet",
        "--no-plots",
    ]
    root = str(Path(__file__).resolve().parent.parent)  # this checkout's fastseg, whatever is installed
    env = dict(os.environ, PYTHONWARNINGS="default", PYTHONPATH=root)
    done = subprocess.run(
        [*base, "--table", "customers", "--write-table", "segs", "--k", "2", "--k-range", "2-2", "--out", "ok"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0 and done.stderr == "" and done.stdout == ""
    assert sqlite_rows(path, "SELECT count(*) FROM segs") == [(N,)]
    bad = subprocess.run(
        [*base, "--query", "SELECT * FROM nowhere", "--out", "bad"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1
    assert bad.stderr.startswith("fastseg: error: database error while running the query")
    assert "no such table: nowhere" in bad.stderr and not (tmp_path / "bad").exists()


def test_urls_and_paths_are_told_apart():
    assert db.is_database_url("sqlite:///shop.db") and db.is_database_url("postgresql+psycopg://u@h/d")
    assert not db.is_database_url("customers.csv") and not db.is_database_url("C:\\data\\shop.csv")
    assert not db.is_database_url(None)
    assert db.hide_password("postgresql://ann:s3cret@host:5432/shop") == "postgresql://ann:***@host:5432/shop"
    with pytest.raises(ValueError, match="if_exists must be one of fail, replace, append"):
        db.write_table("sqlite://", "t", pd.DataFrame({"a": [1]}), if_exists="merge")
    with pytest.raises(ValueError, match="table name must be a non-empty string"):
        db.write_table("sqlite://", " ", pd.DataFrame({"a": [1]}))


def test_postgres_integer_ids_with_nulls_come_out_as_integers(pg_shop, tmp_path, capsys):
    shop, _ = pg_shop
    rng = np.random.default_rng(4)
    ids = [None if i % 10 == 3 else 9_000_000_000_000 + 13 * i for i in range(80)]  # read as float64
    pg_execute(
        shop,
        "DROP TABLE IF EXISTS gappy",
        "CREATE TABLE gappy (customer_id bigint, spend float8, visits int)",
    )
    engine = pg_engine(shop)
    with engine.begin() as con:
        pd.DataFrame(
            {"customer_id": ids, "spend": rng.gamma(2.0, 40.0, 80), "visits": rng.integers(1, 20, 80)}
        ).to_sql("gappy", con, if_exists="append", index=False)
    engine.dispose()
    out = tmp_path / "out"
    code, _, err = run(
        capsys, "--input", shop, "--table", "gappy", "--k", "2", "--write-table", "gappy_segments", "--out", out,
        "--k-range", "2-2",
    )  # fmt: skip
    assert code == 0, err
    assert "fastseg: dropped 8 rows: no customer id (column 'customer_id')" in err
    labels = pd.read_csv(out / "labels.csv", dtype=str)
    assert labels["customer_id"].tolist() == [str(i) for i in ids if i is not None]  # never 9e12 or "….0"
    written = pg_rows(shop, "SELECT s.customer_id FROM gappy_segments s JOIN gappy g USING (customer_id)")
    assert len(written) == 72


def test_postgres_connect_timeout_ends_a_silent_server(tmp_path, capsys, monkeypatch):
    """A server that accepts the connection and never answers is an error after the connect
    timeout, not a hang."""
    import socket
    import threading
    import time

    pytest.importorskip("psycopg")
    assert db.CONNECT_TIMEOUT_S == 10  # as docs/databases.md says
    monkeypatch.setattr(db, "CONNECT_TIMEOUT_S", 2)  # libpq's smallest
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def accept_and_wait():
        listener.settimeout(40)
        try:
            held.append(listener.accept()[0])
            time.sleep(30)  # a build without the timeout waits this long, then is refused
        except OSError:
            pass
        finally:
            for conn in held:
                conn.close()
            listener.close()

    thread = threading.Thread(target=accept_and_wait, daemon=True)
    thread.start()
    out = tmp_path / "out"
    url = f"postgresql://postgres@127.0.0.1:{listener.getsockname()[1]}/shop"
    started = time.perf_counter()
    code, _, err = run(capsys, "--input", url, "--table", "customers", "--out", out, *FAST)
    elapsed = time.perf_counter() - started
    assert_one_line_error(code, err, "connecting .*(timeout|timed out)", out)
    assert held and elapsed < 10, elapsed
