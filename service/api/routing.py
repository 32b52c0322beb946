"""The route class of every router: JSON bodies decoded with orjson, plain handlers bounded.

orjson is faster than the standard library and strict: invalid UTF-8, NaN and trailing garbage
all raise JSONDecodeError, which FastAPI turns into a `json_invalid` error (our 400).

A plain `def` handler runs on a worker thread and reads the database there; a stalled database
would hold its caller forever, so its caller is answered 503 after handler_timeout_s while the
thread finishes unseen.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute

from service.errors import RETRY, ApiError


class JSONRequest(Request):
    """A request whose .json() is orjson.loads of the body."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


class JSONRoute(APIRoute):
    """An APIRoute that hands its handler a JSONRequest."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if inspect.iscoroutinefunction(self.dependant.call):

            async def route_handler(request: Request) -> Response:
                return await handler(JSONRequest(request.scope, request.receive))

            return route_handler

        async def bounded_handler(request: Request) -> Response:
            timeout = request.app.state.faithgate.settings.handler_timeout_s
            task = asyncio.ensure_future(handler(JSONRequest(request.scope, request.receive)))
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                task.add_done_callback(_forget)
                raise ApiError(
                    503,
                    "timeout",
                    f"no answer within {timeout:g} s (is the database stalled?); retry later",
                    headers=RETRY,
                )
            return task.result()

        return bounded_handler


def _forget(task: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned handler's outcome so that asyncio does not log it as lost."""
    if not task.cancelled():
        task.exception()
