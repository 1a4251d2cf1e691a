"""The ``fastseg`` command's arguments: the parser of every subcommand (``fastseg.cli`` runs them)."""

import argparse


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
    src.add_argument("--as-of", metavar="DATE",
                     help="with --transactions: measure recency (and tenure) at the end of this day (or "
                     "this time), leaving later purchases out, counted (default: the day after the last "
                     "purchase)")  # fmt: skip
    src.add_argument("--rfm-extra", action="store_true",
                     help="with --transactions: also tenure_days (first purchase to --as-of) and "
                     "avg_order_value (monetary / frequency) as features")  # fmt: skip
    src.add_argument("--customers", metavar="FILE",
                     help="with --transactions: a customer table (CSV or Parquet, one row per --id-column) "
                     "whose columns (gender, age, level, ...) join the purchase features by id")  # fmt: skip
    src.add_argument("--customer-columns", metavar="A,B,...",
                     help="the --customers columns to join (default: all but the id)")  # fmt: skip
    src.add_argument("--events", metavar="FILE",
                     help="with --transactions: browsing events (customer, time, event type, item); adds "
                     "hesitation_time, the median minutes from a first view of an item to its purchase")  # fmt: skip
    src.add_argument(
        "--event-time-column", default="time", metavar="COL", help="--events time column (default time)"
    )
    src.add_argument("--event-type-column", default="event", metavar="COL",
                     help="--events type column: view, cart, favourite, purchase (default event)")  # fmt: skip
    src.add_argument(
        "--event-item-column", metavar="COL", help="--events item column (default: --item-column)"
    )
    src.add_argument("--portrait", action="store_true",
                     help="with --transactions: the GA-K-means paper's purchase features instead of R, F, M: "
                     "monthly_spend, purchase_frequency (per month), purchase_interval_days, purchase_count")  # fmt: skip
    src.add_argument("--missing", choices=["impute", "drop", "error"], default="impute",
                     help="a blank in a customer table's feature column: impute (the column's median, or a "
                     "'missing' category for text; a saved model's values with assign), drop the customer, "
                     "or error; each counted per column (default impute)")  # fmt: skip
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
    how.add_argument("--method", choices=["kmeans", "ga", "gmm", "kprototypes"], default="kmeans",
                     help="kmeans: k-means++ with 10 inits; ga: genetic-algorithm K-means; "
                     "gmm: Gaussian mixture, full covariances; kprototypes: k-prototypes, text features "
                     "as categories (default kmeans)")  # fmt: skip
    how.add_argument("--gamma", type=float, metavar="G",
                     help="with --method kprototypes: the weight of a categorical mismatch against squared "
                     "differences of the standardised numeric features (default 0.5, Huang's rule)")  # fmt: skip
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
    out.add_argument("--no-plots", action="store_true",
                     help="write no PNG plots (and start no plotting process); the report then has no figures")  # fmt: skip
    out.add_argument("--names", choices=["features", "rfm"], default="features",
                     help="features: segments named by the features they stand out on ('high X / low X', "
                     "'recent' / 'lapsed'); rfm: R, F and M scored 1-5 by quintile and segments named by "
                     "the classic RFM groups (Champions, Loyal Customers, At Risk, ...; needs --transactions)")  # fmt: skip
    out.add_argument("--rfm-map", metavar="FILE",
                     help="with --names rfm: a CSV of your own groups (name, recency, frequency, monetary; "
                     "each a score 1-5 or a range such as 4-5), tried in order")  # fmt: skip
    out.add_argument("--probabilities", action="store_true",
                     help="with --method gmm: one column per segment in labels.csv (and --write-table), "
                     "each customer's probability of it, besides 'probability' of the assigned one")  # fmt: skip
    out.add_argument("--evaluate", action="store_true",
                     help="also measure the recommendations: leave-one-out hit rate@10 (hit_rate.csv) and, on each "
                     "customer's last purchase date held out, precision@10, recall@10 and catalogue coverage "
                     "(recommendation_metrics.csv)")  # fmt: skip
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
    asg.set_defaults(demo=False)

    cho = sub.add_parser(
        "choice",
        help="model which option customers choose: a multinomial logit on dummy-coded attributes",
        description="Fit a multinomial logit (MNL) of a choice column (a brand, a channel) on attribute columns "
        "(text, boolean and --factors columns dummy-coded against their first level; numbers as they are), "
        "optionally with each customer's segment from a labels.csv as a covariate; hold out the last rows (as "
        "the precision-marketing paper does) and write choice_coefficients.csv, choice_probabilities.csv and "
        "choice_summary.csv to --out.",
    )
    cho.add_argument("--input", required=True, metavar="FILE", help="CSV or Parquet file, one row per choice")
    cho.add_argument("--sep", metavar="CHAR", help="CSV delimiter (default: sniffed from the header line)")
    cho.add_argument("--choice-column", required=True, metavar="COL", help="the option chosen in each row")
    cho.add_argument("--attributes", required=True, metavar="A,B,...", help="the explaining columns")
    cho.add_argument("--factors", default="", metavar="A,B,...",
                     help="numeric attributes to dummy-code as categories (text ones always are)")  # fmt: skip
    cho.add_argument("--segments", metavar="FILE",
                     help="a labels.csv of fastseg segment: each row's segment (by --id-column) is a covariate")  # fmt: skip
    cho.add_argument("--per-segment", action="store_true",
                     help="one model per segment of --segments instead of the segment as a covariate")  # fmt: skip
    cho.add_argument("--id-column", metavar="COL", help="the customer id column joining --segments (default: "
                     "customer_id)")  # fmt: skip
    cho.add_argument("--holdout", type=float, default=0.3, help="share of the rows held out (default 0.3)")
    cho.add_argument("--split", choices=["ordered", "random"], default="ordered",
                     help="ordered: the last rows are held out, as the paper (default); random: a seeded draw")  # fmt: skip
    cho.add_argument("--seed", type=int, default=0, help="the random split's seed (default 0)")
    cho.add_argument("--out", default="fastseg-choice", help="output folder (default ./fastseg-choice)")
    cho.add_argument("--quiet", action="store_true", help="print nothing")

    rep = sub.add_parser("reproduce", help="rerun a paper's experiment and print ours beside its numbers")
    rep.add_argument(
        "experiment", choices=["accuracy"], help="accuracy: Iris/Wine accuracy (GA-K-means Tables 1-2)"
    )
    rep.add_argument(
        "--generations", type=int, default=200, help="GA generations (default 200, as the paper)"
    )
    rep.add_argument("--population", type=int, default=50, help="GA population size (default 50)")
    return parser


# Library warnings we know, as one line of our own (matched on the start of the message).
