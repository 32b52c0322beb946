"""POST /v1/validate and /v1/validate/batch: chains in, audited faithfulness reports out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from service.api.routing import JSONRoute
from service.api.deps import RequestIdDep, StateDep, require_scope
from service.errors import ApiError, responses
from service.pool import WorkerFailed
from service.state import AppState

router = APIRouter(tags=["validation"], route_class=JSONRoute)
ValidateKey = Annotated[Any, Depends(require_scope("validate"))]

# --- protocol ---------------------------------------------------------------------------------
Text = str | list[str]
Scalar = str | int | float


class ChainIn(BaseModel):
    """One reasoning chain to check (the fields of validators.types.Chain, plus labels)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, max_length=512, description="The caller's id, echoed")
    question: str
    context: Text | None = Field(None, description="Source documents, a record, a contract")
    reasoning: Text = Field(description="Free text, or the steps as a list")
    answer: Scalar | None = Field(None, description="The final answer; found in the text if absent")
    reference_answer: Scalar | None = None
    domain: str | None = Field(None, max_length=128)
    rulepack: str | None = Field(None, max_length=128)
    model: str | None = Field(None, max_length=256, description="Label of the generating model")
    adapter: str | None = Field(None, max_length=256, description="Label of its LoRA adapter")


class BatchIn(BaseModel):
    """Several chains; the reports come back in the same order."""

    model_config = ConfigDict(extra="forbid")

    chains: list[ChainIn] = Field(min_length=1)


class FindingOut(BaseModel):
    """One validator finding."""

    validator: str
    code: str
    severity: Literal["error", "warning", "info"]
    message: str
    evidence: dict[str, Any] | None = None
    step: int | None = None


class StepOut(BaseModel):
    """One reasoning step and its status."""

    index: int
    text: str
    status: Literal["verified", "error", "unsupported", "unchecked"]
    findings: list[FindingOut]


class Report(BaseModel):
    """The faithfulness report of one chain (DESIGN.md, "The report")."""

    id: str | None
    verdict: Literal["faithful", "unfaithful", "unverifiable"]
    laundering: bool
    score: float | None
    first_error_step: int | None
    answer: str | None
    derived_answer: str | None
    steps: list[StepOut]
    findings: list[FindingOut]
    validators: dict[str, str]
    elapsed_ms: float


class AuditRef(BaseModel):
    """Where a report was recorded: its audit record and the review case it opened, if any."""

    record_id: int
    hash: str
    case_id: str | None


class BatchOut(BaseModel):
    """The reports of a batch, in order, and their audit records."""

    reports: list[Report]
    records: list[AuditRef]


# --- handlers ---------------------------------------------------------------------------------
_ERRORS = responses(400, 401, 403, 413, 422, 503)


@router.post(
    "/v1/validate",
    summary="Validate one reasoning chain",
    response_model=Report,
    responses=_ERRORS,
    response_description="The report; headers X-Audit-Record-ID and X-Case-ID say where it is kept",
)
async def validate_one(chain: ChainIn, key: ValidateKey, state: StateDep, rid: RequestIdDep):
    """Check every step of the chain and return its report, audited before it is sent."""
    reports, records = await validate_and_audit(state, [chain], rid, key)
    headers = {"x-audit-record-id": str(records[0]["record_id"])}
    if records[0].get("case_id"):
        headers["x-case-id"] = str(records[0]["case_id"])
    return _json(reports[0], headers)


@router.post(
    "/v1/validate/batch",
    summary="Validate a batch of reasoning chains",
    response_model=BatchOut,
    responses=_ERRORS,
)
async def validate_batch(batch: BatchIn, key: ValidateKey, state: StateDep, rid: RequestIdDep):
    """Validate up to `batch_max` chains across the workers; reports come back in order."""
    limit = state.settings.batch_max
    if len(batch.chains) > limit:
        raise ApiError(
            413, "batch_too_large", f"chains: {len(batch.chains)} chains, at most {limit} allowed"
        )
    reports, records = await validate_and_audit(state, batch.chains, rid, key)
    refs = [
        {"record_id": r["record_id"], "hash": r["hash"], "case_id": r.get("case_id")}
        for r in records
    ]
    return _json({"reports": reports, "records": refs})


async def validate_and_audit(
    state: AppState, chains: list[ChainIn], request_id: str, key: Any
) -> tuple[list[dict], list[dict]]:
    """Validate in the worker pool, then record every report (503 if either fails)."""
    payloads = [c.model_dump(exclude_unset=True, exclude={"model", "adapter"}) for c in chains]
    assert state.pool is not None
    try:
        reports = await state.pool.validate(payloads)
    except WorkerFailed as exc:
        raise ApiError(503, "worker_failed", f"validation failed: {exc}") from exc
    items = [
        {"chain": p, "report": r, "model": c.model, "adapter": c.adapter}
        for p, r, c in zip(payloads, reports, chains, strict=True)
    ]
    records = await audit_validations(state, items, request_id, key)
    state.metrics.observe_reports(items)
    return reports, records


async def audit_validations(
    state: AppState, items: list[dict], request_id: str, key: Any
) -> list[dict]:
    """Record the validations (group-committed); AuditWriteError becomes a 503 (errors.py)."""
    assert state.audit_writer is not None
    records = await state.audit_writer.record(
        items, request_id=request_id, key_id=key.id, redact=bool(key.redact)
    )
    state.metrics.audit_records.labels("validation").inc(len(items))
    opened = sum(1 for r in records if r.get("case_id"))
    if opened:
        state.metrics.cases_opened.inc(opened)
    return records


def _json(content: Any, headers: dict[str, str] | None = None) -> Response:
    # The reports are plain dicts from the workers: serialise them as they are (no model pass).
    return Response(orjson.dumps(content), media_type="application/json", headers=headers)
