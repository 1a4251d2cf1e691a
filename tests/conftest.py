import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Bounded examples keep the suite fast on two cores; the profile can be raised locally. The
# examples are drawn from a seed fixed per commit (pytest_configure below): a run is reproducible
# (`pytest --hypothesis-seed=N` with the N of the header), and each commit explores others.
settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _commit_seed():
    """The first 8 hex digits of this checkout's commit as an integer (0 outside git)."""
    import subprocess
    from pathlib import Path

    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                              text=True, timeout=10, check=True).stdout  # fmt: skip
        return int(head[:8], 16)
    except (OSError, subprocess.SubprocessError, ValueError):
        return 0


def pytest_configure(config):
    if getattr(config.option, "hypothesis_seed", None) is None:
        config.option.hypothesis_seed = _commit_seed()


def pytest_report_header(config):
    return f"hypothesis seed: {config.option.hypothesis_seed} (rerun with --hypothesis-seed={config.option.hypothesis_seed})"


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def split_every_pass(monkeypatch):
    """Every kernel pass split over the threads, however little work it has (a test's small data
    would otherwise run on the calling thread alone: ``_kernels._config.PARALLEL_WORK``)."""
    from fastseg._kernels import _config

    monkeypatch.setattr(_config, "PARALLEL_WORK", 0)


def make_data(rng, n, d, k=4, dtype=np.float64, offset=0.0):
    """Blobs around ``k`` random centres, shifted by ``offset``."""
    centres = rng.normal(scale=5.0, size=(k, d))
    labels = rng.integers(0, k, size=n)
    X = centres[labels] + rng.normal(size=(n, d)) + offset
    return np.ascontiguousarray(X, dtype=dtype)


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL cluster on loopback for the whole test session (stopped at the end)."""
    from tests.services import PostgresServer, postgres_bindir, unavailable

    bindir = postgres_bindir()
    if bindir is None:
        unavailable("PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql)")
    try:
        import psycopg  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError:
        unavailable("the database extra is not installed: pip install -e '.[db]'")
    server = PostgresServer(bindir).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chromium():
    """The path of a Chromium binary (Debian's chromium package)."""
    from tests.services import chromium_path, unavailable

    exe = chromium_path()
    if exe is None:
        unavailable("Chromium is not installed (apt-get install chromium)")
    return exe


def _missing_extra(report):
    """The reason of a skip by ``pytest.importorskip`` (a test extra not installed), else None."""
    if not report.skipped or not os.environ.get("FASTSEG_REQUIRE_SERVICES"):
        return None
    text = str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr)
    return text if "could not import" in text else None


def _fail_on_missing_extra(report):
    reason = _missing_extra(report)
    if reason:  # FASTSEG_REQUIRE_SERVICES=1 (CI): an extra that broke must not skip whole modules
        report.outcome = "failed"
        report.longrepr = f"skipped for a missing test extra under FASTSEG_REQUIRE_SERVICES=1: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_on_missing_extra(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_on_missing_extra(outcome.get_result())
