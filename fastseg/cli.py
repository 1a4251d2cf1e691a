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
        self._unwatch = None

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

        self._unwatch = on_compile_start(first_compile)

    def close(self):
        """Stop watching compilation (the command ended)."""
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None

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


def _columns(args, features, fills=None):
    """The column flags as a ``job.Columns`` (``fills``: a saved model's fill values)."""
    from fastseg.segment.job import Columns

    if (args.portrait or args.customers or args.events) and not args.transactions:
        flag = "--portrait" if args.portrait else "--customers" if args.customers else "--events"
        raise ValueError(f"{flag} builds features from purchases: it needs --transactions.")
    return Columns(
        id_column=args.id_column, features=features, transactions=args.transactions,
        date_column=args.date_column, date_format=args.date_format, amount_column=args.amount_column,
        quantity_column=args.quantity_column, price_column=args.price_column,
        order_column=args.order_column, item_column=args.item_column, strict=args.strict,
        missing=args.missing, fills=fills, as_of=args.as_of, rfm_extra=args.rfm_extra,
        portrait=args.portrait, customers=args.customers, events=args.events,
        event_time_column=args.event_time_column, event_type_column=args.event_type_column,
        event_item_column=args.event_item_column,
        customer_columns=[c.strip() for c in args.customer_columns.split(",")] if args.customer_columns else None,
    )  # fmt: skip


def _options(args):
    """The clustering and basket flags as a ``job.Options`` (a bad value names its flag)."""
    from fastseg.segment.job import Options
    from fastseg.segment.rfm_scores import read_rfm_map

    rfm_map = read_rfm_map(args.rfm_map) if args.rfm_map else None
    try:
        return Options(
            method=args.method, k=args.k, k_range=args.k_range, log_transform=not args.no_log,
            min_segment_share=args.min_segment_share, outlier_sd=args.outlier_sd, random_state=args.seed,
            min_pair_count=args.min_pair_count, min_support=args.min_support,
            min_confidence=args.min_confidence, evaluate=args.evaluate, probabilities=args.probabilities,
            names=args.names, rfm_map=rfm_map, gamma=args.gamma,
        )  # fmt: skip
    except ValueError as exc:  # "min_pair_count must ..." -> "--min-pair-count must ..."
        name, _, rest = str(exc).partition(" ")
        raise ValueError(f"--{name.replace('_', '-')} {rest.rstrip('.')}") from None


def _features(args):
    return [c.strip() for c in args.features.split(",")] if args.features else None


def _read(args, database, columns):
    """The customers of the demo, a file or the rows read from a database."""
    from fastseg.segment import files

    if database:  # the rows read take the path of a file's rows
        return files.customers_from_table(database["frame"], columns)
    return files.load_customers(
        demo=args.demo, path=args.input, sep=args.sep, seed=getattr(args, "seed", 0), columns=columns
    )


def _cmd_segment(args):
    from fastseg.segment.job import Job

    if args.demo == bool(args.input):
        raise ValueError("give either --demo or --input FILE")
    options = _options(args)
    previous = None
    if args.previous:
        from fastseg.segment.model import load_model

        previous = load_model(args.previous)  # a bad model file stops the run before any work
    progress = _Progress(not args.quiet)
    database = _read_database(args)
    data = _read(args, database, _columns(args, _features(args)))
    if previous is not None:  # before any work or output
        from fastseg.segment.warm import check_features

        check_features(previous, data.features)
    if not args.quiet:
        for line in data.report.lines():
            _say(line)
    # Said once the rows are read: a bad file stays a one-line error.
    progress.stage(f"read {len(data.frame)} customers from " + _source_name(args, database))
    progress.watch_compilation()
    from fastseg.segment.plots import NoPlots, PlotProcess

    # A second process imports matplotlib now and draws the plots while this one goes on; on a
    # first run it also compiles the pair and recommendation kernels while this one clusters.
    if args.no_plots:
        plots = NoPlots()
    else:
        plots = PlotProcess(compile_basket=data.purchases is not None and _basket_kernels_missing())
    try:
        return _segment_and_write(
            args, progress, database, data, Job(options=options, previous=previous), plots
        )
    finally:
        plots.close()
        progress.close()


def _basket_kernels_missing():
    """Whether Numba's cache lacks the pair and recommendation kernels (a first run)."""
    from fastseg.basket.first_run import kernels_cached

    return kernels_cached() is False


def _segment_and_write(args, progress, database, data, job, plots):
    """Run the job, then the output folder, the database table and the summary."""
    from fastseg.segment import outputs
    from fastseg.segment.workflow import run

    t0 = time.perf_counter()
    said = len(data.report.notes)
    result = run(data, job, progress=progress, on_clustered=lambda r: plots.draw(*outputs.plot_inputs(r)))
    if not args.quiet:
        for line in data.report.notes[said:]:  # what the refit found (a category the previous model lacks)
            _say(line)
    seconds = time.perf_counter() - t0
    written_table = None
    if database and args.write_table:
        progress.stage(f"writing table {args.write_table}")
        written_table = outputs.write_database(
            args.input, args.write_table, result, source=database["frame"],
            column_types=database["column_types"], if_exists=args.if_exists,
        )  # fmt: skip
    source, rows_read = _source_facts(args, database, data)
    facts = outputs.report_facts(
        result, source=source, rows_read=rows_read, transactions=args.transactions, seconds=seconds,
        written_table=written_table,
    )  # fmt: skip
    progress.stage(f"writing {args.out}/")
    if args.save_model:
        from fastseg.segment.model import model_from_result

        model_from_result(result, ids=result.customers[result.id_column]).save(args.save_model)
    files = outputs.write_folder(args.out, result, finish=outputs.report_writer(facts), plots=plots)
    elapsed = time.perf_counter() - t0
    if args.quiet:
        return 0
    print(outputs.describe(result, demo=args.demo))
    if result.drift is not None:
        from fastseg.segment.drift import describe_drift

        print("\n" + describe_drift(result.drift, args.previous))
    if args.save_model:
        print(f"\nModel saved to {args.save_model} (assign new customers with: fastseg assign --model ...).")
    print(
        f"\nSegmented {len(data.frame)} customers into {result.k} segments ({args.method}) in {elapsed:.1f} s."
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


def _source_facts(args, database, data):
    """(the input as the report names it, rows read from it or None when the data report says)."""
    if args.demo:
        return "built-in synthetic customers (--demo)", len(data.frame)
    if database:
        what = f"table {args.table}" if args.table else f"query: {args.query}"
        return f"{_source_name(args, database)}, {what}", len(database["frame"])
    return args.input, None


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


def _cmd_assign(args):
    from fastseg.segment.model import load_model
    from fastseg.segment.outputs import assigned_table

    model = load_model(args.model)
    if not args.input:
        raise ValueError("give --input FILE or a database URL with the customers to assign")
    if args.features and _features(args) != model.features:
        raise ValueError(f"the model's features are {','.join(model.features)}; leave out --features")
    progress = _Progress(not args.quiet)
    database = _read_database(args)
    data = _read(args, database, _columns(args, None if args.transactions else model.features, model.fills))
    progress.stage(f"read {len(data.frame)} customers from {_source_name(args, database)}")
    result = model.assigned(data)
    report = data.report.table()
    for feature, rows in result.unseen.items():
        line = f"a {feature!r} value the model never saw (assigned with that feature's one-hot columns at 0)"
        report.loc[len(report)] = [line, rows]
        data.report.note(f"{rows:,} customers have {line}")
    if not args.quiet:
        for line in data.report.lines():
            _say(line)
    written_table = None
    if database and args.write_table:
        from fastseg.segment.outputs import write_database

        written_table = write_database(
            args.input, args.write_table, result, source=database["frame"],
            column_types=database["column_types"], if_exists=args.if_exists,
        )  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result.labels_frame().to_csv(out / "labels.csv", index=False)
    report.to_csv(out / "data_report.csv", index=False)
    if args.quiet:
        return 0
    print(assigned_table(result, model))
    print(
        f"\nAssigned {len(data.frame)} customers to the {model.k} segments of {args.model} "
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


def _cmd_choice(args):
    from fastseg.choice import fit_choice, fit_choice_per_segment, per_segment_tables, summary_table
    from fastseg.segment.files import read_table
    from fastseg.segment.outputs import markdown_table
    from fastseg.segment.purchases import DataReport

    report = DataReport()
    id_column = args.id_column or "customer_id"
    if args.per_segment and not args.segments:
        raise ValueError("--per-segment needs --segments (a labels.csv).")
    frame = read_table(args.input, sep=args.sep, text_columns=[id_column], report=report)
    segment = None
    if args.segments:
        frame, segment = _join_segments(frame, args.segments, id_column, report)
    options = dict(
        factors=_list(args.factors),
        holdout=args.holdout,
        split=args.split,
        random_state=args.seed,
        report=report,
    )
    if args.per_segment:
        models = fit_choice_per_segment(frame, args.choice_column, _list(args.attributes), segment, **options)
        coefficients, probabilities, summary = per_segment_tables(models)
        notes = sorted({note for m in models.values() for note in m.notes})
    else:
        model = fit_choice(frame, args.choice_column, _list(args.attributes), segment=segment, **options)
        coefficients, probabilities, summary = model.coefficients, model.probabilities, summary_table(model)
        models, notes = {"all": model}, model.notes
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    coefficients.to_csv(out / "choice_coefficients.csv", index=False)
    probabilities.to_csv(out / "choice_probabilities.csv", index=False)
    summary.to_csv(out / "choice_summary.csv", index=False)
    report.table().to_csv(out / "data_report.csv", index=False)
    if args.quiet:
        return 0
    for line in report.lines() + list(notes):
        _say(line)
    for g, model in models.items():
        title = "" if g == "all" and not args.per_segment else f"Segment {g}: "
        print(f"{title}Multinomial logit of {args.choice_column!r} ({len(model.options)} options, against "
              f"{model.base!r}) on {len(model.terms)} terms:\n")  # fmt: skip
        table = summary_table(model)
        shown = table.assign(**{c: [_figure(v) for v in table[c]] for c in ("ours", "paper")})
        print(markdown_table(shown.set_index("measure")) + "\n")
    shown = coefficients[coefficients["term"] != "const"]
    shown = shown.set_index("segment" if args.per_segment else "option")
    print("Coefficients (all in choice_coefficients.csv):\n")
    print(markdown_table(shown, "{:.3f}"))
    print(
        f"\nFiles in {args.out}/: choice_coefficients.csv, choice_probabilities.csv, choice_summary.csv, data_report.csv"
    )
    return 0


def _figure(value):
    if value != value:  # NaN: the paper gives none
        return ""
    return f"{value:,.0f}" if float(value).is_integer() and abs(value) >= 1 else f"{value:.4g}"


def _list(text):
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def _join_segments(frame, path, id_column, report):
    """``frame`` with the ``segment`` of each row's customer from a labels.csv (ids as exact
    text); rows whose customer has no segment are left out and counted."""
    from fastseg.segment.files import read_table
    from fastseg.segment.purchases import ids_as_text

    labels = read_table(path, text_columns=[id_column])
    for col in (id_column, "segment"):
        if col not in labels.columns:
            raise ValueError(f"--segments file {path!r} has no column {col!r}.")
        if col == id_column and col not in frame.columns:
            raise ValueError(f"no id column {col!r} in the input to join --segments on (give --id-column).")
    if labels[id_column].duplicated().any():
        raise ValueError(f"--segments file {path!r} lists a customer more than once.")
    segment_of = dict(zip(ids_as_text(labels[id_column]), labels["segment"].astype(str)))
    segments = ids_as_text(frame[id_column]).map(segment_of)
    report.drop(f"a customer not in {Path(path).name}", segments.isna().sum())
    column = "segment" if "segment" not in frame.columns else "segment_"
    frame = frame.assign(**{column: segments})[segments.notna().to_numpy()].reset_index(drop=True)
    if frame.empty:
        raise ValueError(f"no row's customer is in {path!r}.")
    return frame, column


COMMANDS = {
    "segment": _cmd_segment,
    "assign": _cmd_assign,
    "choice": _cmd_choice,
    "reproduce": _cmd_reproduce,
}


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
