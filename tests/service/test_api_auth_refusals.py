"""Every route of the app, read from the app itself: refused without a key and with a wrong scope.

test_api_auth.py proves each scope is *admitted* on the core routes with valid requests; this
file proves the refusal side on every route, so a new router cannot ship unprotected.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute

from service.api.routes import ROUTERS
from tests.service.api_support import SCOPES, start_api

# Routes open to everyone, and routes that check their key inside the handler (the hot
# validate routes and /metrics, whose refusals test_api_auth.py covers).
OPEN = {"/healthz", "/readyz"}
CHECKED_IN_HANDLER = {"/v1/validate", "/v1/validate/batch", "/metrics"}


def _scopes_of(dependant) -> tuple[str, ...] | None:
    """The scopes of the first require_scope dependency in a route's dependency tree."""
    for sub in dependant.dependencies:
        scopes = getattr(sub.call, "scopes", None)
        if scopes is not None:
            return scopes
        found = _scopes_of(sub)
        if found is not None:
            return found
    return None


def _api_routes() -> Iterator[APIRoute]:
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.include_in_schema:
                yield route


def _guarded() -> list[tuple[str, str, tuple[str, ...]]]:
    """(method, path, scopes) of every keyed route, path parameters filled with a dummy."""
    out = []
    for route in _api_routes():
        if route.path in OPEN | CHECKED_IN_HANDLER:
            continue
        scopes = _scopes_of(route.dependant)
        path = re.sub(r"\{[^}]+\}", "does-not-exist", route.path)
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            out.append((method, path, scopes or ()))
    return out


GUARDED = _guarded()


def test_every_route_is_open_on_purpose_or_needs_a_scope() -> None:
    unguarded = [(m, p) for m, p, scopes in GUARDED if not scopes]
    assert not unguarded, f"routes with no require_scope dependency: {unguarded}"
    assert len(GUARDED) >= 20  # the chat, model, probe, training, adapter and hook routes too


@pytest.fixture(scope="module")
def app_api(tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    yield from start_api(f"sqlite:///{data / 'faithgate.db'}", data)


@pytest.mark.parametrize(("method", "path", "scopes"), GUARDED, ids=lambda v: str(v))
def test_refused_without_a_key_and_with_every_other_scope(app_api, method, path, scopes) -> None:
    r = app_api.client.request(method, path, json={})
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "unauthorized"
    for scope in SCOPES:
        if scope in scopes or scope == "admin":
            continue
        r = app_api.client.request(method, path, json={}, headers=app_api.auth(scope))
        assert r.status_code == 403, (scope, r.text)
        assert r.json()["error"]["code"] == "forbidden"
