"""Every kind of bundle tampering, one table: each must be caught (or, for a re-signed bundle,
shown under another fingerprint), plus a database that lost its newest record."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest

from service.store import Store, verify_bundle
from service.store.errors import ChainHeadMismatch
from tests.figures import record
from tests.service.api_support import bundle_members, pack_bundle
from tests.service.test_edge_input import _delete_newest, _resigned
from tests.service.test_store_export import _export, _fill, _flip

Tamper = Callable[[Store, bytes], bytes]


def _lines(bundle: bytes) -> list[bytes]:
    return bundle_members(bundle)["records.jsonl"].splitlines(keepends=True)


def _with_lines(bundle: bytes, lines: list[bytes]) -> bytes:
    return pack_bundle({**bundle_members(bundle), "records.jsonl": b"".join(lines)})


def _manifest(bundle: bytes) -> dict:
    return json.loads(bundle_members(bundle)["manifest.json"])


KINDS: dict[str, Tamper] = {
    "record header byte": lambda s, b: _flip(
        b, _lines(b)[1].rstrip(), offset=_lines(b)[1].index(b'"event":"validation"') + 9
    ),
    "record payload byte": lambda s, b: _flip(b, b"marker-003", offset=7),
    "manifest byte": lambda s, b: _flip(b, b'"count": 5', offset=9),
    "signature byte": lambda s, b: pack_bundle(
        {
            **bundle_members(b),
            "signature.bin": bytes([bundle_members(b)["signature.bin"][0] ^ 1])
            + bundle_members(b)["signature.bin"][1:],
        }
    ),  # fmt: skip
    "record removed": lambda s, b: _with_lines(b, _lines(b)[:2] + _lines(b)[3:]),
    "records swapped": lambda s, b: _with_lines(
        b, [_lines(b)[0], _lines(b)[2], _lines(b)[1], *_lines(b)[3:]]
    ),
    "last record cut": lambda s, b: _with_lines(b, _lines(b)[:-1]),
    "record duplicated": lambda s, b: _with_lines(b, _lines(b) + _lines(b)[-1:]),
    "member added": lambda s, b: pack_bundle({**bundle_members(b), "notes.txt": b"hi"}),
    "member removed": lambda s, b: pack_bundle(
        {k: v for k, v in bundle_members(b).items() if k != "signature.bin"}
    ),
    "not a tar": lambda s, b: b"not a tar file",
    "Merkle root re-signed": lambda s, b: _resigned(s, b, merkle_root="0" * 64),
    "newest record dropped, re-signed": lambda s, b: _resigned(
        s,
        _with_lines(b, _lines(b)[:-1]),
        count=4,
        last_id=4,
        last_hash=json.loads(_lines(b)[-2])["hash"],
    ),
    "head hash re-signed": lambda s, b: _resigned(
        s, b, chain_head_at_export={**_manifest(b)["chain_head_at_export"], "hash": "0" * 64}
    ),
}
DETECTED: set[str] = set()


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_of_tampering_is_caught(store: Store, kind: str) -> None:
    _fill(store, 5)
    bundle = _export(store)
    assert verify_bundle(io.BytesIO(bundle)).ok
    result = verify_bundle(io.BytesIO(KINDS[kind](store, bundle)))
    assert not result.ok, f"{kind}: {result.message}"
    DETECTED.add(kind)


def test_a_database_missing_its_newest_record_is_not_exported(store: Store) -> None:
    _fill(store, 5)
    _delete_newest(store)
    with pytest.raises(ChainHeadMismatch):
        store.export_bundle(io.BytesIO())
    DETECTED.add("newest record deleted in the database")


def test_zz_figures() -> None:
    """Last in the module: how many kinds were tried and caught (for the bench)."""
    record("tamper", kinds=len(KINDS) + 1, detected=len(DETECTED))
