"""Customers from a database and segments back into it, through SQLAlchemy.

Any SQLAlchemy URL whose driver is installed works (``sqlite:///shop.db`` needs nothing extra,
``postgresql://user@host/db`` the ``db`` extra). Every database failure is a ``ValueError`` with a
one-line message; writing is one transaction, so a failed write leaves no partial table.
"""

import contextlib
import importlib.util
import re
import warnings
from pathlib import Path

from .._pandas import require_pandas as _pandas

IF_EXISTS = ("fail", "replace", "append")
CHUNK_ROWS = 20_000
CONNECT_TIMEOUT_S = 10
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def is_database_url(text):
    """True for ``scheme://...`` (a database URL), False for a file path."""
    return isinstance(text, str) and _URL.match(text) is not None


def _sqlalchemy():
    try:
        import sqlalchemy
    except ImportError:
        raise ImportError("database input needs SQLAlchemy: pip install 'fastseg[db]'") from None
    return sqlalchemy


def _first_line(exc):
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def _split_table(name):
    """'schema.table' -> ('schema', 'table'); 'table' -> (None, 'table')."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a table name must be a non-empty string, got {name!r}.")
    schema, _, table = name.strip().rpartition(".")
    return schema or None, table


class _Database:
    """An engine for one URL, with the URL as shown in messages (password hidden)."""

    def __init__(self, url, *, must_exist):
        sa = _sqlalchemy()
        try:
            parsed = sa.engine.make_url(url)
        except (sa.exc.ArgumentError, ValueError) as exc:
            raise ValueError(f"{url!r} is not a database URL: {_first_line(exc)}") from None
        # SQLAlchemy 2.0 reads a bare postgresql:// as psycopg2; the db extra installs psycopg 3.
        if parsed.drivername == "postgresql" and importlib.util.find_spec("psycopg2") is None:
            if importlib.util.find_spec("psycopg") is not None:
                parsed = parsed.set(drivername="postgresql+psycopg")
        self.shown = parsed.render_as_string(hide_password=True)
        backend = parsed.get_backend_name()
        if backend == "sqlite" and must_exist and parsed.database not in (None, "", ":memory:"):
            path = parsed.database
            if parsed.query.get("uri") == "true":  # sqlite:///file:/path/to.db?mode=ro&uri=true
                path = path.removeprefix("file:").removeprefix("//")
            if not Path(path).is_file():
                raise ValueError(f"database file {parsed.database!r} does not exist.")
        connect_args = {"connect_timeout": CONNECT_TIMEOUT_S} if backend == "postgresql" else {}
        try:
            self.engine = sa.create_engine(parsed, connect_args=connect_args, poolclass=sa.pool.NullPool)
        except sa.exc.NoSuchModuleError:
            raise ValueError(
                f"no SQLAlchemy dialect {parsed.drivername!r} (in {self.shown}): check the URL's scheme."
            ) from None
        except ImportError as exc:
            raise ValueError(
                f"the driver for {parsed.drivername!r} is not installed ({exc}); "
                "for PostgreSQL: pip install 'fastseg[db]'."
            ) from None
        if backend == "sqlite":
            _transactional_ddl(sa, self.engine)
        self.transactional_ddl = backend in ("sqlite", "postgresql")

    @contextlib.contextmanager
    def errors(self, doing):
        """Turn any database failure into a one-line ValueError naming what was being done."""
        sa = _sqlalchemy()
        try:
            with warnings.catch_warnings():
                # e.g. "did not recognize type" while reflecting: the column is still read
                warnings.simplefilter("ignore", sa.exc.SAWarning)
                yield
        except (sa.exc.SQLAlchemyError, _pandas().errors.DatabaseError) as exc:
            # pandas wraps the driver's error: report the driver's own first line
            cause = exc.__cause__ if isinstance(exc.__cause__, sa.exc.SQLAlchemyError) else exc
            raise ValueError(f"database error while {doing} ({self.shown}): {_first_line(cause)}") from None

    def dispose(self):
        self.engine.dispose()


def _transactional_ddl(sa, engine):
    """Let SQLAlchemy, not Python's sqlite3 module, issue BEGIN, so CREATE/DROP TABLE belong to
    the transaction too (SQLAlchemy's documented recipe for pysqlite)."""

    @sa.event.listens_for(engine, "connect")
    def _no_driver_begin(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")


def read_database(url, *, table=None, query=None, chunk_rows=CHUNK_ROWS):
    """Read ``table`` (``name`` or ``schema.name``) or the result of ``query`` from ``url``.

    Rows arrive in chunks of ``chunk_rows`` (``stream_results``: a server-side cursor on
    PostgreSQL). Returns ``(frame, column_types)``: the rows as a DataFrame, and for a table the
    SQLAlchemy type of each column (empty for a query), so that ids can be written back with
    their own type.
    """
    pd = _pandas()
    sa = _sqlalchemy()
    if (table is None) == (query is None):
        raise ValueError("with a database --input give either --table NAME or --query 'SELECT ...'.")
    db = _Database(url, must_exist=True)
    column_types = {}
    try:
        with db.errors("connecting"), db.engine.connect() as conn:
            conn = conn.execution_options(stream_results=True, max_row_buffer=chunk_rows)
            if table is not None:
                schema, name = _split_table(table)
                with db.errors(f"reading table {table!r}"):
                    if not sa.inspect(conn).has_table(name, schema=schema):
                        raise ValueError(f"no table {table!r} in the database {db.shown}.")
                    source = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
                    column_types = {str(c.name): c.type for c in source.columns}
                    chunks = list(pd.read_sql(sa.select(source), conn, chunksize=chunk_rows))
            else:
                if not isinstance(query, str) or not query.strip():
                    raise ValueError("--query must be a non-empty SQL statement.")
                with db.errors("running the query"):
                    chunks = list(pd.read_sql(sa.text(query), conn, chunksize=chunk_rows))
    finally:
        db.dispose()
    what = f"table {table!r}" if table is not None else "the query"
    if not chunks:
        raise ValueError(f"{what} returned no rows.")
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    if frame.empty:
        raise ValueError(f"{what} returned no rows.")
    # SQLAlchemy names columns with a str subclass (quoted_name) that scikit-learn does not take
    # as a column name: plain strings, as a file's columns are
    frame.columns = [str(c) for c in frame.columns]
    return frame, column_types


def check_writable(url, table, if_exists="fail"):
    """Fail early, before any work: when ``table`` exists and ``if_exists`` is 'fail', and, where
    DDL is transactional (PostgreSQL, SQLite), when it could not be created or replaced (a
    permission problem, a read-only database), found by doing so in a transaction rolled back."""
    sa = _sqlalchemy()
    if if_exists not in IF_EXISTS:
        raise ValueError(f"if_exists must be one of {', '.join(IF_EXISTS)}, got {if_exists!r}.")
    schema, name = _split_table(table)
    db = _Database(url, must_exist=True)
    try:
        with db.errors(f"checking table {table!r}"), db.engine.connect() as conn:
            exists = sa.inspect(conn).has_table(name, schema=schema)
            if exists and if_exists == "fail":
                raise ValueError(
                    f"table {table!r} already exists in {db.shown}: choose another --write-table, "
                    "or --if-exists replace / append."
                )
            if db.transactional_ddl and (not exists or if_exists == "replace"):
                probe = sa.Table(name, sa.MetaData(), sa.Column("probe", sa.Integer), schema=schema)
                conn.rollback()  # end the transaction the inspection began
                with conn.begin() as transaction:
                    if exists:
                        probe.drop(conn)
                    probe.create(conn)
                    transaction.rollback()
    finally:
        db.dispose()


def write_table(url, table, frame, *, if_exists="fail", column_types=None):
    """Write ``frame`` to ``table`` in ONE transaction: all rows or none.

    ``column_types`` maps column names to SQLAlchemy types to use instead of pandas' guess (the
    id column's type as read). ``if_exists`` is 'fail', 'replace' or 'append'.
    """
    if if_exists not in IF_EXISTS:
        raise ValueError(f"if_exists must be one of {', '.join(IF_EXISTS)}, got {if_exists!r}.")
    schema, name = _split_table(table)
    dtype = {c: t for c, t in (column_types or {}).items() if c in frame.columns}
    db = _Database(url, must_exist=False)
    try:
        with db.errors(f"writing table {table!r}"), db.engine.begin() as conn:
            frame.to_sql(
                name,
                conn,
                schema=schema,
                if_exists=if_exists,
                index=False,
                dtype=dtype or None,
                chunksize=5000,
            )
    finally:
        db.dispose()
    return len(frame)


def hide_password(url):
    """``url`` with its password shown as ***, for messages and reports."""
    try:
        return _sqlalchemy().engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: show the scheme only
        return url.split("://", 1)[0] + "://..."


def write_labels(url, table, labels, id_column, method, k, *, source, column_types, if_exists="fail"):
    """A run's ``labels`` (id, segment, name) with its ``method``, ``k`` and time into ``table``,
    in one transaction; the ids as ``source`` (the table read) holds them, with their column type.
    Returns the number of rows written."""
    from .job import table_rows, with_source_ids

    rows = table_rows(with_source_ids(labels, id_column, source), method, k)
    types = {id_column: column_types[id_column]} if id_column in column_types else None
    return write_table(url, table, rows, if_exists=if_exists, column_types=types)
