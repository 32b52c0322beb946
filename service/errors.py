"""One error shape for every failure, `{"error": {"code", "message"}}`, and its handlers."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from service.ops.errors import BadRequest, Conflict, Invalid, NotFound, OpError, Unavailable
from service.store.errors import AuditWriteError, ChainHeadMismatch, DatabaseUnavailable

# Seconds a client is told to wait after a 503 caused by the database: long enough for a
# restart or failover to be noticed, short enough that a recovered service is used again soon.
RETRY_AFTER_S = 5
RETRY = {"retry-after": str(RETRY_AFTER_S)}

log = logging.getLogger("faithgate.service")

# HTTP status -> the error code used when nothing more specific is known.
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An error the API reports as-is (status, machine-readable code, human message)."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


# The one place where the operations layer's refusals become HTTP statuses.
OP_STATUS: dict[type[OpError], int] = {
    BadRequest: 400,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    Unavailable: 503,
}


def op_status(exc: OpError) -> int:
    """The HTTP status of a refusal of the operations layer."""
    for kind, status in OP_STATUS.items():
        if isinstance(exc, kind):
            return status
    return 400


class ErrorBody(BaseModel):
    """The inside of an error response."""

    code: str
    message: str


class ErrorResponse(BaseModel):
    """Every error the API returns."""

    error: ErrorBody


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """A JSON error response in the API's one shape."""
    body = orjson.dumps({"error": {"code": code, "message": message}})
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the error statuses a route can return."""
    text = {
        400: "Malformed JSON or invalid UTF-8",
        401: "Missing or unknown API key",
        403: "The key lacks the scope this route needs",
        404: "No such resource",
        409: "Conflicting state",
        413: "Request body too large",
        422: "The request does not match the schema (the message names the field)",
        503: "Audit store or validation workers unavailable; nothing was answered unaudited",
    }
    # The content is spelled out because FastAPI files `model` under the route's own media type,
    # which is wrong for routes answering text or tar: errors are JSON everywhere.
    ref = "#/components/schemas/ErrorResponse"
    return {
        s: {
            "model": ErrorResponse,
            "description": text[s],
            "content": {"application/json": {"schema": {"$ref": ref}}},
        }
        for s in statuses
    }


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def body_error(exc: RequestValidationError | ValidationError) -> ApiError:
    """400 for a body that is not JSON (or not UTF-8), else 422 naming the first bad field."""
    errors = exc.errors()
    for err in errors:
        if err.get("type") == "json_invalid":
            why = (err.get("ctx") or {}).get("error") or err.get("msg", "JSON decode error")
            return ApiError(400, "invalid_json", f"the body is not valid JSON: {why}")
    first = errors[0] if errors else {}
    field = _field(tuple(first.get("loc", ())))
    message = f"{field}: {first.get('msg', 'invalid value')}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    return ApiError(422, "invalid_request", message)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    return await _api_error(request, body_error(exc))


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    code = _CODES.get(exc.status_code, "error")
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


async def _api_error(request: Request, exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, headers=exc.headers)


async def _op_error(request: Request, exc: OpError) -> Response:
    return error_response(op_status(exc), exc.code, exc.message)


async def _audit_error(request: Request, exc: Exception) -> Response:
    # Never an unaudited answer: whatever was computed is dropped and the caller may retry.
    state = getattr(request.app.state, "faithgate", None)
    if state is not None:
        state.metrics.audit_failures.inc()
    log.error(
        "audit write failed (request %s): %s", getattr(request.state, "request_id", None), exc
    )
    return error_response(
        503,
        "audit_unavailable",
        "the audit record could not be written; nothing was answered",
        headers=RETRY,
    )


async def _chain_head_error(request: Request, exc: ChainHeadMismatch) -> Response:
    # The trail itself is damaged: nothing to retry, an operator must look (409, not 5xx).
    log.error("audit export refused: %s", exc)
    return error_response(409, "chain_inconsistent", str(exc))


def database_reason(exc: BaseException) -> str:
    """What went wrong with the database, without its address or the statement's parameters."""
    if isinstance(exc, DatabaseUnavailable):
        return str(exc)
    return f"the audit database is unavailable ({exc.__class__.__name__})"


async def _database_error(request: Request, exc: Exception) -> Response:
    # Connection refused, timeouts, a server shutting down: transient, so 503 + Retry-After.
    log.warning(
        "database unavailable (request %s): %s",
        getattr(request.state, "request_id", None),
        exc.__class__.__name__,
    )
    return error_response(503, "database_unavailable", database_reason(exc), headers=RETRY)


async def unhandled_error(request: Request, exc: Exception) -> Response:
    """Last resort for true bugs: log with the request id, answer a JSON 500."""
    request_id = getattr(request.state, "request_id", None)
    log.exception("unhandled error (request %s)", request_id, exc_info=exc)
    return error_response(500, "internal_error", "internal error; it has been logged")


# Exception type -> its handler; the most specific class on an exception's MRO wins.
# OperationalError covers a refused or dropped connection and a statement timeout;
# TimeoutError is SQLAlchemy's wait for a pooled connection.
HANDLERS: dict[type[BaseException], Any] = {
    RequestValidationError: _validation_error,
    StarletteHTTPException: _http_error,
    ApiError: _api_error,
    OpError: _op_error,
    AuditWriteError: _audit_error,
    ChainHeadMismatch: _chain_head_error,
    **dict.fromkeys(
        (DatabaseUnavailable, OperationalError, InterfaceError, PoolTimeout), _database_error
    ),
    Exception: unhandled_error,
}


def install(app: FastAPI) -> None:
    """Register the error handlers on an app."""
    for kind, handler in HANDLERS.items():
        app.add_exception_handler(kind, handler)


async def handle(request: Request, exc: Exception) -> Response:
    """The response the installed handlers give `exc` (for routes served outside the router)."""
    for kind in type(exc).__mro__:
        handler = HANDLERS.get(kind)
        if handler is not None:
            return await handler(request, exc)
    return await unhandled_error(request, exc)
