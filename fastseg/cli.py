"""The ``fastseg`` command."""

import os
import sys
import time
import warnings
from pathlib import Path

from ._arguments import build_parser


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
        from ._kernels._numba import on_compile_start

        def first_compile():
            if not self._compiling:
                self._compiling = True
                if self.bars:
                    sys.stderr.write("\n")
                sys.stderr.write(
                    f"fastseg: compiling kernels on first use, cached for later runs "
                    f"({time.perf_counter() - self.t0:.1f} s)\n"
                )
                sys.stderr.flush()

        on_compile_start(first_compile)

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
        from fastseg.segment.drift import describe_drift

        print("\n" + describe_drift(result["drift"], args.previous))
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

    labels = labels_frame(data.frame, data.id_column, result["segments"], result["names"])
    n = db.write_labels(
        args.input, args.write_table, labels, data.id_column, method or args.method, result["k"],
        source=database["frame"], column_types=database["column_types"], if_exists=args.if_exists,
    )  # fmt: skip
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


COMMANDS = {"segment": _cmd_segment, "assign": _cmd_assign, "reproduce": _cmd_reproduce}


def main(argv=None):
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            status = COMMANDS[args.command](args)
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
