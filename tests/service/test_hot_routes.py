"""The validate routes served by api/hot.py: found, labelled like routed ones, errors mapped."""

# ruff: noqa: F811

from __future__ import annotations

import pytest

from service.api.hot import HotRoutes
from service.api.routes import HOT_ENDPOINTS
from tests.service.api_support import (  # noqa: F401 (fixtures)
    GOOD,
    chain,
    metric_samples,
    sqlite_api_factory,
)


def test_both_validate_routes_are_dispatched_directly(sqlite_api_factory) -> None:
    api = sqlite_api_factory()
    hot = HotRoutes(app=None, api=api.app, endpoints=HOT_ENDPOINTS)  # type: ignore[arg-type]
    assert set(hot.routes()) == {"/v1/validate", "/v1/validate/batch"}


def test_other_methods_and_paths_still_go_through_the_router(sqlite_api_factory) -> None:
    api = sqlite_api_factory()
    assert api.client.get("/v1/validate", headers=api.auth("validate")).status_code == 405
    r = api.client.post(
        "/v1/validate/", json=chain(GOOD), headers=api.auth("validate"), follow_redirects=False
    )
    assert r.status_code == 307  # the router's redirect to the path without the slash


def test_hot_requests_are_counted_under_their_route_template(sqlite_api_factory) -> None:
    api = sqlite_api_factory()
    for _ in range(3):
        r = api.client.post("/v1/validate", json=chain(GOOD), headers=api.auth("validate"))
        assert r.status_code == 200
    samples = metric_samples(api)
    key = (
        "faithgate_http_requests_total",
        (("method", "POST"), ("route", "/v1/validate"), ("status", "200")),
    )
    assert samples[key] == 3


def test_a_bug_in_a_hot_handler_is_a_logged_json_500(sqlite_api_factory, monkeypatch) -> None:
    api = sqlite_api_factory()

    async def broken(*_args, **_kw):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("service.api.routes.validate.validate_and_audit", broken)
    r = api.client.post("/v1/validate", json=chain(GOOD), headers=api.auth("validate"))
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"
    assert "a bug" not in r.text


@pytest.mark.parametrize("path", ["/v1/validate", "/v1/validate/batch"])
def test_hot_routes_refuse_like_routed_ones(sqlite_api_factory, path) -> None:
    api = sqlite_api_factory()
    assert api.client.post(path, json={}).status_code == 401
    r = api.client.post(path, content=b"{nope", headers=api.auth("validate"))
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
