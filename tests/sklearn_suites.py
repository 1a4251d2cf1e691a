"""scikit-learn's own test files for the estimators fastseg replaces, run against fastseg's.

    python -m tests.sklearn_suites [PYTEST ARGS]

The files are the ones installed with scikit-learn. They run under ``python -m fastseg.patch``,
as a user's unmodified code would: their ``from sklearn.cluster import KMeans`` gets fastseg's.
Deselected: the tests that read scikit-learn's private attributes or call its private methods
(``DESELECTED`` says which and why); every test of public behaviour runs.
"""

import os
import sys

SUITES = [
    "sklearn.cluster.tests.test_k_means",
    "sklearn.cluster.tests.test_bisect_k_means",
    "sklearn.mixture.tests.test_gaussian_mixture",
    "sklearn.mixture.tests.test_bayesian_mixture",
    "sklearn.mixture.tests.test_mixture",
]

# test (a pytest node id below the module) -> the private name it reads.
DESELECTED = {
    "test_k_means.py::test_kmeans_init_auto_with_initial_centroids[KMeans-k-means++-1]": "_n_init",
    "test_k_means.py::test_kmeans_init_auto_with_initial_centroids[KMeans-random-default]": "_n_init",
    "test_k_means.py::test_kmeans_init_auto_with_initial_centroids[KMeans-array-like-1]": "_n_init",
    "test_k_means.py::test_kmeans_init_auto_with_initial_centroids[KMeans-<lambda>-default]": "_n_init",
    "test_k_means.py::test_n_init_auto[KMeans-10]": "_n_init",
    "test_k_means.py::test_n_init_auto[MiniBatchKMeans-3]": "_n_init",
    **{
        f"test_k_means.py::test_kmeans_init_auto_with_initial_centroids[MiniBatchKMeans-{init}]": "_n_init"
        for init in ("k-means++-1", "random-default", "array-like-1", "<lambda>-default")
    },
    "test_k_means.py::test_sample_weight_init[42-k-means++]": "_init_centroids()",
    "test_k_means.py::test_sample_weight_init[42-random]": "_init_centroids()",
    "test_k_means.py::test_sample_weight_zero[42-k-means++]": "_init_centroids()",
    "test_k_means.py::test_sample_weight_zero[42-random]": "_init_centroids()",
    **{
        f"test_gaussian_mixture.py::test_gaussian_mixture_precisions_init[42-{dtype}-{cov}]": "_set_parameters()"
        for dtype in ("float32", "float64")
        for cov in ("full", "tied", "diag", "spherical")
    },
    # mocks sklearn.mixture._gaussian_mixture._estimate_gaussian_parameters and counts its calls
    "test_gaussian_mixture.py::test_gaussian_mixture_all_init_does_not_estimate_gaussian_parameters[42]": (
        "_estimate_gaussian_parameters()"
    ),
}


def pytest_sessionstart(session):
    """Refuse to run unless the names the files import are fastseg's (a patch that did nothing
    would make this scikit-learn's own test run)."""
    import sklearn.cluster
    import sklearn.mixture

    names = [sklearn.cluster.KMeans, sklearn.cluster.BisectingKMeans, sklearn.cluster.k_means,
             sklearn.cluster.kmeans_plusplus, sklearn.cluster.MiniBatchKMeans, sklearn.mixture.GaussianMixture,
             sklearn.mixture.BayesianGaussianMixture]  # fmt: skip
    theirs = [f"{obj.__module__}.{obj.__name__}" for obj in names if not obj.__module__.startswith("fastseg")]
    if theirs:
        raise SystemExit(f"not patched: {', '.join(theirs)}")


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        (drop if f"{item.path.name}::{item.name}" in DESELECTED else keep).append(item)
    missing = set(DESELECTED) - {f"{item.path.name}::{item.name}" for item in drop}
    if missing:  # a name changed in another scikit-learn release: say so rather than run it
        raise SystemExit(f"deselected tests not found: {sorted(missing)}")
    config.hook.pytest_deselected(items=drop)
    items[:] = keep


def main(argv=None):
    from fastseg import patch

    os.environ.setdefault("SKLEARN_RUN_FLOAT32_TESTS", "1")
    args = [
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "-p",
        "tests.sklearn_suites",
        "--pyargs",
        *SUITES,
    ]
    return patch.main(["-m", "pytest", *args, *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
