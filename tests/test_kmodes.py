"""``fastseg.KModes``: the `kmodes` package's labels, cost, iterations and modes for the same
``random_state`` (every init, weights, text categories) -- the package is the plain-Python twin
of the kernel; the labelling kernel against NumPy; unseen categories; bad input."""

import numpy as np
import pytest

from fastseg import KModes
from fastseg._kernels import kmodes as km

kmodes = pytest.importorskip("kmodes.kmodes")


def _table(seed, n, m, k, text=False):
    rng = np.random.default_rng(seed)
    z = rng.integers(0, k, n)
    levels = rng.integers(2, 9, m)
    X = np.column_stack([(rng.integers(0, lv, n) + z * (a % 2)) % lv for a, lv in enumerate(levels)])
    X[n // 3 : n // 3 + 20] = X[:20]  # repeated rows
    return np.char.add("c", X.astype(str)) if text else X


CASES = [(seed, init, weighted) for seed in range(2) for init in ("Huang", "Cao", "random", "array")
         for weighted in (False, True)]  # fmt: skip


@pytest.mark.parametrize("seed, init, weighted", CASES)
def test_same_as_the_kmodes_package(seed, init, weighted):
    rng = np.random.default_rng(100 + seed)
    n, m, k = int(rng.integers(80, 600)), int(rng.integers(2, 7)), int(rng.integers(2, 7))
    X = _table(seed, n, m, k, text=seed % 2 == 1)
    w = rng.uniform(0.2, 3, n) if weighted else None
    start = X[rng.choice(n, k, replace=False)] if init == "array" else init
    params = dict(n_clusters=k, n_init=3, random_state=seed, max_iter=60)
    ours = KModes(init=start, **params).fit(X, sample_weight=w)
    # the package takes given modes as its codes: the sorted position of each category
    codes = (
        np.column_stack([np.searchsorted(np.unique(X[:, a]), start[:, a]) for a in range(m)])
        if init == "array"
        else start
    )
    theirs = kmodes.KModes(init=codes, **params).fit(X, sample_weight=None if w is None else list(w))
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cost_, theirs.cost_, rtol=1e-12)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.epoch_costs_, theirs.epoch_costs_, rtol=1e-12)
    np.testing.assert_array_equal(ours.cluster_centroids_, theirs.cluster_centroids_)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("init", ["Huang", "Cao", "random"])
def test_a_frame_of_categoricals_is_coded_from_its_codes(init):
    """A DataFrame of pandas Categorical columns (unsorted and unused categories) gives the
    package's result on the same values."""
    pd = pytest.importorskip("pandas")
    X = _table(5, 700, 6, 4, text=True)
    frame = pd.DataFrame(
        {
            f"c{a}": pd.Categorical(X[:, a], categories=sorted(set(X[:, a]), reverse=True) + ["zz"])
            for a in range(6)
        }
    )
    ours = KModes(4, init=init, n_init=2, random_state=2).fit(frame)
    theirs = kmodes.KModes(4, init=init, n_init=2, random_state=2).fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    assert ours.cost_ == theirs.cost_
    np.testing.assert_array_equal(ours.cluster_centroids_, theirs.cluster_centroids_)
    np.testing.assert_array_equal(ours.predict(frame), theirs.predict(X))


def test_labelling_kernel_is_numpy_s():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 5, size=(700, 6)).astype(np.int32)
    modes = rng.integers(0, 5, size=(4, 6)).astype(np.int64)
    modes[3] = modes[2]  # a tie goes to the first
    w = rng.uniform(0.5, 2, 700)
    labels = np.empty(700, np.int32)
    cost = km.labels_cost(X, w, False, modes, labels)
    mismatches = (X[:, None, :] != modes[None]).sum(axis=2)
    np.testing.assert_array_equal(labels, mismatches.argmin(axis=1))
    np.testing.assert_allclose(cost, float(mismatches.min(axis=1) @ w), rtol=1e-12)


def test_unseen_categories_match_no_mode():
    X = _table(1, 300, 4, 3, text=True)
    fit = KModes(3, random_state=0).fit(X)
    new = X[:5].copy()
    new[:, 0] = "never seen"
    assert fit.predict(new).shape == (5,)
    assert np.array_equal(fit.predict(X[:5]), fit.labels_[:5])


@pytest.mark.parametrize(
    "params, X, w, match",
    [
        ({}, np.array([["a", "b"], [None, "c"]], dtype=object), None, "missing values"),
        ({"n_clusters": 5}, np.array([["a"], ["b"]]), None, "n_samples=2 should be >= n_clusters=5"),
        ({"n_clusters": 2, "init": [["a"]]}, np.array([["a"], ["b"], ["a"]]), None, "init has shape"),
        ({"n_clusters": 2, "init": [["a"], ["z"]]}, np.array([["a"], ["b"], ["a"]]), None, "not in X"),
        ({"n_clusters": 2}, np.array([["a"], ["b"], ["a"]]), [1.0, -1.0, 1.0], "non-negative"),
        ({"n_clusters": 2}, np.array([["a"], ["b"], ["a"]]), [0.0, 0.0, 1.0], "non-zero sample_weight"),
    ],
)
def test_bad_input_is_a_clear_error(params, X, w, match):
    before = X.copy()
    with pytest.raises(ValueError, match=match):
        KModes(**params).fit(X, sample_weight=w)
    np.testing.assert_array_equal(X, before)
