"""Reaching the engine from a route: readiness, model names, and engine errors as API errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from service.engines.base import (
    AdapterLoadError,
    Engine,
    EngineError,
    EngineUnavailable,
    UnknownAdapter,
)
from service.errors import ApiError


def engine_of(app: Any) -> Engine:
    """The loaded engine; 503 while it loads or when none is configured.

    Whether a loaded engine still answers is found out by the call itself (EngineUnavailable,
    a 503): a health check per request would cost a round trip to a vLLM server.
    """
    engine = getattr(app.state, "engine", None)
    if engine is None:
        runtime = getattr(app.state, "engine_runtime", None)
        why = runtime.why_not(app) if runtime is not None else "no engine"
        raise ApiError(503, "engine_not_ready", why)
    return engine


async def resolve_model(app: Any, model: str) -> tuple[Engine, str | None]:
    """The engine and the adapter a request's `model` names (None: the base); 404 otherwise."""
    engine = engine_of(app)
    if model == engine.base_model:
        return engine, None
    with engine_errors():
        adapters = await app.state.engine_runtime.run(engine.adapters)
    if model in adapters:
        return engine, model
    raise ApiError(
        404,
        "model_not_found",
        f"model {model!r} is neither the base model {engine.base_model!r} nor a loaded adapter",
    )


@contextmanager
def engine_errors() -> Iterator[None]:
    """Engine exceptions as API errors: 404 unknown adapter, 503 unavailable, 400 otherwise."""
    try:
        yield
    except UnknownAdapter as exc:
        raise ApiError(404, "model_not_found", str(exc)) from exc
    except EngineUnavailable as exc:
        raise ApiError(503, "engine_unavailable", str(exc)) from exc
    except AdapterLoadError as exc:
        raise ApiError(422, "adapter_load_failed", str(exc)) from exc
    except EngineError as exc:
        raise ApiError(400, "engine_error", str(exc)) from exc
