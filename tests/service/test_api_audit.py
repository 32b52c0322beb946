"""The audit export over HTTP: a streamed, verifiable bundle for a period; and the chain check."""

# The fixtures imported from api_support reappear as test parameters (pytest injects them).
# ruff: noqa: F811

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from service.store import verify_bundle
from tests.service.api_support import (  # noqa: F401 (fixtures)
    GOOD,
    api,
    backend,
    bundle_records,
    chain,
)


def test_export_streams_a_bundle_that_verifies(api) -> None:
    headers = {**api.auth("validate"), "X-Request-ID": "req-export-1"}
    assert api.client.post("/v1/validate", json=chain(GOOD), headers=headers).status_code == 200
    with api.client.stream("GET", "/v1/audit/export", headers=api.auth("audit:read")) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/x-tar"
        assert r.headers["content-disposition"].endswith('.tar"')
        data = b"".join(r.iter_bytes())
    result = verify_bundle(io.BytesIO(data))
    assert result.ok, result.message
    assert any(rec.get("request_id") == "req-export-1" for rec in bundle_records(data))


def test_export_of_a_period(api) -> None:
    before = datetime.now(UTC)
    headers = {**api.auth("validate"), "X-Request-ID": "req-export-period"}
    api.client.post("/v1/validate", json=chain(GOOD), headers=headers)
    r = api.client.get(
        "/v1/audit/export", params={"since": before.isoformat()}, headers=api.auth("audit:read")
    )
    assert r.status_code == 200
    assert verify_bundle(io.BytesIO(r.content)).ok
    ids = [rec.get("request_id") for rec in bundle_records(r.content)]
    assert "req-export-period" in ids
    assert "req-export-1" not in ids
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    empty = api.client.get(
        "/v1/audit/export", params={"since": future}, headers=api.auth("audit:read")
    )
    assert empty.status_code == 200
    assert bundle_records(empty.content) == []


def test_export_rejects_an_inverted_period(api) -> None:
    now = datetime.now(UTC)
    params = {"since": now.isoformat(), "until": (now - timedelta(days=1)).isoformat()}
    r = api.client.get("/v1/audit/export", params=params, headers=api.auth("audit:read"))
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith("since")


def test_export_failure_before_the_first_byte_is_a_503(api, monkeypatch) -> None:
    def broken(out, since=None, until=None):
        raise OSError("disk gone")

    monkeypatch.setattr(api.store, "export_bundle", broken)
    r = api.client.get("/v1/audit/export", headers=api.auth("audit:read"))
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "export_failed"


def test_verify_reports_an_intact_chain(api) -> None:
    r = api.client.get("/v1/audit/verify", headers=api.auth("audit:read"))
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is True and body["first_bad"] is None and body["count"] >= 1
