"""Cases: flagged validations waiting for (or having had) a human review.

A case row is an index into the audit trail: the chain and report it shows are the payload of
its "validation" record, each review the payload of a "case.reviewed" record. Nothing is copied,
so the retention purge removes case content together with the record that holds it.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from service.store.canonical import format_ts
from service.store.errors import CaseConflict, CaseNotFound
from service.store.tables import audit_records, case_reviews, cases

VERDICTS = ("faithful", "unfaithful", "unverifiable")
STEP_STATUSES = ("verified", "error", "unsupported", "unchecked")
REVIEW_KEYS = (
    "verdict",
    "laundering",
    "wrong_steps",
    "step_judgements",
    "corrected_reasoning",
    "comment",
)
_TEXT_MAX = 200_000
MAX_PAGE = 500


def case_row(header: dict[str, Any]) -> dict[str, Any]:
    """A new open case for the validation record `header` (inserted by insert_cases)."""
    return {
        "id": "case_" + secrets.token_hex(8),
        "record_id": header["id"],
        "created_at": header["ts"],
        "updated_at": header["ts"],
        "status": "open",
        "domain": header["domain"],
        "model": header["model"],
        "adapter": header["adapter"],
        "verdict": header["verdict"],
        "laundering": bool(header["laundering"]),
    }


_INSERT_CASES = insert(cases)  # built once, not on every audit transaction


def insert_cases(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert new cases (one executemany)."""
    if rows:
        conn.execute(_INSERT_CASES, rows)


def _index(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) > _TEXT_MAX:
        raise ValueError(f"{what} must be a string of at most {_TEXT_MAX} characters")
    return value


def _judgement(j: Any) -> dict[str, Any]:
    if not isinstance(j, dict) or set(j) - {"index", "agree", "status"}:
        raise ValueError("a step judgement is {'index', 'agree', 'status'?}")
    if not isinstance(j.get("agree"), bool):
        raise ValueError("step_judgements[].agree must be true or false")
    out = {"index": _index(j.get("index"), "step_judgements[].index"), "agree": j["agree"]}
    if j.get("status") is not None:
        if j["status"] not in STEP_STATUSES:
            raise ValueError(f"step_judgements[].status must be one of {', '.join(STEP_STATUSES)}")
        out["status"] = j["status"]
    return out


def check_review(review: Any) -> dict[str, Any]:
    """The review in normal form; ValueError naming the first bad field."""
    if not isinstance(review, dict):
        raise ValueError("a review must be an object")
    unknown = sorted(set(review) - set(REVIEW_KEYS))
    if unknown:
        raise ValueError(f"unknown review field(s): {', '.join(unknown)}")
    if review.get("verdict") not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}")
    laundering = review.get("laundering")
    if laundering is not None and not isinstance(laundering, bool):
        raise ValueError("laundering must be true, false or null")
    corrected = review.get("corrected_reasoning")
    if isinstance(corrected, list):
        corrected = [_text(s, "corrected_reasoning[]") for s in corrected]
    elif corrected is not None:
        corrected = _text(corrected, "corrected_reasoning")
    comment = review.get("comment")
    return {
        "verdict": review["verdict"],
        "laundering": laundering,
        "wrong_steps": [_index(i, "wrong_steps[]") for i in review.get("wrong_steps") or []],
        "step_judgements": [_judgement(j) for j in review.get("step_judgements") or []],
        "corrected_reasoning": corrected,
        "comment": None if comment is None else _text(comment, "comment"),
    }


def lock_case(conn: Connection, case_id: str) -> Any:
    """The case row, locked for update until the transaction ends; CaseNotFound otherwise."""
    row = conn.execute(select(cases).where(cases.c.id == case_id).with_for_update()).first()
    if row is None:
        raise CaseNotFound(f"no case {case_id!r}")
    return row


def last_review_verdict(conn: Connection, case_id: str) -> str | None:
    """The verdict of the case's latest review, if any."""
    return conn.execute(
        select(case_reviews.c.verdict)
        .where(case_reviews.c.case_id == case_id)
        .order_by(case_reviews.c.record_id.desc())
        .limit(1)
    ).scalar()


def check_transition(
    conn: Connection,
    row: Any,
    review: dict[str, Any],
    expected_status: str | None,
    expected_reviews: int | None = None,
) -> None:
    """CaseConflict unless this review may be recorded on the case as it stands now.

    With expected_status (and expected_reviews, the count the reviewer saw), the case must be
    as the reviewer saw it (optimistic concurrency between reviewers; the caller holds the
    case's row lock). Without it, a second review must agree with the first one's verdict:
    overturning a review is a deliberate act, made by passing expected_status="reviewed".
    """
    if expected_status is not None and row.status != expected_status:
        raise CaseConflict(f"case {row.id} is {row.status}, not {expected_status}")
    if expected_reviews is not None:
        count = conn.execute(
            select(func.count()).select_from(case_reviews).where(case_reviews.c.case_id == row.id)
        ).scalar_one()
        if count != expected_reviews:
            raise CaseConflict(
                f"case {row.id} has {count} review(s), not {expected_reviews}: "
                "someone else reviewed it meanwhile"
            )
    if expected_status is None and row.status == "reviewed":
        previous = last_review_verdict(conn, row.id)
        if previous is not None and previous != review["verdict"]:
            raise CaseConflict(
                f"case {row.id} was already reviewed as {previous}; "
                "pass expected_status='reviewed' to overturn that review"
            )


def record_review(
    conn: Connection, row: Any, header: dict[str, Any], review: dict[str, Any]
) -> None:
    """Index the case.reviewed record and mark the case reviewed."""
    conn.execute(
        insert(case_reviews).values(
            record_id=header["id"],
            case_id=row.id,
            created_at=header["ts"],
            verdict=review["verdict"],
            key_id=header["key_id"],
        )
    )
    conn.execute(
        update(cases).where(cases.c.id == row.id).values(status="reviewed", updated_at=header["ts"])
    )


# Filters that match a column's value exactly; laundering, since and until are handled apart.
_EXACT = ("status", "domain", "model", "adapter", "verdict")
FILTERS = (*_EXACT, "laundering", "since", "until")


def _filters(filters: dict[str, Any]) -> list[Any]:
    """WHERE clauses of the given filters (None: any); TypeError naming an unknown one."""
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise TypeError(f"unknown case filter(s): {', '.join(sorted(unknown))}")
    given = {k: v for k, v in filters.items() if v is not None}
    c = cases.c
    where = [c[name] == given[name] for name in _EXACT if name in given]
    if "laundering" in given:
        where.append(c.laundering.is_(bool(given["laundering"])))
    if "since" in given:
        where.append(c.created_at >= format_ts(given["since"]))
    if "until" in given:
        where.append(c.created_at < format_ts(given["until"]))
    return where


def query_cases(
    conn: Connection, limit: int, offset: int, **filters: Any
) -> tuple[list[dict[str, Any]], int]:
    """A page of cases, newest first, and the total matching the filters."""
    where = _filters(filters)
    total = conn.execute(select(func.count()).select_from(cases).where(*where)).scalar_one()
    limit, offset = max(0, min(int(limit), MAX_PAGE)), max(0, int(offset))
    rows = conn.execute(
        _case_select().where(*where).order_by(cases.c.record_id.desc()).limit(limit).offset(offset)
    ).all()
    return case_dicts(conn, rows), int(total)


def fetch_case(conn: Connection, case_id: str) -> dict[str, Any]:
    """One case dict; CaseNotFound otherwise."""
    row = conn.execute(_case_select().where(cases.c.id == case_id)).first()
    if row is None:
        raise CaseNotFound(f"no case {case_id!r}")
    return case_dicts(conn, [row])[0]


def _case_select() -> Any:
    r = audit_records.c
    return select(cases, r.payload, r.input_sha256, r.redacted).join(
        audit_records, r.id == cases.c.record_id
    )


def _payload(text: str | None) -> dict[str, Any] | None:
    return None if text is None else json.loads(text)


def case_dicts(conn: Connection, rows: list[Any]) -> list[dict[str, Any]]:
    """Case dicts (with chain, report and reviews) for case rows joined with their record."""
    reviews: dict[str, list[dict[str, Any]]] = {row.id: [] for row in rows}
    if rows:
        q = (
            select(case_reviews, audit_records.c.payload)
            .join(audit_records, audit_records.c.id == case_reviews.c.record_id)
            .where(case_reviews.c.case_id.in_(list(reviews)))
            .order_by(case_reviews.c.record_id)
        )
        for r in conn.execute(q):
            payload = _payload(r.payload)
            body = (payload.get("data") or {}).get("review") if payload else None
            entry = dict(body) if isinstance(body, dict) else {"verdict": r.verdict, "purged": True}
            entry.update(record_id=int(r.record_id), created_at=r.created_at, key_id=r.key_id)
            reviews[r.case_id].append(entry)
    out = []
    for row in rows:
        payload = _payload(row.payload)
        out.append(
            {
                "id": row.id,
                "status": row.status,
                "created_at": row.created_at,
                "updated_at": row.updated_at,
                "domain": row.domain,
                "model": row.model,
                "adapter": row.adapter,
                "verdict": row.verdict,
                "laundering": bool(row.laundering),
                "chain": payload.get("input") if payload else None,
                "report": payload.get("data") if payload else None,
                "reviews": reviews[row.id],
                "record_id": int(row.record_id),
                "input_sha256": row.input_sha256,
                "redacted": bool(row.redacted),
                "purged": payload is None,
            }
        )
    return out
