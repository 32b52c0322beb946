"""Reaching the engine: readiness, model names, and engine errors as domain errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from service.engines.base import (
    AdapterLoadError,
    Engine,
    EngineError,
    EngineUnavailable,
    UnknownAdapter,
)
from service.engines.factory import EngineRuntime
from service.ops.errors import BadRequest, Invalid, NotFound, Unavailable


def engine_of(runtime: EngineRuntime) -> Engine:
    """The loaded engine; Unavailable while it loads or when none is configured.

    Whether a loaded engine still answers is found out by the call itself (EngineUnavailable,
    a 503): a health check per request would cost a round trip to a vLLM server.
    """
    if runtime.engine is None:
        raise Unavailable("engine_not_ready", runtime.why_not())
    return runtime.engine


async def resolve_model(runtime: EngineRuntime, model: str) -> tuple[Engine, str | None]:
    """The engine and the adapter a request's `model` names (None: the base); NotFound else."""
    engine = engine_of(runtime)
    if model == engine.base_model:
        return engine, None
    with engine_errors():
        adapters = await runtime.run(engine.adapters)
    if model in adapters:
        return engine, model
    raise NotFound(
        "model_not_found",
        f"model {model!r} is neither the base model {engine.base_model!r} nor a loaded adapter",
    )


@contextmanager
def engine_errors() -> Iterator[None]:
    """Engine exceptions as domain errors: unknown adapter, unavailable, bad load, bad options."""
    try:
        yield
    except UnknownAdapter as exc:
        raise NotFound("model_not_found", str(exc)) from exc
    except EngineUnavailable as exc:
        raise Unavailable("engine_unavailable", str(exc)) from exc
    except AdapterLoadError as exc:
        raise Invalid("adapter_load_failed", str(exc)) from exc
    except EngineError as exc:
        raise BadRequest("engine_error", str(exc)) from exc
