"""Dependencies shared by the routes, as `Annotated` aliases (SettingsDep, StoreDep, ...).

They are all `async def`: FastAPI runs a plain `def` dependency in a worker thread, a thread hop
per dependency per request that the hot path cannot afford.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from service.errors import ApiError
from service.metrics import Metrics
from service.pool import ValidationPool
from service.settings import Settings
from service.state import AppState

SCOPES = ("validate", "generate", "review", "train", "audit:read", "admin", "metrics")

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


async def get_settings(state: StateDep) -> Settings:
    """The app's settings."""
    return state.settings


async def get_store(state: StateDep) -> Any:
    """The audit store (service.store.Store)."""
    return state.store


async def get_pool(state: StateDep) -> ValidationPool:
    """The validation worker pool."""
    assert state.pool is not None
    return state.pool


async def get_metrics(state: StateDep) -> Metrics:
    """The app's Prometheus metrics."""
    return state.metrics


async def get_request_id(request: Request) -> str:
    """The request id the middleware assigned (X-Request-ID or a fresh one)."""
    return request.state.request_id


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Any, Depends(get_store)]
PoolDep = Annotated[ValidationPool, Depends(get_pool)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
RequestIdDep = Annotated[str, Depends(get_request_id)]


def secret_of(headers: Any) -> str | None:
    """The API key a request carries: `Authorization: Bearer <key>`, else `X-API-Key`."""
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return headers.get("x-api-key") or None


def authenticate(state: AppState, secret: str | None, scopes: tuple[str, ...]) -> Any:
    """The KeyInfo of the caller if it holds one of `scopes` (admin holds all); else 401/403."""
    if not secret:
        raise ApiError(
            401,
            "unauthorized",
            "an API key is required (Authorization: Bearer <key> or X-API-Key)",
            headers={"www-authenticate": "Bearer"},
        )
    key = state.store.authenticate(secret)
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


def require_scope(*scopes: str) -> Callable[..., Awaitable[Any]]:
    """A dependency that admits keys holding any of `scopes` (or admin) and returns the KeyInfo."""
    unknown = set(scopes) - set(SCOPES)
    assert not unknown, f"unknown scopes {unknown}"

    # The security schemes are parameters only so that OpenAPI shows them; the secret itself is
    # read by secret_of(), the same function the hot validate routes call directly.
    async def dependency(request: Request, _b: BearerDep, _k: ApiKeyDep) -> Any:
        return authenticate(request.app.state.faithgate, secret_of(request.headers), scopes)

    dependency.scopes = scopes  # type: ignore[attr-defined]  # read by the auth tests and docs
    return dependency
