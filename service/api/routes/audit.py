"""The audit trail for auditors: a signed export bundle for a period, and a chain check."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from service.api.deps import StoreDep, require_scope
from service.api.routing import JSONRoute
from service.api.schemas.cases import UtcTime
from service.api.streaming import DONE, Channel, produce
from service.errors import ApiError, responses
from service.store.errors import ChainHeadMismatch

router = APIRouter(tags=["audit"], route_class=JSONRoute)
AuditKey = Annotated[Any, Depends(require_scope("audit:read"))]


class ChainCheck(BaseModel):
    """The result of re-hashing the whole audit chain."""

    ok: bool
    count: int
    first_bad: int | None
    message: str


@router.get(
    "/v1/audit/export",
    summary="Export the audit bundle for a period",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/x-tar": {}},
            "description": "The signed bundle, a tar (check it with `faithgate audit verify`)",
        },
        **responses(401, 403, 409, 422, 503),
    },
)
async def export(
    _: AuditKey, store: StoreDep, since: UtcTime | None = None, until: UtcTime | None = None
) -> StreamingResponse:
    """Stream every record between `since` and `until` (ISO 8601) as a verifiable bundle."""
    if since and until and since > until:
        raise ApiError(422, "invalid_request", "since: must not be after until")
    channel = Channel(asyncio.get_running_loop())
    write = partial(store.export_bundle, since=since, until=until)
    thread = threading.Thread(
        target=produce, args=(write, channel), name="faithgate-export", daemon=True
    )
    thread.start()
    # Wait for the first bytes so that a failure to start is still a proper error status.
    first = await channel.get()
    if isinstance(first, ChainHeadMismatch):
        raise first
    if isinstance(first, Exception):
        raise ApiError(503, "export_failed", "the audit bundle could not be written")

    async def body() -> AsyncIterator[bytes]:
        item = first
        try:
            while item is not DONE:
                if isinstance(item, Exception):
                    raise RuntimeError("audit export failed mid-stream") from item
                yield item
                item = await channel.get()
        finally:
            channel.cancelled.set()

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    headers = {"content-disposition": f'attachment; filename="faithgate-audit-{stamp}.tar"'}
    return StreamingResponse(
        body(),
        media_type="application/x-tar",
        headers=headers,
        background=BackgroundTask(channel.cancelled.set),
    )


@router.get(
    "/v1/audit/verify",
    summary="Verify the audit hash chain",
    response_model=ChainCheck,
    responses=responses(401, 403),
)
def verify(_: AuditKey, store: StoreDep) -> dict[str, Any]:
    """Re-hash every record and report the first that does not match its successor's link."""
    return store.verify_chain()
