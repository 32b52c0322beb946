"""The review page as served: HTML shells, security headers, static assets."""

# The fixtures imported from api_support reappear as test parameters (pytest injects them).
# ruff: noqa: F811

from __future__ import annotations

import re

import pytest

from service.api.routes.review_page import ASSETS, CSP, PAGE_DIR
from tests.service.api_support import api, backend  # noqa: F401 (fixtures)

PAGES = ["/review", "/review?status=reviewed&domain=medical", "/review/cases/case_0123abcd"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_html_under_a_strict_policy(api, path: str) -> None:
    r = api.client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "default-src 'none'" in CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    html = r.text
    assert 'id="signin-form"' in html and 'for="signin-key"' in html
    # Every script is a file of ours: none inline, no event-handler attributes, no inline style.
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(re.search(r'src="/review/static/[\w.-]+\?v=\w+"', s) for s in scripts)
    assert html.count("></script>") == len(scripts)  # every script element is empty
    assert not re.search(r"\son\w+\s*=", html)
    assert not re.search(r"\sstyle\s*=|<style", html)


def test_the_queue_form_echoes_its_filters_escaped(api) -> None:
    r = api.client.get(
        "/review", params={"laundering": "yes", "domain": '"><script>alert(1)</script>'}
    )
    assert r.status_code == 200
    assert '<option value="yes" selected>' in r.text
    assert "<script>alert(1)" not in r.text
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_the_case_page_escapes_its_id(api) -> None:
    r = api.client.get('/review/cases/x"><img src=x onerror=alert(1)>')
    assert r.status_code == 200
    assert "<img src=x" not in r.text
    assert 'data-case-id="x&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in r.text


@pytest.mark.parametrize(
    ("name", "media"),
    [
        ("review.css", "text/css; charset=utf-8"),
        ("review.js", "text/javascript; charset=utf-8"),
        ("case.js", "text/javascript; charset=utf-8"),
        ("icon.svg", "image/svg+xml; charset=utf-8"),
    ],
)
def test_static_assets_are_served_with_their_types(api, name: str, media: str) -> None:
    r = api.client.get(f"/review/static/{name}")
    assert r.status_code == 200
    assert r.headers["content-type"] == media
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.content == (PAGE_DIR / "static" / name).read_bytes()
    # The page links each asset by a URL that changes with its content.
    page = api.client.get("/review/cases/c" if name == "case.js" else "/review").text
    assert f"/review/static/{name}?v={ASSETS[name].version}" in page


@pytest.mark.parametrize(
    "path", ["/review/static/nope.js", "/review/static/..%2Freview_page.py", "/review/static/"]
)
def test_unknown_assets_are_404(api, path: str) -> None:
    r = api.client.get(path)
    assert r.status_code == 404


def test_nothing_is_loaded_from_elsewhere() -> None:
    # No CDN, no web font, no external link: deployments often have no internet.
    files = [*(PAGE_DIR / "templates").iterdir(), *(PAGE_DIR / "static").iterdir()]
    assert len(files) >= 7
    for path in files:
        text = path.read_text(encoding="utf-8").replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert not re.search(r"https?://|//[a-z0-9-]+\.[a-z]", text, re.I), path.name
        assert "@import" not in text and "@font-face" not in text, path.name


def test_scripts_never_turn_text_into_markup() -> None:
    for name in ("review.js", "case.js"):
        source = (PAGE_DIR / "static" / name).read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, (name, sink)
