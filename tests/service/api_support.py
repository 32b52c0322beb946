"""HTTP API test fixtures: a running app (real Store, real workers) on each back end.

The app starts once per back end for the whole session (its validation workers take a moment
to load sympy and z3); tests create their own keys and chains, so they never depend on what
other tests left behind. Test modules import the fixtures they use from here.
"""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.settings import Settings
from tests.service import pg

SCOPES = ["validate", "generate", "review", "train", "audit:read", "admin", "metrics"]

# Chains that must be answered at once with an unchecked step, never a hang (answer "1").
PATHOLOGICAL = pytest.mark.parametrize(
    "reasoning",
    [
        "(" * 10_000 + "1" + ")" * 10_000 + " = 1",
        "9**9**9**9 = 1",
        ["Step one: 2 + 2 = 4.", "x" * 1_000_000],
    ],
    ids=["nested-parens", "power-tower", "megabyte-step"],
)

# A chain the validators check and pass, and one they flag (wrong arithmetic, laundered answer).
GOOD = {
    "question": "Natalia sold clips to 48 friends in April and half as many in May. How many?",
    "reasoning": ["In May she sold 48 / 2 = 24 clips.", "In all she sold 48 + 24 = 72 clips."],
    "answer": "72",
    "domain": "math",
}
BAD = {
    "question": "Natalia sold clips to 48 friends in April and half as many in May. How many?",
    "reasoning": ["In May she sold 48 / 2 = 24 clips.", "In all she sold 48 + 24 = 70 clips."],
    "answer": "72",
    "domain": "math",
}


@dataclass
class Api:
    """A running app and what the tests need to drive it."""

    client: TestClient
    app: Any
    settings: Settings
    keys: dict[str, str] = field(default_factory=dict)  # scope -> secret of a key with that scope

    @property
    def store(self) -> Any:
        """The app's own Store."""
        return self.app.state.faithgate.store

    def key(self, *scopes: str, name: str = "test", redact: bool = False) -> str:
        """A fresh key's secret."""
        _, secret = self.store.create_key(name, list(scopes), redact=redact)
        return secret

    def auth(self, scope: str) -> dict[str, str]:
        """Headers authenticating with a key that holds only `scope`."""
        if scope not in self.keys:
            self.keys[scope] = self.key(scope, name=f"only-{scope}")
        return {"Authorization": f"Bearer {self.keys[scope]}"}


def chain(base: dict, **changes: Any) -> dict:
    """A copy of `base` with a unique id and the given changes."""
    return {**base, "id": f"t-{uuid.uuid4().hex[:12]}", **changes}


def bundle_members(bundle: bytes) -> dict[str, bytes]:
    """Every file of an export bundle, by name."""
    with tarfile.open(fileobj=io.BytesIO(bundle)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def pack_bundle(members: dict[str, bytes]) -> bytes:
    """A bundle (tar) of these files, in this order: a tampered or re-signed copy."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def bundle_records(data: bytes) -> list[dict]:
    """The records of an export bundle (tar with records.jsonl)."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile("records.jsonl")
        assert member is not None
        return [json.loads(line) for line in member.read().splitlines() if line.strip()]


def records_of(api: Api, request_id: str) -> list[dict]:
    """The audit records (from an export bundle) of one request."""
    buf = io.BytesIO()
    api.store.export_bundle(buf)
    return [r for r in bundle_records(buf.getvalue()) if r.get("request_id") == request_id]


def store_events(store: Any) -> list[tuple[str, dict, dict]]:
    """(event, the payload's data, the record) of every record of a store's audit trail."""
    buf = io.BytesIO()
    store.export_bundle(buf)
    out = []
    for rec in bundle_records(buf.getvalue()):
        payload = json.loads(rec["payload"]) if rec.get("payload") else {}
        data = payload.get("data")
        out.append((rec["event"], data if isinstance(data, dict) else {}, rec))
    return out


@contextmanager
def failing_audit_inserts(store: Any, message: str = "disk full") -> Iterator[None]:
    """Every insert into the audit trail fails inside the database, for whichever process writes.

    A real fault (a trigger), not a patched method: the audit writer process has its own store.
    """
    from sqlalchemy import text

    from service.store.tables import audit_records

    table = audit_records.name
    if store.db.dialect == "sqlite":
        create = [
            f"CREATE TRIGGER fail_audit BEFORE INSERT ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        ]
        drop = ["DROP TRIGGER fail_audit"]
    else:
        create = [
            "CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$",
            f"CREATE TRIGGER fail_audit BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION fail_audit()",
        ]
        drop = [f"DROP TRIGGER fail_audit ON {table}", "DROP FUNCTION fail_audit()"]
    with store.db.engine.begin() as conn:
        for statement in create:
            conn.execute(text(statement))
    try:
        yield
    finally:
        with store.db.engine.begin() as conn:
            for statement in drop:
                conn.execute(text(statement))


def start_api(database_url: str, data_dir: Path, **settings: Any) -> Iterator[Api]:
    """Run an app on `database_url` until the generator is closed."""
    options = {"workers": 1, "data_dir": data_dir, "database_url": database_url, **settings}
    config = Settings(**options)
    app = create_app(config)
    with TestClient(app) as client:
        yield Api(client=client, app=app, settings=config)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A database URL on each back end, for the whole session."""
    server = partial(request.getfixturevalue, "pg_server")
    folder = tmp_path_factory.mktemp("sqlite")
    yield from pg.database_url(request.param, folder, server, "api_")


@pytest.fixture(scope="session")
def api(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The app on each back end (SQLite, PostgreSQL), started once per session."""
    yield from start_api(backend, tmp_path_factory.mktemp("data"))


@pytest.fixture
def sqlite_api_factory(tmp_path: Path):
    """Start extra apps on SQLite with special settings: factory(**settings) -> Api."""
    running: list[Iterator[Api]] = []

    def factory(**settings: Any) -> Api:
        gen = start_api(f"sqlite:///{tmp_path / 'faithgate.db'}", tmp_path / "data", **settings)
        running.append(gen)
        return next(gen)

    yield factory
    for gen in reversed(running):
        gen.close()


def parse_metrics(text: str) -> dict[tuple[str, tuple], float]:
    """Prometheus text -> {(sample name, sorted label pairs): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def metric_samples(api: Api) -> dict[tuple[str, tuple], float]:
    """Every sample that GET /metrics of `api` shows now."""
    r = api.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    return parse_metrics(r.text)
