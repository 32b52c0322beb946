"""/openapi.json describes every route: tag, summary, responses with schemas, errors, security."""

# The fixtures imported from api_support reappear as test parameters (pytest injects them).
# ruff: noqa: F811

from __future__ import annotations

import pytest

from tests.service.api_support import api, backend  # noqa: F401 (fixtures)

OPEN = {"/healthz", "/readyz", "/metrics"}
EXPECTED = {
    ("post", "/v1/validate"),
    ("post", "/v1/validate/batch"),
    ("get", "/v1/cases"),
    ("get", "/v1/cases/{case_id}"),
    ("post", "/v1/cases/{case_id}/review"),
    ("get", "/v1/audit/export"),
    ("get", "/v1/audit/verify"),
    ("post", "/v1/keys"),
    ("get", "/v1/keys"),
    ("delete", "/v1/keys/{key_id}"),
    ("get", "/metrics"),
    ("get", "/healthz"),
    ("get", "/readyz"),
}


@pytest.fixture
def spec(api) -> dict:
    r = api.client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def _operations(spec: dict):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield method, path, op


def test_every_route_is_listed(spec) -> None:
    assert {(m, p) for m, p, _ in _operations(spec)} >= EXPECTED


def test_every_operation_is_described(spec) -> None:
    for method, path, op in _operations(spec):
        where = f"{method.upper()} {path}"
        assert op.get("tags"), where
        assert op.get("summary"), where
        assert op.get("description"), where
        success = [code for code in op["responses"] if code.startswith("2")]
        assert success, where
        if path not in OPEN:
            assert op.get("security"), where
            for code in ("401", "403"):
                schema = op["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, where


def test_the_validate_bodies_and_reports_are_schemas(spec) -> None:
    schemas = spec["components"]["schemas"]
    for name in ("ChainIn", "BatchIn", "Report", "BatchOut", "ErrorResponse"):
        assert name in schemas
    assert set(schemas["ChainIn"]["required"]) == {"question", "reasoning"}
    assert schemas["BatchIn"]["properties"]["chains"]["items"] == {
        "$ref": "#/components/schemas/ChainIn"
    }
    op = spec["paths"]["/v1/validate"]["post"]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ChainIn"}
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/Report"}
    for code in ("400", "413", "422", "503"):
        assert code in op["responses"]
    assert {"HTTPBearer", "APIKeyHeader"} <= set(spec["components"]["securitySchemes"])
