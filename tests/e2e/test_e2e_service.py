"""The real service process over real sockets: validation, audit, and hostile input."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import uuid

import httpx
import pytest

from service.store import Store, verify_bundle
from tests.service.api_support import BAD, GOOD, PATHOLOGICAL, bundle_records, chain

TIMEOUT = httpx.Timeout(120.0)


def test_validate_audit_and_export_round_trip(server) -> None:
    rid = f"e2e-{uuid.uuid4().hex}"
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        r = client.post(
            "/v1/validate",
            json=chain(BAD),
            headers={**server.auth("validate"), "X-Request-ID": rid},
        )
        assert r.status_code == 200
        assert r.headers["x-request-id"] == rid
        assert r.json()["verdict"] == "unfaithful", r.text
        case = client.get(f"/v1/cases/{r.headers['x-case-id']}", headers=server.auth("review"))
        assert case.status_code == 200
        bundle = client.get("/v1/audit/export", headers=server.auth("audit:read"))
        assert bundle.status_code == 200
        assert verify_bundle(io.BytesIO(bundle.content)).ok
        assert rid in {rec.get("request_id") for rec in bundle_records(bundle.content)}
        metrics = client.get("/metrics").text
        assert (
            'faithgate_validations_total{adapter="none",domain="math",model="none",'
            'verdict="unfaithful"}' in metrics
        )


def test_batch_over_the_wire(server) -> None:
    chains = [chain(GOOD) for _ in range(40)]
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        r = client.post(
            "/v1/validate/batch", json={"chains": chains}, headers=server.auth("validate")
        )
    assert r.status_code == 200
    assert [rep["id"] for rep in r.json()["reports"]] == [c["id"] for c in chains]


def test_oversized_body_is_413(server) -> None:
    big = b'{"question": "q", "reasoning": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    headers = {**server.auth("validate"), "Content-Type": "application/json"}
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        r = client.post("/v1/validate", content=big, headers=headers)
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "payload_too_large"

        def chunked():
            for i in range(0, len(big), 64 * 1024):
                yield big[i : i + 64 * 1024]

        try:
            streamed = client.post("/v1/validate", content=chunked(), headers=headers)
        except httpx.TransportError:
            pytest.fail("the server must answer 413, not drop the connection")
        assert streamed.status_code == 413
        # The service is still fine afterwards.
        assert (
            client.post(
                "/v1/validate", json=chain(GOOD), headers=server.auth("validate")
            ).status_code
            == 200
        )


def test_a_client_that_writes_the_whole_body_first_reads_the_413(server) -> None:
    """urllib sends all 3 MB before it reads: the 413 must wait for it, not reset the socket."""
    big = b'{"question": "q", "reasoning": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    for _ in range(3):  # a reset is a race; try it more than once
        request = urllib.request.Request(
            f"{server.url}/v1/validate",
            data=big,
            headers={**server.auth("validate"), "Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=60)
        assert refused.value.code == 413
        assert json.loads(refused.value.read())["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "raw",
    [b'{"question": "q", "reasoning": ', b'{"question": "\xc3\x28", "reasoning": "x"}'],
    ids=["malformed", "invalid-utf8"],
)
def test_bytes_that_are_not_json_are_400(server, raw) -> None:
    headers = {**server.auth("validate"), "Content-Type": "application/json"}
    r = httpx.post(f"{server.url}/v1/validate", content=raw, headers=headers, timeout=TIMEOUT)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_json"


@PATHOLOGICAL
def test_pathological_chains_come_back_unchecked(server, reasoning) -> None:
    body = {"question": "q", "reasoning": reasoning, "answer": "1"}
    r = httpx.post(
        f"{server.url}/v1/validate", json=body, headers=server.auth("validate"), timeout=TIMEOUT
    )
    assert r.status_code == 200
    assert "unchecked" in [s["status"] for s in r.json()["steps"]]


def test_records_survive_a_restart(server) -> None:
    headers = {**server.auth("validate"), "X-Request-ID": f"e2e-{uuid.uuid4().hex}"}
    r = httpx.post(f"{server.url}/v1/validate", json=chain(GOOD), headers=headers, timeout=TIMEOUT)
    assert r.status_code == 200
    server.stop()
    server.start()
    store = Store(server.database_url, server.data_dir)
    try:
        assert store.verify_chain()["ok"]
    finally:
        store.close()
    again = httpx.get(
        f"{server.url}/v1/audit/verify", headers=server.auth("audit:read"), timeout=TIMEOUT
    )
    assert again.status_code == 200 and again.json()["ok"] is True
