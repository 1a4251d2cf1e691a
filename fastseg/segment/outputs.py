"""What a run hands back: its output folder (labels, profiles, the K sweep, plots, the basket and
drift tables, report.html), its rows in a database table and the summary the command prints,
all from a :class:`~fastseg.segment.job.Segmentation`."""

import shutil
import tempfile
from pathlib import Path

import numpy as np

from .._pandas import require_pandas as _pandas
from .job import HOLDOUT_TITLE


def markdown_table(frame, floatfmt="{:,.2f}", index_name=None):
    """A DataFrame as a GitHub markdown table (no extra dependency)."""
    cols = [index_name or frame.index.name or ""] + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" + "---:|" * len(frame.columns)]
    for idx, *row in frame.itertuples(name=None):  # keeps each column's own type
        cells = [floatfmt.format(v) if isinstance(v, float | np.floating) else str(v) for v in row]
        lines.append(f"| {idx} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _profile_for_print(result):
    """Size, share and feature means (medians are in profile.csv)."""
    profile = result.feature_profile
    keep = ["size", "share"] + [c for c in profile.columns if c.endswith(" mean") or " = " in c]
    short = profile[keep].rename(
        columns=lambda c: c.removesuffix(" mean").replace("_days", "").replace("_", " ")
    )
    short.insert(0, "name", [result.names[s] for s in profile.index])
    short["share"] = [f"{v:.1%}" for v in short["share"]]
    return short


def write_folder(out, result, *, finish=None, plots=None):
    """Write a run's files into a fresh temporary folder, then move them into ``out``: an error on
    the way leaves ``out`` as it was. ``finish(folder)`` runs last on the filled temporary folder
    (the report reads the written tables there); ``plots``, a ``plots.PlotProcess`` already
    handed the plots, gives them instead of drawing them here. Returns the written paths."""
    from .plots import write_plots

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    notes = result.data.report.notes
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".fastseg-") as tmp:
        tmp = Path(tmp)
        result.labels_frame(outlier_column=True).to_csv(tmp / "labels.csv", index=False)
        profile = result.profile
        profile.to_csv(tmp / "profile.csv")
        (tmp / "profile.md").write_text(
            f"# Segment profiles ({result.k} segments)\n\nMeans and medians in the input's own units.\n\n"
            + "".join(f"- {note}\n" for note in notes)
            + ("\n" if notes else "")
            + markdown_table(profile.assign(share=[f"{v:.1%}" for v in profile["share"]]))
            + "\n"
            + feature_tests_markdown(result)
        )
        result.sweep.to_csv(tmp / "k_sweep.csv")
        if plots is not None:
            plots.finish(tmp)
        else:
            write_plots(tmp, *plot_inputs(result))
        for name, table in tables(result).items():
            table.to_csv(tmp / name, index=False)
        if finish is not None:
            finish(tmp)
        out.mkdir(exist_ok=True)
        written = []
        for f in sorted(tmp.iterdir()):
            target = out / f.name
            if target.exists():
                target.unlink()
            shutil.move(str(f), str(target))
            written.append(target)
    return written


def separation_line(result):
    """One sentence on the features the segments do not differ on (``profiles.feature_tests``)."""
    from .profiles import ALPHA, SMALL_EFFECT

    weak = result.not_separating
    if not weak:
        return "Every numeric feature differs between the segments (feature_tests.csv)."
    return (
        f"The segments do not differ on {', '.join(weak)} (one-way ANOVA p >= {ALPHA} or eta squared "
        f"< {SMALL_EFFECT}; feature_tests.csv)."
    )


def feature_tests_markdown(result):
    """profile.md's section of per-feature tests (empty without numeric features)."""
    tests = result.feature_tests
    if tests is None or tests.empty:
        return ""
    shown = tests.drop(columns="separates").map(lambda v: "" if np.isnan(v) else f"{v:.4g}")
    shown["separates"] = ["yes" if v else "no" for v in tests["separates"]]
    return (
        "\n## Do the segments differ?\n\nPer numeric feature, across segments: one-way ANOVA (F, p), eta "
        "squared (the share of the feature's variance between segments) and, for the skewed (log-transformed) "
        f"features, Kruskal-Wallis (H, p).\n\n{separation_line(result)}\n\n" + markdown_table(shown) + "\n"
    )


def plot_inputs(result):
    """The arguments of ``plots.write_plots`` / ``PlotProcess.draw`` for a run."""
    return result.sweep, result.z_means, result.names, result.Z, result.segments, result.k


def tables(result):
    """{file name: table} of the run's other CSV files: the data report, the basket tables and
    the drift against a previous model, those the run has."""
    out = {"data_report.csv": result.data_report}
    if result.feature_tests is not None:
        out["feature_tests.csv"] = result.feature_tests.reset_index()
    for name, table in (("pairs.csv", result.pairs), ("recommendations.csv", result.recommendations),
                        ("hit_rate.csv", result.hit_rate),
                        ("recommendation_metrics.csv", result.recommendation_metrics)):  # fmt: skip
        if table is not None:
            out[name] = table
    if result.drift is not None:
        out["drift.csv"] = result.drift.reset_index()
    return out


def write_database(url, table, result, *, source, column_types, if_exists="fail"):
    """The labels, method, K and run time into ``table`` of the database at ``url``, in one
    transaction (ids typed as ``source`` holds them); the table's description."""
    from . import db

    n = db.write_labels(
        url, table, result.labels_frame(), result.id_column, result.method, result.k, source=source,
        column_types=column_types, if_exists=if_exists,
    )  # fmt: skip
    return f"{table} ({n:,} rows, --if-exists {if_exists})"


def describe(result, demo=False):
    """The text the command prints: sweep, profile table, basket findings and, for the demo, the
    paper comparison."""
    lines = [f"K sweep: {result.sweep.attrs['reason']}"]
    if result.k_reason:
        lines.append(f"Refit from the previous model: {result.k_reason}")
    n_out = int(np.sum(result.outliers))
    if n_out:
        lines.append(
            f"Outliers: {n_out} customers far out on a feature were left out of the fit and given their "
            "nearest segment (labels.csv, column outlier)."
        )
    if result.smallest_share < result.options.min_segment_share:
        lines.append(f"Note: the smallest segment holds {result.smallest_share:.1%} of the customers.")
    lines += ["", markdown_table(_profile_for_print(result))]
    if result.feature_tests is not None and not result.feature_tests.empty:
        lines += ["", separation_line(result)]
    if result.pairs is not None:
        pairs = result.pairs.groupby("segment").head(2)
        columns = ["antecedent", "consequent", "count", "support", "confidence", "lift"]
        shown = pairs.set_index("segment")[columns]
        lines += ["", "Top product pairs per segment (by lift; all in pairs.csv):", ""]
        lines.append(markdown_table(shown, "{:.3f}") if len(shown) else "(no pair meets the minimums)")
        if result.hit_rate is not None:
            hits = result.hit_rate.set_index("method")
            lines += ["", "Recommendations, leave-one-out hit rate@10:", "", markdown_table(hits, "{:.3f}")]
        if result.recommendation_metrics is not None:
            ranked = result.recommendation_metrics.set_index("method")
            lines += ["", HOLDOUT_TITLE + ":", "", markdown_table(ranked, "{:.3f}")]
    truth = result.data.truth
    if demo and truth is not None:
        from sklearn.metrics import adjusted_rand_score

        lines += [
            "",
            f"Adjusted Rand index against the generating segments: {adjusted_rand_score(truth, result.clusters):.3f}",
        ]
        if result.k == 4:
            lines += ["", paper_comparison(result)]
    return "\n".join(lines)


def paper_comparison(result):
    """Our 4 segments beside the GA-K-means paper's Table 5 (matched by closest profile)."""
    pd = _pandas()
    from scipy.optimize import linear_sum_assignment

    from .datasets import TABLE5

    feats = [f for f in TABLE5 if f != "size"]
    paper = pd.DataFrame({f: TABLE5[f] for f in feats}, index=[1, 2, 3, 4]).astype(float)
    ours = result.feature_profile[[f"{f} mean" for f in feats]].set_axis(feats, axis=1)
    scale = result.customers[feats].astype(float).std(ddof=0)
    cost = (((paper.to_numpy()[:, None, :] - ours.to_numpy()[None, :, :]) / scale.to_numpy()) ** 2).sum(-1)
    paper_idx, ours_idx = linear_sum_assignment(cost)
    rows = {"customers": []}
    rows.update({f: [] for f in feats})
    cols = []
    for p, o in zip(paper_idx, ours_idx):
        seg = ours.index[o]
        cols += [f"paper cluster {p + 1}", f"ours: segment {seg}"]
        rows["customers"] += [TABLE5["size"][p], int(result.feature_profile.loc[seg, "size"])]
        for f in feats:
            rows[f] += [TABLE5[f][p], float(ours.loc[seg, f])]
    table = pd.DataFrame(rows, index=cols).T
    return (
        "Beside the GA-K-means paper's Table 5 (segment means; paper sizes are of 4000 users, the demo data is "
        "synthetic and generated from that table):\n\n"
        + markdown_table(table, floatfmt="{:,.1f}", index_name="mean of")
    )


def report_facts(result, *, source, rows_read, transactions, seconds, written_table=None):
    """What report.html says about the run (``source``: the input as said to the user;
    ``rows_read``: rows read from it, None when the data report says it; ``transactions``:
    whether the input was a purchase table)."""
    return {
        "source": source,
        "rows_read": rows_read,
        "customers": len(result.customers),
        "transactions": bool(transactions),
        "id_column": result.id_column,
        "features": result.features,
        "logged": list(result.logged),
        "method": result.method,
        "k": result.k,
        "recommended_k": result.sweep.attrs.get("recommended_k"),
        "reason": result.sweep.attrs.get("reason"),
        "k_reason": result.k_reason,
        "seconds": seconds,
        "written_table": written_table,
    }


def report_writer(run):
    """``finish(folder)`` for :func:`write_folder`: report.html from the folder's tables."""

    def finish(folder):
        from .report import write_report

        write_report(folder, run)

    return finish


def assigned_table(result, model):
    """Customers and share per segment of an assignment, beside the shares in the model's fit."""
    pd = _pandas()
    labels = result.labels_frame()
    counts = labels["segment"].value_counts().reindex(sorted(model.names), fill_value=0)
    table = pd.DataFrame(
        {"name": [model.names[s] for s in counts.index], "customers": counts.to_numpy(),
         "share": [f"{v:.1%}" for v in counts.to_numpy() / max(len(labels), 1)],
         "share in the fit": [f"{model.shares[s]:.1%}" for s in counts.index]},
        index=counts.index.rename("segment"),
    )  # fmt: skip
    return markdown_table(table)
