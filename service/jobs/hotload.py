"""Keeping the running engine's adapters in step with the registry (no restart).

Loads and unloads go through the engine runtime (service/engines/factory.py), which runs them
on the engine's threads and audits each one ("adapter.loaded" / "adapter.unloaded").
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from training.registry import Registry

log = logging.getLogger("faithgate.jobs")


def current_engine(app: Any) -> Any:
    """The app's engine (app.state.engine), or None while none is loaded."""
    return getattr(app.state, "engine", None)


async def _call(app: Any, fn: Any, *args: Any) -> Any:
    runtime = getattr(app.state, "engine_runtime", None)
    if runtime is not None:
        return await runtime.run(fn, *args)
    return await asyncio.to_thread(fn, *args)


async def _load(
    app: Any, engine: Any, name: str, path: str, request_id: str | None, key_id: str | None
) -> None:
    runtime = getattr(app.state, "engine_runtime", None)
    if runtime is not None and hasattr(runtime, "load_adapter"):
        await runtime.load_adapter(app, name, path, key_id=key_id, request_id=request_id)
    else:
        await _call(app, engine.load_adapter, name, path)


async def _unload(
    app: Any, engine: Any, name: str, request_id: str | None, key_id: str | None
) -> None:
    runtime = getattr(app.state, "engine_runtime", None)
    if runtime is not None and hasattr(runtime, "unload_adapter"):
        await runtime.unload_adapter(app, name, key_id=key_id, request_id=request_id)
    else:
        await _call(app, engine.unload_adapter, name)


async def sync(
    app: Any,
    registry: Registry,
    failed: dict[str, str],
    *,
    request_id: str | None = None,
    key_id: str | None = None,
) -> dict[str, Any]:
    """Load servable adapters the engine lacks, unload withdrawn ones; returns what changed.

    `failed` remembers name -> content hash of adapters that would not load, so that a broken
    adapter is not retried every second (a new version under the name is retried).
    """
    out: dict[str, Any] = {"engine": False, "loaded": [], "unloaded": [], "errors": {}}
    engine = current_engine(app)
    if engine is None or not await _call(app, engine.ready):
        return out
    out["engine"] = True
    have = set(await _call(app, engine.adapters))
    want = {m["name"]: m for m in registry.servable()}
    known = {m["name"] for m in registry.list()}
    engine_hash = getattr(engine, "base_model_hash", None)
    for name, meta in want.items():
        if name in have or failed.get(name) == meta.get("content_hash"):
            continue
        if engine_hash and meta.get("base_model_hash") and engine_hash != meta["base_model_hash"]:
            out["errors"][name] = "trained on another base model (the base hashes differ)"
            failed[name] = meta.get("content_hash", "")
            continue
        try:
            await _load(app, engine, name, meta["path"], request_id, key_id)
            out["loaded"].append(name)
        except Exception as exc:  # one bad adapter must not stop the others
            log.warning("could not load adapter %s: %s", name, exc)
            out["errors"][name] = f"{type(exc).__name__}: {exc}"
            failed[name] = meta.get("content_hash", "")
    for name in sorted(have - set(want)):
        if name in known:  # only what the registry withdrew; never adapters loaded otherwise
            try:
                await _unload(app, engine, name, request_id, key_id)
                out["unloaded"].append(name)
            except Exception as exc:
                out["errors"][name] = f"{type(exc).__name__}: {exc}"
    return out
