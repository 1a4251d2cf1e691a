"""Segments that stay put between runs: a refit with a previous model starts from its centres, so
customers who did not change keep their segment; a real drift shows as a shift of one segment."""

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from fastseg.segment import (  # noqa: E402
    Columns,
    Job,
    Options,
    make_customers,
    run,
    warm,  # noqa: E402
)
from fastseg.segment.datasets import load_wholesale  # noqa: E402
from fastseg.segment.model import load_model, model_from_result  # noqa: E402

WHOLESALE = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]


def _saved(result, path):
    return load_model(model_from_result(result, ids=result.customers[result.id_column]).save(path))


def _kept_share(first, second):
    old = pd.Series(first.segments, index=first.customers[first.id_column])
    new = pd.Series(second.segments, index=second.customers[second.id_column])
    return float((old.loc[new.index].to_numpy() == new.to_numpy()).mean())


@pytest.fixture(scope="module")
def wholesale():
    return load_wholesale()


@pytest.mark.parametrize("method", ["kmeans", "ga", "gmm"])
def test_same_data_keeps_every_customer(wholesale, tmp_path, method):
    columns = Columns(features=WHOLESALE)
    first = run(wholesale, Job(columns, Options(method=method, k=4, k_range=range(2, 5))))
    again = run(wholesale, Job(columns, Options(method=method, k=4, k_range=range(2, 5), random_state=7),
                               _saved(first, tmp_path / "m.fsm")))  # fmt: skip
    if method == "gmm":  # EM resumes from the converged mixture and may move a borderline customer
        assert _kept_share(first, again) >= 0.99
    else:
        np.testing.assert_array_equal(again.segments, first.segments)
    assert set(again.drift["status"]) == {"kept"}
    assert again.names == first.names


@pytest.mark.parametrize("method,k", [("kmeans", 3), ("kmeans", 5), ("kmeans", 6), ("ga", 5)])
def test_a_resample_of_a_real_customer_table_keeps_95_percent(wholesale, tmp_path, method, k):
    columns = Columns(features=WHOLESALE)
    first = run(wholesale, Job(columns, Options(method=method, k=k, k_range=range(2, 3))))
    previous = _saved(first, tmp_path / "m.fsm")
    for seed in range(3):
        part = wholesale.sample(frac=0.9, random_state=seed)
        second = run(
            part, Job(columns, Options(method=method, k=k, k_range=range(2, 3), random_state=7), previous)
        )
        assert _kept_share(first, second) >= 0.95, seed
        assert set(second.drift["status"]) == {"kept"}


def test_a_real_drift_is_a_shift_of_that_segment(tmp_path):
    frame, _ = make_customers(800, random_state=1)
    first = run(frame, Job(Columns(), Options(k=4, k_range=range(2, 5))))
    previous = _saved(first, tmp_path / "m.fsm")
    feature = "purchase_interval_days"
    assert feature not in first.logged  # so 2 SD in the file are 2 SD in the clustering space
    # 2 SD in two segments, and either side of the documented 1 SD cut
    for segment, sds, status in (
        (1, 2.0, "shifted"),
        (3, 2.0, "shifted"),
        (2, 1.25, "shifted"),
        (4, 0.75, "kept"),
    ):
        moved = frame.copy()
        members = first.segments == segment
        moved[feature] = moved[feature].astype(float)
        moved.loc[members, feature] += sds * frame[feature].std(ddof=0)
        drift = run(moved, Job(Columns(), Options(k=4, k_range=range(2, 5), random_state=3), previous)).drift
        assert drift.loc[segment, "status"] == status
        assert drift.loc[segment, "centre_shift_sd"] == pytest.approx(sds, abs=0.15)
        others = drift.drop(index=segment)
        assert (others["status"] == "kept").all() and (others["centre_shift_sd"] < 0.2).all()
        assert drift.attrs["changed_share"] < 0.05  # not churn everywhere


def test_previous_centres_carry_through_both_preprocessings(wholesale, tmp_path):
    frame, _ = make_customers(600, random_state=2)  # logged, plain and one-hot columns
    first = run(frame, Job(Columns(), Options(k=4, k_range=range(2, 5))))
    previous = _saved(first, tmp_path / "m.fsm")
    # the same preprocessing: the centres come back as they were saved
    np.testing.assert_allclose(warm.carried_centres(previous, first.preprocessor),
                               first.model.cluster_centers_, rtol=0, atol=1e-9)  # fmt: skip
    # another data set: NumPy twin of the map, feature by feature, through feature units
    other = run(make_customers(500, random_state=9)[0], Job(Columns(), Options(k=3, k_range=range(2, 4))))
    got = warm.carried_centres(previous, other.preprocessor)
    names = list(other.preprocessor.get_feature_names_out())
    old_names = list(first.preprocessor.get_feature_names_out())
    C = first.model.cluster_centers_
    for j, name in enumerate(names):
        if name in frame.columns and pd.api.types.is_numeric_dtype(frame[name]):
            o = old_names.index(name)
            old_scaler = first.preprocessor.named_transformers_[
                "log_scaled" if name in first.logged else "scaled"
            ]
            new_scaler = other.preprocessor.named_transformers_[
                "log_scaled" if name in other.logged else "scaled"
            ]
            old_scaler = old_scaler.steps[-1][1] if name in first.logged else old_scaler
            new_scaler = new_scaler.steps[-1][1] if name in other.logged else new_scaler
            oi = list(old_scaler.feature_names_in_).index(name)
            ni = list(new_scaler.feature_names_in_).index(name)
            x = C[:, o] * old_scaler.scale_[oi] + old_scaler.mean_[oi]
            x = np.expm1(x) if name in first.logged else x
            x = np.log1p(x) if name in other.logged else x
            np.testing.assert_allclose(
                got[:, j], (x - new_scaler.mean_[ni]) / new_scaler.scale_[ni], rtol=1e-12
            )
        else:  # a one-hot column: the share of that category in the previous centre
            np.testing.assert_allclose(got[:, j], C[:, old_names.index(name)], rtol=1e-12)


def test_the_previous_k_is_kept_unless_another_is_clearly_better():
    sweep = pd.DataFrame({"silhouette": [0.30, 0.33, 0.40], "smallest_share": [0.2, 0.1, 0.01]},
                         index=pd.Index([3, 4, 5], name="k"))  # fmt: skip
    sweep.attrs["recommended_k"] = 4
    assert warm.choose_k(sweep, 3, 0.02)[0] == 3  # 0.03 better: not clearly
    assert warm.choose_k(sweep.assign(silhouette=[0.25, 0.33, 0.40]), 3, 0.02)[0] == 4  # 0.08 better
    assert warm.choose_k(sweep, 5, 0.02)[0] == 4  # the previous K leaves a segment under 2%
    k, why = warm.choose_k(sweep, 9, 0.02)
    assert k == 4 and "outside" in why


def _cli(capsys, *argv):
    from fastseg.cli import main

    argv = [str(a) for a in argv] + (["--no-plots"] if argv[0] == "segment" else [])  # none looked at
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def customer_file(tmp_path):
    frame, _ = make_customers(600, random_state=5)
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_command_refit_on_the_same_file_keeps_everyone(customer_file, tmp_path, capsys):
    path, _ = customer_file
    model = tmp_path / "m.fsm"
    assert (
        _cli(capsys, "segment", "--input", path, "--out", tmp_path / "a", "--save-model", model, "--quiet")[0]
        == 0
    )
    status, out, err = _cli(capsys, "segment", "--input", path, "--out", tmp_path / "b", "--previous", model,
                            "--seed", 7)  # fmt: skip
    assert status == 0, err
    assert "Refit from the previous model: K = " in out  # the K decision is said
    drift = pd.read_csv(tmp_path / "b" / "drift.csv")
    assert set(drift["status"]) == {"kept"} and drift["changed_share"].max() == 0
    a, b = (pd.read_csv(tmp_path / d / "labels.csv", dtype=str) for d in "ab")
    pd.testing.assert_frame_equal(a, b)
    assert "Refit from the previous model" in (tmp_path / "b" / "report.html").read_text()


def test_command_previous_with_other_features_stops_before_writing(customer_file, tmp_path, capsys):
    path, frame = customer_file
    model = tmp_path / "m.fsm"
    assert _cli(capsys, "segment", "--input", path, "--k", 3, "--out", tmp_path / "a", "--save-model", model,
                "--quiet")[0] == 0  # fmt: skip
    frame.drop(columns="age").to_csv(tmp_path / "x.csv", index=False)
    status, out, err = _cli(capsys, "segment", "--input", tmp_path / "x.csv", "--out", tmp_path / "b",
                            "--previous", model)  # fmt: skip
    assert status == 2 and out == ""
    assert err.startswith("fastseg: error: the previous model was fitted on the features") and "age" in err
    assert not (tmp_path / "b").exists()


def test_command_previous_says_a_new_category(customer_file, tmp_path, capsys):
    path, frame = customer_file
    model = tmp_path / "m.fsm"
    assert _cli(capsys, "segment", "--input", path, "--k", 3, "--out", tmp_path / "a", "--save-model", model,
                "--quiet")[0] == 0  # fmt: skip
    new = frame.copy()
    new.loc[new.index[:7], "gender"] = "X"
    new.to_csv(tmp_path / "new.csv", index=False)
    status, out, err = _cli(capsys, "segment", "--input", tmp_path / "new.csv", "--k", 3, "--out", tmp_path / "b",
                            "--previous", model)  # fmt: skip
    assert status == 0, err
    assert "fastseg: 7 customers have a 'gender' value the previous model never saw" in err
    assert "7 customers have a 'gender' value" in (tmp_path / "b" / "profile.md").read_text()
