"""The ``fastseg`` command."""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path


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


def _say(line):
    print(f"fastseg: {line}", file=sys.stderr)


def _column_options(args, features):
    """The column flags as keyword arguments of ``load_customers`` / ``customers_from_table``."""
    return dict(
        id_column=args.id_column, features=features, transactions=args.transactions,
        date_column=args.date_column, date_format=args.date_format, amount_column=args.amount_column,
        quantity_column=args.quantity_column, price_column=args.price_column,
        order_column=args.order_column, item_column=args.item_column, strict=args.strict,
    )  # fmt: skip


def _cmd_segment(args):
    from fastseg.segment import files as io

    if args.demo == bool(args.input):
        raise ValueError("give either --demo or --input FILE")
    if not 0.0 <= args.min_segment_share < 1.0:
        raise ValueError(f"--min-segment-share must be in [0, 1), got {args.min_segment_share}")
    if args.min_pair_count < 1:
        raise ValueError(f"--min-pair-count must be 1 or more, got {args.min_pair_count}")
    for flag, value in (("--min-support", args.min_support), ("--min-confidence", args.min_confidence)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{flag} must be in [0, 1], got {value}")
    if not args.outlier_sd >= 0:
        raise ValueError(f"--outlier-sd must be 0 (off) or more, got {args.outlier_sd}")
    previous = None
    if args.previous:
        from fastseg.segment.model import load_model

        previous = load_model(args.previous)  # a bad model file stops the run before any work
    progress = _Progress(not args.quiet)
    database = _read_database(args)
    options = _column_options(args, [c.strip() for c in args.features.split(",")] if args.features else None)
    if database:  # the rows read take the path of a file's rows
        data = io.customers_from_table(database["frame"], **options)
    else:
        data = io.load_customers(demo=args.demo, path=args.input, sep=args.sep, seed=args.seed, **options)
    if not args.quiet:
        for line in data.report.lines():
            _say(line)
    # Said once the rows are read: a bad file stays a one-line error.
    progress.stage(f"read {len(data.frame)} customers from " + _source_name(args, database))
    progress.watch_compilation()
    from fastseg.segment.plots import PlotProcess

    # A second process imports matplotlib now and draws the plots while this one goes on; on a
    # first run it also compiles the pair and recommendation kernels while this one clusters.
    plots = PlotProcess(compile_basket=data.purchases is not None and _basket_kernels_missing())
    try:
        return _segment_and_write(args, progress, database, data, previous, plots)
    finally:
        plots.close()


def _basket_kernels_missing():
    """Whether Numba's cache lacks the pair and recommendation kernels (a first run)."""
    from fastseg.basket.first_run import kernels_cached

    return kernels_cached() is False


def _segment_and_write(args, progress, database, data, previous, plots):
    """Cluster, then pairs and recommendations, the output folder, the database table and the summary."""
    from fastseg.segment import files as io
    from fastseg.segment import segment_customers

    t0 = time.perf_counter()
    result = segment_customers(
        data.frame, data.features, k=args.k, k_range=args.k_range, method=args.method, random_state=args.seed,
        log_columns="auto" if not args.no_log else [], min_segment_share=args.min_segment_share,
        outlier_sd=args.outlier_sd, progress=progress,
    )  # fmt: skip
    if previous is not None:
        from fastseg.segment.drift import follow_previous

        result = follow_previous(result, previous, data.frame, ids=data.frame[data.id_column])
    plots.draw(
        result["sweep"], result["z_means"], result["names"], result["Z"], result["segments"], result["k"]
    )
    if data.purchases is not None:
        progress.stage("pairs and recommendations")
    baskets = io.basket_tables(
        data.purchases, data.id_column, result["segments"], data.frame, seed=args.seed, evaluate=args.evaluate,
        min_pair_count=args.min_pair_count, min_support=args.min_support, min_confidence=args.min_confidence, item_column=data.item_column,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    if database and args.write_table:
        progress.stage(f"writing table {args.write_table}")
    written_table = _write_database(args, database, data, result)
    run = _run_facts(args, database, data, result, seconds, written_table)
    progress.stage(f"writing {args.out}/")
    extra = {"data_report.csv": data.report.table(), **(baskets or {})}
    if previous is not None:
        extra["drift.csv"] = result["drift"].reset_index()
    if args.save_model:
        from fastseg.segment.model import model_from_result

        model_from_result(result, ids=data.frame[data.id_column]).save(args.save_model)
    files = io.write_outputs(
        args.out, data.frame, data.id_column, data.features, result, extra=extra, notes=data.report.notes,
        finish=_report(run), plots=plots,
    )  # fmt: skip
    elapsed = time.perf_counter() - t0
    if args.quiet:
        return 0
    print(io.describe(data.frame, data.id_column, data.features, result, data.truth, args.demo, baskets))
    if previous is not None:
        print("\n" + _drift_summary(result["drift"], args.previous))
    if args.save_model:
        print(f"\nModel saved to {args.save_model} (assign new customers with: fastseg assign --model ...).")
    print(
        f"\nSegmented {len(data.frame)} customers into {result['k']} segments ({args.method}) in {elapsed:.1f} s."
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


def _write_database(args, database, data, result, method=None):
    """Labels, method, K and run time into --write-table, in one transaction; its description."""
    if not (database and args.write_table):
        return None
    from fastseg.segment import db
    from fastseg.segment.files import labels_frame
    from fastseg.segment.pipeline import table_rows, with_source_ids

    id_column = data.id_column
    labels = labels_frame(data.frame, id_column, result["segments"], result["names"])
    rows = table_rows(
        with_source_ids(labels, id_column, database["frame"]), method or args.method, result["k"]
    )
    types = database["column_types"]
    types = {id_column: types[id_column]} if id_column in types else None
    n = db.write_table(args.input, args.write_table, rows, if_exists=args.if_exists, column_types=types)
    return f"{args.write_table} ({n:,} rows, --if-exists {args.if_exists})"


def _run_facts(args, database, data, result, seconds, written_table):
    """What the report says about the run."""
    if args.demo:
        source, rows_read = "built-in synthetic customers (--demo)", len(data.frame)
    elif database:
        what = f"table {args.table}" if args.table else f"query: {args.query}"
        source, rows_read = f"{_source_name(args, database)}, {what}", len(database["frame"])
    else:
        rows_read = None  # the data report says what was read and dropped
        source = args.input
    return {
        "source": source,
        "rows_read": rows_read,
        "customers": len(data.frame),
        "transactions": bool(args.transactions),
        "id_column": data.id_column,
        "features": list(data.features),
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


def _drift_summary(drift, path):
    """What changed since the previous model, in a few lines."""
    kept = drift[drift["status"] == "kept"]
    lines = [f"Against the previous model ({path}): {len(kept)} segments kept their numbers and names."]
    for status, what in (("new", "New segments"), ("vanished", "Vanished segments")):
        rows = drift[drift["status"] == status]
        if len(rows):
            lines.append(f"{what}: " + ", ".join(f"{s} ({name})" for s, name in rows["name"].items()))
    both = drift.attrs.get("customers_in_both", 0)
    if both:
        lines.append(
            f"Of {both:,} customers in both runs, {drift.attrs['changed_share']:.1%} changed segment (drift.csv)."
        )
    return "\n".join(lines)


def _cmd_assign(args):
    from fastseg.segment import files as io
    from fastseg.segment.model import load_model

    model = load_model(args.model)
    if not args.input:
        raise ValueError("give --input FILE or a database URL with the customers to assign")
    if args.features and [c.strip() for c in args.features.split(",")] != model.features:
        raise ValueError(f"the model's features are {','.join(model.features)}; leave out --features")
    progress = _Progress(not args.quiet)
    database = _read_database(args)
    options = _column_options(args, None if args.transactions else model.features)
    if database:
        data = io.customers_from_table(database["frame"], **options)
    else:
        data = io.load_customers(path=args.input, sep=args.sep, **options)
    progress.stage(f"read {len(data.frame)} customers from {_source_name(args, database)}")
    segments, unseen = model.assign(data.frame)
    report = data.report.table()
    for feature, rows in unseen.items():
        line = f"a {feature!r} value the model never saw (assigned with that feature's one-hot columns at 0)"
        report.loc[len(report)] = [line, rows]
        data.report.note(f"{rows:,} customers have {line}")
    if not args.quiet:
        for line in data.report.lines():
            _say(line)
    from fastseg._pandas import require_pandas
    from fastseg.segment.files import labels_frame

    pd = require_pandas()
    labels = labels_frame(data.frame, data.id_column, segments, model.names)
    written_table = _write_database(
        args, database, data, {"segments": segments, "names": model.names, "k": model.k}, method=model.method
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    labels.to_csv(out / "labels.csv", index=False)
    report.to_csv(out / "data_report.csv", index=False)
    if args.quiet:
        return 0
    counts = labels["segment"].value_counts().reindex(sorted(model.names), fill_value=0)
    table = pd.DataFrame(
        {"name": [model.names[s] for s in counts.index], "customers": counts.to_numpy(),
         "share": [f"{v:.1%}" for v in counts.to_numpy() / max(len(labels), 1)],
         "share in the fit": [f"{model.shares[s]:.1%}" for s in counts.index]},
        index=counts.index.rename("segment"),
    )  # fmt: skip
    print(io.markdown_table(table))
    print(
        f"\nAssigned {len(labels)} customers to the {model.k} segments of {args.model} "
        f"({model.method}, written by fastseg {model.version}). Files in {args.out}/: labels.csv, data_report.csv"
    )
    if written_table:
        print(f"Segments written to table {written_table}.")
    return 0


def _input_flags(parser, demo):
    """The input and column flags of ``segment`` and ``assign``: one set, the same meanings."""
    src = parser.add_argument_group("input")
    if demo:
        src.add_argument(
            "--demo", action="store_true", help="use the built-in synthetic customers (4000 rows)"
        )
    src.add_argument("--input", metavar="FILE",
                     help="CSV (, ; tab or | delimited, optionally gzip-compressed) or Parquet file")  # fmt: skip
    src.add_argument("--sep", metavar="CHAR", help="CSV delimiter (default: sniffed from the header line)")
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
    src.add_argument("--date-format", metavar="FMT",
                     help="strptime format of the dates, e.g. '%%d/%%m/%%Y %%H:%%M' (default: one format "
                     "inferred for the whole column)")  # fmt: skip
    src.add_argument("--amount-column", metavar="COL",
                     help="with --transactions: amount of each row (default: amount, if present)")  # fmt: skip
    src.add_argument("--quantity-column", metavar="COL",
                     help="with --transactions: quantity; amount = quantity x --price-column, or, without "
                     "a price, monetary = items bought")  # fmt: skip
    src.add_argument("--price-column", metavar="COL", help="with --transactions: unit price")
    src.add_argument("--order-column", metavar="COL",
                     help="with --transactions: order id (default: a basket is one customer's purchases "
                     "on one day)")  # fmt: skip
    src.add_argument("--item-column", default="item", metavar="COL",
                     help="with --transactions: product column, for product pairs and recommendations (default: item)")  # fmt: skip
    src.add_argument("--strict", action="store_true",
                     help="stop with an error instead of dropping rows that cannot be used")  # fmt: skip
    return src


def _database_flags(parser):
    dbs = parser.add_argument_group(
        "database",
        "--input also takes a database URL: sqlite:///shop.db, postgresql://user@host:5432/db, "
        "any SQLAlchemy URL whose driver is installed",
    )
    dbs.add_argument("--table", metavar="NAME", help="with a database URL: read this table (or schema.table)")
    dbs.add_argument("--query", metavar="SQL", help="with a database URL: read the rows of this SELECT")
    dbs.add_argument("--write-table", metavar="NAME",
                     help="write customer id, segment, segment_name, method, k and run_at to this table of "
                     "the same database, in one transaction")  # fmt: skip
    dbs.add_argument("--if-exists", choices=["fail", "replace", "append"], default="fail",
                     help="when the --write-table table exists: fail (default), replace it or append to it")  # fmt: skip
    return dbs


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
    _input_flags(seg, demo=True)
    _database_flags(seg)
    how = seg.add_argument_group("clustering")
    how.add_argument("--method", choices=["kmeans", "ga", "gmm"], default="kmeans",
                     help="kmeans: k-means++ with 10 inits; ga: genetic-algorithm K-means; "
                     "gmm: Gaussian mixture, full covariances (default kmeans)")  # fmt: skip
    how.add_argument(
        "--k", type=int, help="number of segments (default: the K sweep's recommendation, 3 or more)"
    )
    how.add_argument("--k-range", type=_parse_k_range, default=range(2, 16), metavar="LO-HI",
                     help="K values of the sweep (default 2-15)")  # fmt: skip
    how.add_argument("--min-segment-share", type=float, default=0.02, metavar="SHARE",
                     help="the K sweep recommends no K with a segment under this share (default 0.02)")  # fmt: skip
    how.add_argument("--outlier-sd", type=float, default=4.0, metavar="SD",
                     help="customers further out than this many SDs on a feature (after the transforms) are "
                     "outliers: fitted without, then given their nearest segment (default 4; 0: off)")  # fmt: skip
    how.add_argument("--no-log", action="store_true", help="do not log-transform skewed money/count columns")
    how.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    out = seg.add_argument_group("output")
    out.add_argument("--out", default="fastseg-output", help="output folder (default ./fastseg-output)")
    out.add_argument("--evaluate", action="store_true",
                     help="also measure the recommendations: leave-one-out hit rate@10 (hit_rate.csv)")  # fmt: skip
    pairs = seg.add_argument_group("product pairs")
    pairs.add_argument("--min-pair-count", type=int, default=5, metavar="N",
                       help="a pair is shown when bought together in at least N baskets (default 5)")  # fmt: skip
    pairs.add_argument("--min-support", type=float, default=0.0, metavar="S",
                       help="and in at least this share of the segment's baskets (default 0)")  # fmt: skip
    pairs.add_argument("--min-confidence", type=float, default=0.0, metavar="C",
                       help="and with confidence at least C one way (default 0)")  # fmt: skip
    out.add_argument("--quiet", action="store_true", help="print nothing; no progress bar")
    keep = seg.add_argument_group("segments over time")
    keep.add_argument("--save-model", metavar="PATH",
                      help="save the fitted segmentation (preprocessing, model, segment numbers and names) "
                      "to one file, for fastseg assign and --previous")  # fmt: skip
    keep.add_argument("--previous", metavar="PATH",
                      help="a model saved by an earlier run: segments that persist keep its numbers and "
                      "names; drift.csv says what changed")  # fmt: skip
    seg.set_defaults(func=_cmd_segment)

    asg = sub.add_parser(
        "assign",
        help="label new customers with a saved segmentation (no refit)",
        description="Label customers with the segments of a model saved by fastseg segment --save-model: "
        "exactly its preprocessing, its centres or mixture, its segment numbers and names. Writes labels.csv "
        "and data_report.csv to --out.",
    )
    asg.add_argument(
        "--model", required=True, metavar="PATH", help="a model file from fastseg segment --save-model"
    )
    _input_flags(asg, demo=False)
    _database_flags(asg)
    asg.add_argument("--out", default="fastseg-assigned", help="output folder (default ./fastseg-assigned)")
    asg.add_argument("--quiet", action="store_true", help="print nothing")
    asg.set_defaults(func=_cmd_assign, demo=False)

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


# Library warnings we know, as one line of our own (matched on the start of the message).
_KNOWN_WARNINGS = {
    "Could not infer format": "dates were read value by value: give --date-format",
    "Columns (": "a column mixes numbers and text: its values were read as text",
    "Number of distinct clusters": "fewer distinct customers than segments: some segments are empty",
    "invalid value encountered": "a computation met NaN or infinite values",
}


def _report_warnings(caught):
    seen = set()
    for w in caught:
        text = str(w.message).strip().splitlines()[0] if str(w.message).strip() else type(w.message).__name__
        line = next((ours for start, ours in _KNOWN_WARNINGS.items() if text.startswith(start)), text)
        if line not in seen:
            seen.add(line)
            _say(f"warning: {line}")


def main(argv=None):
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            status = args.func(args)
        except (ValueError, TypeError, OSError, ImportError) as exc:
            _say("error: " + "; ".join(line.strip() for line in str(exc).splitlines() if line.strip()))
            status = 2
        except KeyboardInterrupt:
            _say("interrupted")
            status = 130
        except Exception as exc:  # a bug of ours: one line, not a traceback, unless asked for
            if os.environ.get("FASTSEG_DEBUG"):
                raise
            _say(f"error: unexpected {type(exc).__name__}: {exc} (FASTSEG_DEBUG=1 shows the traceback)")
            status = 1
    if not getattr(args, "quiet", False):
        _report_warnings(caught)
    return status


if __name__ == "__main__":
    sys.exit(main())
