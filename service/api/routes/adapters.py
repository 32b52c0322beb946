"""The adapter registry: list adapters, promote one (hot-loaded, no restart), roll back."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import JobsDep, RuntimeDep, StoreDep, TrainerActor, require_scope
from service.api.routing import JSONRoute
from service.engines.factory import EngineRuntime
from service.errors import responses
from service.ops import adapters as adapter_ops

router = APIRouter(tags=["adapters"], route_class=JSONRoute)
ReaderKey = Annotated[Any, Depends(require_scope("train", "generate", "audit:read"))]


# --- protocol ---------------------------------------------------------------------------------
class Adapter(BaseModel):
    """An adapter with its metadata: base model and hash, lineage, config, metrics, gate."""

    model_config = ConfigDict(extra="allow")

    name: str
    status: str
    created_at: str
    content_hash: str
    base_model: str | None = None
    base_model_hash: str | None = None
    gate: dict[str, Any] | None = None


class AdapterList(BaseModel):
    """Every registered adapter (newest first), the active one, and what the engine holds."""

    active: str | None
    adapters: list[Adapter]
    loaded: list[str] | None = Field(
        None, description="Adapters the engine holds (None: no engine)"
    )


class PromoteIn(BaseModel):
    """Promotion options."""

    model_config = ConfigDict(extra="forbid")

    force: bool = Field(False, description="Promote although the gate refused the adapter")


class AdapterChange(BaseModel):
    """The result of a promotion or rollback and of the engine sync that followed."""

    adapter: Adapter | None
    previous: str | None = None
    hot_loaded: bool
    engine: dict[str, Any]


async def _engine_names(runtime: EngineRuntime) -> list[str] | None:
    if runtime.engine is None:
        return None
    return sorted(await runtime.run(runtime.engine.adapters))


# --- handlers ---------------------------------------------------------------------------------
@router.get(
    "/v1/adapters",
    summary="List adapters",
    response_model=AdapterList,
    responses=responses(401, 403),
)
async def list_adapters(jobs: JobsDep, runtime: RuntimeDep, _: ReaderKey) -> dict[str, Any]:
    """Registered adapters with their metadata, the active one, the engine's loaded ones."""
    return {
        "active": jobs.registry.active(),
        "adapters": jobs.registry.list(),
        "loaded": await _engine_names(runtime),
    }


@router.get(
    "/v1/adapters/{name}",
    summary="Get one adapter",
    response_model=Adapter,
    responses=responses(401, 403, 404),
)
def get_adapter(name: str, jobs: JobsDep, _: ReaderKey) -> dict[str, Any]:
    """One adapter's metadata (lineage, config, metrics, gate decision, content hash)."""
    return adapter_ops.get_adapter(jobs.registry, name)


@router.post(
    "/v1/adapters/{name}/promote",
    summary="Promote an adapter and hot-load it",
    response_model=AdapterChange,
    responses=responses(401, 403, 404, 409, 503),
)
async def promote(
    name: str,
    store: StoreDep,
    jobs: JobsDep,
    runtime: RuntimeDep,
    actor: TrainerActor,
    body: PromoteIn | None = None,
) -> dict[str, Any]:
    """Make the adapter active (audited as adapter.promoted) and load it into the engine."""
    force = bool(body and body.force)
    done = await asyncio.to_thread(
        adapter_ops.promote, store, jobs.registry, name, actor, force=force, engine=runtime.engine
    )
    synced = await jobs.sync_engine(actor=actor)
    loaded = await _engine_names(runtime)
    return {
        "adapter": done.adapter,
        "previous": done.previous,
        "engine": synced,
        "hot_loaded": bool(loaded and name in loaded),
    }


@router.post(
    "/v1/adapters/rollback",
    summary="Withdraw the active adapter",
    response_model=AdapterChange,
    responses=responses(401, 403, 409, 503),
)
async def rollback(
    store: StoreDep, jobs: JobsDep, runtime: RuntimeDep, actor: TrainerActor
) -> dict[str, Any]:
    """Withdraw the active adapter (unloaded) and reinstate the one before it (audited)."""
    withdrawn, restored = await asyncio.to_thread(adapter_ops.rollback, store, jobs.registry, actor)
    synced = await jobs.sync_engine(actor=actor)
    loaded = await _engine_names(runtime)
    return {
        "adapter": jobs.registry.get(restored) if restored else None,
        "previous": withdrawn,
        "engine": synced,
        "hot_loaded": bool(restored and loaded and restored in loaded),
    }
