"""scikit-learn's estimator checks."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from fastseg import (
    BayesianGaussianMixture,
    BisectingKMeans,
    GaussianMixture,
    GeneticKMeans,
    KMeans,
    KModes,
    MiniBatchKMeans,
)

# scikit-learn lists exactly these as expected failures of its own KMeans, with this reason: the
# check fits X with integer weights and the rows repeated and shuffled, and the seeded random
# starts draw rows in the order of the rows, as scikit-learn's do. A weight of w does equal w
# repeated rows in Lloyd's sums, in EM and when the copies sit in place
# (tests/test_sample_weight.py).
EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": "sample_weight is not equivalent to removing/repeating samples.",
    "check_sample_weight_equivalence_on_sparse_data": "sample_weight is not equivalent to removing/repeating samples.",
}

# These checks fit data with rows of all zeros, which have no direction: metric="cosine" refuses
# them with a ValueError that names the rows (tests/test_cosine.py).
ZERO_ROWS = "the check's data has rows of all zeros, which cosine k-means refuses"
EXPECTED_FAILED_COSINE = {
    **EXPECTED_FAILED,
    **{
        check: ZERO_ROWS
        for check in (
            "check_estimators_dtypes",
            "check_estimator_sparse_tag",
            "check_estimator_sparse_array",
            "check_estimator_sparse_matrix",
        )
    },
}


@parametrize_with_checks(
    [
        KMeans(),
        KMeans(n_clusters=2, n_init=2, max_iter=5, init="random"),
        BisectingKMeans(n_init=2, n_clusters=2, max_iter=5),  # scikit-learn's own check instance
        BisectingKMeans(n_clusters=1, n_init=2, max_iter=5),
        MiniBatchKMeans(n_init=2, n_clusters=2, max_iter=5, batch_size=10),  # scikit-learn's instance
        KMeans(n_clusters=2, n_init=2, max_iter=5, metric="cosine"),
    ],
    expected_failed_checks=lambda est: (
        EXPECTED_FAILED_COSINE if getattr(est, "metric", None) == "cosine" else EXPECTED_FAILED
    ),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# The hybrid GA's result does not depend on which of the restarts found it: the equivalence
# checks pass for it.
@parametrize_with_checks([GeneticKMeans(n_clusters=2, population_size=6, n_generations=3, max_iter=5)])
def test_genetic_sklearn_compatible(estimator, check):
    check(estimator)


# scikit-learn's GaussianMixture takes no sample_weight, so its checks skip these. With one
# component the fit does not depend on the start and the check passes; with two, the 'kmeans'
# start draws in the order of the rows, as KMeans does.
@parametrize_with_checks(
    [
        GaussianMixture(),
        GaussianMixture(n_components=2, covariance_type="diag", max_iter=5),
        GaussianMixture(n_components=2),
        BayesianGaussianMixture(n_init=2, max_iter=5),  # scikit-learn's own check instance
        BayesianGaussianMixture(n_components=2, weight_concentration_prior_type="dirichlet_distribution"),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED if est.n_components > 1 else {},
)
def test_mixture_sklearn_compatible(estimator, check):
    check(estimator)


# k-modes takes each distinct value of a column as a category: on the check's continuous blobs
# every number is a category of its own, and the clusters cannot follow the blobs. (KPrototypes is
# not run: its fit needs the positions of the categorical columns, which the checks do not give.)
@parametrize_with_checks(
    [KModes(n_clusters=2, n_init=2, max_iter=5)],
    expected_failed_checks=lambda est: {
        "check_clustering": "k-modes treats every distinct number of the continuous blobs as its own category"
    },
)
def test_kmodes_sklearn_compatible(estimator, check):
    check(estimator)
