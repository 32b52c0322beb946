"""POST /v1/validate and /v1/validate/batch: chains in, audited faithfulness reports out."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from service.api import access
from service.api.deps import SECURITY, authenticate, secret_of
from service.api.schemas.validate import BatchIn, BatchOut, ChainIn, Report
from service.errors import ApiError, body_error, responses
from service.ops.audit import key_actor
from service.ops.validation import validate_and_audit
from service.state import AppState

router = APIRouter(tags=["validation"])
M = TypeVar("M", bound=BaseModel)

# --- handlers ---------------------------------------------------------------------------------
# The two hot routes take the raw Request: pydantic-core parses and checks the JSON body in one
# pass (validate_json) and there is no dependency graph to solve per request. OpenAPI still gets
# the request schema and the security requirement, through openapi_extra.
_ERRORS = responses(400, 401, 403, 413, 422, 503)


def _documented(model: type[BaseModel]) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "security": SECURITY,
    }


async def _parse(request: Request, model: type[M]) -> M:
    """The body as `model`: 400 for bytes that are not JSON (or not UTF-8), 422 naming the field."""
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        raise body_error(exc) from None


@router.post(
    "/v1/validate",
    summary="Validate one reasoning chain",
    response_model=Report,
    responses=_ERRORS,
    response_description="The report; headers X-Audit-Record-ID and X-Case-ID say where it is kept",
    openapi_extra=_documented(ChainIn),
)
async def validate_one(request: Request) -> Response:
    """Check every step of the chain and return its report, audited before it is sent."""
    state, key = await _caller(request)
    chain = await _parse(request, ChainIn)
    reports, records = await _validate(state, request, key, [chain])
    headers = {"x-audit-record-id": str(records[0]["record_id"])}
    if records[0].get("case_id"):
        headers["x-case-id"] = str(records[0]["case_id"])
    return _json(reports[0], headers)


@router.post(
    "/v1/validate/batch",
    summary="Validate a batch of reasoning chains",
    response_model=BatchOut,
    responses=_ERRORS,
    openapi_extra=_documented(BatchIn),
)
async def validate_batch(request: Request) -> Response:
    """Validate up to `batch_max` chains across the workers; reports come back in order."""
    state, key = await _caller(request)
    batch = await _parse(request, BatchIn)
    limit = state.settings.batch_max
    if len(batch.chains) > limit:
        raise ApiError(
            413, "batch_too_large", f"chains: {len(batch.chains)} chains, at most {limit} allowed"
        )
    reports, records = await _validate(state, request, key, batch.chains)
    refs = [
        {"record_id": r["record_id"], "hash": r["hash"], "case_id": r.get("case_id")}
        for r in records
    ]
    return _json({"reports": reports, "records": refs})


async def _caller(request: Request) -> tuple[AppState, Any]:
    """The app state and the caller's key (401/403 before the body is read)."""
    state: AppState = request.app.state.faithgate
    scopes = access.scopes("POST /v1/validate")
    return state, await authenticate(state, secret_of(request.headers), scopes)


async def _validate(
    state: AppState, request: Request, key: Any, chains: list[ChainIn]
) -> tuple[list[dict], list[dict]]:
    """The chains through the validation op: (reports, records)."""
    payloads = [c.model_dump(exclude_unset=True, exclude={"model", "adapter"}) for c in chains]
    labels = [{"model": c.model, "adapter": c.adapter} for c in chains]
    actor = key_actor(key, request.state.request_id)
    return await validate_and_audit(state, payloads, labels, actor)


def _json(content: Any, headers: dict[str, str] | None = None) -> Response:
    # The reports are plain dicts from the workers: serialise them as they are (no model pass).
    return Response(orjson.dumps(content), media_type="application/json", headers=headers)
