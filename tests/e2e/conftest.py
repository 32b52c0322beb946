"""End-to-end fixtures: the real `faithgate serve` process on a free loopback port.

Each back end (SQLite in a temp data dir, a throwaway PostgreSQL) gets its own server. The
server is a separate process, so tests can kill it (SIGKILL) and start it again on the same data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.processes import free_port, terminate, wait_until_ready
from tests.service import pg

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    """One `faithgate serve` process and the data it serves."""

    database_url: str
    data_dir: Path
    port: int = 0
    proc: subprocess.Popen | None = None
    log: Path | None = None
    keys: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)  # more FAITHGATE_* variables

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The environment the server runs with (FAITHGATE_* settings)."""
        return {
            **os.environ,
            "FAITHGATE_DATA_DIR": str(self.data_dir),
            "FAITHGATE_DATABASE_URL": self.database_url,
            "FAITHGATE_WORKERS": "2",
            "FAITHGATE_LOG_LEVEL": "warning",
            **self.settings,
        }

    def start(self, timeout: float = 120.0) -> None:
        """Start `faithgate serve` and wait until /readyz answers 200."""
        self.port = free_port()
        self.log = self.data_dir.parent / f"server-{self.port}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "service",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until_ready(self.proc, f"{self.url}/readyz", timeout, self.tail, "the server")

    def kill(self) -> None:
        """SIGKILL the server process (no shutdown code runs)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        """Stop the server the way an operator does (SIGTERM), killing it if it lingers."""
        terminate(self.proc)

    def tail(self) -> str:
        """The end of the server's log."""
        try:
            return self.log.read_text(errors="replace")[-3000:] if self.log else ""
        except OSError:
            return ""

    def auth(self, scope: str) -> dict[str, str]:
        """Headers with a key holding `scope` (created directly in the store)."""
        if scope not in self.keys:
            from service.store import Store

            store = Store(self.database_url, self.data_dir)
            try:
                _, self.keys[scope] = store.create_key(f"e2e-{scope}", [scope])
            finally:
                store.close()
        return {"Authorization": f"Bearer {self.keys[scope]}"}


@pytest.fixture(scope="session")
def e2e_pg():
    """A PostgreSQL server for the end-to-end tests (FAITHGATE_SKIP_PG=1 skips them)."""
    if os.environ.get("FAITHGATE_SKIP_PG") == "1":
        pytest.skip("FAITHGATE_SKIP_PG=1: PostgreSQL tests skipped on purpose")
    try:
        server = pg.start()
    except Exception as exc:
        pytest.fail(f"could not start PostgreSQL for the tests: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_server(request: pytest.FixtureRequest, tmp_path: Path):
    """A Server (not started) on an empty database of each back end; stopped after the test."""
    data_dir = tmp_path / "data"
    if request.param == "sqlite":
        url, name = f"sqlite:///{tmp_path / 'faithgate.db'}", None
    else:
        name = "e2e_" + uuid.uuid4().hex[:16]
        url = request.getfixturevalue("e2e_pg").create_database(name)
    srv = Server(database_url=url, data_dir=data_dir)
    yield srv
    srv.stop()
    if name is not None:
        request.getfixturevalue("e2e_pg").drop_database(name)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A running `faithgate serve` on each back end, shared by a module's tests."""
    tmp = tmp_path_factory.mktemp("e2e")
    if request.param == "sqlite":
        url, name = f"sqlite:///{tmp / 'faithgate.db'}", None
    else:
        name = "e2e_" + uuid.uuid4().hex[:16]
        url = request.getfixturevalue("e2e_pg").create_database(name)
    srv = Server(database_url=url, data_dir=tmp / "data")
    srv.start()
    yield srv
    srv.stop()
    if name is not None:
        request.getfixturevalue("e2e_pg").drop_database(name)
