"""API keys: created, listed and revoked by admins (secrets shown once); any key may see itself."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from service.api.deps import AdminActor, StoreDep, require_scope
from service.api.routing import JSONRoute
from service.errors import responses
from service.ops import keys as key_ops
from service.store.keys import SCOPE_ORDER

router = APIRouter(tags=["keys"], route_class=JSONRoute)
AdminKey = Annotated[Any, Depends(require_scope("admin"))]
AnyKey = Annotated[Any, Depends(require_scope(*SCOPE_ORDER))]

Scope = Literal[SCOPE_ORDER]  # type: ignore[valid-type]  # the store's scopes, one definition


# --- protocol ---------------------------------------------------------------------------------
class KeyIn(BaseModel):
    """A key to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(min_length=1)
    redact: bool = Field(False, description="Keep only the SHA-256 of this tenant's inputs")


class Key(BaseModel):
    """A key as listed (never its secret)."""

    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    redact: bool


class KeyCreated(Key):
    """A new key with its secret: the only time the secret is shown."""

    secret: str


class KeyList(BaseModel):
    """Every key, revoked ones included."""

    keys: list[Key]


# --- handlers ---------------------------------------------------------------------------------
@router.post(
    "/v1/keys",
    summary="Create an API key",
    status_code=201,
    response_model=KeyCreated,
    responses=responses(400, 401, 403, 413, 422, 503),
)
def create_key(body: KeyIn, actor: AdminActor, store: StoreDep) -> dict[str, Any]:
    """Create a key with the given scopes; the response holds its secret, shown only now."""
    info, secret = key_ops.create_key(store, body.name, body.scopes, actor, redact=body.redact)
    return {**key_ops.key_view(info), "secret": secret}


@router.get(
    "/v1/keys", summary="List API keys", response_model=KeyList, responses=responses(401, 403)
)
def list_keys(_: AdminKey, store: StoreDep) -> dict[str, Any]:
    """Every key with its scopes and state; secrets are never stored, so never listed."""
    return {"keys": [key_ops.key_view(k) for k in store.list_keys()]}


@router.delete(
    "/v1/keys/{key_id}",
    summary="Revoke an API key",
    status_code=204,
    response_class=Response,
    responses=responses(401, 403, 404, 503),
)
def revoke_key(key_id: str, actor: AdminActor, store: StoreDep) -> Response:
    """Revoke a key at once; requests with it get 401 from then on."""
    key_ops.revoke_key(store, key_id, actor)
    return Response(status_code=204)


# --- the calling key -------------------------------------------------------------------------
class KeyMe(Key):
    """The calling key as the service sees it (never its secret)."""

    can_review: bool


@router.get(
    "/v1/keys/me",
    summary="Describe the calling key",
    response_model=KeyMe,
    responses=responses(401, 403),
)
def key_me(key: AnyKey) -> dict[str, Any]:
    """The key's name and scopes, so that a client can say what it may do before it tries."""
    return {**key_ops.key_view(key), "can_review": "review" in key.scopes or "admin" in key.scopes}
