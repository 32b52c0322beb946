"""Dependencies shared by the routes, as `Annotated` aliases (StateDep, StoreDep, TrainerActor…).

They are all `async def`: FastAPI runs a plain `def` dependency in a worker thread, a thread hop
per dependency per request that the hot path cannot afford.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from service.engines.factory import EngineRuntime
from service.errors import ApiError
from service.jobs.runner import JobRunner
from service.ops.audit import Actor, key_actor
from service.state import AppState
from service.store.keys import SCOPES, KeyInfo
from service.store.store import Store

# Declared for OpenAPI (the "Authorize" button); auto_error=False so that our 401 shape is used.
# SECURITY is the same requirement for routes that authenticate without these dependencies.
_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <API key>`")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key")


SECURITY = [{"HTTPBearer": []}, {"APIKeyHeader": []}]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
ApiKeyDep = Annotated[str | None, Depends(_api_key)]


async def get_state(request: Request) -> AppState:
    """The running app's resources."""
    return request.app.state.faithgate


StateDep = Annotated[AppState, Depends(get_state)]


async def get_store(state: StateDep) -> Store:
    """The audit store."""
    assert state.store is not None, "the app has not started"
    return state.store


async def get_runtime(state: StateDep) -> EngineRuntime:
    """The engine runtime (the engine once loaded, its threads, audited adapter changes)."""
    return state.runtime


async def get_jobs(state: StateDep) -> JobRunner:
    """The training job runner (and its adapter registry)."""
    assert state.jobs is not None, "the app has not started"
    return state.jobs


async def get_request_id(request: Request) -> str:
    """The request id the middleware assigned (X-Request-ID or a fresh one)."""
    return request.state.request_id


StoreDep = Annotated[Store, Depends(get_store)]
RuntimeDep = Annotated[EngineRuntime, Depends(get_runtime)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]
RequestIdDep = Annotated[str, Depends(get_request_id)]


def secret_of(headers: Any) -> str | None:
    """The API key a request carries: `Authorization: Bearer <key>`, else `X-API-Key`."""
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return headers.get("x-api-key") or None


async def authenticate(state: AppState, secret: str | None, scopes: tuple[str, ...]) -> KeyInfo:
    """The KeyInfo of the caller if it holds one of `scopes` (admin holds all); else 401/403.

    A cached answer costs no thread hop; otherwise the lookup runs on a database thread under
    db_timeout_s (503 past it), never on the event loop.
    """
    if not secret:
        raise ApiError(
            401,
            "unauthorized",
            "an API key is required (Authorization: Bearer <key> or X-API-Key)",
            headers={"www-authenticate": "Bearer"},
        )
    assert state.store is not None, "the app has not started"
    known, key = state.store.cached_key(secret)
    if not known:
        key = await state.db(state.store.authenticate, secret)
    if key is None:
        raise ApiError(
            401,
            "unauthorized",
            "unknown or revoked API key",
            headers={"www-authenticate": "Bearer"},
        )
    if "admin" not in key.scopes and not key.scopes.intersection(scopes):
        needed = " or ".join(repr(s) for s in scopes)
        raise ApiError(403, "forbidden", f"this key lacks the scope {needed}")
    return key


def require_scope(*scopes: str) -> Callable[..., Awaitable[KeyInfo]]:
    """A dependency that admits keys holding any of `scopes` (or admin) and returns the KeyInfo."""
    unknown = set(scopes) - SCOPES
    assert not unknown, f"unknown scopes {unknown}"

    # The security schemes are parameters only so that OpenAPI shows them; the secret itself is
    # read by secret_of(), the same function the hot validate routes call directly.
    async def dependency(request: Request, _b: BearerDep, _k: ApiKeyDep) -> KeyInfo:
        return await authenticate(request.app.state.faithgate, secret_of(request.headers), scopes)

    dependency.scopes = scopes  # type: ignore[attr-defined]  # read by the auth tests and docs
    return dependency


def require_actor(*scopes: str) -> Callable[..., Awaitable[Actor]]:
    """require_scope(), returning the caller as the Actor its audit records name."""
    check = require_scope(*scopes)

    async def dependency(request: Request, _b: BearerDep, _k: ApiKeyDep) -> Actor:
        key = await check(request, _b, _k)
        return key_actor(key, request.state.request_id)

    dependency.scopes = scopes  # type: ignore[attr-defined]  # read by the auth tests and docs
    return dependency


# The callers of the feature routers, by what they may do.
TrainerActor = Annotated[Actor, Depends(require_actor("train"))]
ReviewerActor = Annotated[Actor, Depends(require_actor("review"))]
AdminActor = Annotated[Actor, Depends(require_actor("admin"))]
GeneratorActor = Annotated[Actor, Depends(require_actor("generate"))]
