"""Key management through the API (scope admin)."""

# The fixtures imported from api_support reappear as test parameters (pytest injects them).
# ruff: noqa: F811

from __future__ import annotations

import pytest

from tests.service.api_support import GOOD, SCOPES, api, backend, chain  # noqa: F401 (fixtures)


def test_create_list_revoke(api) -> None:
    admin = api.auth("admin")
    r = api.client.post(
        "/v1/keys",
        json={"name": "tenant-a", "scopes": ["validate", "review"], "redact": True},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["scopes"] == ["review", "validate"] and created["redact"] is True
    secret = created["secret"]
    use = api.client.post("/v1/validate", json=chain(GOOD), headers={"X-API-Key": secret})
    assert use.status_code == 200

    listing = api.client.get("/v1/keys", headers=admin)
    assert listing.status_code == 200
    assert secret not in listing.text
    (mine,) = [k for k in listing.json()["keys"] if k["id"] == created["id"]]
    assert mine["revoked_at"] is None and "secret" not in mine

    assert api.client.delete(f"/v1/keys/{created['id']}", headers=admin).status_code == 204
    again = api.client.delete(f"/v1/keys/{created['id']}", headers=admin)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "key_not_found"
    listed = api.client.get("/v1/keys", headers=admin).json()["keys"]
    assert next(k for k in listed if k["id"] == created["id"])["revoked_at"] is not None


def test_bad_key_requests_are_422(api) -> None:
    admin = api.auth("admin")
    for body in (
        {"name": "x", "scopes": ["root"]},
        {"name": "x", "scopes": []},
        {"name": "", "scopes": ["validate"]},
        {"name": "   ", "scopes": ["validate"]},
        {"scopes": ["validate"]},
    ):
        r = api.client.post("/v1/keys", json=body, headers=admin)
        assert r.status_code == 422, body
        assert r.json()["error"]["code"] == "invalid_request"


def test_key_me_tells_the_key_its_scopes(api) -> None:
    reviewer = api.client.get("/v1/keys/me", headers=api.auth("review"))
    assert reviewer.status_code == 200
    body = reviewer.json()
    assert body["scopes"] == ["review"] and body["can_review"] is True
    assert body["name"] == "only-review" and "secret" not in body
    validator = api.client.get("/v1/keys/me", headers=api.auth("validate")).json()
    assert validator["scopes"] == ["validate"] and validator["can_review"] is False
    assert api.client.get("/v1/keys/me", headers=api.auth("admin")).json()["can_review"] is True


@pytest.mark.parametrize("scope", SCOPES)
def test_key_me_answers_a_key_of_any_scope(api, scope: str) -> None:
    r = api.client.get("/v1/keys/me", headers=api.auth(scope))
    assert r.status_code == 200
    assert r.json()["scopes"] == [scope]


def test_key_me_needs_a_valid_key(api) -> None:
    assert api.client.get("/v1/keys/me").status_code == 401
    revoked, secret = api.store.create_key("gone", ["review"])
    assert api.store.revoke_key(revoked.id, request_id=None, by_key_id=None)
    r = api.client.get("/v1/keys/me", headers={"X-API-Key": secret})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
