"""scikit-learn's estimator checks."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from fastseg import GaussianMixture, GeneticKMeans, KMeans

# The sample-weight equivalence checks fit X repeated by integer weights and the shuffled X with
# the weights: they pass because the random starts draw from the weighted set of distinct rows
# whenever the rows repeat or carry weights (tests/test_sample_weight.py).


@parametrize_with_checks([KMeans(), KMeans(n_clusters=2, n_init=2, max_iter=5, init="random")])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@parametrize_with_checks([GeneticKMeans(n_clusters=2, population_size=6, n_generations=3, max_iter=5)])
def test_genetic_sklearn_compatible(estimator, check):
    check(estimator)


@parametrize_with_checks(
    [
        GaussianMixture(),
        GaussianMixture(n_components=2, covariance_type="diag", max_iter=5),
        GaussianMixture(n_components=2),
    ]
)
def test_mixture_sklearn_compatible(estimator, check):
    check(estimator)
