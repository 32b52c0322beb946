"""Liveness and readiness: /readyz says 503 when the audit database stops answering."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.service import pg
from tests.service.api_support import start_api
from validators import native


def test_readyz_is_200_while_the_database_answers(tmp_path: Path) -> None:
    api_iter = start_api(f"sqlite:///{tmp_path / 'faithgate.db'}", tmp_path)
    api = next(api_iter)
    try:
        r = api.client.get("/readyz")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "ready"
        # make test builds the compiled validators first: the service must be running them
        assert r.json()["validators"] == native.state == "native"
    finally:
        api_iter.close()


def test_readyz_is_503_once_postgresql_is_gone_and_healthz_stays_200(tmp_path: Path) -> None:
    try:
        server = pg.start()  # a server of its own: this test stops it
    except RuntimeError as exc:
        pytest.fail(f"could not start PostgreSQL: {exc}", pytrace=False)
    api_iter = start_api(server.url(), tmp_path)
    api = next(api_iter)
    try:
        assert api.client.get("/readyz").status_code == 200
        server.stop()
        r = api.client.get("/readyz")
        assert r.status_code == 503, r.text
        error = r.json()["error"]
        assert error["code"] == "not_ready"
        assert "audit database does not answer" in error["message"]
        assert api.client.get("/healthz").status_code == 200  # alive, only not ready
    finally:
        server.stop()
        api_iter.close()
