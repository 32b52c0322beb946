"""The one access table (service/api/access.py): the README shows it, the app obeys it.

The matrix is generated from the app's own routes, so a new route is covered without editing
this file: every keyed route × no key, an unknown key and a key of each scope.
"""

# The fixtures imported from api_support reappear as test parameters (pytest injects them).
# ruff: noqa: F811

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.api import access
from service.main import create_app
from service.settings import Settings
from tests.figures import record
from tests.service.api_support import SCOPES, api, backend  # noqa: F401 (fixtures)

README = Path(__file__).resolve().parents[2] / "README.md"
MATRIX: list[tuple[str, int]] = []  # (route, status) of every call, for the bench's figures


def _app(tmp_path: Path):
    return create_app(Settings(workers=1, data_dir=tmp_path))


def test_the_readme_route_table_is_the_access_table(tmp_path: Path) -> None:
    text = README.read_text()
    block = re.search(r"<!-- routes:[^\n]*-->\n(.*?)<!-- /routes -->", text, re.S)
    assert block, "README.md lost its generated route table markers"
    assert block.group(1) == access.markdown(_app(tmp_path)), (
        "README.md's route table differs from service/api/access.py; paste access.markdown(app)"
    )


def test_every_route_has_a_row_and_agrees_with_it(tmp_path: Path) -> None:
    app = _app(tmp_path)
    access.check(app)  # create_app ran it already; here it fails with the route's name
    assert {key for key, _ in access.api_routes(app)} == set(access.ACCESS)


def _url(template: str) -> str:
    # Ids that exist nowhere: an admitted call then ends in 404/422, never a side effect.
    return re.sub(r"\{[^}]+\}", "no-such-id", template)


def _keyed(app) -> list[str]:
    return sorted(k for k, _ in access.api_routes(app) if access.ACCESS[k])


def _call(api, key: str, headers: dict[str, str]):
    method, template = key.split(" ", 1)
    # No body: an admitted POST is refused for its body (422) before it can change anything.
    r = api.client.request(method, _url(template), headers=headers)
    MATRIX.append((key, r.status_code))
    return r


@pytest.mark.parametrize("scope", [*SCOPES, None, "unknown"])
def test_each_keyed_route_admits_exactly_its_scopes(api, scope: str | None) -> None:
    """Route by route: 401 without a valid key, 403 without the scope, else past the gate."""
    if scope is None:
        headers = {}
    elif scope == "unknown":
        headers = {"Authorization": "Bearer fg_no-such-key"}
    else:
        headers = api.auth(scope)
    checked = 0
    for key in _keyed(api.app):
        r = _call(api, key, headers)
        assert r.status_code != 500, (key, r.text)
        allowed = access.ACCESS[key]
        if scope in (None, "unknown"):
            assert r.status_code == 401, (key, r.status_code)
        elif scope in allowed or scope == "admin":
            assert r.status_code not in (401, 403), (key, scope, r.text)
        else:
            assert r.status_code == 403, (key, scope, r.status_code)
            assert r.json()["error"]["code"] == "forbidden"
        checked += 1
    assert checked >= 25  # the table has not shrunk by accident
    five = sum(1 for _, status in MATRIX if status >= 500 and status != 503)
    record("matrix", backend=str(api.store.db.dialect), scope=str(scope), calls=checked, e5xx=five)
