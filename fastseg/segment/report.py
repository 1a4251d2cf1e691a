"""report.html: one self-contained page (figures inline, no network) built from the tables and
plots a run wrote into its output folder, readable on a laptop screen and printable."""

import base64
import html
from datetime import UTC, datetime
from pathlib import Path

from .._pandas import require_pandas as _pandas
from .job import HOLDOUT_TITLE

FIGURES = {
    "k_sweep.png": "Criteria of the K sweep; the dashed line is the K used.",
    "profile_heatmap.png": "Mean of each feature per segment, in standard deviations from the overall mean.",
    "pca.png": "Customers in the first two principal components of the standardised features.",
}
PAIRS_PER_SEGMENT = 5
SAMPLE_CUSTOMERS = 3
SAMPLE_ITEMS = 5
MAX_ROWS = 60

_CSS = """
:root { --ink: #1f2933; --muted: #5f6b7a; --line: #d9dee5; --band: #f4f6f9; --accent: #3b6ea5; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1120px; padding: 1.5rem 1.5rem 3rem; color: var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
h2 { font-size: 1.25rem; margin: 2.2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 2px solid var(--accent); }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
.meta, .note, figcaption { color: var(--muted); font-size: .9rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: .6rem 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .88rem; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--band); font-weight: 600; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0 1.6rem; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); }
.recommendation { font-weight: 600; }
#profile { font-size: .84rem; }
#profile th, #profile td { padding: .3rem .4rem; }
#profile td:nth-child(2) { min-width: 12em; }
@media print {
  @page { size: A4; margin: 14mm; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; }
  table, figure, dl.facts, .segment-block { break-inside: avoid; page-break-inside: avoid; }
  table { font-size: 8pt; }
  #profile { font-size: 7.5pt; }
  #profile td:nth-child(2) { min-width: 10em; }
  .scroll { overflow: visible; }
  tbody tr:nth-child(even) { background: none; }
  th { background: none; }
}
"""

# Sets data-images-loaded="<decoded>/<total>" on <body> once the page has loaded: a browser
# test reads it back from the DOM to know every inline figure decoded.
_SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var decoded = images.filter(function (im) { return im.complete && im.naturalWidth > 0; });
  document.body.setAttribute("data-images-loaded", decoded.length + "/" + images.length);
});
"""


def _esc(value):
    return html.escape(str(value), quote=True)


def _cell(value, fmt):
    if isinstance(value, bool) or value is None:
        return _esc(value), False
    if isinstance(value, str):  # "26.6%" is a number for alignment
        return _esc(value), value.endswith("%") and value[:-1].replace(",", "").replace(".", "").isdigit()
    if isinstance(value, int | float) or hasattr(value, "dtype"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return _esc(value), False
        if number != number:  # NaN
            return "", True
        if fmt:
            return _esc(fmt(value) if callable(fmt) else fmt.format(value)), True
        if number.is_integer() and abs(number) < 1e15:
            return f"{int(number):,}", True
        return f"{number:,.3f}" if abs(number) < 1000 else f"{number:,.1f}", True
    return _esc(value), False


def _compact(value):
    """Two decimals below 1,000, none above: a profile cell stays short."""
    return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"


def html_table(frame, *, table_id=None, formats=None, max_rows=MAX_ROWS, caption=None):
    """A DataFrame as an HTML table (its columns as they are, numbers right-aligned)."""
    formats = formats or {}
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    rows = []
    for values in frame.head(max_rows).itertuples(index=False, name=None):
        cells = []
        for col, value in zip(frame.columns, values):
            text, numeric = _cell(value, formats.get(col))
            cells.append(f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if len(frame) > max_rows:
        more = f'<p class="note">First {max_rows} of {len(frame):,} rows.</p>'
    ident = f' id="{_esc(table_id)}"' if table_id else ""
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return (
        f'<div class="scroll"><table{ident}>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def _figure(path, caption):
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_esc(caption)}">'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


def _facts(pairs):
    items = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in pairs if v not in (None, ""))
    return f'<dl class="facts">{items}</dl>'


def _read(folder, name, **kwargs):
    path = folder / name
    return _pandas().read_csv(path, **kwargs) if path.is_file() else None


def _data_section(folder, run):
    parts = ["<h2>Data: what was read and what was dropped</h2>"]
    customers = run.get("customers")
    rows_read = run.get("rows_read")
    parts.append(
        _facts(
            [
                ("source", run.get("source")),
                ("rows read", f"{rows_read:,}" if rows_read is not None else None),
                ("customers segmented", f"{customers:,}" if customers is not None else None),
                ("customer id column", run.get("id_column")),
                ("features", ", ".join(run.get("features", []))),
                ("log-transformed", ", ".join(run.get("logged", [])) or "none"),
                ("segments written to", run.get("written_table")),
            ]
        )
    )
    dropped = _read(folder, "data_report.csv")
    if dropped is not None and len(dropped):
        parts.append("<h3>Dropped or changed (data_report.csv)</h3>")
        parts.append(html_table(dropped, table_id="data-report"))
    elif run.get("transactions") and rows_read is not None:
        parts.append(
            f'<p class="note">The input is a purchase table: {rows_read:,} purchases gave '
            f"{customers:,} customers (recency, frequency and monetary value per customer).</p>"
        )
    elif rows_read is not None and customers is not None:
        dropped_rows = rows_read - customers
        parts.append(
            f'<p class="note">{dropped_rows:,} rows dropped.</p>'
            if dropped_rows
            else '<p class="note">No row was dropped.</p>'
        )
    return "".join(parts)


def _sweep_section(folder, run):
    parts = ["<h2>How many segments: the K sweep</h2>"]
    k, recommended = run.get("k"), run.get("recommended_k")
    if run.get("k_reason"):
        parts.append(f'<p class="recommendation">Refit from the previous model: {_esc(run["k_reason"])}</p>')
    elif recommended is not None and k is not None:
        chosen = (
            f"K = {k}, the recommendation."
            if k == recommended
            else f"K = {k} (given; the sweep recommends K = {recommended})."
        )
        parts.append(f'<p class="recommendation">{_esc(chosen)}</p>')
    if run.get("reason"):
        parts.append(f"<p>{_esc(run['reason'])}</p>")
    sweep = _read(folder, "k_sweep.csv")
    if sweep is not None:
        parts.append(html_table(sweep, table_id="k-sweep", formats={"K": "{}", "k": "{}"}))
    if (folder / "k_sweep.png").is_file():
        parts.append(_figure(folder / "k_sweep.png", FIGURES["k_sweep.png"]))
    return "".join(parts)


def _profile_section(folder):
    pd = _pandas()
    parts = ["<h2>Segments</h2>"]
    profile = _read(folder, "profile.csv")
    if profile is not None:
        keep = [c for c in profile.columns if not c.endswith(" median")]
        shown = profile[keep].copy()
        if "share" in shown:
            shown["share"] = [f"{v:.1%}" for v in pd.to_numeric(shown["share"])]
        shares = [c for c in shown.columns if " = " in c]  # categorical features: share per value
        shown[shares] = shown[shares].map(lambda v: f"{v:.0%}")
        shown = shown.rename(columns=lambda c: c.removesuffix(" mean").replace("_", " "))
        parts.append(
            '<p class="note">Size, share and the mean of each feature in the input\'s own units '
            "(medians in profile.csv).</p>"
        )
        formats = dict.fromkeys(shown.columns, _compact)
        formats.update({"segment": "{}", "size": "{:,}"})
        parts.append(html_table(shown, table_id="profile", formats=formats))
    tests = _read(folder, "feature_tests.csv")
    if tests is not None and len(tests):
        parts.append(
            '<p class="note">Do the segments differ? Per numeric feature: one-way ANOVA (F, p), eta squared '
            "(the share of its variance between segments) and, for skewed features, Kruskal-Wallis (H, p); "
            "a feature separates the segments when p &lt; 0.05 and eta squared is at least 0.01.</p>"
        )
        tests["separates"] = ["yes" if v else "no" for v in tests["separates"]]
        formats = dict.fromkeys(["F", "p", "eta_squared", "kruskal_H", "kruskal_p"], "{:.3g}")
        parts.append(html_table(tests, table_id="feature-tests", formats=formats))
    grid = [
        _figure(folder / name, FIGURES[name])
        for name in ("profile_heatmap.png", "pca.png")
        if (folder / name).is_file()
    ]
    parts += grid
    return "".join(parts)


def _drift_section(folder):
    """Segments against the previous model (drift.csv of a run with --previous); empty without."""
    pd = _pandas()
    drift = _read(folder, "drift.csv")
    if drift is None:
        return ""
    counts = drift["status"].value_counts()
    said = ", ".join(
        f"{counts.get(s, 0)} {s}"
        for s in ("kept", "shifted", "new", "vanished")
        if s != "shifted" or s in counts
    )
    both = int(drift["customers_in_both"].sum())
    moved = (drift["customers_in_both"] * drift["changed_share"].fillna(0)).sum()
    shown = drift.copy()
    for col in ("share_before", "share_after", "changed_share"):
        shown[col] = [("" if pd.isna(v) else f"{v:.1%}") for v in shown[col]]
    shown["centre_shift_sd"] = [("" if pd.isna(v) else f"{v:.2f}") for v in shown["centre_shift_sd"]]
    shown = shown.rename(columns=lambda c: c.replace("_", " "))
    note = (
        f"Segments followed from the previous model: {said}. A kept segment keeps its number and name (a "
        "shifted one too, its centre having moved more than 1 SD); the centre shift is in standard deviations "
        "of the previous model's clustering space."
    )
    if both:
        note += f" Of {both:,} customers in both runs, {moved / both:.1%} changed segment."
    return f'<h2>Since the previous model</h2><p class="note">{_esc(note)}</p>' + html_table(
        shown, table_id="drift", formats={"segment": "{}", "customers in both": "{:,}"}
    )


def _recommendations_by_segment(folder):
    """recommendations.csv joined with labels.csv (ids compared as text), with the name of the
    id and item columns; None when either file is missing."""
    pd = _pandas()
    labels_path, recs_path = folder / "labels.csv", folder / "recommendations.csv"
    if not (labels_path.is_file() and recs_path.is_file()):
        return None
    id_column = pd.read_csv(labels_path, nrows=0).columns[0]
    labels = pd.read_csv(labels_path, dtype={id_column: str})
    recs = pd.read_csv(recs_path, dtype={id_column: str})
    items = [c for c in recs.columns if c not in (id_column, "rank", "score")]
    if id_column not in recs.columns or not items:
        return None
    return recs.merge(labels, on=id_column, how="inner"), id_column, items[0]


def _sample_recommendations(recs, id_column, item, segment):
    pd = _pandas()
    mine = recs[recs["segment"] == segment]
    rows = []
    for customer in list(dict.fromkeys(mine[id_column]))[:SAMPLE_CUSTOMERS]:
        top = mine[mine[id_column] == customer].nsmallest(SAMPLE_ITEMS, "rank")[item]
        rows.append({"customer": customer, "recommended": ", ".join(map(str, top))})
    if not rows:
        return ""
    return html_table(pd.DataFrame(rows), caption=f"Sample recommendations (top {SAMPLE_ITEMS})")


def _top_pairs(pairs, segment):
    top = pairs[pairs["segment"] == segment].head(PAIRS_PER_SEGMENT)
    cols = [c for c in ("antecedent", "consequent", "support", "confidence", "lift") if c in top]
    if top.empty:
        return ""
    shown = top[cols].rename(columns={"antecedent": "product", "consequent": "bought with"})
    return html_table(shown, caption="Top product pairs by lift")


def _basket_section(folder):
    pairs = _read(folder, "pairs.csv")
    joined = _recommendations_by_segment(folder)
    if pairs is None and joined is None:
        return ""
    segments = set(pairs["segment"]) if pairs is not None else set()
    names = {}
    if joined is not None:
        recs, id_column, item = joined
        segments |= set(recs["segment"])
        names = dict(zip(recs["segment"], recs["segment_name"]))
    parts = ["<h2>Products per segment</h2>"]
    for seg in sorted(segments):
        title = f"Segment {seg}" + (f": {names[seg]}" if seg in names else "")
        block = f'<div class="segment-block"><h3>{_esc(title)}</h3>'
        if pairs is not None:
            block += _top_pairs(pairs, seg)
        if joined is not None:
            block += _sample_recommendations(recs, id_column, item, seg)
        parts.append(block + "</div>")
    hits = _read(folder, "hit_rate.csv")
    if hits is not None:
        parts.append("<h3>Recommendations, leave-one-out hit rate@10</h3>" + html_table(hits))
    ranked = _read(folder, "recommendation_metrics.csv")
    if ranked is not None:
        parts.append(f"<h3>{_esc(HOLDOUT_TITLE)}</h3>" + html_table(ranked))
    return "".join(parts)


def render_report(folder, run):
    """The page for the output folder ``folder`` (its CSV and PNG files) and the run's facts
    ``run`` (source, rows_read, customers, id_column, features, logged, method, k, recommended_k,
    reason, seconds, written_table; every key optional)."""
    folder = Path(folder)
    k, method = run.get("k"), run.get("method")
    when = run.get("finished") or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = " · ".join(
        p
        for p in (
            f"{k} segments" if k else "",
            f"method {method}" if method else "",
            f"{run['seconds']:.1f} s" if run.get("seconds") is not None else "",
            when,
        )
        if p
    )
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != "report.html")
    body = [
        "<header><h1>Customer segments</h1>",
        f'<p class="meta">{_esc(subtitle)}</p></header>',
        _data_section(folder, run),
        _sweep_section(folder, run),
        _profile_section(folder),
        _drift_section(folder),
        _basket_section(folder),
        "<h2>Files</h2>",
        f'<p class="note">In the same folder: {_esc(", ".join(files))}.</p>',
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Customer segments ({_esc(k)} segments)</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}<script>{_SCRIPT}</script></body></html>\n"
    )


def write_report(folder, run):
    """Write ``report.html`` into ``folder``; returns its path."""
    path = Path(folder) / "report.html"
    path.write_text(render_report(folder, run), encoding="utf-8")
    return path
