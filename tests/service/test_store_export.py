"""Export bundles on SQLite and PostgreSQL: they verify, and any altered byte is caught."""

from __future__ import annotations

import hashlib
import io
import json
import time
from datetime import UTC, datetime

import pytest

from service.store import Store, verify_bundle
from service.store.merkle import merkle_root
from tests.service.api_support import bundle_members, pack_bundle


def _fill(store: Store, n: int, start: int = 1) -> list[dict]:
    return [
        store.append(
            "validation",
            request_id=f"req-{i}",
            data={
                "verdict": "faithful",
                "validators": {"arithmetic": "1.0", "linkage": f"1.{i % 2}"},
            },
            input={"question": f"marker-{i:03d} how many?"},
        )
        for i in range(start, start + n)
    ]


def _export(store: Store, **period) -> bytes:
    buf = io.BytesIO()
    store.export_bundle(buf, **period)
    return buf.getvalue()


def _flip(bundle: bytes, marker: bytes, offset: int = 0) -> bytes:
    """Change one byte of the bundle file itself, at a marker's first occurrence."""
    at = bundle.index(marker) + offset
    assert bundle.count(marker) == 1
    return bundle[:at] + bytes([bundle[at] ^ 0x01]) + bundle[at + 1 :]


def _check(bundle: bytes):
    return verify_bundle(io.BytesIO(bundle))


def test_full_export_verifies_and_describes_the_chain(store: Store) -> None:
    records = _fill(store, 6)
    bundle = _export(store)
    result = _check(bundle)
    assert result.ok, result.message
    assert (result.count, result.fingerprint) == (6, store.fingerprint)
    members = bundle_members(bundle)
    assert set(members) == {"manifest.json", "records.jsonl", "signature.bin", "public_key.pem"}
    manifest = json.loads(members["manifest.json"])
    assert manifest["count"] == 6
    assert (manifest["first_hash"], manifest["last_hash"]) == (
        records[0]["hash"],
        records[-1]["hash"],
    )
    assert manifest["prev_hash"] == "0" * 64
    assert manifest["records_sha256"] == hashlib.sha256(members["records.jsonl"]).hexdigest()
    leaves = [bytes.fromhex(r["hash"]) for r in records]
    assert manifest["merkle_root"] == merkle_root(leaves).hex()
    assert manifest["validator_versions"] == {"arithmetic": ["1.0"], "linkage": ["1.0", "1.1"]}
    assert manifest["software"]["name"] == "faithgate" and manifest["schema_version"] == 1


@pytest.mark.parametrize("part, bad", [("payload", 3), ("header", 4)])
def test_one_altered_byte_in_records_is_named(store: Store, part: str, bad: int) -> None:
    _fill(store, 5)
    bundle = _export(store)
    # unique: the line holds its own hash
    line = bundle_members(bundle)["records.jsonl"].splitlines()[bad - 1]
    inside = line.index(b"marker-003" if part == "payload" else b'"event":"validation"') + 9
    result = _check(_flip(bundle, line, offset=inside))
    assert not result.ok
    assert result.first_bad == bad, result.message
    assert f"record {bad} altered" in result.message


def test_one_altered_byte_in_the_manifest_breaks_the_signature(store: Store) -> None:
    _fill(store, 3)
    bundle = _export(store)
    result = _check(_flip(bundle, b'"count": 3', offset=len(b'"count": ')))
    assert not result.ok and "signature" in result.message


def test_one_altered_byte_in_the_signature_is_detected(store: Store) -> None:
    _fill(store, 3)
    bundle = _export(store)
    signature = bundle_members(bundle)["signature.bin"]
    result = _check(_flip(bundle, signature, offset=17))
    assert not result.ok and "signature" in result.message


def test_a_bundle_resigned_with_another_key_shows_another_fingerprint(
    store: Store, tmp_path
) -> None:
    _fill(store, 2)
    other = Store(store.db.engine.url.render_as_string(hide_password=False), tmp_path / "other")
    result = _check(_export(other))
    other.close()
    assert result.ok and result.fingerprint != store.fingerprint


def test_removed_and_reordered_lines_are_named(store: Store) -> None:
    _fill(store, 5)
    members = bundle_members(_export(store))
    lines = members["records.jsonl"].splitlines(keepends=True)

    dropped = _check(pack_bundle({**members, "records.jsonl": b"".join(lines[:2] + lines[3:])}))
    assert (dropped.ok, dropped.first_bad) == (False, 3)
    assert "missing" in dropped.message

    reordered = b"".join([lines[0], lines[2], lines[1], *lines[3:]])
    swapped = _check(pack_bundle({**members, "records.jsonl": reordered}))
    assert (swapped.ok, swapped.first_bad) == (False, 2)
    assert "out of order" in swapped.message

    truncated = _check(pack_bundle({**members, "records.jsonl": b"".join(lines[:4])}))
    assert (truncated.ok, truncated.first_bad) == (False, 5)

    extra = _check(pack_bundle({**members, "records.jsonl": b"".join(lines + lines[-1:])}))
    assert not extra.ok


def test_unexpected_or_duplicate_members_are_refused(store: Store) -> None:
    _fill(store, 2)
    members = bundle_members(_export(store))
    assert not _check(pack_bundle({**members, "notes.txt": b"hi"})).ok
    assert not _check(b"not a tar file").ok


def test_a_period_export_verifies_on_its_own(store: Store) -> None:
    first = _fill(store, 3)
    time.sleep(0.01)
    cut = datetime.now(UTC)
    time.sleep(0.01)
    second = _fill(store, 4, start=4)
    buf = io.BytesIO()
    manifest = store.export_bundle(buf, since=cut)
    assert (manifest["count"], manifest["first_id"], manifest["last_id"]) == (4, 4, 7)
    assert manifest["prev_hash"] == first[-1]["hash"]
    assert manifest["last_hash"] == second[-1]["hash"]
    result = _check(buf.getvalue())
    assert result.ok, result.message

    earlier = io.BytesIO()
    assert store.export_bundle(earlier, until=cut)["count"] == 3
    assert _check(earlier.getvalue()).ok


def test_an_empty_period_exports_and_verifies(store: Store) -> None:
    _fill(store, 2)
    buf = io.BytesIO()
    manifest = store.export_bundle(buf, since=datetime(2999, 1, 1, tzinfo=UTC))
    assert manifest["count"] == 0
    assert _check(buf.getvalue()).ok


def test_an_export_after_the_retention_purge_still_verifies(
    store: Store, database_url: str
) -> None:
    short = Store(database_url, store.data_dir, retention_days=0)
    _fill(short, 3)
    assert short.purge_expired() == 3
    short.close()
    _fill(store, 2, start=10)
    bundle = _export(store)
    result = _check(bundle)
    assert result.ok, result.message
    lines = [json.loads(line) for line in bundle_members(bundle)["records.jsonl"].splitlines()]
    assert [line["payload"] is None for line in lines] == [True, True, True, False, False, False]
