"""Who may call what: the one route × scope table.

The routers' scope dependencies, the README's route table (rendered by `markdown()` and compared
by tests/service/test_access.py) and the route-by-route access tests all read ACCESS; `check()`
runs when the app is built and refuses to start if a route and the table disagree, so a new
route cannot ship without a row.

A key holding `admin` passes every keyed route (it can create itself any other key anyway).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from service.store.keys import SCOPE_ORDER

OPEN: tuple[str, ...] = ()  # no key needed
ANY_KEY: tuple[str, ...] = tuple(SCOPE_ORDER)  # any valid key

# "METHOD /path" (the route template) -> the scopes that admit it (or admin).
ACCESS: dict[str, tuple[str, ...]] = {
    "POST /v1/validate": ("validate",),
    "POST /v1/validate/batch": ("validate",),
    "POST /v1/chat/completions": ("generate",),
    "POST /v1/probe": ("generate",),
    "GET /v1/models": ("generate", "train"),
    "POST /v1/models/adapters": ("train",),
    "DELETE /v1/models/adapters/{name}": ("train",),
    "GET /v1/cases": ("review", "audit:read"),
    "GET /v1/cases/{case_id}": ("review", "audit:read"),
    "POST /v1/cases/{case_id}/review": ("review",),
    "GET /v1/audit/export": ("audit:read",),
    "GET /v1/audit/verify": ("audit:read",),
    "POST /v1/training/jobs": ("train",),
    "GET /v1/training/jobs": ("train",),
    "GET /v1/training/jobs/{job_id}": ("train",),
    "POST /v1/training/jobs/{job_id}/cancel": ("train",),
    "GET /v1/training/jobs/{job_id}/log": ("train",),
    "GET /v1/adapters": ("train", "generate", "audit:read"),
    "GET /v1/adapters/{name}": ("train", "generate", "audit:read"),
    "POST /v1/adapters/{name}/promote": ("train",),
    "POST /v1/adapters/rollback": ("train",),
    "POST /v1/hooks/alertmanager": ("train",),
    "POST /v1/keys": ("admin",),
    "GET /v1/keys": ("admin",),
    "DELETE /v1/keys/{key_id}": ("admin",),
    "GET /v1/keys/me": ANY_KEY,
    "GET /metrics": OPEN,  # or `metrics` when metrics_require_key is set
    "GET /healthz": OPEN,
    "GET /readyz": OPEN,
}
# Routes whose handler authenticates itself (the hot validate path, /metrics) rather than
# through a dependency; their handlers read ACCESS for the scopes.
SELF_CHECKED = {"POST /v1/validate", "POST /v1/validate/batch", "GET /metrics"}


def scopes(route: str) -> tuple[str, ...]:
    """The scopes that admit `route` ("METHOD /template")."""
    return ACCESS[route]


def api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """("METHOD /template", route) of every documented API route of the app."""
    stack: list[Any] = list(app.routes)
    while stack:
        route = stack.pop(0)
        inner = getattr(route, "original_router", None)
        if inner is not None:
            stack[:0] = list(inner.routes)
        elif isinstance(route, APIRoute) and route.include_in_schema:
            for method in sorted(route.methods):
                yield f"{method} {route.path}", route


def declared(route: APIRoute) -> tuple[str, ...] | None:
    """The scopes the route's dependencies demand (None: no scope dependency)."""
    pending = list(route.dependant.dependencies)
    while pending:
        dep = pending.pop()
        found = getattr(dep.call, "scopes", None)
        if found is not None:
            return tuple(found)
        pending.extend(dep.dependencies)
    return None


def check(app: FastAPI) -> None:
    """Refuse (AssertionError) an app whose routes and ACCESS disagree."""
    seen = set()
    for key, route in api_routes(app):
        seen.add(key)
        assert key in ACCESS, f"{key} has no row in service/api/access.py ACCESS"
        wanted, actual = ACCESS[key], declared(route)
        if actual is None:
            assert not wanted or key in SELF_CHECKED, f"{key} checks no scope but needs {wanted}"
        else:
            assert set(actual) == set(wanted), f"{key} demands {actual}, ACCESS says {wanted}"
    assert seen >= set(ACCESS), f"ACCESS rows without a route: {set(ACCESS) - seen}"


def describe(allowed: tuple[str, ...]) -> str:
    """The scope column of the README's route table."""
    if not allowed:
        return "open"
    if allowed == ANY_KEY:
        return "any key"
    return " or ".join(f"`{s}`" for s in allowed)


def markdown(app: FastAPI) -> str:
    """The README's route table: every route, its scopes, its summary."""
    lines = ["| route | scope (or `admin`) | |", "|---|---|---|"]
    for key, route in api_routes(app):
        note = (route.summary or "").replace("|", "\\|")
        if key == "GET /metrics":
            note += " (behind `metrics` when FAITHGATE_METRICS_REQUIRE_KEY is set)"
        lines.append(f"| `{key}` | {describe(ACCESS[key])} | {note} |")
    return "\n".join(lines) + "\n"
