"""Every route against every scope: admitted with the right one or admin, else 403; 401 without."""

# The fixtures imported from api_support reappear as test parameters (pytest injects them).
# ruff: noqa: F811

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.service.api_support import (  # noqa: F401 (fixtures)
    BAD,
    GOOD,
    SCOPES,
    Api,
    api,
    backend,
    chain,
    sqlite_api_factory,
)


@dataclass(frozen=True)
class Route:
    """One route, the scopes that admit it, and how to make a valid request to it."""

    method: str
    path: str  # the template, as in app.routes
    scopes: frozenset[str]  # empty: open to everyone
    request: Callable[[Api], tuple[str, dict[str, Any]]]  # -> (url, httpx kwargs)
    ok: int = 200


def _case_id(api: Api) -> str:
    r = api.client.post("/v1/validate", json=chain(BAD), headers=api.auth("validate"))
    return r.headers["x-case-id"]


def _key_id(api: Api) -> str:
    info, _ = api.store.create_key("to-revoke", ["validate"])
    return info.id


ROUTES = [
    Route(
        "POST",
        "/v1/validate",
        frozenset({"validate"}),
        lambda a: ("/v1/validate", {"json": chain(GOOD)}),
    ),
    Route(
        "POST",
        "/v1/validate/batch",
        frozenset({"validate"}),
        lambda a: ("/v1/validate/batch", {"json": {"chains": [chain(GOOD), chain(BAD)]}}),
    ),
    Route("GET", "/v1/cases", frozenset({"review", "audit:read"}), lambda a: ("/v1/cases", {})),
    Route(
        "GET",
        "/v1/cases/{case_id}",
        frozenset({"review", "audit:read"}),
        lambda a: (f"/v1/cases/{_case_id(a)}", {}),
    ),
    Route(
        "POST",
        "/v1/cases/{case_id}/review",
        frozenset({"review"}),
        lambda a: (f"/v1/cases/{_case_id(a)}/review", {"json": {"verdict": "unfaithful"}}),
    ),
    Route("GET", "/v1/audit/export", frozenset({"audit:read"}), lambda a: ("/v1/audit/export", {})),
    Route("GET", "/v1/audit/verify", frozenset({"audit:read"}), lambda a: ("/v1/audit/verify", {})),
    Route(
        "POST",
        "/v1/keys",
        frozenset({"admin"}),
        lambda a: ("/v1/keys", {"json": {"name": "new", "scopes": ["review"]}}),
        ok=201,
    ),
    Route("GET", "/v1/keys", frozenset({"admin"}), lambda a: ("/v1/keys", {})),
    Route("GET", "/v1/keys/me", frozenset(SCOPES), lambda a: ("/v1/keys/me", {})),
    Route(
        "DELETE",
        "/v1/keys/{key_id}",
        frozenset({"admin"}),
        lambda a: (f"/v1/keys/{_key_id(a)}", {}),
        ok=204,
    ),
    Route("GET", "/metrics", frozenset(), lambda a: ("/metrics", {})),
    Route("GET", "/healthz", frozenset(), lambda a: ("/healthz", {})),
    Route("GET", "/readyz", frozenset(), lambda a: ("/readyz", {})),
]
PROTECTED = [r for r in ROUTES if r.scopes]
TAGS = {"validation", "cases", "audit", "keys", "metrics", "health"}


def _call(api: Api, route: Route, headers: dict[str, str]):
    url, kwargs = route.request(api)
    return api.client.request(route.method, url, headers=headers, **kwargs)


def test_the_table_covers_every_route_of_these_routers(api) -> None:
    # Routes of other features (chat, training, ...) have their scope tests beside them.
    paths = api.client.get("/openapi.json").json()["paths"]
    served = {
        (method.upper(), path)
        for path, ops in paths.items()
        for method, op in ops.items()
        if set(op.get("tags", ())) & TAGS
    }
    assert served == {(r.method, r.path) for r in ROUTES}


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_each_scope_is_admitted_or_refused(api, route: Route, scope: str) -> None:
    r = _call(api, route, api.auth(scope))
    if not route.scopes or scope in route.scopes or scope == "admin":
        assert r.status_code == route.ok, r.text
    else:
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: f"{r.method} {r.path}")
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer fg_not-a-real-key"}, {"Authorization": "Basic dXNlcjpwdw=="}],
    ids=["none", "unknown", "wrong-scheme"],
)
def test_no_or_unknown_key_is_401(api, route: Route, headers: dict[str, str]) -> None:
    r = _call(api, route, headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"


def test_the_x_api_key_header_is_accepted(api) -> None:
    secret = api.key("validate")
    r = api.client.post("/v1/validate", json=chain(GOOD), headers={"X-API-Key": secret})
    assert r.status_code == 200


def test_a_revoked_key_is_refused_at_once(api) -> None:
    info, secret = api.store.create_key("soon-revoked", ["validate"])
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.client.post("/v1/validate", json=chain(GOOD), headers=headers).status_code == 200
    revoke = api.client.delete(f"/v1/keys/{info.id}", headers=api.auth("admin"))
    assert revoke.status_code == 204
    r = api.client.post("/v1/validate", json=chain(GOOD), headers=headers)
    assert r.status_code == 401


@pytest.mark.parametrize("scope", SCOPES)
def test_metrics_behind_a_key_when_configured(sqlite_api_factory, scope: str) -> None:
    locked = sqlite_api_factory(metrics_require_key=True)
    assert locked.client.get("/metrics").status_code == 401
    r = locked.client.get("/metrics", headers=locked.auth(scope))
    assert r.status_code == (200 if scope in {"metrics", "admin"} else 403)
    for open_path in ("/healthz", "/readyz"):
        assert locked.client.get(open_path).status_code == 200
