"""Input handling, dtypes, pipelines and determinism of fastseg.KMeans."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastseg import KMeans
from fastseg._kernels._config import CHUNK_ROWS, threads
from fastseg._yinyang import yinyang

from .conftest import make_data

ALGORITHMS = ["lloyd", "auto", "elkan", "yinyang"]


@pytest.fixture
def X(rng):
    return make_data(rng, 300, 4, k=3)


# -- bad input: a clear error naming the problem ------------------------------------
@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf], [2.0, 3.0], [4.0, 5.0]]), ValueError, "infinity"),
        (np.empty((0, 3)), ValueError, "0 sample"),
        (np.empty((5, 0)), ValueError, "0 feature"),
        (np.arange(6.0), ValueError, "Expected 2D array"),
        (np.zeros((3, 2, 2)), ValueError, "dim 3"),
        (np.array([["a", "b"], ["c", "d"], ["e", "f"]]), ValueError, "convert|numeric"),
        (np.array([[1 + 1j, 2], [3, 4], [5, 6]]), ValueError, "[Cc]omplex"),
    ],
)
def test_bad_X(bad, exc, match):
    with pytest.raises(exc, match=match):
        KMeans(2).fit(bad)


def test_object_array_with_text_is_refused():
    with pytest.raises((ValueError, TypeError)):
        KMeans(2).fit(np.array([[1, "x"], [2, "y"], [3, "z"]], dtype=object))


def test_fewer_samples_than_clusters(X):
    with pytest.raises(ValueError, match="n_samples=3 should be >= n_clusters=4"):
        KMeans(4).fit(X[:3])


@pytest.mark.parametrize(
    "weight, match",
    [
        (lambda n: -np.ones(n), "[Nn]egative"),
        (lambda n: np.ones(n - 1), "shape|length|number of samples"),
        (lambda n: np.zeros(n), "non-zero"),
        (lambda n: np.full(n, np.nan), "NaN"),
        (lambda n: np.ones((n, 2)), "1D|1 dim|shape"),
    ],
)
def test_bad_sample_weight(X, weight, match):
    with pytest.raises(ValueError, match=match):
        KMeans(2).fit(X, sample_weight=weight(len(X)))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_clusters": 0}, "n_clusters"),
        ({"n_clusters": 2.5}, "n_clusters"),
        ({"init": "kmeans"}, "init"),
        ({"n_init": 0}, "n_init"),
        ({"n_init": "many"}, "n_init"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1.0}, "tol"),
        ({"algorithm": "fast"}, "algorithm"),
        ({"init": np.zeros((3, 4))}, "shape of the initial centers"),
        ({"init": np.zeros((2, 5))}, "shape of the initial centers"),
        ({"init": np.zeros(8)}, "2-D"),
        ({"init": np.array([[0.0, 0, 0, np.nan], [1.0, 1, 1, 1]])}, "NaN"),
    ],
)
def test_bad_parameters(X, params, match):
    params = {"n_clusters": 2, **params}
    with pytest.raises((ValueError, TypeError), match=match):
        KMeans(**params).fit(X)


@pytest.mark.parametrize("init_shape", [(3, 4), (2, 5)])
def test_bad_init_shape_says_what_sklearn_says(X, init_shape):
    from sklearn.cluster import KMeans as SKKMeans

    with pytest.raises(ValueError) as theirs:
        SKKMeans(2, init=np.zeros(init_shape)).fit(X)
    with pytest.raises(ValueError) as ours:
        KMeans(2, init=np.zeros(init_shape)).fit(X)
    assert str(ours.value) == str(theirs.value)


def test_elkan_with_one_cluster_warns_as_sklearn_does(X):
    from sklearn.cluster import KMeans as SKKMeans

    with pytest.warns(RuntimeWarning, match="doesn't make sense for a single cluster") as theirs:
        expected = SKKMeans(1, algorithm="elkan", random_state=0).fit(X)
    with pytest.warns(RuntimeWarning, match="doesn't make sense for a single cluster") as ours:
        model = KMeans(1, algorithm="elkan", random_state=0).fit(X)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    np.testing.assert_allclose(model.cluster_centers_, expected.cluster_centers_, rtol=1e-9)


@pytest.mark.parametrize("algorithm, sparse", [("lloyd", False), ("lloyd", True), ("yinyang", False)])
def test_more_centres_than_distinct_rows_stops_after_one_iteration(algorithm, sparse):
    # scikit-learn's regression test for its issue 28055: relocation is skipped when every row
    # already sits on its centre, and the fit stops after one iteration.
    from sklearn.exceptions import ConvergenceWarning

    X = np.array([[0, 0], [1, 1], [1, 1], [1, 0], [0, 1]], dtype=float)
    data = sp.csr_matrix(X) if sparse else X
    with pytest.warns(
        ConvergenceWarning, match=r"distinct clusters \(4\) found smaller than n_clusters \(5\)"
    ):
        model = KMeans(n_clusters=5, init=X, algorithm=algorithm).fit(data)
    assert model.n_iter_ == 1
    np.testing.assert_array_equal(model.cluster_centers_, X)


def test_zero_weight_rows_never_take_an_empty_cluster():
    # The far rows that would relocate an empty cluster have weight 0: as if absent, they are
    # passed over, and the fit equals the fit without them.
    X = np.array([[0, 0], [0.4, 0], [0.5, 1.2], [1.1, 1], [9, 9], [8, 9]])
    w = np.array([1, 1, 1, 1, 0, 0.0])
    init = np.array([[0.5, 0.5], [30, 30]])
    weighted = KMeans(2, init=init).fit(X, sample_weight=w)
    dropped = KMeans(2, init=init).fit(X[:4])
    np.testing.assert_allclose(weighted.cluster_centers_, dropped.cluster_centers_)
    assert weighted.n_iter_ == dropped.n_iter_
    assert weighted.inertia_ == pytest.approx(dropped.inertia_)


def test_callable_init_of_wrong_shape(X):
    with pytest.raises(ValueError, match="shape of the initial centers"):
        KMeans(3, init=lambda X, k, random_state: X[:2], n_init=1).fit(X)


def test_predict_with_wrong_number_of_features(X):
    model = KMeans(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :3])


def test_caller_arrays_are_not_modified(X, rng):
    w = rng.uniform(0.5, 2, len(X))
    init = X[:3].copy()
    X0, w0, init0 = X.copy(), w.copy(), init.copy()
    for copy_x in (True, False):
        model = KMeans(3, init=init, n_init=1, copy_x=copy_x).fit(X, sample_weight=w)
        model.predict(X)
        model.transform(X)
        model.score(X, sample_weight=w)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(init, init0)
    assert model.cluster_centers_ is not init


# -- dtypes, layouts ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(X, dtype):
    Xd = X.astype(dtype)
    model = KMeans(3, random_state=0).fit(Xd)
    assert model.cluster_centers_.dtype == dtype
    assert model.transform(Xd).dtype == dtype
    assert model.fit_transform(Xd).dtype == dtype
    assert model.labels_.dtype == np.int32
    assert isinstance(model.inertia_, float)


def test_integer_input_becomes_float64(rng):
    Xi = rng.integers(0, 20, size=(100, 3))
    model = KMeans(3, random_state=0).fit(Xi)
    assert model.cluster_centers_.dtype == np.float64


def test_layouts_and_readonly_give_the_same_result(X):
    ref = KMeans(3, random_state=0).fit(X)
    F = np.asfortranarray(X)
    R = X.copy()
    R.setflags(write=False)
    for variant in (F, R, X[::1], sp.csr_matrix(X), sp.csc_matrix(X)):
        model = KMeans(3, random_state=0).fit(variant)
        np.testing.assert_array_equal(model.labels_, ref.labels_)
        np.testing.assert_allclose(model.cluster_centers_, ref.cluster_centers_, rtol=1e-9)


def test_float32_predict_on_float64_model(X):
    model = KMeans(3, random_state=0).fit(X)
    np.testing.assert_array_equal(model.predict(X.astype(np.float32)), model.predict(X))


# -- the scikit-learn ecosystem -------------------------------------------------------
def test_pipeline_gridsearch_clone(X):
    pipe = make_pipeline(StandardScaler(), KMeans(random_state=0))
    search = GridSearchCV(pipe, {"kmeans__n_clusters": [2, 3, 4]}, cv=3).fit(X)
    # The same search with scikit-learn's KMeans: same draws, same scores, same choice.
    from sklearn.cluster import KMeans as SKKMeans

    theirs = GridSearchCV(
        make_pipeline(StandardScaler(), SKKMeans(random_state=0)), {"kmeans__n_clusters": [2, 3, 4]}, cv=3
    ).fit(X)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"], rtol=1e-9
    )
    assert search.best_params_ == theirs.best_params_
    cloned = clone(KMeans(5, random_state=1))
    assert cloned.get_params()["n_clusters"] == 5 and not hasattr(cloned, "labels_")


def test_pandas_output_and_feature_names(X):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=["spend", "freq", "age", "level"])
    model = KMeans(3, random_state=0).set_output(transform="pandas").fit(df)
    out = model.transform(df)
    assert list(out.columns) == ["kmeans0", "kmeans1", "kmeans2"]
    assert list(model.feature_names_in_) == ["spend", "freq", "age", "level"]
    assert model.n_features_in_ == 4
    assert list(model.get_feature_names_out()) == ["kmeans0", "kmeans1", "kmeans2"]


def _verbose_lines(text):
    """Lines of verbose output with every number replaced by ``#``, and the numbers."""
    import re

    number = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
    lines = text.strip().splitlines()
    return [re.sub(number, "#", line) for line in lines], [
        [float(v) for v in re.findall(number, line)] for line in lines
    ]


@pytest.mark.parametrize("algorithm", ["lloyd", "yinyang"])
@pytest.mark.parametrize("max_iter", [300, 3])
def test_verbose_prints_what_sklearn_prints(X, capsys, algorithm, max_iter):
    from sklearn.cluster import KMeans as SKKMeans

    init = X[:3].copy()
    KMeans(3, init=init, verbose=1, algorithm=algorithm, max_iter=max_iter).fit(X)
    ours = capsys.readouterr()
    SKKMeans(3, init=init, verbose=1, max_iter=max_iter).fit(X)
    theirs = capsys.readouterr()
    assert ours.err == ""  # progress goes to stdout, as scikit-learn's does
    our_text, our_numbers = _verbose_lines(ours.out)
    their_text, their_numbers = _verbose_lines(theirs.out)
    assert our_text == their_text
    assert "None" not in ours.out
    assert any(line.startswith("Iteration #, inertia #.") for line in our_text)
    for a, b in zip(our_numbers, their_numbers):
        np.testing.assert_allclose(a, b, rtol=1e-9)


def test_verbose_leaves_a_handler_the_user_attached_alone(X, capsys):
    import logging

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("fastseg")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        KMeans(3, random_state=0, verbose=1).fit(X)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert capsys.readouterr().out == ""
    assert any(r.getMessage().startswith("Converged at iteration") for r in records)


# -- determinism --------------------------------------------------------------------
@pytest.mark.usefixtures("split_every_pass")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["small", "gemm", "sparse"])
def test_same_result_on_one_and_two_threads_and_every_run(rng, kind, dtype):
    n = CHUNK_ROWS * 9 + 17
    X = make_data(rng, n, 40 if kind == "gemm" else 6, k=8, dtype=dtype)
    if kind == "sparse":
        X[rng.random(X.shape) < 0.5] = 0
        X = sp.csr_matrix(X)
    k = 30 if kind == "gemm" else 8
    results = []
    for n_threads in (1, 2, 1, 2):
        with threads(n_threads):
            results.append(KMeans(k, random_state=3, n_init=2).fit(X))
    for other in results[1:]:
        np.testing.assert_array_equal(other.labels_, results[0].labels_)
        np.testing.assert_array_equal(other.cluster_centers_, results[0].cluster_centers_)
        assert other.inertia_ == results[0].inertia_
        assert other.n_iter_ == results[0].n_iter_


def test_is_same_clustering():
    from fastseg._centres import is_same_clustering as _is_same_clustering

    a = np.array([0, 0, 1, 1, 2], dtype=np.int32)
    assert _is_same_clustering(a, np.array([2, 2, 0, 0, 1]), 3)
    assert not _is_same_clustering(a, np.array([2, 1, 0, 0, 1]), 3)
    assert _is_same_clustering(a, a, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_algorithm_gives_the_same_fit(dtype, rng, monkeypatch):
    from fastseg import _yinyang

    X = make_data(rng, 1500, 16, k=70, dtype=dtype)  # n >= 20 k: 'auto' picks Yinyang
    calls = []
    monkeypatch.setattr(_yinyang, "yinyang", lambda *a, **k: calls.append(1) or yinyang(*a, **k))
    fits = {a: KMeans(70, algorithm=a, random_state=0, n_init=2, init="random").fit(X) for a in ALGORITHMS}
    assert len(calls) == 3 * 2  # 'auto' (k >= 64, d = 16), 'elkan' and 'yinyang'; two inits each
    for algorithm, fit in fits.items():
        np.testing.assert_array_equal(fit.labels_, fits["lloyd"].labels_, err_msg=algorithm)
        np.testing.assert_array_equal(fit.cluster_centers_, fits["lloyd"].cluster_centers_, err_msg=algorithm)
        assert fit.n_iter_ == fits["lloyd"].n_iter_


def test_auto_uses_lloyd_for_sparse_and_small_k(rng, monkeypatch):
    from fastseg import _yinyang

    monkeypatch.setattr(_yinyang, "yinyang", lambda *a, **k: pytest.fail("Yinyang used"))
    X = make_data(rng, 3000, 16, k=8)
    KMeans(8, random_state=0).fit(X)
    KMeans(70, random_state=0).fit(sp.csr_matrix(X))


def test_auto_weighs_max_iter(rng, monkeypatch):
    # A short fit does not pay back the bounds' set-up; a long one on the same data uses them.
    from fastseg import _yinyang

    X = make_data(rng, 3000, 16, k=70, dtype=np.float32)
    calls = []
    yinyang = _yinyang.yinyang
    monkeypatch.setattr(_yinyang, "yinyang", lambda *a, **k: calls.append(1) or yinyang(*a, **k))
    KMeans(70, n_init=1, max_iter=_yinyang.MIN_ITER - 1, random_state=0).fit(X)
    assert not calls
    KMeans(70, n_init=1, random_state=0).fit(X)
    assert calls


def test_yinyang_on_the_gemm_path_keeps_lloyds_labels(rng, monkeypatch):
    # Near ties recompute their chunk's GEMM, so any BLAS summation order gives Lloyd's labels.
    from fastseg import _yinyang

    X = make_data(rng, 3000, 32, k=70, dtype=np.float32)
    used = []
    bounds = _yinyang._Bounds
    monkeypatch.setattr(_yinyang, "_Bounds", lambda *a, **k: used.append(1) or bounds(*a, **k))
    fit = KMeans(70, algorithm="yinyang", random_state=0).fit(X)
    assert used
    ref = KMeans(70, algorithm="lloyd", random_state=0).fit(X)
    np.testing.assert_array_equal(fit.labels_, ref.labels_)
    assert fit.n_iter_ == ref.n_iter_


def test_a_streamed_memmap_runs_lloyd_under_every_algorithm(tmp_path, rng, monkeypatch):
    """As documented: streamed memmaps always run Lloyd (no (n, groups) bounds beside a file
    larger than RAM), with the in-memory fit's result."""
    from fastseg import _yinyang

    X = make_data(rng, 1500, 16, k=70, dtype=np.float64)
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=X.dtype, shape=X.shape)
    mm[:] = X
    mm.flush()
    expected = KMeans(70, algorithm="elkan", random_state=0, n_init=1, init="random").fit(X)
    calls = []
    monkeypatch.setattr(_yinyang, "yinyang", lambda *a, **k: calls.append(1) or yinyang(*a, **k))
    for algorithm in ("elkan", "yinyang", "auto"):
        fit = KMeans(70, algorithm=algorithm, random_state=0, n_init=1, init="random")
        fit.fit(np.load(tmp_path / "x.npy", mmap_mode="r"))
        np.testing.assert_array_equal(fit.labels_, expected.labels_, err_msg=algorithm)
        np.testing.assert_array_equal(fit.cluster_centers_, expected.cluster_centers_, err_msg=algorithm)
        assert fit.n_iter_ == expected.n_iter_
    assert calls == []


def test_blas_runs_on_one_thread_inside_the_gemm_kernel(rng, monkeypatch):
    """Every Numba thread calls BLAS from the GEMM kernel: BLAS's own threads would oversubscribe
    the cores, so it is limited to one there and given back afterwards."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from fastseg._kernels import scores

    def blas_threads():
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    seen, original = [], scores.assign_gemm

    class Spy:  # the kernel, noting BLAS's threads on its first calls
        def __getattr__(self, name):
            return getattr(original, name)

        def __call__(self, *args):
            if len(seen) < 3:
                seen.append(blas_threads())
            return original(*args)

    monkeypatch.setattr(scores, "assign_gemm", Spy())
    X = make_data(rng, 3000, 40, k=8, dtype=np.float64)  # more than 32 features: the GEMM kernel
    with threadpool_limits(limits=2, user_api="blas"):
        assert blas_threads() == {2}
        KMeans(8, random_state=0, n_init=1).fit(X)
        assert blas_threads() == {2}
    assert seen and all(threads == {1} for threads in seen), seen
