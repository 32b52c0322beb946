"""Keeping the running engine's adapters in step with the registry (no restart).

Loads and unloads go through the engine runtime (service/engines/factory.py), which runs them
on the engine's threads and audits each one ("adapter.loaded" / "adapter.unloaded").
"""

from __future__ import annotations

import logging
from typing import Any

from service.engines.factory import EngineRuntime
from service.ops.audit import Actor
from training.registry import Registry

log = logging.getLogger("faithgate.jobs")


async def sync(
    runtime: EngineRuntime, registry: Registry, failed: dict[str, str], actor: Actor
) -> dict[str, Any]:
    """Load servable adapters the engine lacks, unload withdrawn ones; returns what changed.

    `failed` remembers name -> content hash of adapters that would not load, so that a broken
    adapter is not retried every second (a new version under the name is retried).
    """
    out: dict[str, Any] = {"engine": False, "loaded": [], "unloaded": [], "errors": {}}
    engine = runtime.engine
    if engine is None or not await runtime.run(engine.ready):
        return out
    out["engine"] = True
    have = set(await runtime.run(engine.adapters))
    want = {m["name"]: m for m in registry.servable()}
    known = {m["name"] for m in registry.list()}
    engine_hash = getattr(engine, "base_model_hash", None)
    for name, meta in want.items():
        if name in have:
            continue
        if failed.get(name) == meta.get("content_hash"):
            # Said every time, or a promotion of it answers "errors: {}" and nothing loaded.
            out["errors"][name] = "did not load before (see the log); retried when it changes"
            continue
        if engine_hash and meta.get("base_model_hash") and engine_hash != meta["base_model_hash"]:
            out["errors"][name] = "trained on another base model (the base hashes differ)"
            failed[name] = meta.get("content_hash", "")
            continue
        try:
            await runtime.load_adapter(name, meta["path"], actor)
            out["loaded"].append(name)
        except Exception as exc:  # one bad adapter must not stop the others
            log.warning("could not load adapter %s: %s", name, exc)
            out["errors"][name] = f"{type(exc).__name__}: {exc}"
            failed[name] = meta.get("content_hash", "")
    for name in sorted(have - set(want)):
        if name in known:  # only what the registry withdrew; never adapters loaded otherwise
            try:
                await runtime.unload_adapter(name, actor)
                out["unloaded"].append(name)
            except Exception as exc:
                out["errors"][name] = f"{type(exc).__name__}: {exc}"
    return out
