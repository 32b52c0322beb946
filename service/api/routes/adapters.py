"""The adapter registry: list adapters, promote one (hot-loaded, no restart), roll back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import RequestIdDep, require_scope
from service.api.routing import JSONRoute
from service.errors import ApiError, responses
from training.registry import RegistryError

router = APIRouter(tags=["adapters"], route_class=JSONRoute)
ReaderKey = Annotated[Any, Depends(require_scope("train", "generate", "audit:read"))]
TrainerKey = Annotated[Any, Depends(require_scope("train"))]


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


def _registry(request: Request) -> Any:
    return request.app.state.training.registry


async def _engine_names(request: Request) -> list[str] | None:
    from service.jobs.hotload import _call, current_engine

    engine = current_engine(request.app)
    if engine is None:
        return None
    return sorted(await _call(request.app, engine.adapters))


# --- handlers ---------------------------------------------------------------------------------
@router.get(
    "/v1/adapters",
    summary="List adapters",
    response_model=AdapterList,
    responses=responses(401, 403),
)
async def list_adapters(request: Request, _: ReaderKey) -> dict[str, Any]:
    """Registered adapters with their metadata, the active one, the engine's loaded ones."""
    registry = _registry(request)
    return {
        "active": registry.active(),
        "adapters": registry.list(),
        "loaded": await _engine_names(request),
    }


@router.get(
    "/v1/adapters/{name}",
    summary="Get one adapter",
    response_model=Adapter,
    responses=responses(401, 403, 404),
)
def get_adapter(name: str, request: Request, _: ReaderKey) -> dict[str, Any]:
    """One adapter's metadata (lineage, config, metrics, gate decision, content hash)."""
    try:
        return _registry(request).get(name)
    except RegistryError as exc:
        raise ApiError(404, "adapter_not_found", str(exc)) from exc


@router.post(
    "/v1/adapters/{name}/promote",
    summary="Promote an adapter and hot-load it",
    response_model=AdapterChange,
    responses=responses(401, 403, 404, 409, 503),
)
async def promote(
    name: str, request: Request, key: TrainerKey, rid: RequestIdDep, body: PromoteIn | None = None
) -> dict[str, Any]:
    """Make the adapter active (audited as adapter.promoted) and load it into the engine."""
    import asyncio

    registry, force = _registry(request), bool(body and body.force)
    try:
        meta = registry.get(name)
    except RegistryError as exc:
        raise ApiError(404, "adapter_not_found", str(exc)) from exc
    gate = meta.get("gate") or {}
    if not gate.get("passed") and not force:
        reasons = "; ".join(gate.get("reasons") or ["no gate result"])
        raise ApiError(409, "gate_refused", f"adapter {name!r} did not pass the gate: {reasons}")
    previous = registry.active()
    store = request.app.state.faithgate.store
    await asyncio.to_thread(
        store.append,
        "adapter.promoted",
        request_id=rid,
        key_id=key.id,
        model=meta.get("base_model"),
        model_hash=meta.get("base_model_hash"),
        adapter=name,
        adapter_hash=meta.get("content_hash"),
        data={"name": name, "previous": previous, "forced": force, "gate": gate},
    )
    meta = await asyncio.to_thread(registry.promote, name, force=force, by=key.id)
    synced = await request.app.state.training.sync_engine(request_id=rid, key_id=key.id)
    loaded = await _engine_names(request)
    return {
        "adapter": meta,
        "previous": previous,
        "engine": synced,
        "hot_loaded": bool(loaded and name in loaded),
    }


@router.post(
    "/v1/adapters/rollback",
    summary="Withdraw the active adapter",
    response_model=AdapterChange,
    responses=responses(401, 403, 409, 503),
)
async def rollback(request: Request, key: TrainerKey, rid: RequestIdDep) -> dict[str, Any]:
    """Withdraw the active adapter (unloaded) and reinstate the one before it (audited)."""
    import asyncio

    registry = _registry(request)
    current = registry.active()
    if current is None:
        raise ApiError(409, "nothing_to_roll_back", "no adapter is active")
    store = request.app.state.faithgate.store
    await asyncio.to_thread(
        store.append,
        "adapter.rolled_back",
        request_id=rid,
        key_id=key.id,
        adapter=current,
        data={"name": current},
    )
    try:
        withdrawn, restored = await asyncio.to_thread(registry.rollback, by=key.id)
    except RegistryError as exc:
        raise ApiError(409, "nothing_to_roll_back", str(exc)) from exc
    synced = await request.app.state.training.sync_engine(request_id=rid, key_id=key.id)
    loaded = await _engine_names(request)
    return {
        "adapter": registry.get(restored) if restored else None,
        "previous": withdrawn,
        "engine": synced,
        "hot_loaded": bool(restored and loaded and restored in loaded),
    }
