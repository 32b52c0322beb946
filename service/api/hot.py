"""The hot routes, POST /v1/validate and /v1/validate/batch, served without the router.

Profiled under load (py-spy, samples of the thread holding the GIL), FastAPI's routing (matching
the path against every included router, the exception and exit-stack wrappers, the per-request
telemetry check) held 20-26 % of the web process's samples. These two routes need none of it:
their handlers take the raw Request and return a finished Response. They stay declared on their
router, so OpenAPI, the access table and the metrics see them as before; only the dispatch is
direct.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service import errors
from service.api.access import api_routes

Handler = Callable[[Request], Awaitable[Response]]


class HotRoutes:
    """ASGI middleware: POST to a hot route's exact path runs its handler directly."""

    def __init__(self, app: ASGIApp, api: FastAPI, endpoints: tuple[Handler, ...]) -> None:
        self.app = app
        self.api = api
        self.endpoints = endpoints
        self._routes: dict[str, APIRoute] | None = None

    def routes(self) -> dict[str, APIRoute]:
        """path -> route of the hot endpoints (read from the app once its routers are in)."""
        if self._routes is None:
            self._routes = {
                route.path: route
                for key, route in api_routes(self.api)
                if route.endpoint in self.endpoints and key.startswith("POST ")
            }
        return self._routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = None
        if scope["type"] == "http" and scope["method"] == "POST":
            route = self.routes().get(scope["path"])
        if route is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route  # the metrics label the request by its template, as routed ones
        request = Request(scope, receive)
        try:
            response = await route.endpoint(request)
        except Exception as exc:
            response = await errors.handle(request, exc)
        await response(scope, receive, send)
