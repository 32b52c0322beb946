"""The review page at /review: server-rendered shells and their static assets.

The pages carry no case data: the browser holds the reviewer's API key (sessionStorage) and its
scripts read the JSON API with it, rendering every case text through textContent. The strict
Content-Security-Policy (no inline script, nothing from another origin) backs that up, and every
asset is served from here: deployments often have no internet.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse, Response

from service.errors import ApiError

PAGE_DIR = Path(__file__).resolve().parents[2] / "review"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
# The filters the queue understands; the page echoes them into its form (autoescaped).
QUEUE_FILTERS = ("status", "verdict", "laundering", "domain", "model", "adapter", "since", "until")

router = APIRouter(tags=["review page"])
# Every template is autoescaped, whatever its file name.
templates = Jinja2Templates(
    env=jinja2.Environment(loader=jinja2.FileSystemLoader(PAGE_DIR / "templates"), autoescape=True)
)


@dataclass(frozen=True)
class Asset:
    """One static file, read once at start."""

    body: bytes
    media_type: str
    version: str


# Fixed here rather than guessed from the host's mime.types, which differ between machines.
MEDIA_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
}


def _load_assets(folder: Path) -> dict[str, Asset]:
    """Every asset of the static folder by name (a fixed set: no path ever reaches the disk)."""
    assets = {}
    for path in sorted(folder.iterdir()):
        media = MEDIA_TYPES.get(path.suffix)
        if media and path.is_file():
            body = path.read_bytes()
            assets[path.name] = Asset(body, media, hashlib.sha256(body).hexdigest()[:12])
    return assets


ASSETS = _load_assets(PAGE_DIR / "static")


def asset_url(name: str) -> str:
    """The versioned URL of a static asset (a new version is a new URL, so caches never lie)."""
    return f"/review/static/{name}?v={ASSETS[name].version}"


templates.env.globals["asset_url"] = asset_url


def _page(request: Request, template: str, **context: Any) -> HTMLResponse:
    filters = {name: request.query_params.get(name, "") for name in QUEUE_FILTERS}
    response = templates.TemplateResponse(
        request, template, {"filters": filters, "query": request.url.query, **context}
    )
    response.headers.update(PAGE_HEADERS)
    return response


# --- pages ------------------------------------------------------------------------------------
@router.get("/review", include_in_schema=False, response_class=HTMLResponse)
def queue_page(request: Request) -> HTMLResponse:
    """The queue of flagged cases (filters in the query string)."""
    return _page(request, "queue.html")


@router.get("/review/cases/{case_id}", include_in_schema=False, response_class=HTMLResponse)
def case_page(request: Request, case_id: str) -> HTMLResponse:
    """One case and the review form."""
    return _page(request, "case.html", case_id=case_id)


@router.get("/review/static/{name}", include_in_schema=False)
def static_asset(name: str) -> Response:
    """A CSS, JS or icon file of the page."""
    asset = ASSETS.get(name)
    if asset is None:
        raise ApiError(404, "not_found", f"no asset {name!r}")
    return Response(
        asset.body,
        media_type=asset.media_type,
        headers={"cache-control": "public, max-age=86400", "x-content-type-options": "nosniff"},
    )
