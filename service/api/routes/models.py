"""GET /v1/models (the base and the loaded adapters) and audited adapter hot-loading."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import RuntimeDep, TrainerActor, require_scope
from service.api.routing import JSONRoute
from service.chat.access import engine_errors, engine_of
from service.errors import responses

router = APIRouter(tags=["models"], route_class=JSONRoute)
ReaderKey = Annotated[Any, Depends(require_scope("generate", "train"))]


# --- protocol ---------------------------------------------------------------------------------
class ModelOut(BaseModel):
    """One model a chat request may name (OpenAI's model object, plus faithgate's fields)."""

    id: str
    object: Literal["model"]
    created: int
    owned_by: str
    kind: Literal["base", "adapter"]
    parent: str | None
    engine: str
    sha256: str | None


class ModelList(BaseModel):
    """The base model first, then the adapters."""

    object: Literal["list"]
    data: list[ModelOut]


class AdapterIn(BaseModel):
    """An adapter folder on the server's disk to hot-load under `name`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    path: str = Field(min_length=1, max_length=4096)


class AdapterOut(BaseModel):
    """An adapter change and its audit record."""

    name: str
    sha256: str | None
    record_id: int | None


# --- handlers ---------------------------------------------------------------------------------
@router.get(
    "/v1/models",
    summary="List the base model and the loaded adapters",
    response_model=ModelList,
    responses=responses(401, 403, 503),
)
async def list_models(runtime: RuntimeDep, _: ReaderKey) -> dict[str, Any]:
    """OpenAI's model list: the base, then every loaded LoRA adapter."""
    engine = engine_of(runtime)
    with engine_errors():
        names = await runtime.run(engine.adapters)
    now = int(time.time())
    base = {
        "id": engine.base_model,
        "object": "model",
        "created": now,
        "owned_by": "faithgate",
        "kind": "base",
        "parent": None,
        "engine": engine.kind,
        "sha256": engine.base_model_hash,
    }
    adapters = [
        {
            **base,
            "id": name,
            "kind": "adapter",
            "parent": engine.base_model,
            "sha256": engine.adapter_hash(name),
        }
        for name in names
    ]
    return {"object": "list", "data": [base, *adapters]}


@router.post(
    "/v1/models/adapters",
    summary="Hot-load a LoRA adapter (audited)",
    response_model=AdapterOut,
    status_code=201,
    responses=responses(401, 403, 422, 503),
)
async def load_adapter(body: AdapterIn, runtime: RuntimeDep, actor: TrainerActor) -> dict[str, Any]:
    """Load a PEFT LoRA adapter folder into the engine; recorded as "adapter.loaded"."""
    engine_of(runtime)
    with engine_errors():
        return await runtime.load_adapter(body.name, body.path, actor)


@router.delete(
    "/v1/models/adapters/{name}",
    summary="Unload a LoRA adapter (audited)",
    response_model=AdapterOut,
    responses=responses(401, 403, 404, 503),
)
async def unload_adapter(name: str, runtime: RuntimeDep, actor: TrainerActor) -> dict[str, Any]:
    """Unload an adapter; recorded as "adapter.unloaded"."""
    engine_of(runtime)
    with engine_errors():
        return await runtime.unload_adapter(name, actor)
