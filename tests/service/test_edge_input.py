"""Edge input and a damaged trail: refused with 4xx and a message, never a 500 or a traceback.

Dates that have no UTC instant, offsets past any table, an export of a chain whose newest record
was deleted, and the file modes of the SQLite store.
"""

# The fixtures imported from api_support reappear as test parameters (pytest injects them).
# ruff: noqa: F811

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from service.cli import main
from service.store import Store, verify_bundle
from service.store.errors import ChainHeadMismatch
from service.store.tables import audit_records
from tests.service.api_support import (  # noqa: F401 (fixtures)
    api,
    backend,
    bundle_members,
    pack_bundle,
)

# Valid ISO-8601 whose UTC instant is year 10000 or year 0: Python cannot represent them.
OVERFLOWS = ["9999-12-31T23:00:00-01:00", "0001-01-01T00:00:00+01:00"]


@pytest.mark.parametrize("when", OVERFLOWS)
@pytest.mark.parametrize("field", ["since", "until"])
def test_dates_without_a_utc_instant_are_422(api, field: str, when: str) -> None:
    for path, scope in (("/v1/cases", "review"), ("/v1/audit/export", "audit:read")):
        r = api.client.get(path, params={field: when}, headers=api.auth(scope))
        assert r.status_code == 422, (path, r.text)
        assert field in r.json()["error"]["message"]
        assert "outside" in r.json()["error"]["message"]


def test_the_edges_of_the_utc_range_are_accepted(api) -> None:
    params = {"since": "0001-01-01T00:00:00Z", "until": "9999-12-31T23:59:59Z"}
    r = api.client.get("/v1/cases", params=params, headers=api.auth("review"))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("offset", [2**63, 10**30, 1_000_000_001])
def test_offsets_past_any_table_are_422(api, offset: int) -> None:
    for path, scope in (("/v1/cases", "review"), ("/v1/training/jobs", "train")):
        r = api.client.get(path, params={"offset": offset}, headers=api.auth(scope))
        assert r.status_code == 422, (path, r.text)
        assert "offset" in r.json()["error"]["message"]
    r = api.client.get("/v1/cases", params={"offset": 1_000_000_000}, headers=api.auth("review"))
    assert r.status_code == 200 and r.json()["cases"] == []


def test_the_cli_refuses_an_overflowing_date_in_a_line(tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    for bad in (OVERFLOWS[0], "not a time"):
        code = main(["audit", "export", "-o", str(tmp_path / "b.tar"), "--data-dir", str(data),
                     "--until", bad])  # fmt: skip
        assert code == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "--until" in err, err
    assert not (tmp_path / "b.tar").exists()


def _fill(store: Store, n: int) -> None:
    for i in range(n):
        store.append("validation", request_id=f"r{i}", data={"verdict": "faithful"})


def _delete_newest(store: Store) -> int:
    with store.db.write() as conn:
        newest = conn.execute(select(func.max(audit_records.c.id))).scalar_one()
        conn.execute(delete(audit_records).where(audit_records.c.id == newest))
    return int(newest)


def test_an_export_refuses_a_chain_whose_newest_record_was_deleted(
    store: Store, tmp_path: Path, capsys
) -> None:
    _fill(store, 4)
    deleted = _delete_newest(store)
    assert not store.verify_chain()["ok"]
    with pytest.raises(ChainHeadMismatch, match=f"names record {deleted}"):
        store.export_bundle(io.BytesIO())
    out = tmp_path / "bundle.tar"
    code = main(["audit", "export", "-o", str(out), "--data-dir", str(store.data_dir),
                 "--database-url", str(store.db.engine.url.render_as_string(False))])  # fmt: skip
    assert code == 1
    assert "refused" in capsys.readouterr().err
    assert not out.exists()


def _resigned(store: Store, bundle: bytes, **manifest_changes) -> bytes:
    """The bundle with its manifest changed and signed again by the store's own key."""
    members = bundle_members(bundle)
    manifest = {**json.loads(members["manifest.json"]), **manifest_changes}
    members["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
    members["signature.bin"] = store.signing.sign(members["manifest.json"])
    return pack_bundle(members)


def test_the_verifier_compares_the_manifest_head_with_the_records(store: Store) -> None:
    """A bundle that stops short of the head it names is caught, even correctly signed."""
    _fill(store, 4)
    buf = io.BytesIO()
    manifest = store.export_bundle(buf)
    bundle = buf.getvalue()
    assert verify_bundle(io.BytesIO(bundle)).ok
    head = manifest["chain_head_at_export"]

    ahead = _resigned(store, bundle, chain_head_at_export={**head, "id": head["id"] + 1})
    result = verify_bundle(io.BytesIO(ahead))
    assert not result.ok and result.first_bad == head["id"] + 1
    assert "missing" in result.message

    other = _resigned(store, bundle, chain_head_at_export={**head, "hash": "0" * 64})
    result = verify_bundle(io.BytesIO(other))
    assert not result.ok and "not the chain head" in result.message

    # A period that ends before the head needs not reach it.
    period = _resigned(
        store, bundle, period={"since": None, "until": "9999-01-01T00:00:00.000000Z"},
        chain_head_at_export={**head, "id": head["id"] + 5},
    )  # fmt: skip
    assert verify_bundle(io.BytesIO(period)).ok


def test_the_sqlite_store_is_private_to_its_owner(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    store = Store(f"sqlite:///{data / 'faithgate.db'}", data)
    try:
        _fill(store, 1)
        assert stat.S_IMODE((data / "faithgate.db").stat().st_mode) == 0o600
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
    finally:
        store.close()
