"""Review cases: flagged chains waiting for (or carrying) a domain reviewer's judgement."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import ReviewerActor, StateDep, StoreDep, require_scope
from service.api.routing import JSONRoute
from service.api.schemas.cases import CaseQuery, Verdict
from service.errors import responses
from service.ops import cases as case_ops

router = APIRouter(tags=["cases"], route_class=JSONRoute)
ReaderKey = Annotated[Any, Depends(require_scope("review", "audit:read"))]


# --- protocol ---------------------------------------------------------------------------------
class Case(BaseModel):
    """A flagged chain, its report and its reviews."""

    model_config = ConfigDict(extra="allow")

    id: str
    status: Literal["open", "reviewed"]
    created_at: datetime
    domain: str | None = None
    model: str | None = None
    adapter: str | None = None
    verdict: str | None = None
    laundering: bool | None = None
    chain: dict[str, Any] | None = None
    report: dict[str, Any] | None = None
    reviews: list[dict[str, Any]] = []
    record_id: int | None = None


class CasePage(BaseModel):
    """One page of cases, newest first, how many match in all, and the open backlog."""

    cases: list[Case]
    total: int
    limit: int
    offset: int
    backlog: int = Field(
        description="Open (unreviewed) cases matching every filter but status: the work left"
    )


class StepJudgement(BaseModel):
    """The reviewer's view of one step's status."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0)
    agree: bool
    status: Literal["verified", "error", "unsupported", "unchecked"] | None = None


class ReviewIn(BaseModel):
    """A reviewer's judgement of a case."""

    model_config = ConfigDict(extra="forbid")

    verdict: Verdict
    laundering: bool | None = None
    wrong_steps: list[Annotated[int, Field(ge=0)]] = []
    step_judgements: list[StepJudgement] = []
    corrected_reasoning: str | list[str] | None = None
    comment: str | None = Field(None, max_length=20_000)
    expected_status: Literal["open", "reviewed"] | None = Field(
        None, description="Refuse (409) unless the case is still in this status"
    )
    expected_reviews: int | None = Field(
        None,
        ge=0,
        description="Refuse (409) unless the case has exactly this many reviews: the count the "
        "reviewer saw, so that two reviewers overturning one review cannot both succeed",
    )


# --- handlers ---------------------------------------------------------------------------------
@router.get(
    "/v1/cases",
    summary="List review cases",
    response_model=CasePage,
    responses=responses(401, 403, 422),
)
def list_cases(
    _: ReaderKey, store: StoreDep, query: Annotated[CaseQuery, Query()]
) -> dict[str, Any]:
    """Cases matching every given filter, newest first, with the backlog they leave open."""
    filters = query.model_dump(exclude={"status", "limit", "offset"})
    page = {"limit": query.limit, "offset": query.offset}
    return case_ops.list_cases(store, filters, status=query.status, **page)


@router.get(
    "/v1/cases/{case_id}",
    summary="Get one case",
    response_model=Case,
    responses=responses(401, 403, 404),
)
def get_case(case_id: str, _: ReaderKey, store: StoreDep) -> dict[str, Any]:
    """The case with its chain, report and reviews."""
    return case_ops.get_case(store, case_id)


@router.post(
    "/v1/cases/{case_id}/review",
    summary="Review a case",
    response_model=Case,
    responses=responses(400, 401, 403, 404, 409, 413, 422, 503),
)
def review_case(
    case_id: str, review: ReviewIn, actor: ReviewerActor, state: StateDep
) -> dict[str, Any]:
    """Record a reviewer's verdict (audited as case.reviewed); returns the updated case."""
    case = case_ops.review_case(
        state.store,
        case_id,
        review.model_dump(exclude={"expected_status", "expected_reviews"}),
        actor,
        expected_status=review.expected_status,
        expected_reviews=review.expected_reviews,
    )
    state.metrics.cases_reviewed.labels(review.verdict).inc()
    state.metrics.audit_records.labels("case.reviewed").inc()
    return case
