"""GET /metrics: Prometheus exposition of the app's own registry."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from service.api.deps import ApiKeyDep, BearerDep, StateDep, authenticate, secret_of
from service.api.routing import JSONRoute
from service.errors import responses

router = APIRouter(tags=["metrics"], route_class=JSONRoute)


async def metrics_access(request: Request, state: StateDep, _b: BearerDep, _k: ApiKeyDep) -> None:
    """Open unless metrics_require_key is set; then a key with scope `metrics` (or admin)."""
    if state.settings.metrics_require_key:
        await authenticate(state, secret_of(request.headers), ("metrics",))


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    dependencies=[Depends(metrics_access)],
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
        **responses(401, 403),
    },
)
async def metrics(state: StateDep) -> Response:
    """Validation, audit, case and HTTP metrics (faithgate_* names)."""
    if state.pool is not None:
        state.metrics.workers_ready.set(state.pool.ready_workers)
    # Off the event loop and bounded: the scrape reads the backlog and job counts from the database.
    body = await state.db(generate_latest, state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
