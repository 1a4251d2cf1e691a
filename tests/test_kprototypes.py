"""``fastseg.KPrototypes``: the `kmodes` package's labels, cost, iterations, prototypes and
predictions for the same ``random_state`` (every init, weights, text and numbers, a DataFrame) --
the package is the plain-Python twin of the kernel; the distance kernels against NumPy; text
coding against ``np.unique``; ``segment --method kprototypes``; bad input."""

import numpy as np
import pytest

from fastseg import KPrototypes
from fastseg._kernels import kmodes as km
from fastseg.kmodes import encode

kprototypes = pytest.importorskip("kmodes.kprototypes")


def _table(seed, n, p, m, k):
    """Mixed rows (object array): p numeric columns of k shifted groups, then m text columns,
    with repeated rows."""
    rng = np.random.default_rng(seed)
    z = rng.integers(0, k, n)
    num = rng.normal(size=(n, p)) * rng.uniform(0.5, 30, p) + z[:, None] * rng.uniform(0, 2)
    cat = np.column_stack([(rng.integers(0, 4, n) + z * (a % 2)) % 5 for a in range(m)])
    X = np.empty((n, p + m), dtype=object)
    X[:, :p] = num
    X[:, p:] = np.char.add("c", cat.astype(str))
    X[n // 3 : n // 3 + 15] = X[:15]
    return X


CASES = [(seed, init, weighted) for seed in range(3) for init in ("Huang", "Cao", "random", "given")
         for weighted in (False, True)]  # fmt: skip


@pytest.mark.parametrize("seed, init, weighted", CASES)
def test_same_as_the_kmodes_package(seed, init, weighted):
    rng = np.random.default_rng(200 + seed)
    n, p, m, k = (
        int(rng.integers(80, 500)),
        int(rng.integers(1, 12)),
        int(rng.integers(1, 5)),
        int(rng.integers(2, 7)),
    )
    X = _table(seed, n, p, m, k)
    cats = list(range(p, p + m))
    w = rng.uniform(0.2, 3, n) if weighted else None
    theirs_init = init
    if init == "given":
        pick = rng.choice(n, k, replace=False)
        init = [X[pick, :p].astype(float), X[pick, p:]]
        codes = np.column_stack([np.searchsorted(np.unique(X[:, a].astype(str)), X[pick, a]) for a in cats])
        theirs_init = [X[pick, :p].astype(float), codes]
    params = dict(n_clusters=k, n_init=3, random_state=seed, max_iter=60)
    ours = KPrototypes(init=init, **params).fit(X, categorical=cats, sample_weight=w)
    theirs = kprototypes.KPrototypes(init=theirs_init, **params).fit(
        X, categorical=cats, sample_weight=None if w is None else list(w)
    )
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cost_, theirs.cost_, rtol=1e-12)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.epoch_costs_, theirs.epoch_costs_, rtol=1e-12)
    assert ours.gamma_ == theirs.gamma
    # the package stacks its means with the modes as text; ours keep the numbers numbers
    np.testing.assert_allclose(
        ours.cluster_centroids_[:, :p].astype(float),
        theirs.cluster_centroids_[:, :p].astype(float),
        rtol=1e-12,
    )
    np.testing.assert_array_equal(
        ours.cluster_centroids_[:, p:].astype(str), theirs.cluster_centroids_[:, p:]
    )
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X, categorical=cats))


def test_a_dataframe_s_text_columns_are_its_categories():
    pd = pytest.importorskip("pandas")
    X = _table(7, 400, 3, 2, 4)
    frame = pd.DataFrame({"a": X[:, 0].astype(float), "colour": X[:, 3].astype(str), "b": X[:, 1].astype(float),
                          "size": pd.Categorical(X[:, 4].astype(str)), "c": X[:, 2].astype(float)})  # fmt: skip
    ours = KPrototypes(4, init="Huang", n_init=2, random_state=1).fit(frame)
    order = frame[["a", "b", "c", "colour", "size"]].to_numpy(dtype=object)
    theirs = kprototypes.KPrototypes(4, init="Huang", n_init=2, random_state=1).fit(order, categorical=[3, 4])
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cost_, theirs.cost_, rtol=1e-12)
    np.testing.assert_array_equal(ours.predict(frame), ours.labels_)
    by_name = KPrototypes(4, init="Huang", n_init=2, random_state=1, categorical=["colour", "size"]).fit(
        frame
    )
    np.testing.assert_array_equal(by_name.labels_, ours.labels_)


@pytest.mark.parametrize("init", ["Huang", "Cao", "random"])
def test_categorical_columns_are_coded_from_their_codes(init):
    """pandas Categorical columns (categories unsorted, some unused, more than 127 levels in one)
    give the package's result on the same values; the numeric columns are read in place."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(3)
    n = 600
    X = _table(11, n, 4, 2, 5)
    wide = np.char.add("w", rng.integers(0, 150, n).astype(str))
    levels = [sorted(set(X[:, 4 + a]), reverse=True) + ["unused"] for a in range(2)]
    frame = pd.DataFrame({f"x{j}": X[:, j].astype(float) for j in range(4)})
    for a in range(2):
        frame[f"c{a}"] = pd.Categorical(X[:, 4 + a], categories=levels[a])
    frame["wide"] = pd.Categorical(wide, categories=rng.permutation(np.unique(wide)))
    before = frame.copy()
    ours = KPrototypes(5, init=init, n_init=2, random_state=4).fit(frame)
    values = np.column_stack([X[:, :6], wide]).astype(object)
    theirs = kprototypes.KPrototypes(5, init=init, n_init=2, random_state=4).fit(
        values, categorical=[4, 5, 6]
    )
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cost_, theirs.cost_, rtol=1e-12)
    np.testing.assert_array_equal(
        ours.cluster_centroids_[:, 4:].astype(str), theirs.cluster_centroids_[:, 4:]
    )
    np.testing.assert_array_equal(ours.predict(frame), theirs.predict(values, categorical=[4, 5, 6]))
    pd.testing.assert_frame_equal(frame, before)
    frame.loc[7, "c0"] = np.nan
    with pytest.raises(ValueError, match="missing values"):
        KPrototypes(5, init=init).fit(frame)


def test_distance_kernels_are_numpy_s():
    """The labelling kernel against NumPy's formula, to the last bit (NumPy's pairwise sum of
    the squares, every width up to 300 columns), and a tie going to the first prototype."""
    rng = np.random.default_rng(0)
    for p in list(range(1, 20)) + [31, 64, 127, 128, 129, 200, 250, 300]:
        Xnum = rng.normal(size=(60, p)) * 10 ** rng.uniform(-3, 3, p)
        codes = rng.integers(0, 3, size=(60, 2)).astype(np.int32)
        centroids = rng.normal(size=(4, p)) * 10 ** rng.uniform(-3, 3, p)
        modes = rng.integers(0, 3, size=(4, 2)).astype(np.int64)
        centroids[3], modes[3] = centroids[1], modes[1]  # a tie goes to the first
        labels = np.empty(60, np.int32)
        w = rng.uniform(0.5, 2, 60)
        cost = km.labels_cost_mixed(Xnum, codes, w, False, 0.7, centroids, modes, labels)
        d = np.stack([np.sum((centroids - x) ** 2, axis=1) for x in Xnum]) + 0.7 * (
            codes[:, None] != modes
        ).sum(2)
        np.testing.assert_array_equal(labels, d.argmin(axis=1))
        expected = 0.0
        for i in range(60):
            expected += d[i].min() * w[i]
        assert cost == expected, p


def test_text_coding_is_np_unique_s(monkeypatch):
    rng = np.random.default_rng(1)
    X = np.char.add(
        rng.choice(["", "a", "b", "é", "ab", "zz"], size=(500, 3)), rng.choice(["", "x"], size=(500, 3))
    )
    for table in (X, np.char.encode(X, "utf-8"), X[:, ::2]):
        codes, mapping = encode(table)
        for a in range(table.shape[1]):
            categories, inverse = np.unique(table[:, a], return_inverse=True)
            np.testing.assert_array_equal(mapping[a], categories)
            np.testing.assert_array_equal(codes[:, a], inverse)
    # a hash that collides for every value: the check catches it and NumPy codes the table
    monkeypatch.setattr(km, "hash_words", lambda words, out: out.fill(7))
    codes, mapping = encode(X)
    np.testing.assert_array_equal(codes[:, 0], np.unique(X[:, 0], return_inverse=True)[1])


@pytest.mark.parametrize(
    "params, fit, match",
    [
        ({"gamma": 0.0}, {}, "gamma"),
        ({"gamma": -1.0}, {}, "gamma"),
        ({}, {"categorical": None}, "categorical must name"),
        ({}, {"categorical": [0, 1, 2]}, "every column of X is categorical"),
        ({}, {"categorical": [7]}, "out of range"),
        ({"n_clusters": 2, "init": ([[0.0, 0.0]], [["c0"]])}, {}, "init has shapes"),
        ({"n_clusters": 1, "init": ([[0.0, 0.0]], [["nowhere"]])}, {}, "not in X"),
        ({"n_clusters": 500}, {}, "n_samples=60 should be >= n_clusters=500"),
    ],
)
def test_bad_input_is_a_clear_error(params, fit, match):
    X = _table(0, 60, 2, 1, 2)
    before = X.copy()
    fit = {"categorical": [2], **fit}
    with pytest.raises(ValueError, match=match):
        KPrototypes(**params).fit(X, **fit)
    np.testing.assert_array_equal(X, before)


def test_missing_values_are_a_clear_error():
    X = _table(0, 60, 2, 1, 2)
    X[3, 0] = np.nan
    with pytest.raises(ValueError, match="missing or infinite values in its numeric columns"):
        KPrototypes(2).fit(X, categorical=[2])
    X = _table(0, 60, 2, 1, 2)
    X[3, 2] = None
    with pytest.raises(ValueError, match="give them a category of their own"):
        KPrototypes(2).fit(X, categorical=[2])


# -- segment --method kprototypes ---------------------------------------------------------------
def _customers(tmp_path, n=900):
    """The demo's customers with two text features: gender and a channel that follows the
    segments, with blanks in the channel (imputed as their own category)."""
    pd = pytest.importorskip("pandas")
    from fastseg.segment.datasets import make_customers

    frame, truth = make_customers(n, random_state=5)
    rng = np.random.default_rng(0)
    truth = np.asarray(truth)
    channel = np.where(rng.random(n) < 0.8, np.array(["app", "web", "store", "app"])[truth % 4], "web")
    channel = channel.astype(object)
    channel[rng.choice(n, 25, replace=False)] = ""
    frame = frame[["customer_id", "age", "monthly_spend", "purchase_frequency", "gender"]].assign(
        channel=channel
    )
    frame["customer_id"] = "0" + frame["customer_id"].astype(str)  # text ids with a leading zero
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    return pd, frame, path


def _run(path, out, *extra):
    from fastseg.cli import main

    return main(["segment", "--input", str(path), "--k", "4", "--k-range", "3-4", "--no-plots", "--quiet",
                 "--method", "kprototypes", "--out", str(out), *extra])  # fmt: skip


def test_segment_clusters_text_features_as_categories(tmp_path):
    """The saved centres are prototypes: each text feature's part is one category (a mode, at
    sqrt(gamma / 2)), not a mix of shares as k-means on one-hot columns gives; each numeric part
    is the mean of its segment's fitted rows; each mode its segment's most frequent category; the
    saved model assigns the same segments."""
    pd, frame, path = _customers(tmp_path)
    out = tmp_path / "out"
    assert _run(path, out, "--save-model", str(tmp_path / "m.fsm"), "--gamma", "0.8") == 0
    labels = pd.read_csv(out / "labels.csv", dtype={"customer_id": str})
    assert labels["customer_id"].tolist() == frame["customer_id"].tolist()
    from fastseg.segment.model import load_model

    model = load_model(tmp_path / "m.fsm")
    assert model.method == "kprototypes"
    Z, _ = model.transform(frame.fillna({"channel": "missing"}))
    clusters = model.cluster(Z)
    np.testing.assert_array_equal(model.segment_numbers[clusters], labels["segment"])
    C = model.centres_in_space()
    value = np.sqrt(0.8 / 2)
    fitted = ~labels["outlier"].to_numpy()  # the fit's rows (outliers are assigned after it)
    Z, clusters = Z[fitted], clusters[fitted]
    j = 0
    for step in model.meta["preprocessing"]:
        if step["kind"] == "numeric":
            for c in range(model.k):
                np.testing.assert_allclose(C[c, j], Z[clusters == c, j].mean(), rtol=1e-9, atol=1e-12)
            j += 1
            continue
        width = len(step["categories"])
        assert step["value"] == value and step["drop"] is None
        part = C[:, j : j + width]
        assert ((part == 0) | (part == value)).all() and ((part == value).sum(axis=1) == 1).all()
        for c in range(model.k):
            counts = (Z[clusters == c, j : j + width] > 0).sum(axis=0)
            assert part[c].argmax() == counts.argmax()
        j += width


def test_segment_prototypes_are_kprototypes_on_the_clustering_space():
    """The job's model on clustering-space rows is ``KPrototypes`` on the numeric columns and the
    categories, with the same labels and cost (its inertia)."""
    pd = pytest.importorskip("pandas")
    from fastseg.segment.sweep import make_model, make_preprocessor, onehot_blocks

    X = _table(3, 600, 3, 2, 4)
    frame = pd.DataFrame({"a": X[:, 0].astype(float), "b": X[:, 1].astype(float), "c": X[:, 2].astype(float),
                          "colour": X[:, 3].astype(str), "size": X[:, 4].astype(str)})  # fmt: skip
    pre, _ = make_preprocessor(frame, list(frame.columns), [], gamma=1.3)
    Z = pre.fit_transform(frame)
    model = make_model("kprototypes", 4, 0, layout=onehot_blocks(pre), gamma=1.3).fit(Z)
    direct = KPrototypes(4, init="Huang", gamma=1.3, random_state=0).fit(
        pd.DataFrame(Z[:, :3]).assign(colour=frame["colour"], size=frame["size"])
    )
    np.testing.assert_array_equal(model.labels_, direct.labels_)
    np.testing.assert_allclose(model.inertia_, direct.cost_, rtol=1e-12)
    d = ((Z[:, None, :] - model.cluster_centers_[None]) ** 2).sum(axis=2)
    np.testing.assert_allclose(d.min(axis=1).sum(), direct.cost_, rtol=1e-9)
    np.testing.assert_array_equal(model.predict(Z), direct.labels_)


@pytest.mark.parametrize(
    "change, extra, match",
    [
        (None, ["--gamma", "0"], "--gamma must be a number > 0"),
        ("numeric only", [], "method 'kprototypes' needs a categorical (text) feature"),
        ("one level", [], "categorical feature 'channel' has a single value"),
    ],
)
def test_bad_segment_input_is_a_one_line_error_and_writes_nothing(tmp_path, capsys, change, extra, match):
    pd, frame, path = _customers(tmp_path, n=300)
    if change == "numeric only":
        extra = ["--features", "age,monthly_spend"]
    if change == "one level":
        frame.assign(channel="web").to_csv(path, index=False)
    out = tmp_path / "out"
    assert _run(path, out, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fastseg: error:") and len(err.splitlines()) == 1 and match in err, err
    assert not out.exists()


def test_gamma_needs_kprototypes(tmp_path, capsys):
    from fastseg.cli import main

    _, _, path = _customers(tmp_path, n=300)
    out = tmp_path / "out"
    assert (
        main(["segment", "--input", str(path), "--k", "3", "--gamma", "1", "--quiet", "--out", str(out)]) == 2
    )
    assert "--gamma needs method 'kprototypes'" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("init", ["Huang", "Cao"])
def test_same_as_the_kmodes_package_on_a_real_mixed_table(init):
    """The 440 clients of the UCI Wholesale customers table as an analyst would cluster them:
    channel and region as categories (text), the six spending columns log-scaled and standardised."""
    from fastseg.segment.datasets import load_wholesale

    frame = load_wholesale()
    spend = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]
    num = np.log1p(frame[spend].to_numpy(dtype=float))
    num = (num - num.mean(axis=0)) / num.std(axis=0)
    X = np.empty((len(frame), 8), dtype=object)
    X[:, :6] = num
    X[:, 6] = np.where(frame["Channel"].to_numpy() == 1, "Horeca", "Retail")
    X[:, 7] = frame["Region"].map({1: "Lisbon", 2: "Oporto", 3: "Other"}).to_numpy()
    params = dict(n_clusters=4, init=init, n_init=4, random_state=0, max_iter=100)
    ours = KPrototypes(**params).fit(X, categorical=[6, 7])
    theirs = kprototypes.KPrototypes(**params).fit(X, categorical=[6, 7])
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cost_, theirs.cost_, rtol=1e-12)
    assert ours.n_iter_ == theirs.n_iter_
    assert len(np.unique(ours.labels_)) == 4
    np.testing.assert_array_equal(
        ours.cluster_centroids_[:, 6:].astype(str), theirs.cluster_centroids_[:, 6:]
    )
