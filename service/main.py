"""create_app(): the FastAPI app from one Settings object (routers, middleware, error handlers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from service import errors
from service.api import access, openapi
from service.api.hot import HotRoutes
from service.api.routes import BODY_MODELS, HOT_ENDPOINTS, ROUTERS
from service.engines.factory import EngineRuntime
from service.metrics import Metrics
from service.middleware import RequestMiddleware
from service.settings import Settings
from service.state import AppState

if TYPE_CHECKING:
    from service.store import Store


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """The faithgate app; `store` replaces the one opened from settings (tests, embedding)."""
    settings = settings or Settings()
    metrics = Metrics(
        settings.metrics_domains,
        settings.metrics_models,
        settings.metrics_adapters,
        settings.metrics_label_limit,
    )
    # The engine loads in the background once the app starts (service/engines/factory.py).
    runtime = EngineRuntime(settings, metrics)
    state = AppState(settings, metrics, runtime, store=store, owns_store=store is None)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The one owner of the app's lifecycle: everything AppState holds starts and stops here.
        await state.start()
        try:
            yield
        finally:
            await state.stop()

    app = FastAPI(
        title="faithgate",
        summary="Does the reasoning actually support the answer? Checked, audited, measured.",
        version="0.1.0",
        lifespan=lifespan,
        strict_content_type=False,
        # Metrics are Prometheus (service/metrics.py); FastAPI's OpenTelemetry bridge would
        # otherwise look for a configured provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.faithgate = state
    errors.install(app)
    # Added first, so it runs inside RequestMiddleware (request id, body limit, metrics).
    app.add_middleware(HotRoutes, api=app, endpoints=HOT_ENDPOINTS)
    app.add_middleware(
        RequestMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        body_timeout_s=settings.body_timeout_s,
    )
    for router in ROUTERS:
        app.include_router(router)
    access.check(app)  # every route has its row in the one access table, and agrees with it
    openapi.install(app, BODY_MODELS)
    return app
