"""Review cases: the one case filter, listing with the backlog, and recording a review.

The case filter means the same through every door (API body, CLI `--cases`, Alertmanager hook,
automatic trigger): a filter that names no `status` selects reviewed cases; `status: null`
over the API, or `all` on the command line, selects every case.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from service.ops.audit import Actor
from service.ops.errors import Conflict, Invalid, NotFound
from service.store.errors import CaseConflict, CaseNotFound

CASE_FILTERS = ("status", "domain", "model", "adapter", "laundering", "verdict", "since", "until")
DEFAULT_STATUS = "reviewed"
_PAGE = 500


def check_filter(filt: Mapping[str, Any]) -> dict[str, Any]:
    """The filter with typed values and None values dropped (ValueError naming a bad one)."""
    out: dict[str, Any] = {}
    for key, value in filt.items():
        if key not in CASE_FILTERS:
            raise ValueError(f"unknown case filter {key!r}")
        if value is None:
            continue
        if key == "laundering" and not isinstance(value, bool):
            if str(value).lower() not in ("true", "false"):
                raise ValueError("laundering must be true or false")
            value = str(value).lower() == "true"
        if key in ("since", "until") and not isinstance(value, datetime):
            value = datetime.fromisoformat(str(value))
        if key == "status" and value not in ("open", "reviewed"):
            raise ValueError("status must be open or reviewed")
        out[key] = value
    return out


def case_filter(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A job's case filter: reviewed cases unless `status` is given (None: every status)."""
    return check_filter({"status": DEFAULT_STATUS, **fields})


def parse_filter(text: str | None) -> dict[str, Any]:
    """The CLI form "domain=math,status=open" (or "all") as a case filter."""
    if text is None or not text.strip():
        return case_filter({})
    if text.strip() == "all":
        return case_filter({"status": None})
    fields: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key not in CASE_FILTERS:
            raise ValueError(
                f"bad case filter {part!r}: use key=value with keys {', '.join(CASE_FILTERS)}"
            )
        fields[key] = value
    return case_filter(fields)


def filter_json(filt: Mapping[str, Any]) -> dict[str, Any]:
    """The filter as JSON (datetimes in ISO form), as a job stores it."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in filt.items()}


def fetch_cases(store: Any, filt: Mapping[str, Any], limit: int | None = None) -> list[dict]:
    """Every case matching a stored filter (paged through Store.list_cases), oldest first."""
    typed = check_filter(filt)
    out: list[dict] = []
    offset = 0
    while True:
        page, total = store.list_cases(**typed, limit=_PAGE, offset=offset)
        out.extend(page)
        offset += len(page)
        if not page or offset >= total or (limit is not None and len(out) >= limit):
            break
    out.reverse()
    return out[:limit] if limit is not None else out


def list_cases(
    store: Any, filters: Mapping[str, Any], *, status: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """A page of cases, newest first, the total, and the open backlog under the same filters."""
    page, total = store.list_cases(status=status, limit=limit, offset=offset, **filters)
    # limit=0 counts without fetching a row.
    backlog = total if status == "open" else store.list_cases(status="open", limit=0, **filters)[1]
    return {"cases": page, "total": total, "limit": limit, "offset": offset, "backlog": backlog}


def get_case(store: Any, case_id: str) -> dict[str, Any]:
    """One case with its chain, report and reviews."""
    try:
        return store.get_case(case_id)
    except CaseNotFound as exc:
        raise NotFound("case_not_found", f"no case {case_id!r}") from exc


def review_case(
    store: Any,
    case_id: str,
    review: dict[str, Any],
    actor: Actor,
    *,
    expected_status: str | None = None,
    expected_reviews: int | None = None,
) -> dict[str, Any]:
    """Record a review (audited as case.reviewed, verdict in the header); the updated case."""
    try:
        return store.review_case(
            case_id,
            review,
            key_id=actor.id,
            request_id=actor.request_id,
            expected_status=expected_status,
            expected_reviews=expected_reviews,
        )
    except CaseNotFound as exc:
        raise NotFound("case_not_found", f"no case {case_id!r}") from exc
    except CaseConflict as exc:
        raise Conflict("case_conflict", str(exc) or "the case changed meanwhile") from exc
    except ValueError as exc:  # the store's own review checks (it names the field)
        raise Invalid("invalid_request", str(exc)) from exc
