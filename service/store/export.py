"""Export bundles: one uncompressed tar holding records.jsonl, manifest.json, signature, key.

Layout (see docs/compliance.md):
  manifest.json   period, count, first/last/prev hash, RFC 6962 Merkle root, SHA-256 of
                  records.jsonl, versions, signing-key fingerprint (pretty JSON, signed as bytes)
  signature.bin   raw 64-byte Ed25519 signature of manifest.json's exact bytes
  public_key.pem  the signing public key (compare its fingerprint with the operator's)
  records.jsonl   one record per line: canonical JSON of the hashed header fields plus "hash"
                  and "payload" (the payload's canonical JSON as a string, null once purged)
Tar rather than zip: it streams to a non-seekable output, and plain `tar xf` opens it.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from typing import Any, BinaryIO

from sqlalchemy import Connection, func, select

from service.store.canonical import HEADER_FIELDS, RECORD_SCHEMA, canonical_bytes, format_ts
from service.store.errors import ChainHeadMismatch
from service.store.merkle import merkle_root
from service.store.records import header_of
from service.store.signing import SigningKey
from service.store.tables import audit_head, audit_records
from service.store.verify import (
    BUNDLE_FORMAT,
    BUNDLE_SCHEMA,
    MANIFEST,
    PUBLIC_KEY,
    RECORDS,
    SIGNATURE,
)

CHUNK = 2000
_SPOOL_MAX = 32 << 20  # records.jsonl stays in memory up to 32 MiB, then spills to a temp file


def software_version() -> str:
    """The installed faithgate version."""
    try:
        return metadata.version("faithgate")
    except metadata.PackageNotFoundError:
        return "unknown"


def record_line(row: Any) -> bytes:
    """One records.jsonl line for a stored row."""
    return canonical_bytes({**header_of(row), "hash": row.hash, "payload": row.payload}) + b"\n"


def _id_range(
    conn: Connection, since: str | None, until: str | None
) -> tuple[int | None, int | None]:
    # Record times never decrease along the chain (append clamps them), so the records of a
    # period are one contiguous id range and a period export is an unbroken piece of the chain.
    where = []
    if since:
        where.append(audit_records.c.ts >= since)
    if until:
        where.append(audit_records.c.ts < until)
    lo, hi = conn.execute(
        select(func.min(audit_records.c.id), func.max(audit_records.c.id)).where(*where)
    ).one()
    return lo, hi


def _write_records(conn: Connection, lo: int, hi: int, spool: BinaryIO) -> dict[str, Any]:
    digest, leaves, seen = hashlib.sha256(), [], {}
    first = last = None
    after = lo - 1
    while after < hi:
        rows = conn.execute(
            select(audit_records)
            .where(audit_records.c.id > after, audit_records.c.id <= hi)
            .order_by(audit_records.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            break
        for row in rows:
            line = record_line(row)
            spool.write(line)
            digest.update(line)
            leaves.append(bytes.fromhex(row.hash))
            for name, version in (json.loads(row.validators) if row.validators else {}).items():
                seen.setdefault(name, set()).add(version)
            if first is None:
                first = row
            last = row
        after = int(rows[-1].id)
    return {
        "count": len(leaves),
        "first_id": int(first.id) if first else None,
        "last_id": int(last.id) if last else None,
        "first_hash": first.hash if first else None,
        "last_hash": last.hash if last else None,
        "prev_hash": first.prev_hash if first else None,
        "merkle_root": merkle_root(leaves).hex(),
        "records_sha256": digest.hexdigest(),
        "validator_versions": {k: sorted(v) for k, v in sorted(seen.items())},
    }


def _check_head(conn: Connection, head_id: int, head_hash: str) -> None:
    """Refuse a chain whose newest record is not the one the head row names."""
    newest = conn.execute(
        select(audit_records.c.id, audit_records.c.hash)
        .order_by(audit_records.c.id.desc())
        .limit(1)
    ).first()
    newest_id = int(newest.id) if newest else 0
    if newest_id != head_id or (newest is not None and newest.hash != head_hash):
        raise ChainHeadMismatch(
            f"the chain head names record {head_id} but the newest record is {newest_id}"
            + ("" if newest_id != head_id else " with another hash")
            + ": records were deleted or replaced; run `faithgate audit verify --db`"
        )


def _add(tar: tarfile.TarFile, name: str, data: BinaryIO, size: int, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o644
    tar.addfile(info, data)


def write_bundle(
    conn: Connection,
    signing: SigningKey,
    out: BinaryIO,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Write the bundle of records in [since, until) to out; returns the manifest."""
    since_s = format_ts(since) if since else None
    until_s = format_ts(until) if until else None
    exported_at = format_ts(datetime.now(UTC))
    head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).one()
    _check_head(conn, int(head.last_id), head.last_hash)
    lo, hi = _id_range(conn, since_s, until_s)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX) as spool:
        if lo is None:
            summary = _write_records(conn, 1, 0, spool)
        else:
            summary = _write_records(conn, int(lo), int(hi), spool)
        manifest = {
            "format": BUNDLE_FORMAT,
            "schema_version": BUNDLE_SCHEMA,
            "record_schema": RECORD_SCHEMA,
            "record_fields": list(HEADER_FIELDS),
            "software": {"name": "faithgate", "version": software_version()},
            "exported_at": exported_at,
            "period": {"since": since_s, "until": until_s},
            **summary,
            "chain_head_at_export": {"id": int(head.last_id), "hash": head.last_hash},
            "hash_algorithm": "SHA-256 over canonical JSON (sorted keys, no spaces, UTF-8)",
            "merkle_tree": "RFC 6962; leaf input = the record hash as 32 raw bytes",
            "signature_algorithm": "Ed25519 over the exact bytes of manifest.json",
            "public_key_fingerprint": signing.fingerprint,
        }
        manifest_bytes = (
            json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"
        )
        size = spool.tell()
        spool.seek(0)
        now = time.time()
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            _add(tar, MANIFEST, io.BytesIO(manifest_bytes), len(manifest_bytes), now)
            signature = signing.sign(manifest_bytes)
            _add(tar, SIGNATURE, io.BytesIO(signature), len(signature), now)
            _add(tar, PUBLIC_KEY, io.BytesIO(signing.public_pem), len(signing.public_pem), now)
            _add(tar, RECORDS, spool, size, now)  # type: ignore[arg-type]
    return manifest
