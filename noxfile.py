"""Sessions: tests, tests without JIT (kernel coverage), lint, benchmarks."""

import nox

nox.options.sessions = ["tests", "lint"]


@nox.session
def tests(session):
    session.install("-e", ".[test,db]")  # db: the PostgreSQL tests run where PostgreSQL is installed
    session.run("python", "-m", "pytest", "-q", "-n", "2", *session.posargs)


# The oldest releases pyproject.toml allows (each floor is the release these tests pass on).
OLDEST = ["numpy==1.24.4", "numba==0.59.1", "scikit-learn==1.8.0", "scipy==1.10.1", "threadpoolctl==3.2.0"]
# scikit-learn fidelity and the kernels' exactness: what depends on the versions installed.
EXACTNESS = [
    "tests/test_kmeans_sklearn.py", "tests/test_real_data.py", "tests/test_estimator_checks.py",
    "tests/test_sample_weight.py", "tests/test_mixture.py", "tests/test_kernels.py",
    "tests/test_yinyang.py", "tests/test_genetic.py", "tests/test_minibatch.py", "tests/test_bisecting.py",
    "tests/test_bayesian_mixture.py", "tests/test_cosine.py",
]  # fmt: skip


@nox.session
def oldest(session):
    """The exactness and estimator-check tests on the oldest allowed dependencies."""
    session.install("-e", ".", *OLDEST, "pytest>=8", "pytest-xdist>=3.5", "hypothesis>=6.100", "pytest-benchmark>=4")
    # Numba's cache is per release: keep this session's apart from the main environment's.
    session.env["NUMBA_CACHE_DIR"] = str(session.create_tmp() + "/numba-cache")
    session.run("python", "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", *EXACTNESS, *session.posargs)


@nox.session(name="tests-nojit")
def tests_nojit(session):
    """Kernels run as plain Python so coverage sees their lines (slow: small data only)."""
    session.install("-e", ".[test]", "coverage")
    session.env["NUMBA_DISABLE_JIT"] = "1"
    session.run(
        "python", "-m", "coverage", "run", "--source=fastseg", "-m", "pytest", "-q",
        "tests/test_kernels.py", "tests/test_kmeans_sklearn.py", "tests/test_kmeans_usage.py",
        *session.posargs,
    )  # fmt: skip
    session.run("python", "-m", "coverage", "report", "-m")


# The Python code: the package, tests, benchmarks, and the docs' example generators (docs/examples).
LINTED = ["fastseg", "tests", "benchmarks", "docs/__init__.py", "docs/examples", "noxfile.py"]


@nox.session
def lint(session):
    session.install("ruff")
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", *LINTED)


@nox.session
def benchmarks(session):
    session.install("-e", ".[test,bench]")
    session.run("python", "-m", "pytest", "benchmarks", "--benchmark-only", *session.posargs)
    session.run("python", "-m", "benchmarks.compare", *session.posargs)
