"""report.html: self-contained, complete, under 2 MB for the demo, and rendered by headless Chromium."""

import re
from html.parser import HTMLParser

import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from fastseg.cli import main  # noqa: E402
from fastseg.segment.report import write_report  # noqa: E402
from tests.services import assert_report_renders, run_chromium  # noqa: E402


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.tags, self.scripts_with_src = [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.refs += [v for k, v in attrs.items() if k in ("src", "href", "srcset", "data", "poster") and v]
        if tag == "script" and attrs.get("src"):
            self.scripts_with_src += 1


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "fastseg-output"
    # the demo with a shorter sweep (the figures, and so the page's size, hardly depend on it;
    # docs.examples.database_demo reports the size of a default run in docs/databases.md)
    assert main(["segment", "--demo", "--k-range", "2-8", "--evaluate", "--quiet", "--out", str(out)]) == 0
    return out


def test_demo_report_is_self_contained_and_small(demo_report):
    page = demo_report / "report.html"
    assert page.stat().st_size < 2_000_000
    text = page.read_text(encoding="utf-8")
    links = _Links()
    links.feed(text)
    assert links.refs and all(ref.startswith("data:image/png;base64,") for ref in links.refs)
    assert links.scripts_with_src == 0 and "link" not in links.tags and "iframe" not in links.tags
    assert not re.search(r"url\(|@import|https?://", text)
    assert "@media print" in text and 'name="viewport"' in text


def test_demo_report_says_what_the_run_did(demo_report):
    text = (demo_report / "report.html").read_text(encoding="utf-8")
    sweep = pd.read_csv(demo_report / "k_sweep.csv")
    profile = pd.read_csv(demo_report / "profile.csv")
    assert "built-in synthetic customers" in text and "4,000" in text
    assert "the recommendation" in text and "highest silhouette" in text  # the sweep's reason
    assert text.count("<img ") == 3
    for name in profile["name"]:
        assert name in text
    assert len(re.findall(r'<table id="k-sweep">.*?</table>', text, re.S)) == 1
    assert re.search(r'<table id="k-sweep">.*?</table>', text, re.S).group(0).count("<tr>") == len(sweep) + 1
    pairs = pd.read_csv(demo_report / "pairs.csv")
    first = pairs.iloc[0]
    assert f"<td>{first['antecedent']}</td><td>{first['consequent']}</td>" in text
    assert text.count("Sample recommendations") == len(profile)


@pytest.mark.slow  # a Chromium process
def test_demo_report_renders_in_chromium(demo_report, chromium, tmp_path):
    n_segments = len(pd.read_csv(demo_report / "profile.csv"))
    assert_report_renders(chromium, demo_report / "report.html", n_segments, tmp_path)


def test_demo_report_prints(demo_report, chromium, tmp_path):
    pdf = tmp_path / "report.pdf"
    run_chromium(chromium, demo_report / "report.html", "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 2 <= pages <= 10  # the demo's four segments fit in a few pages
    # every page is A4 (210 x 297 mm = 595.3 x 841.9 pt; the print CSS asks for it, and Chromium's
    # own default is Letter, 612 x 792 pt)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert len(boxes) == pages
    for width, height in boxes:
        assert abs(float(width) - 595.3) < 1.5 and abs(float(height) - 841.9) < 1.5, (width, height)


def test_report_reads_whatever_tables_the_run_wrote(tmp_path):
    pd.DataFrame(
        {
            "segment": [1, 2],
            "name": ["<b>big</b> spenders", "rare & late"],
            "size": [3, 1],
            "share": [0.75, 0.25],
        }
    ).to_csv(tmp_path / "profile.csv", index=False)
    pd.DataFrame({"reason": ["missing spend", "duplicate id"], "rows": [4, 2]}).to_csv(
        tmp_path / "data_report.csv", index=False
    )
    run = {
        "source": "shop.csv",
        "rows_read": 10,
        "customers": 4,
        "k": 2,
        "recommended_k": 3,
        "method": "kmeans",
    }
    page = write_report(tmp_path, run)
    text = page.read_text(encoding="utf-8")
    assert "&lt;b&gt;big&lt;/b&gt; spenders" in text and "rare &amp; late" in text  # escaped
    assert '<table id="data-report">' in text and "duplicate id" in text
    assert "K = 2 (given; the sweep recommends K = 3)" in text
    assert "<img" not in text and "Products per segment" not in text
    assert re.search(r'<table id="profile">.*?</table>', text, re.S).group(0).count("<tr>") == 3
    assert re.search(r'<table id="data-report">.*?</table>', text, re.S).group(0).count("<tr>") == 3
    assert page == tmp_path / "report.html"
