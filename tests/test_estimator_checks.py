"""scikit-learn's estimator checks."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from fastseg import GaussianMixture, GeneticKMeans, KMeans

# The same expected failures scikit-learn lists for its own KMeans: a random
# initialisation draws different rows when rows are repeated instead of weighted.
EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": "sample_weight is not equivalent to removing/repeating samples.",
    "check_sample_weight_equivalence_on_sparse_data": "sample_weight is not equivalent to removing/repeating samples.",
}


@parametrize_with_checks(
    [KMeans(), KMeans(n_clusters=2, n_init=2, max_iter=5, init="random")],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@parametrize_with_checks(
    [GeneticKMeans(n_clusters=2, population_size=6, n_generations=3, max_iter=5)],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_genetic_sklearn_compatible(estimator, check):
    check(estimator)


# Weighted EM equals repetition from the same initial parameters (tests/test_mixture.py), but the
# random 'kmeans' initialisation draws other rows when rows are repeated instead of weighted.
MIXTURE_EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": "the random initialisation differs for repeated rows.",
}


@parametrize_with_checks(
    [GaussianMixture(), GaussianMixture(n_components=2, covariance_type="diag", max_iter=5)],
    expected_failed_checks=lambda est: MIXTURE_EXPECTED_FAILED if est.n_components > 1 else {},
)
def test_mixture_sklearn_compatible(estimator, check):
    check(estimator)
