"""Which option customers choose: a multinomial logit (MNL) of a choice column on dummy-coded
attributes, as the big-data precision-marketing paper fits brand choice, with the customer's
segment as a covariate.

The probabilities and the holdout accuracy come from scikit-learn's ``LogisticRegression``
(multinomial, unpenalised); the standard errors, p-values and likelihood-ratio test from
statsmodels' ``MNLogit`` on the same training rows (``pip install 'fastseg[choice]'``). Both
maximise the same likelihood, so their coefficients agree.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np

from ._pandas import require_pandas as _pandas
from .segment.files import blanks
from .segment.purchases import ids_as_text as _as_text

# The paper's setting: the first 70% of its groups train the model, the other 30% test it; its
# likelihood-ratio statistic and p-value.
PAPER = {"holdout": 0.3, "split": "ordered (the first 70% of the groups)", "lr": 6.93, "lr_p": 0.0743}
ROWS_PER_PARAMETER = 10


@dataclass
class ChoiceModel:
    """A fitted choice model: ``coefficients`` (option, term, coefficient, se, z, p; against the
    ``base`` option), ``probabilities`` (per segment and option: observed share and mean
    predicted probability, over all rows and over the held-out rows), ``summary`` (name ->
    value: rows, holdout accuracy beside the majority option's, the likelihood-ratio test) and the
    scikit-learn estimator with its design columns (``predict_proba``)."""

    coefficients: object
    probabilities: object
    summary: dict
    options: list
    base: str
    terms: list
    estimator: object = None
    notes: list = field(default_factory=list)

    def predict_proba(self, frame):
        """Each option's probability for the rows of ``frame`` (its attribute columns)."""
        X, _ = _design(frame, self._spec)
        return self.estimator.predict_proba(X)


def _spec_of(frame, attributes, factors, segment):
    """How each attribute enters the design: ('number', column) or ('factor', column, levels),
    the first level (sorted) the reference."""
    pd = _pandas()
    spec = []
    for col in attributes:
        s = frame[col]
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        if numeric and col not in factors:
            spec.append(("number", col, None))
            continue
        levels = sorted(_as_text(s).unique().tolist())
        if len(levels) < 2:
            raise ValueError(
                f"attribute {col!r} has a single value ({levels[0]!r}): it cannot explain a choice."
            )
        spec.append(("factor", col, levels))
    if segment is not None:
        levels = sorted(_as_text(frame[segment]).unique().tolist())
        if len(levels) >= 2:
            spec.append(("factor", segment, levels))
    return spec


def _design(frame, spec):
    """The design matrix (rows, terms) float64 and the term names: numbers as they are, factors
    as 0/1 columns of every level but the first."""
    columns, names = [], []
    for kind, col, levels in spec:
        if kind == "number":
            columns.append(frame[col].to_numpy(dtype=float))
            names.append(col)
            continue
        text = _as_text(frame[col]).to_numpy(dtype=object)
        for level in levels[1:]:
            columns.append((text == level).astype(float))
            names.append(f"{col}={level}")
    return np.column_stack(columns) if columns else np.empty((len(frame), 0)), names


def _split(n, holdout, split, random_state):
    """(training rows, held-out rows) positions: the first rows train (``ordered``, as the paper)
    or a seeded random share is held out (``random``)."""
    n_test = int(round(n * holdout))
    if split == "ordered":
        return np.arange(n - n_test), np.arange(n - n_test, n)
    order = np.random.default_rng(random_state).permutation(n)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def _separating_term(X, y, names):
    """A 0/1 term whose rows (at least two) all chose one option, or None."""
    for j, name in enumerate(names):
        on = X[:, j] == 1
        if "=" in name and on.sum() >= 2 and np.unique(y[on]).size == 1 and np.unique(y).size > 1:
            return name
    return None


def fit_choice(
    frame,
    choice,
    attributes,
    *,
    factors=(),
    segment=None,
    holdout=0.3,
    split="ordered",
    random_state=0,
    standard_errors=True,
    report=None,
):
    """Fit an MNL of the ``choice`` column of ``frame`` on its ``attributes`` (text, boolean and
    ``factors`` columns dummy-coded against their first level; numbers as they are) and, with
    ``segment`` (a column), the segment as a covariate. ``holdout`` of the rows are held out
    (``split`` 'ordered': the last rows, as the paper; 'random': a seeded draw). Rows with a blank
    choice or attribute are left out and counted in ``report`` (a ``DataReport``).
    ``standard_errors``: also fit statsmodels' ``MNLogit`` (when installed) for SE, p and the
    likelihood-ratio test. Returns a :class:`ChoiceModel`."""
    pd = _pandas()
    from sklearn.linear_model import LogisticRegression

    from .segment.purchases import DataReport

    report = report if report is not None else DataReport()
    attributes = [a for a in attributes if a]
    factors = set(factors)
    if not attributes:
        raise ValueError("give at least one attribute column.")
    if choice in attributes:
        raise ValueError(f"the choice column {choice!r} cannot also be an attribute.")
    needed = [choice, *attributes] + ([segment] if segment else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(
            f"no column {', '.join(map(repr, missing))} in the input; its columns are {', '.join(map(str, frame.columns))}."
        )
    unknown = sorted(factors - set(attributes))
    if unknown:
        raise ValueError(f"--factors names {', '.join(map(repr, unknown))}, which are not attributes.")
    if not 0 < holdout < 1:
        raise ValueError(f"holdout must be a share between 0 and 1, got {holdout}.")
    if split not in ("ordered", "random"):
        raise ValueError(f"split must be 'ordered' or 'random', got {split!r}.")
    keep = np.ones(len(frame), dtype=bool)
    for col in needed:
        blank = blanks(frame[col])
        report.drop(f"a missing value in column {col!r}", (blank & keep).sum())
        keep &= ~blank
    for col in attributes:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            if not np.all(np.isfinite(s[keep].to_numpy(dtype=float))):
                raise ValueError(f"attribute {col!r} contains infinite values.")
    frame = frame[keep].reset_index(drop=True)
    options = sorted(_as_text(frame[choice]).unique().tolist())
    if len(options) < 2:
        raise ValueError(
            f"the choice column {choice!r} has {'no' if not options else 'a single'} option"
            + (f" ({options[0]!r})" if options else "")
            + ": there is no choice to model."
        )
    spec = _spec_of(frame, attributes, factors, segment)
    X, terms = _design(frame, spec)
    y = pd.Categorical(_as_text(frame[choice]), categories=options).codes.astype(np.int64)
    train, test = _split(len(frame), holdout, split, random_state)
    parameters = (len(terms) + 1) * (len(options) - 1)
    if train.size < ROWS_PER_PARAMETER * (len(terms) + 1) or test.size < len(options):
        raise ValueError(
            f"too few rows: {train.size:,} training and {test.size:,} held-out rows for {len(options)} options and "
            f"{len(terms)} terms ({parameters} coefficients); need at least {ROWS_PER_PARAMETER} training rows per "
            "term and a held-out row per option."
        )
    absent = [options[j] for j in range(len(options)) if not (y[train] == j).any()]
    if absent:
        raise ValueError(f"option {absent[0]!r} is never chosen in the training rows: hold out fewer rows.")
    separating = _separating_term(X[train], y[train], terms)
    if separating is not None:
        raise ValueError(
            f"the choice is perfectly separated by {separating!r}: every training row with it chose one option, "
            "so its coefficient is infinite; merge that level or leave the attribute out."
        )
    estimator = LogisticRegression(penalty=None, max_iter=1000, tol=1e-8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(X[train], y[train])
    if any("converge" in str(w.message).lower() for w in caught):
        raise ValueError(
            "the choice model did not converge: the attributes (quasi-)separate the options; "
            "merge rare levels or leave attributes out."
        )
    proba = estimator.predict_proba(X)
    predicted = proba.argmax(axis=1)
    majority = np.bincount(y[train], minlength=len(options)).argmax()
    notes = []
    # the coefficients against the first option (scikit-learn's multinomial ones are symmetric:
    # subtract its row; with two options it fits the second against the first already)
    coef = np.column_stack([estimator.intercept_, estimator.coef_])
    if len(options) > 2:
        coef = coef[1:] - coef[0]
    names = ["const", *terms]
    se = z = p = np.full_like(coef, np.nan)
    lr = {
        "lr_statistic": np.nan,
        "lr_df": np.nan,
        "lr_p": np.nan,
        "log_likelihood": np.nan,
        "pseudo_r2": np.nan,
    }
    if standard_errors:
        inference = _mnlogit(X[train], y[train])
        if inference is None:
            notes.append(
                "no standard errors: pip install 'fastseg[choice]' (statsmodels) for SE, p and the LR test"
            )
        else:
            sm_coef, se, z, p, lr = inference
            if not np.allclose(sm_coef, coef, rtol=1e-3, atol=1e-3 * max(1.0, np.abs(coef).max())):
                raise ValueError(
                    "the choice model is not identified: scikit-learn's and statsmodels' coefficients differ "
                    "(collinear or (quasi-)separating attributes); leave attributes out."
                )
    rows = []
    for a, option in enumerate(options[1:]):
        for t, term in enumerate(names):
            rows.append({"option": option, "term": term, "coefficient": coef[a, t], "se": se[a, t],
                         "z": z[a, t], "p": p[a, t]})  # fmt: skip
    coefficients = pd.DataFrame(rows)
    groups = (
        _as_text(frame[segment]).to_numpy(dtype=object)
        if segment
        else np.full(len(frame), "all", dtype=object)
    )
    held = np.zeros(len(frame), dtype=bool)
    held[test] = True
    prob_rows = []
    for g in sorted(set(groups.tolist())):
        mine = groups == g
        for j, option in enumerate(options):
            prob_rows.append({
                "segment": g, "option": option, "rows": int(mine.sum()),
                "observed_share": float(np.mean(y[mine] == j)), "predicted_probability": float(proba[mine, j].mean()),
                "held_out_rows": int((mine & held).sum()),
                "held_out_observed_share": float(np.mean(y[mine & held] == j)) if (mine & held).any() else np.nan,
                "held_out_predicted_probability": float(proba[mine & held, j].mean()) if (mine & held).any() else np.nan,
            })  # fmt: skip
    summary = {
        "rows": len(frame),
        "training_rows": int(train.size),
        "held_out_rows": int(test.size),
        "split": split,
        "options": len(options),
        "terms": len(terms),
        "holdout_accuracy": float(np.mean(predicted[test] == y[test])),
        "majority_option_accuracy": float(np.mean(y[test] == majority)),
        **lr,
    }
    model = ChoiceModel(
        coefficients, pd.DataFrame(prob_rows), summary, options, options[0], terms, estimator, notes
    )
    model._spec = spec
    return model


def fit_choice_per_segment(frame, choice, attributes, segment, *, report=None, **options):
    """One :func:`fit_choice` per value of the ``segment`` column (its rows only; the options
    ``fit_choice`` takes), the segment named in any error. Rows with a blank segment are left out
    and counted in ``report``. Returns {segment (text): ChoiceModel}, in sorted order."""
    from .segment.purchases import DataReport

    report = report if report is not None else DataReport()
    if segment not in frame.columns:
        raise ValueError(f"no segment column {segment!r} in the input.")
    blank = blanks(frame[segment])
    report.drop(f"a missing value in column {segment!r}", blank.sum())
    groups = _as_text(frame[segment]).to_numpy(dtype=object)
    models = {}
    for g in sorted(set(groups[~blank].tolist())):
        part = frame[(groups == g) & ~blank].reset_index(drop=True)
        try:
            models[g] = fit_choice(part, choice, attributes, report=report, **options)
        except ValueError as exc:
            raise ValueError(f"segment {g}: {exc}") from None
    if not models:
        raise ValueError(f"no row has a segment (column {segment!r}).")
    return models


def per_segment_tables(models):
    """(coefficients, probabilities, summary) of ``fit_choice_per_segment``'s models, each with
    a ``segment`` column first."""
    pd = _pandas()
    tables = []
    for make in (lambda m: m.coefficients, lambda m: m.probabilities.drop(columns="segment"), summary_table):
        tables.append(pd.concat([make(m).assign(segment=g) for g, m in models.items()], ignore_index=True))
    return tuple(t[["segment", *[c for c in t.columns if c != "segment"]]] for t in tables)


def _mnlogit(X, y):
    """(coefficients, se, z, p) as (options - 1, 1 + terms) arrays and the likelihood-ratio test of
    statsmodels' ``MNLogit`` against the intercept-only model; None without statsmodels."""
    try:
        import statsmodels.api as sm
    except ImportError:
        return None
    from scipy.stats import chi2

    design = np.column_stack([np.ones(X.shape[0]), X])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = sm.MNLogit(y, design).fit(method="newton", maxiter=100, disp=0)
        except np.linalg.LinAlgError:
            raise ValueError(
                "the choice model's information matrix is singular: two attributes carry the same information "
                "(collinear dummies); leave one out."
            ) from None
    if not fit.mle_retvals.get("converged", True) or any(
        "separation" in str(w.message).lower() for w in caught
    ):
        raise ValueError(
            "the choice model did not converge: the attributes (quasi-)separate the options; "
            "merge rare levels or leave attributes out."
        )
    # the intercept-only model in closed form (each option's share), not statsmodels' numerical refit
    counts = np.bincount(y)
    counts = counts[counts > 0]
    llnull = float(np.sum(counts * np.log(counts / y.size)))
    statistic = 2.0 * (float(fit.llf) - llnull)
    lr = {
        "lr_statistic": statistic,
        "lr_df": float(fit.df_model),
        "lr_p": float(chi2.sf(statistic, fit.df_model)),
        "log_likelihood": float(fit.llf),
        "pseudo_r2": 1.0 - float(fit.llf) / llnull,
    }
    return (
        np.asarray(fit.params).T,
        np.asarray(fit.bse).T,
        np.asarray(fit.tvalues).T,
        np.asarray(fit.pvalues).T,
        lr,
    )


def summary_table(model):
    """The fit's measures (measure, ours, the paper's where it reports one) as a DataFrame."""
    pd = _pandas()
    s = model.summary
    rows = [
        ("rows", s["rows"], np.nan),
        ("training rows", s["training_rows"], np.nan),
        ("held-out share", s["held_out_rows"] / s["rows"], PAPER["holdout"]),
        ("holdout accuracy", s["holdout_accuracy"], np.nan),
        ("holdout accuracy of always the most chosen option", s["majority_option_accuracy"], np.nan),
        ("likelihood-ratio statistic (against intercepts only)", s["lr_statistic"], PAPER["lr"]),
        ("likelihood-ratio degrees of freedom", s["lr_df"], np.nan),
        ("likelihood-ratio p", s["lr_p"], PAPER["lr_p"]),
        ("McFadden pseudo R2", s["pseudo_r2"], np.nan),
    ]
    return pd.DataFrame(rows, columns=["measure", "ours", "paper"])
