"""Run ``fastseg segment`` on a database and print the commands, their output and the segments read
back with SQL; ``--update-docs`` writes it into the database block of docs/databases.md.

    python -m docs.examples.database_demo                 # print
    python -m docs.examples.database_demo --update-docs   # also rewrite the block in docs/

The SQLite run always happens (the demo customers and purchases in ``shop.db``); the PostgreSQL
run needs PostgreSQL installed (a throwaway cluster on a free loopback port, as in the tests).
"""

import argparse
import os
import shlex
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._common import ROOT, cpu_name, update_docs
from fastseg.segment import make_customers, make_transactions
from fastseg.segment.outputs import markdown_table


def _fastseg(argv, cwd):
    """Run the command as a user would; returns (the command line shown, its output)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "fastseg.cli", *argv], cwd=cwd, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"fastseg {' '.join(argv)} failed:\n{done.stderr}")
    shown = "fastseg " + " ".join(_quote(a) for a in argv)
    return shown, done.stdout


def _quote(arg):
    """Shell quoting as a person writes it: double quotes around SQL with single quotes inside."""
    if arg == shlex.quote(arg) or any(c in arg for c in '"$`\\!'):
        return shlex.quote(arg)
    return f'"{arg}"'


def _tail(output, n):
    return "\n".join(output.rstrip().splitlines()[-n:])


def _sqlite_part(folder):
    customers, segments = make_customers(4000, random_state=0)
    purchases = make_transactions(customers, segments, random_state=0)
    with sqlite3.connect(folder / "shop.db") as con:
        customers.to_sql("customers", con, index=False)
        purchases.to_sql("orders", con, index=False)
    shown, output = _fastseg(
        ["segment", "--input", "sqlite:///shop.db", "--table", "customers", "--write-table", "segments",
         "--out", "shop-segments"],
        folder,
    )  # fmt: skip
    query = (
        "SELECT segment, segment_name, COUNT(*) AS customers, MIN(customer_id) AS first_id, method, k "
        "FROM segments GROUP BY segment, segment_name, method, k ORDER BY segment"
    )
    with sqlite3.connect(folder / "shop.db") as con:
        cursor = con.execute(query)
        columns = [c[0] for c in cursor.description]
        rows = cursor.fetchall()
    import pandas as pd

    table = pd.DataFrame(rows, columns=columns).set_index("segment")
    size = (folder / "shop-segments" / "report.html").stat().st_size
    return [
        "```console",
        f"$ {shown}",
        _tail(output, 3),
        "```",
        "",
        f'Read back with `sqlite3 shop.db "{query}"`:',
        "",
        markdown_table(table),
        "",
        f"`shop-segments/report.html` of this run: {size / 1e6:.2f} MB.",
    ]


def _postgres_part(folder):
    from tests.services import PostgresServer, postgres_bindir

    bindir = postgres_bindir()
    if bindir is None:
        return ["(PostgreSQL is not installed here: no PostgreSQL run.)"]
    server = PostgresServer(bindir).start()
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(server.url().replace("postgresql://", "postgresql+psycopg://"))
        customers, segments = make_customers(4000, random_state=0)
        purchases = make_transactions(customers, segments, random_state=0)
        with engine.begin() as con:
            purchases.rename(columns={"date": "order_date"}).to_sql("orders", con, index=False)
        engine.dispose()
        query = (
            "SELECT customer_id, order_date AS date, amount, item, order_id FROM orders "
            "WHERE order_date >= DATE '2024-02-01'"
        )
        shown, output = _fastseg(
            ["segment", "--input", server.url(), "--query", query, "--transactions", "--order-column",
             "order_id", "--write-table", "rfm_segments", "--if-exists", "replace", "--out", "rfm-segments"],
            folder,
        )  # fmt: skip
        engine = sa.create_engine(server.url().replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as con:
            version = con.execute(sa.text("SHOW server_version")).scalar()
            counts = con.execute(
                sa.text("SELECT segment, segment_name, COUNT(*) FROM rfm_segments GROUP BY 1, 2 ORDER BY 1")
            ).fetchall()
        engine.dispose()
    finally:
        server.stop()
    import pandas as pd

    table = pd.DataFrame(counts, columns=["segment", "segment_name", "customers"]).set_index("segment")
    return [
        f"PostgreSQL {version.split()[0]} (a throwaway local server on a free port), purchases read with a query "
        "and turned into recency/frequency/monetary features:",
        "",
        "```console",
        f"$ {shown}",
        _tail(output, 3),
        "```",
        "",
        markdown_table(table),
    ]


def render():
    with tempfile.TemporaryDirectory(prefix="fastseg-db-demo-") as tmp:
        folder = Path(tmp)
        lines = [
            f"Output of `python -m docs.examples.database_demo --update-docs` ({cpu_name()}, 2 cores shared with "
            "other jobs: the run times printed are this machine's, not a benchmark):",
            "",
        ]
        lines += _sqlite_part(folder)
        lines += [""] + _postgres_part(folder)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-docs", action="store_true", help="write the output into its docs page")
    args = parser.parse_args(argv)
    text = render()
    print(text)
    if args.update_docs:
        update_docs(text, name="database-run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
