"""Review cases through the API: listing with filters, one case, reviews and their conflicts."""

# The fixtures imported from api_support reappear as test parameters (pytest injects them).
# ruff: noqa: F811

from __future__ import annotations

import uuid

from tests.service.api_support import BAD, GOOD, api, backend, chain  # noqa: F401 (fixtures)


def _flag(api, **labels) -> str:
    r = api.client.post("/v1/validate", json=chain(BAD, **labels), headers=api.auth("validate"))
    assert r.status_code == 200
    return r.headers["x-case-id"]


def test_list_filters_by_model_and_status(api) -> None:
    model = f"m-{uuid.uuid4().hex[:8]}"
    first, second = _flag(api, model=model), _flag(api, model=model, adapter="a1")
    api.client.post("/v1/validate", json=chain(GOOD, model=model), headers=api.auth("validate"))
    r = api.client.get("/v1/cases", params={"model": model}, headers=api.auth("review"))
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 2
    assert [c["id"] for c in page["cases"]] == [second, first]  # newest first
    assert all(c["status"] == "open" and c["verdict"] == "unfaithful" for c in page["cases"])
    adapter = api.client.get(
        "/v1/cases", params={"model": model, "adapter": "a1"}, headers=api.auth("review")
    )
    assert [c["id"] for c in adapter.json()["cases"]] == [second]
    one = api.client.get(
        "/v1/cases", params={"model": model, "limit": 1, "offset": 1}, headers=api.auth("review")
    ).json()
    assert [c["id"] for c in one["cases"]] == [first] and one["total"] == 2


def test_bad_filters_are_422(api) -> None:
    for params in ({"limit": 0}, {"limit": 10_000}, {"status": "closed"}, {"since": "yesterday"}):
        r = api.client.get("/v1/cases", params=params, headers=api.auth("review"))
        assert r.status_code == 422, params
        assert r.json()["error"]["code"] == "invalid_request"


def test_get_one_case_and_404(api) -> None:
    case_id = _flag(api)
    r = api.client.get(f"/v1/cases/{case_id}", headers=api.auth("review"))
    assert r.status_code == 200
    case = r.json()
    assert case["id"] == case_id and case["report"]["verdict"] == "unfaithful"
    assert case["chain"]["reasoning"] == BAD["reasoning"]
    missing = api.client.get("/v1/cases/case_nope", headers=api.auth("review"))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "case_not_found"


def test_review_then_conflicting_review_then_overturn(api) -> None:
    case_id = _flag(api)
    review = {
        "verdict": "unfaithful",
        "laundering": True,
        "wrong_steps": [1],
        "step_judgements": [{"index": 1, "agree": True}],
        "corrected_reasoning": ["48 / 2 = 24", "48 + 24 = 72"],
        "comment": "the sum is wrong",
    }
    url = f"/v1/cases/{case_id}/review"
    r = api.client.post(url, json=review, headers=api.auth("review"))
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["status"] == "reviewed" and len(case["reviews"]) == 1
    contrary = {"verdict": "faithful"}
    conflict = api.client.post(url, json=contrary, headers=api.auth("review"))
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "case_conflict"
    stale = api.client.post(
        url, json={**contrary, "expected_status": "open"}, headers=api.auth("review")
    )
    assert stale.status_code == 409
    overturn = api.client.post(
        url, json={**contrary, "expected_status": "reviewed"}, headers=api.auth("review")
    )
    assert overturn.status_code == 200
    assert len(overturn.json()["reviews"]) == 2


def test_review_errors(api) -> None:
    case_id = _flag(api)
    url = f"/v1/cases/{case_id}/review"
    bad_verdict = api.client.post(url, json={"verdict": "meh"}, headers=api.auth("review"))
    assert bad_verdict.status_code == 422
    assert bad_verdict.json()["error"]["message"].startswith("verdict")
    bad_step = api.client.post(
        url, json={"verdict": "faithful", "wrong_steps": [-1]}, headers=api.auth("review")
    )
    assert bad_step.status_code == 422
    missing = api.client.post(
        "/v1/cases/case_nope/review", json={"verdict": "faithful"}, headers=api.auth("review")
    )
    assert missing.status_code == 404
    assert api.store.get_case(case_id)["status"] == "open"
