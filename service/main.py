"""create_app(): the FastAPI app from one Settings object (routers, middleware, error handlers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from service import errors
from service.api import openapi
from service.api.routes import BODY_MODELS, ROUTERS
from service.engines.factory import EngineRuntime
from service.metrics import Metrics
from service.middleware import RequestMiddleware
from service.settings import Settings
from service.state import AppState


def create_app(settings: Settings | None = None, store: Any = None) -> FastAPI:
    """The faithgate app; `store` replaces the one opened from settings (tests, embedding)."""
    settings = settings or Settings()
    metrics = Metrics(
        settings.metrics_domains,
        settings.metrics_models,
        settings.metrics_adapters,
        settings.metrics_label_limit,
    )
    state = AppState(settings, metrics, store=store, owns_store=store is None)
    runtime = EngineRuntime(settings)  # loads the model in the background (service/engines)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.start()
        runtime.start(app)
        try:
            yield
        finally:
            await runtime.stop(app)
            await state.stop()

    app = FastAPI(
        title="faithgate",
        summary="Does the reasoning actually support the answer? Checked, audited, measured.",
        version="0.1.0",
        lifespan=lifespan,
        strict_content_type=False,
    )
    app.state.faithgate = state
    app.state.engine = None  # the Engine once loaded (service/engines/base.py)
    app.state.engine_runtime = runtime
    errors.install(app)
    app.add_middleware(RequestMiddleware, metrics=metrics, max_body_bytes=settings.max_body_bytes)
    for router in ROUTERS:
        app.include_router(router)
    openapi.install(app, BODY_MODELS)
    return app
