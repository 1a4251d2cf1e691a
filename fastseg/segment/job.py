"""A segmentation job and its result as types: which columns hold what (:class:`Columns`), how to
segment (:class:`Options`) and what a run found (:class:`Segmentation`).

``fastseg segment``, :func:`fastseg.segment.segment_frame` and the database path all build a
:class:`Job` and hand it to :func:`fastseg.segment.run`."""

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from .._pandas import require_pandas as _pandas

# What a blank in a feature column does (``Columns.missing``).
MISSING = ("impute", "drop", "error")
# The heading of the time-ordered holdout metrics (--evaluate), printed and in the report.
HOLDOUT_TITLE = (
    "Recommendations on a time-ordered holdout (each customer's last purchase date): precision@10, recall@10, "
    "catalogue coverage"
)
# The category a blank in a text feature becomes with ``missing='impute'``.
MISSING_CATEGORY = "missing"


@dataclass(frozen=True)
class Columns:
    """Where the input keeps what: the id and feature columns of a customer table or, with
    ``transactions``, the columns of a purchase table (date, amount or quantity x price, order,
    item); ``strict`` turns rows that cannot be used into an error instead of a reported drop;
    ``missing`` says what a blank in a customer table's feature column does: ``impute`` (the
    column's median, or a "missing" category for text), ``drop`` (the customer is left out) or
    ``error``; each counted per column (``files.fill_blanks``). ``fills``: the values to impute
    with instead of the table's own (a saved model's)."""

    id_column: str | None = None
    features: tuple | None = None
    transactions: bool = False
    date_column: str = "date"
    date_format: str | None = None
    amount_column: str | None = None
    quantity_column: str | None = None
    price_column: str | None = None
    order_column: str | None = None
    item_column: str = "item"
    strict: bool = False
    missing: str = "impute"
    fills: dict | None = None
    as_of: str | None = None  # transactions: recency and tenure measured then, later rows left out
    rfm_extra: bool = False  # transactions: tenure_days and avg_order_value besides R, F, M
    portrait: bool = False  # transactions: the GA-K-means paper's purchase features instead of R, F, M
    customers: str | None = None  # transactions: a customer table (file) joined by id, its columns features
    customer_columns: list | None = None  # the columns of ``customers`` to join (default: all but the id)
    events: str | None = None  # transactions: browsing events (file) for hesitation_time
    event_time_column: str = "time"
    event_type_column: str = "event"
    event_item_column: str | None = None  # default: item_column

    def __post_init__(self):
        if self.missing not in MISSING:
            raise ValueError(f"missing must be one of {', '.join(MISSING)}, got {self.missing!r}.")
        features = self.features
        if isinstance(features, str):
            features = [c.strip() for c in features.split(",")]
        if features is not None:
            object.__setattr__(self, "features", tuple(features))

    def as_kwargs(self):
        """The columns as keyword arguments (``features`` a list or None)."""
        out = asdict(self)
        out["features"] = list(self.features) if self.features is not None else None
        return out


@dataclass(frozen=True)
class Options:
    """How to segment: the method, K (None: the sweep's recommendation) and its sweep, the
    preprocessing, the outlier rule, the seed, the clustering space's dtype and the basket
    analysis's minimums. Checked when built: a bad value is a ``ValueError`` naming it."""

    method: str = "kmeans"
    k: int | None = None
    k_range: range = range(2, 16)
    log_transform: bool = True
    min_segment_share: float = 0.02
    min_recommended_k: int = 3
    outlier_sd: float | None = 4.0
    sweep_rows: int | None = 100_000
    random_state: int = 0
    dtype: type = np.float64
    min_pair_count: int = 5
    min_support: float = 0.0
    min_confidence: float = 0.0
    evaluate: bool = False
    probabilities: bool = False  # gmm: one membership column per segment besides ``probability``
    names: str = "features"  # or "rfm": RFM scores and groups (``rfm_scores``)
    rfm_map: tuple | None = (
        None  # the RFM groups to name by (``rfm_scores.read_rfm_map``); None: the classic ones
    )
    gamma: float | None = None  # kprototypes: the weight of a categorical mismatch; None: 0.5

    def __post_init__(self):
        from .sweep import METHODS

        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}.")
        if not 0.0 <= self.min_segment_share < 1.0:
            raise ValueError(f"min_segment_share must be in [0, 1), got {self.min_segment_share}.")
        if self.outlier_sd is not None and not (np.isfinite(self.outlier_sd) and self.outlier_sd >= 0):
            raise ValueError(f"outlier_sd must be a number >= 0 (0: no outliers), got {self.outlier_sd!r}.")
        if self.min_pair_count < 1:
            raise ValueError(f"min_pair_count must be 1 or more, got {self.min_pair_count}.")
        if self.names not in ("features", "rfm"):
            raise ValueError(f"names must be 'features' or 'rfm', got {self.names!r}.")
        if self.rfm_map is not None and self.names != "rfm":
            raise ValueError("rfm_map needs names 'rfm'.")
        if self.gamma is not None and self.method != "kprototypes":
            raise ValueError(f"gamma needs method 'kprototypes', got {self.method!r}.")
        if self.gamma is not None and not (np.isfinite(self.gamma) and self.gamma > 0):
            raise ValueError(f"gamma must be a number > 0, got {self.gamma!r}.")
        if self.probabilities and self.method != "gmm":
            raise ValueError(f"probabilities needs method 'gmm' (a mixture), got {self.method!r}.")
        for name in ("min_support", "min_confidence"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}.")

    def prototype_gamma(self):
        """k-prototypes' weight of a categorical mismatch in the clustering space (None for the
        other methods): ``gamma``, or 0.5, Huang's rule (half the numeric columns' mean standard
        deviation) for standardised columns."""
        if self.method != "kprototypes":
            return None
        return 0.5 if self.gamma is None else float(self.gamma)

    def with_(self, **changes):
        """A copy with ``changes`` (checked again)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Job:
    """One segmentation: the input's columns, the options and, for a refit, the previous run's
    saved model (a ``model.SegmentationModel``) whose segment numbers and names carry over."""

    columns: Columns = field(default_factory=Columns)
    options: Options = field(default_factory=Options)
    previous: object = None


@dataclass
class Segmentation:
    """What a run found.

    Per customer (rows of ``customers``, ids as text in ``id_column``): ``Z`` the clustering
    space, ``clusters`` the model's cluster (0..K-1), ``segments`` the segment number (1..K, or
    the previous model's numbers after a refit with one) and ``outliers``. Per segment
    (keyed by segment number): ``names``, ``feature_profile`` (size, share, mean and median of each
    feature), ``z_means``. The fit: ``model``, ``preprocessor``, ``logged`` columns, ``sweep``
    (the K sweep's table; ``attrs`` hold its recommendation and reason). With purchases holding
    items: ``pairs``, ``recommendations`` and (``evaluate``) ``hit_rate``; after a refit with a
    previous model: ``drift``. A mixture's run keeps ``membership``, each customer's probability
    of each cluster.
    """

    data: object  # files.CustomerData: the customers, their columns, the cleaned purchases, the drops
    options: Options
    Z: np.ndarray
    clusters: np.ndarray
    segment_numbers: np.ndarray
    model: object
    preprocessor: object
    logged: list
    sweep: object
    outliers: np.ndarray
    sweep_rows: int
    feature_profile: object
    z_means: object
    names: dict
    drift: object = None
    pairs: object = None
    recommendations: object = None
    hit_rate: object = None
    recommendation_metrics: object = None
    k_reason: str | None = None  # after a refit with --k omitted: why the previous K was kept or not
    started_from: np.ndarray | None = None  # refit: the previous cluster each cluster started from (-1: new)
    source: object = None  # the caller's table, whose id values ``labels`` gives back
    membership: np.ndarray | None = None  # gmm: (customers, K) probabilities, by cluster
    feature_tests: object = None  # per numeric feature: ANOVA, eta squared, Kruskal-Wallis (profiles)
    rfm_scores: object = None  # names 'rfm': each customer's R, F, M scores (rfm_scores.rfm_scores)

    # -- the run's facts --------------------------------------------------------------------
    @property
    def k(self):
        return int(self.segment_numbers.size)

    @property
    def method(self):
        return self.options.method

    @property
    def segments(self):
        """Segment number of each customer."""
        return self.segment_numbers[self.clusters]

    @property
    def customers(self):
        return self.data.frame

    @property
    def id_column(self):
        return self.data.id_column

    @property
    def features(self):
        return list(self.data.features)

    @property
    def smallest_share(self):
        counts = np.bincount(self.clusters, minlength=self.k)
        return float(counts.min() / max(self.clusters.size, 1))

    @property
    def data_report(self):
        """One row per reason rows were dropped or changed, with the count."""
        return self.data.report.table()

    @property
    def not_separating(self):
        """The numeric features on which the segments do not differ (``profiles.feature_tests``)."""
        if self.feature_tests is None:
            return []
        return list(self.feature_tests.index[~self.feature_tests["separates"]])

    # -- tables -----------------------------------------------------------------------------
    def labels_frame(self, outlier_column=False):
        """Customer id (as the run read it: text), segment number and segment name; with
        ``outlier_column``, whether the customer was an outlier set aside in the fit."""
        out = labels_table(self.customers, self.id_column, self.segments, self.names)
        if self.membership is not None:
            add_membership(
                out, self.membership, self.clusters, self.segment_numbers, self.options.probabilities
            )
        if self.rfm_scores is not None:
            for col in self.rfm_scores.columns:
                out[col] = self.rfm_scores[col].to_numpy()
        if outlier_column:
            out["outlier"] = self.outliers
        return out

    @property
    def labels(self):
        """:meth:`labels_frame` with the ids as the caller's table holds them (a database's
        bigint stays an integer)."""
        return with_source_ids(self.labels_frame(), self.id_column, self.source)

    @property
    def profile(self):
        """The feature profile with each segment's name first."""
        profile = self.feature_profile.copy()
        profile.insert(0, "name", [self.names[s] for s in profile.index])
        return profile

    def table_rows(self, run_at=None):
        """The labels with the run's method, K and time, as ``--write-table`` writes them."""
        return table_rows(self.labels, self.method, self.k, run_at)


@dataclass
class Assignment:
    """Customers labelled with a saved model's segments (``fastseg assign``): ``segments`` per
    customer of ``data``, the model's ``names``, ``method`` and ``k``, and ``unseen``
    ({feature: customers with a category the model never saw}); a mixture's ``membership`` (as
    ``Segmentation``'s) gives ``probability``."""

    data: object
    segments: np.ndarray
    names: dict
    method: str
    k: int
    unseen: dict
    clusters: np.ndarray | None = None
    segment_numbers: np.ndarray | None = None
    membership: np.ndarray | None = None

    @property
    def id_column(self):
        return self.data.id_column

    def labels_frame(self):
        out = labels_table(self.data.frame, self.id_column, self.segments, self.names)
        if self.membership is not None:
            add_membership(out, self.membership, self.clusters, self.segment_numbers, False)
        return out


def labels_table(frame, id_column, segments, names):
    """Customer id, segment number and segment name."""
    pd = _pandas()
    out = pd.DataFrame({id_column: frame[id_column].to_numpy(), "segment": segments})
    out["segment_name"] = out["segment"].map(names)
    return out


def add_membership(labels, membership, clusters, segment_numbers, per_segment):
    """A mixture's labels gain ``probability`` (of the assigned segment) and, with
    ``per_segment``, ``probability_segment_<n>`` for every segment number in order."""
    labels["probability"] = membership[np.arange(clusters.size), clusters]
    if per_segment:
        for cluster in np.argsort(segment_numbers, kind="stable"):
            labels[f"probability_segment_{segment_numbers[cluster]}"] = membership[:, cluster]


def with_source_ids(labels, id_column, source):
    """``labels`` with the ids as ``source`` holds them (type and value), where the run read them
    as text; unchanged when ``source`` is None or has no such column."""
    if source is None or id_column not in source.columns:
        return labels
    from .purchases import ids_as_text

    original = dict(zip(ids_as_text(source[id_column]), source[id_column]))
    return labels.assign(**{id_column: labels[id_column].map(original)})


def table_rows(labels, method, k, run_at=None):
    """``labels`` plus the run's ``method``, ``k`` and ``run_at`` (now, UTC, by default)."""
    out = labels.copy()
    out["method"] = method
    out["k"] = int(k)
    out["run_at"] = run_at or datetime.now(UTC)
    return out
