"""The one ASGI middleware around every request: request id, body limit, metrics, last-resort 500.

Pure ASGI (not BaseHTTPMiddleware) because it runs on every request of the hot path.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import time

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import error_response
from service.metrics import Metrics

log = logging.getLogger("faithgate.service")

_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_METRIC_METHODS = {"GET", "HEAD", "OPTIONS", *_BODY_METHODS}


# Request ids need to be unique, not secret: a PRNG seeded from the OS costs far less per call
# than os.urandom (a system call) and gives 128 bits all the same.
_rng = random.Random(int.from_bytes(os.urandom(32), "big"))


def new_request_id() -> str:
    """A fresh request id (32 hex digits)."""
    return f"{_rng.getrandbits(128):032x}"


class BodyTooLarge(Exception):
    """The request body passed the configured limit."""


class BodyTimeout(Exception):
    """The request body did not arrive within the configured time."""


class RequestMiddleware:
    """Assigns the request id, enforces the body limit and records HTTP metrics."""

    def __init__(
        self, app: ASGIApp, metrics: Metrics, max_body_bytes: int, body_timeout_s: float = 30.0
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            if scope["method"] in _BODY_METHODS:
                try:
                    receive = await self._buffer_body(scope, receive)
                except BodyTooLarge:
                    # Read (and drop) what the client is still sending, within bounds: a client
                    # that writes the whole body before reading (urllib) would otherwise get a
                    # connection reset instead of this answer.
                    await _drain(receive)
                    message = f"the request body exceeds {self.max_body_bytes} bytes"
                    await _refuse(413, "payload_too_large", message, scope, receive, send_with_id)
                    return
                except BodyTimeout:
                    # A client that trickles or stalls its body must not hold a task forever.
                    message = f"the request body did not arrive within {self.body_timeout_s:g} s"
                    await _refuse(408, "request_timeout", message, scope, receive, send_with_id)
                    return
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            status = 499  # the client went away mid-request; nothing to answer, nothing to log
        except Exception:
            log.exception("unhandled error (request %s)", request_id)
            if not response_started:
                response = error_response(
                    500, "internal_error", "internal error; it has been logged"
                )
                await response(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            method = method if method in _METRIC_METHODS else "other"  # bounded label values
            metrics = self.metrics
            metrics.child(metrics.http_requests, method, template, str(status)).inc()
            metrics.child(metrics.http_seconds, method, template).observe(
                time.perf_counter() - started
            )

    async def _buffer_body(self, scope: Scope, receive: Receive) -> Receive:
        """Read the whole body (at most the limit) and return a receive that replays it."""
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    if int(value) > self.max_body_bytes:
                        raise BodyTooLarge
                except ValueError:
                    pass  # the server rejects a malformed Content-Length itself
        chunks: list[bytes] = []
        size = 0
        try:
            # asyncio.timeout, not wait_for: no extra task per message on the hot path.
            async with asyncio.timeout(self.body_timeout_s):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return _replay([message])
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        raise BodyTooLarge
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise BodyTimeout from None
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return _replay([{"type": "http.request", "body": body, "more_body": False}], receive)


async def _refuse(
    status: int, code: str, message: str, scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer a request refused before its handler, and close the connection after it."""
    response = error_response(status, code, message, headers={"connection": "close"})
    await response(scope, receive, send)


DRAIN_MAX_BYTES = 64 << 20  # past this (or DRAIN_MAX_S) the connection is closed unread
DRAIN_MAX_S = 5.0


async def _drain(receive: Receive) -> None:
    """Discard the rest of a refused body: at most DRAIN_MAX_BYTES, for at most DRAIN_MAX_S."""
    deadline = time.monotonic() + DRAIN_MAX_S
    drained = 0
    while drained < DRAIN_MAX_BYTES:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        try:
            message = await asyncio.wait_for(receive(), left)
        except TimeoutError:
            return
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """A receive callable that returns `messages` first, then defers to `then` (disconnects)."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id" and _REQUEST_ID.match(value):
            return value.decode("ascii")
    return new_request_id()
