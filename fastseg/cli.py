"""The ``fastseg`` command."""

import argparse
import sys
import time


def _cmd_reproduce(args):
    from fastseg.segment.reproduce import render_accuracy_report

    print(
        "GA-K-means paper, Tables 1-2: clustering accuracy on Iris and Wine (scikit-learn's copies), "
        "ours beside the paper's\n"
    )
    print(render_accuracy_report(n_generations=args.generations, population_size=args.population))
    return 0


class _Progress:
    """Progress on stderr: a one-line bar on a terminal; elsewhere (a log, a CI job) one line per
    stage with the seconds since the start, so a long first run is never silent."""

    def __init__(self, enabled):
        self.enabled = enabled
        self.bars = enabled and sys.stderr.isatty()
        self.t0 = time.perf_counter()
        self._compiling = False

    def stage(self, label):
        """One line saying what starts now (not on a terminal, where the bars show it)."""
        if self.enabled and not self.bars:
            sys.stderr.write(f"fastseg: {label} ({time.perf_counter() - self.t0:.1f} s)\n")
            sys.stderr.flush()

    def watch_compilation(self):
        """Say so once when Numba starts compiling a kernel (a first run; later runs load the cache)."""
        if not self.enabled:
            return
        from numba.core import event

        progress = self

        class _FirstCompile(event.Listener):
            def on_start(self, ev):
                if not progress._compiling:
                    progress._compiling = True
                    if progress.bars:
                        sys.stderr.write("\n")
                    sys.stderr.write(
                        f"fastseg: compiling kernels on first use, cached for later runs "
                        f"({time.perf_counter() - progress.t0:.1f} s)\n"
                    )
                    sys.stderr.flush()

            def on_end(self, ev):
                pass

        event.register("numba:compile", _FirstCompile())

    def __call__(self, label):
        self.stage(label)
        if not self.bars:
            return None

        def update(i, total):
            width = 30
            done = int(width * i / max(total, 1))
            end = "\n" if i >= total else ""
            sys.stderr.write(f"\r{label:<12} [{'#' * done}{'.' * (width - done)}] {i}/{total}{end}")
            sys.stderr.flush()

        return update


def _parse_k_range(text):
    try:
        lo, hi = (int(v) for v in text.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a range like 2-15, got {text!r}") from None
    if lo < 2 or hi < lo:
        raise argparse.ArgumentTypeError(
            f"the range must start at 2 or more and not run backwards, got {text!r}"
        )
    return range(lo, hi + 1)


def _cmd_segment(args):
    from fastseg.segment import files as io

    if args.demo == bool(args.input):
        raise ValueError("give either --demo or --input FILE")
    progress = _Progress(not args.quiet)
    database = _read_database(args)
    frame, id_column, features, truth, transactions = io.load_customers(
        demo=args.demo,
        path=None if database else args.input,
        frame=database["frame"] if database else None,
        id_column=args.id_column,
        features=[c.strip() for c in args.features.split(",")] if args.features else None,
        transactions=args.transactions,
        date_column=args.date_column,
        amount_column=args.amount_column,
        order_column=args.order_column,
        seed=args.seed,
    )
    # Said once the rows are read: a bad file stays a one-line error.
    progress.stage(f"read {len(frame)} customers from " + _source_name(args, database))
    progress.watch_compilation()
    from fastseg.segment import segment_customers

    t0 = time.perf_counter()
    result = segment_customers(
        frame, features, k=args.k, k_range=args.k_range, method=args.method, random_state=args.seed,
        log_columns="auto" if not args.no_log else [], progress=progress,
    )  # fmt: skip
    if transactions is not None:
        progress.stage("pairs and recommendations")
    baskets = io.basket_tables(
        transactions, id_column, result["labels"], frame, order_column="order_id" if args.demo else args.order_column,
        item_column=args.item_column, seed=args.seed, evaluate=args.evaluate,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    if database and args.write_table:
        progress.stage(f"writing table {args.write_table}")
    written_table = _write_database(args, database, frame, id_column, result)
    run = _run_facts(args, database, frame, id_column, features, transactions, result, seconds, written_table)
    progress.stage(f"writing {args.out}/")
    files = io.write_outputs(args.out, frame, id_column, features, result, extra=baskets, finish=_report(run))
    elapsed = time.perf_counter() - t0
    if args.quiet:
        return 0
    print(io.describe(frame, id_column, features, result, truth, args.demo, baskets))
    print(
        f"\nSegmented {len(frame)} customers into {result['k']} segments ({args.method}) in {elapsed:.1f} s."
    )
    if written_table:
        print(f"Segments written to table {written_table}.")
    print(f"Files in {args.out}/: " + ", ".join(f.name for f in files))
    return 0


def _source_name(args, database):
    """The input as said on screen and in the report (a database URL without its password)."""
    if args.demo:
        return "the demo data"
    if database:
        from fastseg.segment.db import hide_password

        return hide_password(args.input)
    return args.input


def _read_database(args):
    """{'frame', 'column_types'} read from a database --input, None for a file or the demo."""
    from fastseg.segment import db

    if not (args.input and db.is_database_url(args.input)):
        used = [flag for flag, value in (("--table", args.table), ("--query", args.query),
                                         ("--write-table", args.write_table)) if value]  # fmt: skip
        if used:
            verb = "needs" if len(used) == 1 else "need"
            raise ValueError(
                f"{' and '.join(used)} {verb} a database URL as --input (sqlite:///..., postgresql://...)"
            )
        return None
    if args.write_table:  # before any work: an existing table with --if-exists fail stops here
        db.check_writable(args.input, args.write_table, args.if_exists)
    frame, column_types = db.read_database(args.input, table=args.table, query=args.query)
    return {"frame": frame, "column_types": column_types}


def _write_database(args, database, frame, id_column, result):
    """Labels, method, K and run time into --write-table, in one transaction; its description."""
    if not (database and args.write_table):
        return None
    from fastseg.segment import db
    from fastseg.segment.pipeline import labels_frame, table_rows

    labels = labels_frame(frame, id_column, result["labels"], result["names"])
    rows = table_rows(labels, args.method, result["k"])
    types = (
        {id_column: database["column_types"][id_column]} if id_column in database["column_types"] else None
    )
    n = db.write_table(args.input, args.write_table, rows, if_exists=args.if_exists, column_types=types)
    return f"{args.write_table} ({n:,} rows, --if-exists {args.if_exists})"


def _run_facts(args, database, frame, id_column, features, transactions, result, seconds, written_table):
    """What the report says about the run."""
    if args.demo:
        source, rows_read = "built-in synthetic customers (--demo)", len(frame)
    elif database:
        what = f"table {args.table}" if args.table else f"query: {args.query}"
        source, rows_read = f"{_source_name(args, database)}, {what}", len(database["frame"])
    else:
        source, rows_read = args.input, len(transactions) if args.transactions else len(frame)
    return {
        "source": source,
        "rows_read": rows_read,
        "customers": len(frame),
        "transactions": bool(args.transactions),
        "id_column": id_column,
        "features": list(features),
        "logged": list(result.get("logged", [])),
        "method": args.method,
        "k": result["k"],
        "recommended_k": result["sweep"].attrs.get("recommended_k"),
        "reason": result["sweep"].attrs.get("reason"),
        "seconds": seconds,
        "written_table": written_table,
    }


def _report(run):
    def finish(folder):
        from fastseg.segment.report import write_report

        write_report(folder, run)

    return finish


def build_parser():
    parser = argparse.ArgumentParser(
        prog="fastseg",
        description="Customer segmentation: K-means, GA-K-means and Gaussian mixtures on Numba kernels.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    seg = sub.add_parser(
        "segment",
        help="segment customers: K sweep, clustering, profiles, names and plots",
        description="Segment customers and write labels, profiles, plots and report.html to an output "
        "folder. Input is a customer table (one row per customer, feature columns) or, with "
        "--transactions, a purchase table from which recency/frequency/monetary features are built; "
        "either from a file or from a database (--input URL with --table or --query).",
    )
    src = seg.add_argument_group("input")
    src.add_argument("--demo", action="store_true", help="use the built-in synthetic customers (4000 rows)")
    src.add_argument("--input", metavar="FILE|URL",
                     help="CSV or Parquet file (.csv, .parquet), or a database URL (sqlite:///shop.db, "
                     "postgresql://user@host:5432/db, any SQLAlchemy URL) with --table or --query")  # fmt: skip
    src.add_argument("--table", metavar="NAME", help="with a database URL: read this table (or schema.table)")
    src.add_argument("--query", metavar="SQL", help="with a database URL: read the rows of this SELECT")
    src.add_argument(
        "--id-column", metavar="COL", help="customer id column (default: customer_id if present)"
    )
    src.add_argument(
        "--features", metavar="A,B,...", help="feature columns (default: every column but the id)"
    )
    src.add_argument(
        "--transactions", action="store_true", help="the input is a purchase table: build RFM features"
    )
    src.add_argument(
        "--date-column", default="date", metavar="COL", help="with --transactions (default: date)"
    )
    src.add_argument(
        "--amount-column", default="amount", metavar="COL", help="with --transactions (default: amount)"
    )
    src.add_argument(
        "--order-column", metavar="COL", help="with --transactions: order id (baskets for pair analysis)"
    )
    src.add_argument("--item-column", default="item", metavar="COL",
                     help="with --transactions: product column, for product pairs and recommendations (default: item)")  # fmt: skip
    how = seg.add_argument_group("clustering")
    how.add_argument("--method", choices=["kmeans", "ga", "gmm"], default="kmeans",
                     help="kmeans: k-means++ with 10 inits; ga: genetic-algorithm K-means; "
                     "gmm: Gaussian mixture, full covariances (default kmeans)")  # fmt: skip
    how.add_argument(
        "--k", type=int, help="number of segments (default: the K sweep's recommendation, 3 or more)"
    )
    how.add_argument("--k-range", type=_parse_k_range, default=range(2, 16), metavar="LO-HI",
                     help="K values of the sweep (default 2-15)")  # fmt: skip
    how.add_argument("--no-log", action="store_true", help="do not log-transform skewed money/count columns")
    how.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    out = seg.add_argument_group("output")
    out.add_argument("--out", default="fastseg-output", help="output folder (default ./fastseg-output)")
    out.add_argument("--evaluate", action="store_true",
                     help="also measure the recommendations: leave-one-out hit rate@10 (hit_rate.csv)")  # fmt: skip
    out.add_argument("--quiet", action="store_true", help="print nothing; no progress bar")
    out.add_argument("--write-table", metavar="NAME",
                     help="with a database URL: write customer id, segment, segment_name, method, k and "
                     "run_at to this table of the same database, in one transaction")  # fmt: skip
    out.add_argument("--if-exists", choices=["fail", "replace", "append"], default="fail",
                     help="when the --write-table table exists: fail (default), replace it or append to it")  # fmt: skip
    seg.set_defaults(func=_cmd_segment)

    rep = sub.add_parser("reproduce", help="rerun a paper's experiment and print ours beside its numbers")
    rep.add_argument(
        "experiment", choices=["accuracy"], help="accuracy: Iris/Wine accuracy (GA-K-means Tables 1-2)"
    )
    rep.add_argument(
        "--generations", type=int, default=200, help="GA generations (default 200, as the paper)"
    )
    rep.add_argument("--population", type=int, default=50, help="GA population size (default 50)")
    rep.set_defaults(func=_cmd_reproduce)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError, ImportError) as exc:
        print(f"fastseg: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
