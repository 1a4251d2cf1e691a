"""The segmentation workflow and the `fastseg segment` command."""

import subprocess
import sys

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from sklearn.metrics import adjusted_rand_score  # noqa: E402

from fastseg.cli import main  # noqa: E402
from fastseg.segment import profile_table, segment_customers, select_k  # noqa: E402
from fastseg.segment.datasets import FEATURES, TABLE5, make_customers, make_transactions  # noqa: E402
from fastseg.segment.features import rfm  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo():
    return make_customers(4000, random_state=0)


def test_make_customers_follows_table5(demo):
    frame, seg = demo
    assert list(frame.columns) == ["customer_id", *FEATURES]
    assert frame["customer_id"].is_unique
    shares = np.bincount(seg) / len(seg)
    np.testing.assert_allclose(shares, np.array(TABLE5["size"]) / 4000, atol=0.03)
    assert 0.25 < (frame["gender"] == "M").mean() < 0.35
    age = frame["age"]
    assert ((age >= 18) & (age <= 25)).mean() > ((age > 25) & (age <= 45)).mean() > (age > 45).mean()
    for name in ("monthly_spend", "purchase_frequency", "purchase_interval_days", "hesitation_time"):
        means = frame.groupby(seg)[name].mean().to_numpy()
        np.testing.assert_allclose(means, TABLE5[name], rtol=0.12)
    assert frame["monthly_spend"].skew() > 1  # skewed, as money is


def test_transactions_are_consistent_with_customers(demo):
    frame, seg = demo
    tx = make_transactions(frame.iloc[:300], seg[:300], months=3, random_state=1)
    assert set(tx.columns) == {"order_id", "customer_id", "date", "item", "amount"}
    spend = tx.groupby("customer_id")["amount"].sum() / 3
    np.testing.assert_allclose(
        spend.loc[frame["customer_id"][:300]].to_numpy(), frame["monthly_spend"][:300], rtol=1e-3
    )
    features = rfm(tx, order="order_id")
    assert len(features) == 300 and (features["frequency"] >= 1).all()


def test_rfm_on_a_hand_made_table():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "a"],
            "date": ["2024-01-01", "2024-01-10", "2024-01-05", "2024-01-10"],
            "amount": [10.0, 5.0, 7.5, 1.0],
            "order": [1, 2, 3, 2],
        }
    )
    out = rfm(tx, now="2024-01-11", order="order")
    assert out.loc["a"].tolist() == [1.0, 2.0, 16.0]
    assert out.loc["b"].tolist() == [6.0, 1.0, 7.5]
    # Without an order column a basket is one customer's purchases on one day: a bought on 2 days.
    assert rfm(tx, now="2024-01-11").loc["a", "frequency"] == 2.0
    with pytest.raises(ValueError, match="no column 'price'"):
        rfm(tx, amount="price")
    with pytest.raises(ValueError, match="not numeric"):
        rfm(tx.assign(amount=["1", "x", "2", "3"]))
    with pytest.raises(ValueError, match="empty"):
        rfm(tx.iloc[:0])


@pytest.mark.parametrize("method", ["kmeans", "ga", "gmm"])
def test_demo_segments_match_the_generating_ones(demo, method):
    frame, seg = demo
    result = segment_customers(frame, FEATURES, k=4, k_range=range(2, 6), method=method, random_state=0)
    assert adjusted_rand_score(seg, result.clusters) >= 0.9
    profile = result.feature_profile
    assert profile["size"].sum() == 4000
    np.testing.assert_allclose(profile["share"].sum(), 1.0)
    # Profiles are in the original units: the mean spend of every segment is a spend in the data.
    assert (
        profile["monthly_spend mean"]
        .between(frame["monthly_spend"].min(), frame["monthly_spend"].max())
        .all()
    )
    assert len(set(result.names.values())) == 4


def test_select_k_table_and_recommendation(demo):
    frame, seg = demo
    from fastseg.segment import make_preprocessor

    Z = make_preprocessor(frame, FEATURES)[0].fit_transform(frame[FEATURES])
    table = select_k(Z[:1500], range(2, 7), min_recommended_k=3)
    assert list(table.index) == [2, 3, 4, 5, 6]
    assert {"inertia", "silhouette", "calinski_harabasz", "davies_bouldin"} <= set(table.columns)
    assert (np.diff(table["inertia"]) < 0).all()
    assert table.attrs["recommended_k"] == int(table.loc[3:, "silhouette"].idxmax())
    assert "silhouette" in table.attrs["reason"]
    with pytest.raises(ValueError, match="k_range"):
        select_k(Z, [1, 2])
    gmm = select_k(Z[:800], range(2, 5), method="gmm")
    assert "bic" in gmm.columns and np.isfinite(gmm["bic"]).all()
    ga = select_k(Z[:800], range(2, 4), method="ga")
    assert (ga["ga_best_sse"] >= ga["inertia"] - 1e-6).all()  # K-means after the GA never does worse


def test_profile_table_by_hand():
    frame = pd.DataFrame({"spend": [1.0, 3.0, 10.0, 20.0, 30.0], "sex": ["F", "M", "F", "F", "M"]})
    out = profile_table(frame, np.array([0, 0, 1, 1, 1]), ["spend", "sex"])
    assert out.loc[1, "size"] == 2 and out.loc[2, "size"] == 3
    assert out.loc[1, "spend mean"] == 2.0 and out.loc[2, "spend median"] == 20.0
    assert out.loc[2, "sex = M"] == pytest.approx(1 / 3)


def test_command_writes_every_file(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["segment", "--demo", "--k-range", "2-6", "--evaluate", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "paper cluster 1" in printed and "Adjusted Rand" in printed
    assert "Top product pairs per segment" in printed and "hit rate@10" in printed
    assert "time-ordered holdout" in printed and "recall@10" in printed
    assert "probability" not in pd.read_csv(out / "labels.csv").columns  # K-means: no membership
    names = {p.name for p in out.iterdir()}
    expected = {
        "labels.csv",
        "profile.csv",
        "profile.md",
        "k_sweep.csv",
        "k_sweep.png",
        "profile_heatmap.png",
        "data_report.csv",
        "feature_tests.csv",
    }
    basket_files = {"pairs.csv", "recommendations.csv", "hit_rate.csv", "recommendation_metrics.csv"}
    assert names == expected | basket_files | {"pca.png", "report.html"}
    pairs = pd.read_csv(out / "pairs.csv")
    assert set(pairs["segment"]) <= set(range(1, 7)) and (pairs["count"] >= 5).all()
    assert (pairs.groupby("segment").size() == 10).all()  # the promised top 10 per segment
    for _, part in pairs.groupby("segment"):
        assert part["lift"].is_monotonic_decreasing
    recs = pd.read_csv(out / "recommendations.csv")
    assert recs["rank"].between(1, 10).all()
    ranked = pd.read_csv(out / "recommendation_metrics.csv")
    assert list(ranked.columns) == ["method", "precision@10", "recall@10", "coverage@10", "customers"]
    assert ranked[["precision@10", "recall@10", "coverage@10"]].stack().between(0, 1).all()
    assert "time-ordered holdout" in (out / "report.html").read_text(encoding="utf-8")
    for png in ("k_sweep.png", "profile_heatmap.png", "pca.png"):
        data = (out / png).read_bytes()
        assert data.startswith(PNG_MAGIC)
        import matplotlib.image

        image = matplotlib.image.imread(out / png)
        assert image.shape[0] > 200 and image.shape[1] > 300
    labels = pd.read_csv(out / "labels.csv")
    assert len(labels) == 4000 and set(labels.columns) == {
        "customer_id",
        "segment",
        "segment_name",
        "outlier",
    }
    profile = pd.read_csv(out / "profile.csv", index_col=0)
    assert profile["size"].sum() == 4000


@pytest.mark.parametrize("method", ["ga", "gmm"])
def test_command_with_other_methods(tmp_path, method):
    out = tmp_path / method
    assert (
        main(
            [
                "segment",
                "--demo",
                "--method",
                method,
                "--k",
                "4",
                "--k-range",
                "3-5",
                "--out",
                str(out),
                "--quiet",
                "--no-plots",
            ]
        )
        == 0
    )
    sweep = pd.read_csv(out / "k_sweep.csv", index_col=0)
    assert ("ga_best_sse" if method == "ga" else "bic") in sweep.columns
    assert pd.read_csv(out / "labels.csv")["segment"].nunique() == 4
    # --no-plots: no PNG file, and a report without figures
    assert not list(out.glob("*.png")) and "<img" not in (out / "report.html").read_text()


def test_mixture_labels_carry_membership_probabilities(tmp_path):
    out = tmp_path / "gmm"
    argv = ["segment", "--demo", "--method", "gmm", "--k", "4", "--k-range", "3-4", "--quiet", "--no-plots"]
    assert main([*argv, "--probabilities", "--out", str(out), "--save-model", str(tmp_path / "m.fseg")]) == 0
    labels = pd.read_csv(out / "labels.csv", dtype={"customer_id": str})
    columns = [f"probability_segment_{s}" for s in range(1, 5)]
    P = labels[columns].to_numpy()
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(P.argmax(axis=1) + 1, labels["segment"])
    np.testing.assert_allclose(labels["probability"], P[np.arange(len(P)), labels["segment"] - 1], rtol=1e-12)
    assert (labels["probability"] >= 0.25).all() and labels["probability"].lt(1.0).any()
    # fastseg assign with the saved mixture gives each customer the same probability
    demo_csv = tmp_path / "demo.csv"
    frame, _ = make_customers(4000, random_state=0)
    frame.to_csv(demo_csv, index=False)
    assert (
        main(
            [
                "assign",
                "--model",
                str(tmp_path / "m.fseg"),
                "--input",
                str(demo_csv),
                "--out",
                str(tmp_path / "a"),
                "--quiet",
            ]
        )
        == 0
    )
    assigned = pd.read_csv(tmp_path / "a" / "labels.csv", dtype={"customer_id": str})
    np.testing.assert_array_equal(assigned["segment"], labels["segment"])
    np.testing.assert_allclose(assigned["probability"], labels["probability"], rtol=1e-9)
    assert not any(c.startswith("probability_segment") for c in assigned.columns)  # the assigned one only


def test_probabilities_need_a_mixture(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["segment", "--demo", "--probabilities", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fastseg: error: --probabilities needs method 'gmm'") and len(err.splitlines()) == 1
    assert not out.exists()


def test_feature_tests_are_scipy_s_on_real_data():
    from scipy import stats
    from sklearn.datasets import load_iris

    from fastseg.segment.profiles import feature_tests

    iris = load_iris(as_frame=True)
    frame, species = iris.data, iris.target.to_numpy()
    frame = frame.assign(noise=np.random.default_rng(0).normal(size=len(frame)))
    tests = feature_tests(frame, species, list(frame.columns), skewed=["petal length (cm)"])
    for col in frame.columns:
        groups = [frame[col].to_numpy()[species == s] for s in range(3)]
        f, p = stats.f_oneway(*groups)
        np.testing.assert_allclose(tests.loc[col, ["F", "p"]].to_numpy(float), [f, p], rtol=1e-10)
        x = frame[col].to_numpy()
        eta = sum(len(g) * (g.mean() - x.mean()) ** 2 for g in groups) / ((x - x.mean()) ** 2).sum()
        np.testing.assert_allclose(tests.loc[col, "eta_squared"], eta, rtol=1e-12)
    h, p = stats.kruskal(*[frame["petal length (cm)"][species == s] for s in range(3)])
    np.testing.assert_allclose(
        tests.loc["petal length (cm)", ["kruskal_H", "kruskal_p"]].to_numpy(float), [h, p]
    )
    assert np.isnan(tests.loc["sepal width (cm)", "kruskal_H"])
    assert tests["separates"].tolist() == [True, True, True, True, False]  # the species differ, not the noise
    # a real but tiny difference: p far below 0.05, eta squared below 0.01 -- not a separation
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 4, 40_000)
    tiny = pd.DataFrame({"x": rng.normal(size=labels.size) + 0.05 * labels})
    row = feature_tests(tiny, labels, ["x"]).loc["x"]
    assert row["p"] < 1e-6 and row["eta_squared"] < 0.01 and not row["separates"]


def test_command_says_which_features_do_not_separate_the_segments(tmp_path, capsys, demo):
    frame, _ = demo
    path = tmp_path / "customers.csv"
    noisy = frame.assign(coin=np.random.default_rng(1).integers(0, 2, len(frame)), flat=7.0)
    noisy.to_csv(path, index=False)
    out = tmp_path / "o"
    args = ["segment", "--input", str(path), "--k", "4", "--k-range", "3-4", "--no-plots", "--out", str(out)]
    assert main(args) == 0
    said = capsys.readouterr().out
    assert "The segments do not differ on coin, flat" in said
    tests = pd.read_csv(out / "feature_tests.csv", index_col="feature")
    assert not tests.loc["coin", "separates"] and not tests.loc["flat", "separates"]
    assert tests.drop(index=["coin", "flat"])["separates"].all()
    assert "## Do the segments differ?" in (out / "profile.md").read_text()
    assert 'id="feature-tests"' in (out / "report.html").read_text()


def test_command_on_a_csv_and_on_transactions(tmp_path, demo):
    frame, seg = demo
    path = tmp_path / "customers.csv"
    frame.iloc[:600].to_csv(path, index=False)
    out = tmp_path / "o1"
    args = [
        "segment",
        "--input",
        str(path),
        "--features",
        "monthly_spend,purchase_frequency,gender",
        "--k",
        "3",
    ]
    assert main([*args, "--k-range", "2-4", "--out", str(out), "--quiet", "--no-plots"]) == 0
    assert len(pd.read_csv(out / "labels.csv")) == 600
    tx = make_transactions(frame.iloc[:400], seg[:400], random_state=0)
    tx_path = tmp_path / "tx.csv"
    tx.to_csv(tx_path, index=False)
    out2 = tmp_path / "o2"
    argv = [
        "segment",
        "--input",
        str(tx_path),
        "--transactions",
        "--order-column",
        "order_id",
        "--k-range",
        "2-5",
    ]
    assert main([*argv, "--out", str(out2), "--quiet", "--no-plots"]) == 0
    assert "monetary mean" in pd.read_csv(out2 / "profile.csv").columns


@pytest.mark.parametrize(
    "content, extra, match",
    [
        (None, [], "does not exist"),
        ("", [], "is empty"),
        ("customer_id,spend\n", [], "no rows|no data"),
        ("customer_id,spend\nA,1\nB,2\nC,3\n", ["--features", "spend,age"], "no column 'age'"),
        ("customer_id,spend\nA,1\nB,x\nC,3\nD,4\nE,5\n", [], "numeric except for values such as 'x'"),
        ("customer_id,spend\nA,1\nB,\nC,3\n", ["--missing", "error"], "missing values"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, content, extra, match):
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_text(content)
    out = tmp_path / "out"
    assert main(["segment", "--input", str(path), "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fastseg: error:") and len(err.splitlines()) == 1
    assert __import__("re").search(match, err)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".fastseg-")]


@pytest.mark.slow
def test_real_command_in_a_subprocess(tmp_path):
    cmd = [sys.executable, "-m", "fastseg.cli", "segment", "--demo", "--k-range", "2-5", "--out", "res"]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "res" / "pca.png").read_bytes().startswith(PNG_MAGIC)
    # stderr is a pipe, not a terminal: the command says what it does, one line per stage, in order.
    stages = [line.split(" (")[0] for line in done.stderr.splitlines() if "compiling" not in line]
    assert stages == [
        "fastseg: read 4000 customers from the demo data",
        "fastseg: K sweep",
        "fastseg: clustering",
        "fastseg: pairs and recommendations",
        "fastseg: writing res/",
    ], done.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "fastseg.cli", "segment", "--input", "nope.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr and bad.stderr.startswith("fastseg: error:")
    assert len(bad.stderr.splitlines()) == 1


def test_a_first_run_says_once_that_it_compiles(tmp_path, capsys, monkeypatch):
    # A kernel the cache lacks, met during the run: a new Numba function, compiled twice over.
    import numba

    from fastseg.segment import workflow

    run = workflow.run

    def run_compiling(*args, **kwargs):
        numba.njit(lambda x: x + 1)(1)
        numba.njit(lambda x: x + 2)(1.0)
        return run(*args, **kwargs)

    monkeypatch.setattr(workflow, "run", run_compiling)
    listeners = len(numba.core.event._registered["numba:compile"])
    path = tmp_path / "in.csv"
    pd.DataFrame({"customer_id": [f"c{i}" for i in range(60)], "spend": np.arange(60.0) % 7}).to_csv(
        path, index=False
    )
    assert (
        main(["segment", "--input", str(path), "--k", "2", "--no-plots", "--out", str(tmp_path / "o")]) == 0
    )
    lines = [line.split(" (")[0] for line in capsys.readouterr().err.splitlines()]
    said = "fastseg: compiling kernels on first use, cached for later runs"
    assert lines.count(said) == 1, lines
    assert lines.index(said) == lines.index("fastseg: read 60 customers from " + str(path)) + 1
    assert len(numba.core.event._registered["numba:compile"]) == listeners  # it stopped listening


def test_sweep_on_a_sample_then_kmeans_on_everyone(demo):
    frame, seg = demo
    part = frame.iloc[:900]
    result = segment_customers(part, FEATURES, k_range=range(2, 6), sweep_rows=300, random_state=0)
    assert result.sweep_rows == 300 and result.clusters.shape == (900,)
    # K-means ran on every customer from the sample's centres: its labels are the nearest centres.
    Z = result.Z
    centres = result.model.cluster_centers_
    nearest = ((Z[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(result.clusters[~result.outliers], nearest[~result.outliers])
    again = segment_customers(part, FEATURES, k_range=range(2, 6), sweep_rows=300, random_state=0)
    np.testing.assert_array_equal(result.clusters, again.clusters)


@pytest.mark.slow  # a plotting process
def test_plots_from_the_other_process_are_the_ones_drawn_here(tmp_path, demo):
    from fastseg.segment.plots import PLOT_FILES, PlotProcess, start_plots, write_plots

    result = segment_customers(demo[0].iloc[:600], FEATURES, k=4, k_range=range(2, 5))
    args = (result.sweep, result.z_means, result.names, result.Z, result.segments, result.k)
    here, there, fallback = (tmp_path / name for name in ("here", "there", "fallback"))
    for folder in (here, there, fallback):
        folder.mkdir()
    write_plots(here, *args)
    job = start_plots(*args)
    assert [p.name for p in job.finish(there)] == list(PLOT_FILES)
    assert not job.folder.exists()
    failed = PlotProcess()
    failed.process.kill()  # the other process dies: the plots are drawn here instead
    failed.process.wait()
    failed.draw(*args)
    assert [p.name for p in failed.finish(fallback)] == list(PLOT_FILES)
    for name in PLOT_FILES:
        assert (there / name).read_bytes() == (here / name).read_bytes()
        assert (fallback / name).read_bytes() == (here / name).read_bytes()


@pytest.mark.parametrize("case", ["blobs", "a cluster of one row", "labels with gaps", "sampled"])
def test_sweep_scores_are_scikit_learns(case):
    from sklearn.metrics import davies_bouldin_score, silhouette_score

    from fastseg.segment.sweep import davies_bouldin, silhouette

    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 5)) + np.repeat(rng.normal(scale=4, size=(4, 5)), 75, axis=0)
    labels = np.repeat(np.arange(4), 75)
    sample = None
    if case == "a cluster of one row":
        labels[7] = 4
    elif case == "labels with gaps":
        labels = labels * 3 + 2
    elif case == "sampled":
        sample = 120
    want = silhouette_score(X, labels, sample_size=sample, random_state=5)
    assert silhouette(X, labels, sample_size=sample, random_state=5) == pytest.approx(want, rel=1e-10)
    assert davies_bouldin(X, labels) == pytest.approx(davies_bouldin_score(X, labels), rel=1e-10)
    with pytest.raises(ValueError, match="clusters"):
        silhouette(X, np.zeros(300, dtype=int))


def test_a_one_feature_table_segments_and_draws_its_plots(tmp_path):
    # One clustering column: the customer scatter has one principal component.
    path = tmp_path / "one.csv"
    path.write_text(
        "customer_id,spend\n" + "".join(f"c{i},{v}\n" for i, v in enumerate([1, 2, 3, 10, 11, 12, 30, 31]))
    )
    out = tmp_path / "o"
    assert (
        main(["segment", "--input", str(path), "--k", "3", "--k-range", "2-3", "--out", str(out), "--quiet"])
        == 0
    )
    assert (out / "pca.png").read_bytes().startswith(PNG_MAGIC)
    assert pd.read_csv(out / "labels.csv")["segment"].nunique() == 3
