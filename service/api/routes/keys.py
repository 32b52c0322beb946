"""API keys: created, listed and revoked by admins (secrets shown once); any key may see itself."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from service.api.deps import SCOPES, RequestIdDep, StoreDep, require_scope
from service.api.routing import JSONRoute
from service.errors import ApiError, responses

router = APIRouter(tags=["keys"], route_class=JSONRoute)
AdminKey = Annotated[Any, Depends(require_scope("admin"))]
AnyKey = Annotated[Any, Depends(require_scope(*SCOPES))]

Scope = Literal["validate", "generate", "review", "train", "audit:read", "admin", "metrics"]


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


def _key(info: Any) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "scopes": sorted(info.scopes),
        "created_at": info.created_at,
        "revoked_at": info.revoked_at,
        "redact": info.redact,
    }


# --- handlers ---------------------------------------------------------------------------------
@router.post(
    "/v1/keys",
    summary="Create an API key",
    status_code=201,
    response_model=KeyCreated,
    responses=responses(400, 401, 403, 413, 422, 503),
)
def create_key(body: KeyIn, admin: AdminKey, store: StoreDep, rid: RequestIdDep) -> dict[str, Any]:
    """Create a key with the given scopes; the response holds its secret, shown only now."""
    try:
        info, secret = store.create_key(
            body.name,
            list(dict.fromkeys(body.scopes)),
            redact=body.redact,
            request_id=rid,
            by_key_id=admin.id,
        )
    except ValueError as exc:  # the store's own checks (blank name, ...)
        raise ApiError(422, "invalid_request", str(exc)) from exc
    return {**_key(info), "secret": secret}


@router.get(
    "/v1/keys", summary="List API keys", response_model=KeyList, responses=responses(401, 403)
)
def list_keys(_: AdminKey, store: StoreDep) -> dict[str, Any]:
    """Every key with its scopes and state; secrets are never stored, so never listed."""
    return {"keys": [_key(k) for k in store.list_keys()]}


@router.delete(
    "/v1/keys/{key_id}",
    summary="Revoke an API key",
    status_code=204,
    response_class=Response,
    responses=responses(401, 403, 404, 503),
)
def revoke_key(key_id: str, admin: AdminKey, store: StoreDep, rid: RequestIdDep) -> Response:
    """Revoke a key at once; requests with it get 401 from then on."""
    if not store.revoke_key(key_id, request_id=rid, by_key_id=admin.id):
        raise ApiError(404, "key_not_found", f"no active key {key_id!r}")
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
    return {**_key(key), "can_review": "review" in key.scopes or "admin" in key.scopes}
