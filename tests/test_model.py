"""Saved segmentations: round trip, assigning new customers, refits that keep segment numbers,
and files that are not (or no longer) fastseg models."""

import io
import json
import zipfile

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from fastseg.segment import FEATURES, make_customers, segment_customers  # noqa: E402
from fastseg.segment.drift import follow_previous, match_segments  # noqa: E402
from fastseg.segment.model import (  # noqa: E402
    ModelFileError,
    SegmentationModel,
    load_model,
    model_from_result,
)


@pytest.fixture(scope="module")
def customers():
    frame = make_customers(900, random_state=3, return_segments=False)
    frame["customer_id"] = [f"{i:05d}" for i in range(len(frame))]  # text ids with leading zeros
    return frame


def _fit(frame, method="kmeans", dtype=np.float64, seed=0, k=4):
    return segment_customers(
        frame, list(FEATURES), k=k, k_range=range(2, 3), method=method, random_state=seed, dtype=dtype
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", ["kmeans", "ga", "gmm"])
def test_round_trip_reproduces_the_fit(customers, tmp_path, method, dtype):
    result = _fit(customers, method, dtype)
    assert result.Z.dtype == dtype
    path = model_from_result(result, ids=customers["customer_id"]).save(tmp_path / "m.fsm")
    model = load_model(path)
    assert model.method == method and model.k == 4 and model.version
    Z, unseen = model.transform(customers)
    np.testing.assert_array_equal(Z.astype(dtype), result.Z)  # the same preprocessing, bit for bit
    segments, unseen = model.assign(customers)
    assert unseen == {}
    np.testing.assert_array_equal(segments, result.clusters + 1)
    assert model.names == result.names
    assert list(model.arrays["ids"]) == list(customers["customer_id"])


def test_assign_new_customers_with_an_unseen_category(customers, tmp_path):
    result = _fit(customers)
    model = load_model(model_from_result(result).save(tmp_path / "m.fsm"))
    new = customers.head(50).copy()
    before = new.copy()
    new.loc[new.index[:3], "gender"] = "X"
    new = new[list(reversed(new.columns))]  # column order does not matter
    segments, unseen = model.assign(new)
    assert unseen == {"gender": 3}
    assert segments.shape == (50,) and set(segments) <= set(range(1, 5))
    # rows with a known category get the fit's segments
    np.testing.assert_array_equal(segments[3:], result.clusters[3:50] + 1)
    # an unseen category is all zeros in the one-hot columns
    Z, _ = model.transform(new)
    gender_cols = Z.shape[1] - (len(FEATURES) - 1)
    assert gender_cols == 1
    pd.testing.assert_frame_equal(new.iloc[3:][list(before.columns)], before.iloc[3:])


def test_assign_rejects_missing_and_bad_columns(customers, tmp_path):
    model = load_model(model_from_result(_fit(customers)).save(tmp_path / "m.fsm"))
    with pytest.raises(ValueError, match="no column 'age'"):
        model.assign(customers.drop(columns="age"))
    bad = customers.head(10).copy()
    bad.loc[bad.index[2], "monthly_spend"] = np.nan
    with pytest.raises(ValueError, match="monthly_spend.*finite"):
        model.assign(bad)
    with pytest.raises(TypeError, match="DataFrame"):
        model.assign(customers.to_numpy())


def test_refit_on_a_resample_keeps_segment_numbers(customers, tmp_path):
    frame = make_customers(3000, random_state=11, return_segments=False)
    frame["customer_id"] = frame["customer_id"].astype(str)
    first = _fit(frame, seed=0)
    previous = load_model(model_from_result(first, ids=frame["customer_id"]).save(tmp_path / "m.fsm"))
    sample = frame.sample(frac=0.8, random_state=2)
    # a different seed numbers the clusters differently; matching must undo that
    second = follow_previous(_fit(sample, seed=7), previous)
    old = pd.Series(first.clusters + 1, index=frame["customer_id"])
    new = pd.Series(second.segments, index=sample["customer_id"].to_numpy())
    same = (old.loc[new.index].to_numpy() == new.to_numpy()).mean()
    assert same >= 0.95
    drift = second.drift
    assert (drift["status"] == "kept").all() and len(drift) == 4
    assert drift.attrs["customers_in_both"] == len(sample)
    assert drift.attrs["changed_share"] == pytest.approx(1 - same)
    assert (drift["centre_shift_sd"] < 0.5).all()
    assert second.names == previous.names  # kept segments keep their names
    np.testing.assert_allclose(drift["share_before"].sum(), 1.0)
    np.testing.assert_allclose(drift["share_after"].sum(), 1.0)
    # profile rows are keyed by the kept numbers
    assert list(second.feature_profile.index) == sorted(previous.names)


def test_new_and_vanished_segments_are_said(customers, tmp_path):
    previous = load_model(model_from_result(_fit(customers, k=3)).save(tmp_path / "m.fsm"))
    result = _fit(customers, k=5, seed=1)
    numbers, shifts = match_segments(previous, customers, result.clusters, 5)
    assert sorted(numbers)[:3] == [1, 2, 3] or len(shifts) < 3
    assert len(set(numbers)) == 5 and numbers.max() >= 4  # two (or more) new segments, numbered after 3
    drift = follow_previous(result, previous).drift
    assert set(drift.loc[drift["status"] == "new"].index) == {int(s) for s in numbers if s not in shifts}
    # a model with more segments than the refit: some vanish
    drift = follow_previous(
        _fit(customers, k=3), load_model(model_from_result(result).save(tmp_path / "m5"))
    ).drift
    assert (drift["status"] == "vanished").sum() >= 2


def _rewrite(path, out, change):
    """Copy the zip at ``path`` to ``out``, passing every member's bytes through ``change``."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info.filename)))
    return out


def test_files_that_are_not_models(customers, tmp_path):
    good = model_from_result(_fit(customers)).save(tmp_path / "m.fsm")
    text = tmp_path / "notes.txt"
    text.write_text("segment,name\n1,a\n")
    with pytest.raises(ModelFileError, match="not a fastseg segmentation model"):
        load_model(text)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.arange(3))
    with pytest.raises(ModelFileError, match="not a fastseg segmentation model"):
        load_model(other)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.fsm")

    # a changed centre: the checksum no longer matches
    def bump(name, data):
        if name != "centres.npy":
            return data
        arr = np.load(io.BytesIO(data))
        arr[0, 0] += 1e-9
        buf = io.BytesIO()
        np.save(buf, arr)
        return buf.getvalue()

    with pytest.raises(ModelFileError, match="changed since it was written"):
        load_model(_rewrite(good, tmp_path / "tampered.fsm", bump))
    # a truncated file
    cut = tmp_path / "cut.fsm"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ModelFileError):
        load_model(cut)


def test_a_model_from_another_format_version(customers, tmp_path):
    model = model_from_result(_fit(customers))
    meta = dict(model.meta, format_version=99, fastseg_version="9.0")
    path = SegmentationModel(meta, model.arrays).save(tmp_path / "future.fsm")
    with pytest.raises(ModelFileError, match=r"fastseg 9\.0 in model format 99.*reads format 1"):
        load_model(path)


class _Boom:
    def __reduce__(self):
        import pathlib

        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_loading_never_unpickles(customers, tmp_path):
    good = model_from_result(_fit(customers)).save(tmp_path / "m.fsm")
    marker = tmp_path / "executed"
    boom = _Boom()
    boom.marker = str(marker)

    def inject(name, data):
        if name != "centres.npy":
            return data
        buf = io.BytesIO()
        np.save(buf, np.array([boom], dtype=object), allow_pickle=True)
        return buf.getvalue()

    evil = _rewrite(good, tmp_path / "evil.fsm", inject)
    with pytest.raises(ModelFileError):
        load_model(evil)
    assert not marker.exists()
    meta = json.loads(np.load(good)["meta"].tobytes())
    assert meta["format"] == "fastseg-segmentation"


# -- the command --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def customer_file(tmp_path_factory):
    frame = make_customers(700, random_state=5, return_segments=False)
    frame["customer_id"] = [f"{i:04d}" for i in range(len(frame))]
    path = tmp_path_factory.mktemp("data") / "customers.csv"
    frame.to_csv(path, index=False)
    return path, frame


def _run(capsys, *argv):
    from fastseg.cli import main

    argv = [str(a) for a in argv] + (["--no-plots"] if argv[0] == "segment" else [])  # none looked at
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_command_saves_assigns_and_follows(customer_file, tmp_path, capsys):
    path, frame = customer_file
    model = tmp_path / "seg.fsm"
    status, out, err = _run(capsys, "segment", "--input", path, "--k", 3, "--k-range", "2-3",
                            "--out", tmp_path / "fit", "--save-model", model)  # fmt: skip
    assert status == 0, err
    assert "Model saved to" in out
    status, out, err = _run(capsys, "assign", "--model", model, "--input", path, "--out", tmp_path / "new")
    assert status == 0, err
    fitted = pd.read_csv(tmp_path / "fit" / "labels.csv", dtype=str)
    assigned = pd.read_csv(tmp_path / "new" / "labels.csv", dtype=str)
    assert list(assigned["customer_id"]) == list(frame["customer_id"])  # "0007" stays "0007"
    pd.testing.assert_frame_equal(assigned, fitted[["customer_id", "segment", "segment_name"]])
    assert "Traceback" not in err and "Warning" not in err

    # a refit of a resample keeps the numbers and says what drifted
    sample = frame.sample(frac=0.8, random_state=3)
    sample_path = tmp_path / "sample.csv"
    sample.to_csv(sample_path, index=False)
    status, out, err = _run(capsys, "segment", "--input", sample_path, "--k", 3, "--k-range", "2-3",
                            "--seed", 4, "--out", tmp_path / "refit", "--previous", model)  # fmt: skip
    assert status == 0, err
    assert "3 segments kept their numbers and names" in out
    drift = pd.read_csv(tmp_path / "refit" / "drift.csv")
    assert list(drift["status"]) == ["kept"] * 3
    refit = pd.read_csv(tmp_path / "refit" / "labels.csv", dtype=str).set_index("customer_id")
    same = (refit["segment"] == fitted.set_index("customer_id").loc[refit.index, "segment"]).mean()
    assert same >= 0.95
    assert drift["changed_share"].fillna(0).max() <= 0.1
    report = (tmp_path / "refit" / "report.html").read_text()
    assert "Since the previous model" in report and report.count("<tr>", report.index('id="drift"')) >= 4
    assert "Since the previous model" not in (tmp_path / "fit" / "report.html").read_text()


def test_command_assign_reports_unseen_categories(customer_file, tmp_path, capsys):
    path, frame = customer_file
    model = tmp_path / "seg.fsm"
    assert _run(capsys, "segment", "--input", path, "--k", 3, "--k-range", "2-3", "--out", tmp_path / "fit",
                "--save-model", model, "--quiet")[0] == 0  # fmt: skip
    new = frame.head(40).copy()
    new.loc[new.index[:5], "gender"] = "unknown"
    new_path = tmp_path / "new.csv"
    new.to_csv(new_path, index=False)
    status, out, err = _run(capsys, "assign", "--model", model, "--input", new_path, "--out", tmp_path / "a")
    assert status == 0, err
    assert "5 customers have a 'gender' value the model never saw" in err
    report = pd.read_csv(tmp_path / "a" / "data_report.csv")
    assert report["rows"].tolist() == [5] and "gender" in report["reason"][0]
    assert len(pd.read_csv(tmp_path / "a" / "labels.csv")) == 40


def _changed_model(model, out):
    """The model file at ``model`` with one byte of its centres changed (its checksum no longer
    matches)."""

    def flip(name, data):
        return data[:-1] + bytes([data[-1] ^ 1]) if name == "centres.npy" else data

    return _rewrite(model, out, flip)


def _future_model(model, out):
    """The model at ``model`` as a later fastseg in another format version would write it."""
    saved = load_model(model)
    return SegmentationModel(dict(saved.meta, format_version=99, fastseg_version="9.0"), saved.arrays).save(
        out
    )


PROBLEMS = {
    "missing column": "no column 'age'",
    "not a model": "is not a fastseg segmentation model",
    "no such file": "nothing.fsm",
    "changed file": "changed since it was written",
    "another format version": r"fastseg 9.0 in model format 99",
}


@pytest.mark.parametrize("command", ["assign", "segment --previous"])
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_command_model_errors_are_one_line(customer_file, tmp_path, capsys, problem, command):
    path, frame = customer_file
    model = tmp_path / "seg.fsm"
    assert _run(capsys, "segment", "--input", path, "--k", 3, "--k-range", "2-3", "--out", tmp_path / "fit",
                "--save-model", model, "--quiet")[0] == 0  # fmt: skip
    data = path
    if problem == "missing column":
        frame.drop(columns="age").to_csv(tmp_path / "x.csv", index=False)
        data = tmp_path / "x.csv"
    elif problem == "not a model":
        model = path
    elif problem == "no such file":
        model = tmp_path / "nothing.fsm"
    elif problem == "changed file":
        model = _changed_model(model, tmp_path / "changed.fsm")
    else:
        model = _future_model(model, tmp_path / "future.fsm")
    if command == "assign":
        argv = ["assign", "--model", model, "--input", data]
    else:
        argv = ["segment", "--previous", model, "--input", data, "--k", 3]
    status, out, err = _run(capsys, *argv, "--out", tmp_path / "a")
    assert status == 2, err
    expected = PROBLEMS[problem]
    if problem == "missing column" and command != "assign":  # its features default to the file's columns
        expected = "the previous model was fitted on the features age,"
    assert err.strip().count("\n") == 0 and expected in err and err.startswith("fastseg: error:"), err
    assert not (tmp_path / "a").exists()


def test_command_assign_reads_and_writes_a_database(customer_file, tmp_path, capsys):
    pytest.importorskip("sqlalchemy")
    import sqlite3

    path, frame = customer_file
    model = tmp_path / "seg.fsm"
    assert _run(capsys, "segment", "--input", path, "--k", 3, "--k-range", "2-3", "--out", tmp_path / "fit",
                "--save-model", model, "--quiet")[0] == 0  # fmt: skip
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as con:
        frame.to_sql("customers", con, index=False)
    url = f"sqlite:///{db}"
    status, out, err = _run(capsys, "assign", "--model", model, "--input", url, "--table", "customers",
                            "--write-table", "segments_now", "--out", tmp_path / "a")  # fmt: skip
    assert status == 0, err
    assert "Segments written to table segments_now" in out
    with sqlite3.connect(db) as con:
        written = pd.read_sql("SELECT customer_id, segment, segment_name, method, k FROM segments_now", con)
    fitted = pd.read_csv(tmp_path / "fit" / "labels.csv", dtype={"customer_id": str})
    assert list(written["customer_id"]) == list(frame["customer_id"])
    np.testing.assert_array_equal(written["segment"], fitted["segment"])
    assert set(written["method"]) == {"kmeans"} and set(written["k"]) == {3}
    # the table exists now: the default --if-exists fail stops before any work, leaving no folder
    status, out, err = _run(capsys, "assign", "--model", model, "--input", url, "--table", "customers",
                            "--write-table", "segments_now", "--out", tmp_path / "b")  # fmt: skip
    assert status == 2 and "segments_now" in err and err.count("\n") == 1
    assert not (tmp_path / "b").exists()
