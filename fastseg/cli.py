"""The ``fastseg`` command."""

import argparse
import os
import sys
import time
import warnings


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
    progress = _Progress(not args.quiet)
    data = io.load_customers(
        demo=args.demo, path=args.input, sep=args.sep, id_column=args.id_column,
        features=[c.strip() for c in args.features.split(",")] if args.features else None,
        transactions=args.transactions, date_column=args.date_column, date_format=args.date_format,
        amount_column=args.amount_column, quantity_column=args.quantity_column,
        price_column=args.price_column, order_column=args.order_column, item_column=args.item_column,
        strict=args.strict, seed=args.seed,
    )  # fmt: skip
    if not args.quiet:
        for line in data.report.lines():
            _say(line)
    # Said once the rows are read: a bad file stays a one-line error.
    progress.stage(f"read {len(data.frame)} customers from " + ("the demo data" if args.demo else args.input))
    progress.watch_compilation()
    from fastseg.segment import segment_customers

    t0 = time.perf_counter()
    result = segment_customers(
        data.frame, data.features, k=args.k, k_range=args.k_range, method=args.method, random_state=args.seed,
        log_columns="auto" if not args.no_log else [], min_segment_share=args.min_segment_share,
        outlier_sd=args.outlier_sd, progress=progress,
    )  # fmt: skip
    if data.purchases is not None:
        progress.stage("pairs and recommendations")
    baskets = io.basket_tables(
        data.purchases, data.id_column, result["labels"], data.frame, seed=args.seed, evaluate=args.evaluate,
        min_pair_count=args.min_pair_count, min_support=args.min_support, min_confidence=args.min_confidence, item_column=data.item_column,
    )  # fmt: skip
    progress.stage(f"writing {args.out}/")
    extra = {"data_report.csv": data.report.table(), **(baskets or {})}
    files = io.write_outputs(
        args.out, data.frame, data.id_column, data.features, result, extra=extra, notes=data.report.notes
    )
    elapsed = time.perf_counter() - t0
    if args.quiet:
        return 0
    print(io.describe(data.frame, data.id_column, data.features, result, data.truth, args.demo, baskets))
    print(
        f"\nSegmented {len(data.frame)} customers into {result['k']} segments ({args.method}) in {elapsed:.1f} s."
    )
    print(f"Files in {args.out}/: " + ", ".join(f.name for f in files))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="fastseg",
        description="Customer segmentation: K-means, GA-K-means and Gaussian mixtures on Numba kernels.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    seg = sub.add_parser(
        "segment",
        help="segment customers: K sweep, clustering, profiles, names and plots",
        description="Segment customers and write labels, profiles and plots to an output folder. "
        "Input is a customer table (one row per customer, feature columns) or, with --transactions, "
        "a purchase table from which recency/frequency/monetary features are built.",
    )
    src = seg.add_argument_group("input")
    src.add_argument("--demo", action="store_true", help="use the built-in synthetic customers (4000 rows)")
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
