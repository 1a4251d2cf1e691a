"""Sessions: tests, tests without JIT (kernel coverage), lint, benchmarks."""

import nox

nox.options.sessions = ["tests", "lint"]


@nox.session
def tests(session):
    session.install("-e", ".[test,db]")  # db: the PostgreSQL tests run where PostgreSQL is installed
    session.run("python", "-m", "pytest", "-q", *session.posargs)


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


@nox.session
def lint(session):
    session.install("ruff")
    session.run("ruff", "check", "fastseg", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "fastseg", "tests", "benchmarks", "noxfile.py")


@nox.session
def benchmarks(session):
    session.install("-e", ".[test,bench]")
    session.run("python", "-m", "pytest", "benchmarks", "--benchmark-only", *session.posargs)
    session.run("python", "-m", "benchmarks.compare", *session.posargs)
