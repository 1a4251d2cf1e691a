import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Bounded examples keep the suite fast on two cores; the profile can be raised locally.
settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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
