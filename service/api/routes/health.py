"""Liveness and readiness probes (open, no key)."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel

from service.api.deps import StateDep
from service.api.routing import JSONRoute
from service.errors import RETRY, ApiError, responses
from validators import native

router = APIRouter(tags=["health"], route_class=JSONRoute)
_PING_TIMEOUT_S = 2.0  # an unreachable database must not hold the probe past its own timeout


class Health(BaseModel):
    """The process is up."""

    status: Literal["ok"]


class Ready(BaseModel):
    """The service can take traffic: database answering, validation workers up."""

    status: Literal["ready"]
    workers: int
    queued: int
    engine: str = "none"  # "ready" once the model is loaded; "none" when none is configured
    # "native": the compiled validators run; "absent", "stale" or "off": the slower source
    # (validators/native.py says why, `make native` builds them)
    validators: str


@router.get("/healthz", summary="Liveness probe", response_model=Health)
async def healthz() -> dict[str, Any]:
    """200 while the process serves HTTP; never touches the database (a stalled one included)."""
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness probe", response_model=Ready, responses=responses(503))
async def readyz(state: StateDep) -> dict[str, Any]:
    """200 when the database answers, a validation worker is ready and the engine has loaded."""
    workers = state.pool.ready_workers if state.pool is not None else 0
    if state.store is None or workers == 0:
        raise ApiError(503, "not_ready", "the store or the validation workers are not ready")
    try:
        await asyncio.wait_for(state.db(state.store.ping), _PING_TIMEOUT_S)
    except Exception as exc:  # any driver error or the timeout: not ready, and say why
        # Only the error's class: the probe is open, and a driver's message names the host/port.
        why = "timeout" if isinstance(exc, TimeoutError) else exc.__class__.__name__
        raise ApiError(
            503, "not_ready", f"the audit database does not answer ({why})", headers=RETRY
        ) from exc
    engine_ready, engine = await state.runtime.readiness()
    if not engine_ready:
        raise ApiError(503, "not_ready", engine)
    return {
        "status": "ready",
        "workers": workers,
        "queued": state.pool.pending,
        "engine": engine,
        "validators": native.state,
    }
