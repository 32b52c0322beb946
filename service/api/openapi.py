"""The OpenAPI document: FastAPI's, plus the request schemas of routes that parse their own body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema


def install(app: FastAPI, models: list[type[BaseModel]]) -> None:
    """Make app.openapi() also publish `models` under components/schemas."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            _, defs = models_json_schema(
                [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
            )
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in defs.get("$defs", {}).items():
                schemas.setdefault(name, definition)
            _document_common_errors(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_common_errors(schema: dict[str, Any]) -> None:
    """Add the statuses every route of a kind can answer, so none is undocumented.

    A keyed route can meet an unavailable database (503); a body can be malformed (400), too
    large (413) or invalid (422); a query or path parameter can be invalid (422).
    """
    from service.errors import responses

    def entry(status: int) -> dict[str, Any]:
        found = responses(status)[status]
        return {"description": found["description"], "content": found["content"]}

    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            wanted: set[int] = set()
            if op.get("security"):
                wanted |= {401, 503}
            if "requestBody" in op:
                wanted |= {400, 413, 422}
            if op.get("parameters"):
                wanted.add(422)
            for status in sorted(wanted):
                op["responses"].setdefault(str(status), entry(status))
