"""The route class of every router: JSON bodies decoded with orjson.

orjson is faster than the standard library and strict: invalid UTF-8, NaN and trailing garbage
all raise JSONDecodeError, which FastAPI turns into a `json_invalid` error (our 400).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute


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

        async def route_handler(request: Request) -> Response:
            return await handler(JSONRequest(request.scope, request.receive))

        return route_handler
