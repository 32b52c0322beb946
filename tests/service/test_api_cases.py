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


def test_backlog_counts_open_cases_under_the_same_filters(api) -> None:
    model = f"m-{uuid.uuid4().hex[:8]}"
    first, second, third = (_flag(api, model=model) for _ in range(3))
    review = {"verdict": "unfaithful", "expected_status": "open"}
    url = f"/v1/cases/{first}/review"
    assert api.client.post(url, json=review, headers=api.auth("review")).status_code == 200
    every = api.client.get("/v1/cases", params={"model": model}, headers=api.auth("review"))
    assert (every.json()["total"], every.json()["backlog"]) == (3, 2)
    done = api.client.get(
        "/v1/cases", params={"model": model, "status": "reviewed"}, headers=api.auth("review")
    ).json()
    assert [c["id"] for c in done["cases"]] == [first] and done["backlog"] == 2
    todo = api.client.get(
        "/v1/cases",
        params={"model": model, "status": "open", "limit": 1},
        headers=api.auth("review"),
    ).json()
    assert [c["id"] for c in todo["cases"]] == [third]
    assert (todo["total"], todo["backlog"]) == (2, 2)
    other = api.client.get(
        "/v1/cases", params={"model": f"{model}-x"}, headers=api.auth("review")
    ).json()
    assert (other["total"], other["backlog"], other["cases"]) == (0, 0, [])
    assert second != third


def test_filters_for_the_review_queue(api) -> None:
    model = f"m-{uuid.uuid4().hex[:8]}"
    math = _flag(api, model=model)  # wrong sum and a pasted answer: laundering
    wrong_only = _flag(api, model=model, answer="70")  # wrong sum, answer as derived
    medical = _flag(
        api,
        model=model,
        question="Does the patient have type 2 diabetes?",
        context="HbA1c 6.8 %. Favorite food: pizza.",
        reasoning="The patient has type 2 diabetes because their favorite food is pizza.",
        answer="yes",
        domain="medical",
    )
    headers = api.auth("review")

    def ids(**params) -> list[str]:
        r = api.client.get("/v1/cases", params={"model": model, **params}, headers=headers)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["cases"]]

    assert ids() == [medical, wrong_only, math]
    assert ids(laundering="true") == [medical, math]
    assert ids(laundering="false") == [wrong_only]
    assert ids(domain="medical") == [medical]
    assert ids(domain="math", laundering="true") == [math]
    assert ids(verdict="unfaithful") == [medical, wrong_only, math]
    assert ids(verdict="faithful") == []
    created = api.client.get(f"/v1/cases/{wrong_only}", headers=headers).json()["created_at"]
    assert ids(since=created) == [medical, wrong_only]
    assert ids(until=created) == [math]
    assert ids(since="2000-01-01T00:00:00Z", until="2000-01-02T00:00:00Z") == []


def test_a_case_reviewed_meanwhile_is_409_for_the_late_reviewer(api) -> None:
    case_id = _flag(api)
    url = f"/v1/cases/{case_id}/review"
    first = {"verdict": "unfaithful", "comment": "first", "expected_status": "open"}
    assert api.client.post(url, json=first, headers=api.auth("review")).status_code == 200
    late = {"verdict": "faithful", "comment": "late", "expected_status": "open"}
    r = api.client.post(url, json=late, headers=api.auth("review"))
    assert r.status_code == 409
    assert r.json()["error"] == {
        "code": "case_conflict",
        "message": f"case {case_id} is reviewed, not open",
    }
    case = api.client.get(f"/v1/cases/{case_id}", headers=api.auth("review")).json()
    assert [rv["comment"] for rv in case["reviews"]] == ["first"]


def test_two_reviewers_overturning_one_review_cannot_both_succeed(api) -> None:
    case_id = _flag(api)
    url = f"/v1/cases/{case_id}/review"
    first = {"verdict": "unfaithful", "expected_status": "open", "expected_reviews": 0}
    assert api.client.post(url, json=first, headers=api.auth("review")).status_code == 200
    # Both saw the case reviewed once and overturn it; only the first one gets through.
    seen = {"verdict": "faithful", "expected_status": "reviewed", "expected_reviews": 1}
    winner = api.client.post(url, json={**seen, "comment": "a"}, headers=api.auth("review"))
    assert winner.status_code == 200, winner.text
    loser = api.client.post(url, json={**seen, "comment": "b"}, headers=api.auth("review"))
    assert loser.status_code == 409
    assert "someone else reviewed it meanwhile" in loser.json()["error"]["message"]
    case = api.client.get(f"/v1/cases/{case_id}", headers=api.auth("review")).json()
    assert [rv["verdict"] for rv in case["reviews"]] == ["unfaithful", "faithful"]
    negative = api.client.post(
        url, json={**seen, "expected_reviews": -1}, headers=api.auth("review")
    )
    assert negative.status_code == 422
