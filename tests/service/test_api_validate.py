"""POST /v1/validate and /v1/validate/batch against the real Store (SQLite and PostgreSQL)."""

# The fixtures imported from api_support reappear as test parameters (pytest injects them).
# ruff: noqa: F811

from __future__ import annotations

import pytest

from tests.service.api_support import (  # noqa: F401 (fixtures)
    BAD,
    GOOD,
    PATHOLOGICAL,
    api,
    backend,
    chain,
    failing_audit_inserts,
    records_of,
    sqlite_api_factory,
)


def test_a_chain_gets_its_report_and_is_audited_under_the_request_id(api) -> None:
    c = chain(GOOD, model="llama-3-8b", adapter="fin-v2")
    r = api.client.post(
        "/v1/validate", json=c, headers={**api.auth("validate"), "X-Request-ID": "req-good-1"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["x-request-id"] == "req-good-1"
    report = r.json()
    assert report["id"] == c["id"]
    assert report["verdict"] == "faithful" and report["laundering"] is False
    assert [s["status"] for s in report["steps"]] == ["verified", "verified"]
    assert "x-case-id" not in r.headers
    records = records_of(api, "req-good-1")
    assert len(records) == 1
    assert records[0]["event"] == "validation"
    assert records[0]["id"] == int(r.headers["x-audit-record-id"])
    assert records[0]["model"] == "llama-3-8b" and records[0]["adapter"] == "fin-v2"


def test_a_flagged_chain_opens_a_case(api) -> None:
    c = chain(BAD)
    r = api.client.post("/v1/validate", json=c, headers=api.auth("validate"))
    assert r.status_code == 200, r.text
    assert r.json()["verdict"] == "unfaithful"
    case = api.store.get_case(r.headers["x-case-id"])
    assert case["chain"]["id"] == c["id"]
    assert case["status"] == "open"


def test_a_request_id_is_made_when_none_or_a_bad_one_is_sent(api) -> None:
    first = api.client.post("/v1/validate", json=chain(GOOD), headers=api.auth("validate"))
    bad_id = {**api.auth("validate"), "X-Request-ID": "no spaces; " + "x" * 200}
    second = api.client.post("/v1/validate", json=chain(GOOD), headers=bad_id)
    ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
    assert len(ids) == 2
    assert all(len(i) == 32 for i in ids)
    assert len(records_of(api, second.headers["x-request-id"])) == 1


def test_batch_reports_come_back_in_order_with_their_records(api) -> None:
    chains = [chain(GOOD if i % 3 else BAD) for i in range(7)]
    r = api.client.post(
        "/v1/validate/batch",
        json={"chains": chains},
        headers={**api.auth("validate"), "X-Request-ID": "req-batch-1"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [rep["id"] for rep in body["reports"]] == [c["id"] for c in chains]
    verdicts = [rep["verdict"] for rep in body["reports"]]
    assert verdicts == ["unfaithful" if i % 3 == 0 else "faithful" for i in range(7)]
    assert [bool(rec["case_id"]) for rec in body["records"]] == [i % 3 == 0 for i in range(7)]
    records = records_of(api, "req-batch-1")
    assert sorted(rec["id"] for rec in records) == sorted(
        rec["record_id"] for rec in body["records"]
    )


def test_batch_over_batch_max_is_refused(sqlite_api_factory) -> None:
    small = sqlite_api_factory(batch_max=3)
    body = {"chains": [chain(GOOD) for _ in range(4)]}
    headers = small.auth("validate")
    records_before = small.store.count_records()
    r = small.client.post("/v1/validate/batch", json=body, headers=headers)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "batch_too_large"
    assert small.store.count_records() == records_before
    ok = small.client.post(
        "/v1/validate/batch", json={"chains": body["chains"][:3]}, headers=small.auth("validate")
    )
    assert ok.status_code == 200
    assert small.store.count_records() == records_before + 3


def test_an_audit_failure_is_a_503_and_no_report(api) -> None:
    before = api.client.get("/metrics").text
    records_before = api.store.count_records()
    with failing_audit_inserts(api.store):
        r = api.client.post("/v1/validate", json=chain(GOOD), headers=api.auth("validate"))
    assert api.store.count_records() == records_before
    assert r.status_code == 503
    assert r.json() == {
        "error": {
            "code": "audit_unavailable",
            "message": "the audit record could not be written; nothing was answered",
        }
    }
    assert "verdict" not in r.text
    after = api.client.get("/metrics").text
    assert _sample(after, "faithgate_audit_write_failures_total") == (
        _sample(before, "faithgate_audit_write_failures_total") + 1
    )


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in metrics")


def test_a_redacting_tenant_keeps_only_digests(api) -> None:
    secret = api.key("validate", name="redacted-tenant", redact=True)
    c = chain(GOOD, question="Patient 4711 took 48 pills and half as many the next day.")
    headers = {"Authorization": f"Bearer {secret}", "X-Request-ID": "req-redact-1"}
    r = api.client.post("/v1/validate", json=c, headers=headers)
    assert r.status_code == 200
    (record,) = records_of(api, "req-redact-1")
    assert record["redacted"] is True
    assert "Patient 4711" not in str(record)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"reasoning": "1 + 1 = 2"}, "question"),
        ({"question": "q"}, "reasoning"),
        ({"question": "q", "reasoning": 5}, "reasoning"),
        ({"question": "q", "reasoning": "x", "context": [1, 2]}, "context"),
        ({"question": "q", "reasoning": "x", "surprise": 1}, "surprise"),
        ({"question": "q", "reasoning": "x", "answer": {"a": 1}}, "answer"),
        ({"question": "q", "reasoning": "x", "answer": True}, "answer"),
    ],
)
def test_schema_errors_are_422_naming_the_field(api, body, field) -> None:
    r = api.client.post("/v1/validate", json=body, headers=api.auth("validate"))
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(field)


def test_batch_schema_errors_name_the_chain_and_field(api) -> None:
    body = {"chains": [chain(GOOD), {"question": "q"}]}
    r = api.client.post("/v1/validate/batch", json=body, headers=api.auth("validate"))
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith("chains.1.reasoning")
    empty = api.client.post("/v1/validate/batch", json={"chains": []}, headers=api.auth("validate"))
    assert empty.status_code == 422


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"question": "q", "reasoning": "x"} trailing',
        b"",
        b'{"question": "\xff\xfe"}',
    ],
    ids=["malformed", "trailing", "empty", "invalid-utf8"],
)
@pytest.mark.parametrize("path", ["/v1/validate", "/v1/validate/batch"])
def test_bodies_that_are_not_json_are_400(api, raw, path) -> None:
    headers = {**api.auth("validate"), "Content-Type": "application/json"}
    r = api.client.post(path, content=raw, headers=headers)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_json"


def test_oversized_bodies_are_413_by_length_and_by_stream(sqlite_api_factory) -> None:
    small = sqlite_api_factory(max_body_bytes=4096)
    headers = {**small.auth("validate"), "Content-Type": "application/json"}
    records_before = small.store.count_records()
    big = b'{"question": "q", "reasoning": "' + b"1 + 1 = 2. " * 1000 + b'"}'
    r = small.client.post("/v1/validate", content=big, headers=headers)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"

    def chunks():  # no Content-Length: the limit must hold on the bytes actually received
        for i in range(0, len(big), 1000):
            yield big[i : i + 1000]

    streamed = small.client.post("/v1/validate", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "payload_too_large"
    assert small.store.count_records() == records_before


@PATHOLOGICAL
def test_pathological_chains_are_answered_unchecked(api, reasoning) -> None:
    r = api.client.post(
        "/v1/validate",
        json={"question": "q", "reasoning": reasoning, "answer": "1"},
        headers=api.auth("validate"),
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["verdict"] in {"unverifiable", "unfaithful", "faithful"}
    statuses = [s["status"] for s in report["steps"]]
    assert statuses, "the chain must be segmented into steps"
    assert "unchecked" in statuses


def test_the_stored_payload_is_the_canonical_json_of_chain_and_report(api) -> None:
    # The chain and report are encoded by the validation worker: the record must hold exactly
    # what the store would have encoded itself, and its digests must match it.
    import hashlib

    from service.store.canonical import to_canonical_text

    c = chain(GOOD, question="Ünïcödé: 2 + 2?")
    r = api.client.post(
        "/v1/validate", json=c, headers={**api.auth("validate"), "X-Request-ID": "req-canon"}
    )
    assert r.status_code == 200, r.text
    (record,) = records_of(api, "req-canon")
    assert record["payload"] == to_canonical_text({"input": c, "data": r.json()})
    assert record["input_sha256"] == hashlib.sha256(to_canonical_text(c).encode()).hexdigest()
    assert record["payload_sha256"] == hashlib.sha256(record["payload"].encode()).hexdigest()
