"""``fastseg choice`` / ``fastseg.choice.fit_choice``: a multinomial logit recovers the
coefficients that generated the choices (within their standard errors), its log-likelihood is
NumPy's of its coefficients, statsmodels and scikit-learn agree, the segment joins from a
labels.csv, and bad input is a one-line error that writes nothing."""

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("statsmodels")

from fastseg.choice import _design, fit_choice  # noqa: E402
from fastseg.cli import main  # noqa: E402
from fastseg.segment.datasets import make_choices  # noqa: E402

ATTRIBUTES = ["price", "platform", "free_shipping", "seven_day_return"]


def _log_likelihood(coefficients, frame, options, terms, rows):
    """NumPy's multinomial-logit log-likelihood of the chosen options at ``coefficients``."""
    X = np.column_stack([np.ones(len(frame))] + [
        frame[t].to_numpy(float) if "=" not in t else (frame[t.split("=")[0]].astype(str) == t.split("=")[1]).to_numpy(float)
        for t in terms
    ])  # fmt: skip
    beta = np.zeros((len(options), X.shape[1]))
    for a, option in enumerate(options[1:], start=1):
        part = coefficients[coefficients["option"] == option].set_index("term")
        beta[a] = part.loc[["const", *terms], "coefficient"].to_numpy()
    u = X[rows] @ beta.T
    y = pd.Categorical(frame["brand"].iloc[rows], categories=options).codes
    u -= u.max(axis=1, keepdims=True)
    return float(np.sum(u[np.arange(len(rows)), y] - np.log(np.exp(u).sum(axis=1))))


@pytest.mark.parametrize("n_options", [2, 3, 5])
def test_known_coefficients_are_recovered_within_their_standard_errors(n_options):
    frame, truth = make_choices(40000, n_options=n_options, n_segments=3, random_state=n_options)
    model = fit_choice(frame, "brand", ATTRIBUTES, segment="segment", holdout=0.3)
    got = model.coefficients.merge(truth, on=["option", "term"], suffixes=("", "_true"))
    assert len(got) == len(truth) == len(model.coefficients)  # every term and option, named alike
    assert np.isfinite(got["se"]).all() and (got["se"] > 0).all()
    error = (got["coefficient"] - got["coefficient_true"]) / got["se"]
    assert np.abs(error).max() < 4.5  # 4.5 SE: a miss of the whole set by chance is ~1e-4
    assert np.abs(error).mean() < 1.2  # and the typical miss is one SE, as it should be
    train = np.arange(model.summary["training_rows"])
    ll = _log_likelihood(model.coefficients, frame, model.options, model.terms, train)
    assert ll == pytest.approx(model.summary["log_likelihood"], rel=1e-6)
    assert model.summary["lr_p"] < 1e-6 and model.summary["lr_df"] == len(model.terms) * (n_options - 1)
    assert model.summary["holdout_accuracy"] >= model.summary["majority_option_accuracy"]
    probs = model.probabilities
    assert set(probs["segment"]) == {"1", "2", "3"}
    for _, part in probs.groupby("segment"):
        assert part["predicted_probability"].sum() == pytest.approx(1.0)
        # an unpenalised logit with the segment dummies reproduces each segment's training shares;
        # over all rows (with the held-out ones) they stay close
        np.testing.assert_allclose(part["predicted_probability"], part["observed_share"], atol=0.03)


def test_predict_proba_is_the_logit_of_the_coefficients():
    frame, _ = make_choices(3000, n_options=3, random_state=7)
    model = fit_choice(frame, "brand", ATTRIBUTES)
    p = model.predict_proba(frame.iloc[:50])
    rows = np.arange(50)
    ll = _log_likelihood(model.coefficients, frame, model.options, model.terms, rows)
    chosen = pd.Categorical(frame["brand"].iloc[:50], categories=model.options).codes
    assert np.log(p[rows, chosen]).sum() == pytest.approx(ll, rel=1e-5)


def test_the_random_split_is_seeded_and_the_ordered_one_holds_out_the_last_rows():
    frame, _ = make_choices(4000, random_state=2)
    ordered = fit_choice(frame, "brand", ATTRIBUTES)
    assert ordered.summary["held_out_rows"] == 1200
    last, first = frame.copy(), frame.copy()
    last.loc[3990:, "brand"] = "B1"  # held-out rows: the fit does not see them
    first.loc[:9, "brand"] = "B1"  # training rows: it does
    pd.testing.assert_frame_equal(fit_choice(last, "brand", ATTRIBUTES).coefficients, ordered.coefficients)
    assert not np.allclose(fit_choice(first, "brand", ATTRIBUTES).coefficients["coefficient"],
                           ordered.coefficients["coefficient"])  # fmt: skip
    a = fit_choice(frame, "brand", ATTRIBUTES, split="random", random_state=5)
    b = fit_choice(frame, "brand", ATTRIBUTES, split="random", random_state=5)
    c = fit_choice(frame, "brand", ATTRIBUTES, split="random", random_state=6)
    pd.testing.assert_frame_equal(a.coefficients, b.coefficients)
    assert not np.allclose(a.coefficients["coefficient"], c.coefficients["coefficient"])
    assert not np.allclose(ordered.coefficients["coefficient"], a.coefficients["coefficient"])


def test_command_joins_segments_from_labels_and_writes_its_tables(tmp_path, capsys):
    frame, _ = make_choices(12000, n_segments=3, random_state=3)
    labels = frame.drop_duplicates("customer_id")[["customer_id", "segment"]]
    labels.iloc[5:].to_csv(tmp_path / "labels.csv", index=False)  # five customers have no segment
    frame.drop(columns="segment").to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "out"
    argv = ["choice", "--input", str(tmp_path / "rows.csv"), "--choice-column", "brand",
            "--attributes", ",".join(ATTRIBUTES), "--segments", str(tmp_path / "labels.csv"), "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert "likelihood-ratio statistic" in printed.out and "6.93" in printed.out
    unlabelled = int(frame["customer_id"].isin(labels["customer_id"].iloc[:5]).sum())
    assert f"dropped {unlabelled:,} rows: a customer not in labels.csv" in printed.err
    coefficients = pd.read_csv(out / "choice_coefficients.csv")
    kept = frame[~frame["customer_id"].isin(labels["customer_id"].iloc[:5])].reset_index(drop=True)
    direct = fit_choice(kept, "brand", ATTRIBUTES, segment="segment")
    np.testing.assert_allclose(coefficients["coefficient"], direct.coefficients["coefficient"], rtol=1e-9)
    assert list(coefficients.columns) == ["option", "term", "coefficient", "se", "z", "p"]
    summary = pd.read_csv(out / "choice_summary.csv").set_index("measure")
    assert summary.loc["held-out share", "paper"] == 0.3
    probs = pd.read_csv(out / "choice_probabilities.csv")
    assert set(probs["segment"]) == {1, 2, 3}
    report = pd.read_csv(out / "data_report.csv")
    assert report["rows"].sum() == unlabelled


def _one_option(frame):
    return frame.assign(brand="B1")


def _separated(frame):
    frame = frame.copy()
    frame.loc[frame["platform"] == "Tmall", "brand"] = "B2"
    return frame


@pytest.mark.parametrize(
    "change, extra, match",
    [
        (_one_option, [], "has a single option"),
        (_separated, [], "perfectly separated by 'platform=Tmall'"),
        (lambda f: f, ["--attributes", "price,colour"], "no column 'colour'"),
        (lambda f: f.iloc[:40], [], "too few rows"),
        (lambda f: f.assign(platform="JD"), [], "attribute 'platform' has a single value"),
        (lambda f: f, ["--factors", "weight"], "not attributes"),
        (lambda f: f, ["--holdout", "1.5"], "holdout must be a share"),
        (lambda f: f, ["--segments", "nowhere.csv"], "does not exist"),
    ],
)
def test_bad_input_is_a_one_line_error_and_writes_nothing(tmp_path, capsys, change, extra, match):
    frame, _ = make_choices(3000, random_state=4)
    change(frame).to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "out"
    argv = ["choice", "--input", str(tmp_path / "rows.csv"), "--choice-column", "brand",
            "--attributes", ",".join(ATTRIBUTES), "--out", str(out), *extra]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fastseg: error:") and match in err[0], err
    assert not out.exists()


def test_blank_rows_are_left_out_and_counted():
    frame, _ = make_choices(3000, random_state=8)
    frame = frame.astype({"platform": object, "price": float})
    frame.loc[[3, 9], "platform"] = ""
    frame.loc[[9, 11, 12], "price"] = np.nan
    from fastseg.segment.purchases import DataReport

    report = DataReport()
    model = fit_choice(frame, "brand", ATTRIBUTES, report=report)
    assert model.summary["rows"] == 3000 - 4
    assert dict(report.drops) == {
        "a missing value in column 'price'": 3,
        "a missing value in column 'platform'": 1,
    }


def test_the_likelihood_ratio_test_is_statsmodels_own():
    import statsmodels.api as sm

    frame, _ = make_choices(3000, n_options=4, random_state=9)
    model = fit_choice(frame, "brand", ATTRIBUTES)
    X, _ = _design(frame, model._spec)
    train = np.arange(model.summary["training_rows"])
    y = pd.Categorical(frame["brand"], categories=model.options).codes[train]
    fit = sm.MNLogit(y, np.column_stack([np.ones(train.size), X[train]])).fit(method="newton", disp=0)
    assert model.summary["lr_statistic"] == pytest.approx(fit.llr, rel=1e-5)
    assert model.summary["lr_p"] == pytest.approx(fit.llr_pvalue, rel=1e-4, abs=1e-300)
    assert model.summary["pseudo_r2"] == pytest.approx(fit.prsquared, rel=1e-5)


def test_per_segment_models_are_each_segment_s_own_fit(tmp_path, capsys):
    frame, _ = make_choices(15000, n_segments=3, random_state=11)
    frame.drop_duplicates("customer_id")[["customer_id", "segment"]].to_csv(
        tmp_path / "labels.csv", index=False
    )
    frame.drop(columns="segment").to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "out"
    argv = ["choice", "--input", str(tmp_path / "rows.csv"), "--choice-column", "brand", "--attributes",
            ",".join(ATTRIBUTES), "--segments", str(tmp_path / "labels.csv"), "--per-segment", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert "Segment 3: Multinomial logit" in capsys.readouterr().out
    coefficients = pd.read_csv(out / "choice_coefficients.csv", dtype={"segment": str})
    assert list(coefficients.columns[:3]) == ["segment", "option", "term"]
    for g in ("1", "2", "3"):
        alone = fit_choice(
            frame[frame["segment"].astype(str) == g].reset_index(drop=True), "brand", ATTRIBUTES
        )
        mine = coefficients[coefficients["segment"] == g].reset_index(drop=True)
        np.testing.assert_allclose(mine["coefficient"], alone.coefficients["coefficient"], rtol=1e-9)
        np.testing.assert_allclose(mine["se"], alone.coefficients["se"], rtol=1e-9)
    summary = pd.read_csv(out / "choice_summary.csv", dtype={"segment": str})
    assert set(summary["segment"]) == {"1", "2", "3"}
    # a segment too small to fit is an error that names it
    small = frame[(frame["segment"] != 2) | (np.arange(len(frame)) % 300 == 0)]
    small.drop(columns="segment").to_csv(tmp_path / "rows.csv", index=False)
    assert main(argv) == 2
    assert "segment 2: too few rows" in capsys.readouterr().err
    assert main(argv[:-3] + ["--out", str(out)]) == 0  # without --per-segment, the segment a covariate
    capsys.readouterr()
    assert main([a for a in argv if a not in ("--segments", str(tmp_path / "labels.csv"))]) == 2
    assert "--per-segment needs --segments" in capsys.readouterr().err
