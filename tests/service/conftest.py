"""Fixtures for the service tests: a real PostgreSQL next to SQLite, and stores on both."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import pytest

from tests.service import pg


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server for the whole session; fails (not skips) when it cannot start.

    Set FAITHGATE_SKIP_PG=1 to skip the PostgreSQL half of the tests deliberately.
    """
    if os.environ.get("FAITHGATE_SKIP_PG") == "1":
        pytest.skip("FAITHGATE_SKIP_PG=1: PostgreSQL tests skipped on purpose")
    try:
        server = pg.start()
    except Exception as exc:  # any reason at all must be loud
        pytest.fail(
            f"could not start PostgreSQL for the tests: {exc}\n"
            "install it (apt-get install -y postgresql) or set FAITHGATE_SKIP_PG=1",
            pytrace=False,
        )
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh, empty database on each back end in turn."""
    server = partial(request.getfixturevalue, "pg_server")
    yield from pg.database_url(request.param, tmp_path, server, "t_")


@pytest.fixture
def data_dir_path(tmp_path: Path) -> Path:
    """The store's data directory (signing key) for one test."""
    return tmp_path / "data"


@pytest.fixture
def store(database_url: str, data_dir_path: Path):
    """A migrated Store on a fresh database (SQLite and PostgreSQL in turn)."""
    from service.store import Store

    s = Store(database_url, data_dir_path)
    yield s
    s.close()


@pytest.fixture(scope="module")
def model_dir() -> Path:
    """The real SmolLM2 folder (converted on first use; the slow engine tests)."""
    from tests.service.engine_support import smollm2_dir

    return smollm2_dir()
