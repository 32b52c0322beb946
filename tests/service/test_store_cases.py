"""Cases on SQLite and PostgreSQL: opened for flagged reports, listed, reviewed, audited."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from service.store import CaseConflict, CaseNotFound, Store


def _item(verdict: str, laundering: bool = False, domain: str = "math", model: str = "m") -> dict:
    chain = {"question": f"{verdict} {laundering}", "reasoning": "2 + 2 = 5", "domain": domain}
    report = {
        "verdict": verdict,
        "laundering": laundering,
        "validators": {"arithmetic": "1.0"},
        "steps": [],
    }
    return {"chain": chain, "report": report, "model": model, "adapter": "ad1"}


def _flagged(store: Store) -> list[dict]:
    items = [
        _item("faithful"),
        _item("unfaithful"),
        _item("unverifiable"),
        _item("faithful", laundering=True, domain="finance", model="m2"),
    ]
    return store.record_validations(items, request_id="req", key_id="key_a")


def test_cases_open_only_for_unfaithful_or_laundering_reports(store: Store) -> None:
    results = _flagged(store)
    assert [r["record_id"] for r in results] == [1, 2, 3, 4]
    assert [r["case_id"] is not None for r in results] == [False, True, False, True]
    case = store.get_case(results[1]["case_id"])
    assert case["record_id"] == 2 and case["status"] == "open" and case["reviews"] == []
    assert case["chain"]["question"] == "unfaithful False"
    assert case["report"]["verdict"] == "unfaithful"
    assert (case["domain"], case["model"], case["adapter"], case["laundering"]) == (
        "math",
        "m",
        "ad1",
        False,
    )


def test_list_filters_and_pages_newest_first(store: Store) -> None:
    results = _flagged(store)
    page, total = store.list_cases()
    assert total == 2 and [c["id"] for c in page] == [results[3]["case_id"], results[1]["case_id"]]
    assert store.list_cases(laundering=True)[1] == 1
    assert store.list_cases(laundering=False)[0][0]["id"] == results[1]["case_id"]
    assert store.list_cases(domain="finance")[0][0]["model"] == "m2"
    assert store.list_cases(model="nope")[1] == 0
    assert store.list_cases(verdict="unfaithful")[1] == 1
    assert store.list_cases(status="reviewed")[1] == 0
    page, total = store.list_cases(limit=1, offset=1)
    assert total == 2 and [c["id"] for c in page] == [results[1]["case_id"]]
    assert store.list_cases(since=datetime.now(UTC) + timedelta(hours=1))[1] == 0
    assert store.list_cases(until=datetime.now(UTC) + timedelta(hours=1))[1] == 2


def test_a_zero_limit_counts_without_fetching(store: Store) -> None:
    # The API counts the backlog this way: no rows, only the total under the filters.
    _flagged(store)
    assert store.list_cases(status="open", limit=0) == ([], 2)
    assert store.list_cases(status="open", domain="finance", limit=0) == ([], 1)
    assert store.list_cases(status="reviewed", limit=0) == ([], 0)


def test_unknown_case_is_not_found(store: Store) -> None:
    with pytest.raises(CaseNotFound):
        store.get_case("case_nope")
    with pytest.raises(CaseNotFound):
        store.review_case("case_nope", {"verdict": "faithful"}, key_id=None, request_id=None)


def test_review_updates_the_case_and_is_audited_in_the_chain(store: Store) -> None:
    case_id = _flagged(store)[1]["case_id"]
    review = {
        "verdict": "unfaithful",
        "laundering": False,
        "wrong_steps": [0],
        "step_judgements": [{"index": 0, "agree": True, "status": "error"}],
        "corrected_reasoning": ["2 + 2 = 4"],
        "comment": "arithmetic slip",
    }
    case = store.review_case(
        case_id, review, key_id="key_rev", request_id="req-9", expected_status="open"
    )
    assert case["status"] == "reviewed"
    [stored] = case["reviews"]
    assert {k: stored[k] for k in review} == review and stored["key_id"] == "key_rev"
    with store.db.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM audit_records WHERE event = 'case.reviewed'")).one()
    assert (row.id, row.key_id, row.request_id) == (stored["record_id"], "key_rev", "req-9")
    assert json.loads(row.payload)["data"]["review"]["comment"] == "arithmetic slip"
    assert store.list_cases(status="reviewed")[1] == 1
    assert store.verify_chain()["ok"]


def test_review_conflicts(store: Store) -> None:
    case_id = _flagged(store)[1]["case_id"]
    store.review_case(case_id, {"verdict": "unfaithful"}, key_id="a", request_id=None)
    with pytest.raises(CaseConflict):
        store.review_case(
            case_id, {"verdict": "faithful"}, key_id="b", request_id=None, expected_status="open"
        )
    with pytest.raises(CaseConflict):
        store.review_case(case_id, {"verdict": "faithful"}, key_id="b", request_id=None)
    assert len(store.get_case(case_id)["reviews"]) == 1
    store.review_case(case_id, {"verdict": "unfaithful"}, key_id="c", request_id=None)  # agrees
    overturned = store.review_case(
        case_id, {"verdict": "faithful"}, key_id="d", request_id=None, expected_status="reviewed"
    )
    assert [r["verdict"] for r in overturned["reviews"]] == ["unfaithful", "unfaithful", "faithful"]
    assert store.verify_chain()["ok"]


@pytest.mark.parametrize(
    "review",
    [
        {"verdict": "maybe"},
        {"verdict": "faithful", "wrong_steps": [-1]},
        {"verdict": "faithful", "step_judgements": [{"index": 0}]},
        {"verdict": "faithful", "laundering": "yes"},
        {"verdict": "faithful", "surprise": 1},
    ],
)
def test_malformed_reviews_are_refused_without_writing(store: Store, review: dict) -> None:
    case_id = _flagged(store)[1]["case_id"]
    before = store.count_records()
    with pytest.raises(ValueError):
        store.review_case(case_id, review, key_id=None, request_id=None)
    assert store.count_records() == before and store.get_case(case_id)["status"] == "open"


def test_concurrent_reviews_expecting_open_let_exactly_one_through(
    store: Store, database_url: str
) -> None:
    case_id = _flagged(store)[1]["case_id"]
    other = Store(database_url, store.data_dir)
    outcomes: list[str] = []

    def review(s: Store, verdict: str) -> None:
        try:
            s.review_case(
                case_id, {"verdict": verdict}, key_id=None, request_id=None, expected_status="open"
            )
            outcomes.append("ok")
        except CaseConflict:
            outcomes.append("conflict")

    threads = [
        threading.Thread(target=review, args=args)
        for args in ((store, "faithful"), (other, "unfaithful"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert len(store.get_case(case_id)["reviews"]) == 1


def test_purged_case_keeps_its_index_but_not_its_content(store: Store, database_url: str) -> None:
    short = Store(database_url, store.data_dir, retention_days=0)
    case_id = short.record_validations([_item("unfaithful")], request_id="r", key_id=None)[0][
        "case_id"
    ]
    short.review_case(
        case_id, {"verdict": "unfaithful", "comment": "x"}, key_id=None, request_id=None
    )
    assert short.purge_expired() == 2
    short.close()
    case = store.get_case(case_id)
    assert case["purged"] and case["chain"] is None and case["report"] is None
    assert case["reviews"][0]["verdict"] == "unfaithful" and case["reviews"][0]["purged"]
    assert store.verify_chain()["ok"]


def test_a_case_and_its_record_are_written_together_or_not_at_all(store: Store) -> None:
    with store.db.engine.begin() as conn:  # break only the cases insert
        conn.execute(text("DROP TABLE case_reviews"))
        conn.execute(text("DROP TABLE cases"))
    from service.store import AuditWriteError

    with pytest.raises(AuditWriteError):
        _flagged(store)
    assert store.count_records() == 0
