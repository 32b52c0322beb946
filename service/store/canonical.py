"""Canonical JSON and the record hash: the byte-exact rules that writer and verifier share.

This module is pure standard library so that the bundle verifier (verify.py) can run with
nothing but the bundle: an auditor's copy of faithgate needs no database driver.

A record hash is SHA-256 over the canonical JSON of the record's *header* (every field of the
record except its payload, plus the payload's SHA-256 and the previous record's hash). The payload
itself is hashed separately, so the retention purge can drop an expired payload and keep its
digest: the chain still verifies, and what was purged is still pinned by the digest.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import UTC, datetime
from typing import Any

# Version of the header layout below; bumped (never edited) when fields are added.
RECORD_SCHEMA = 1
# prev_hash of the very first record of a chain.
GENESIS_HASH = "0" * 64
# Every field of a version-1 header, in no particular order (canonical JSON sorts keys).
HEADER_FIELDS = (
    "v",
    "id",
    "ts",
    "event",
    "request_id",
    "key_id",
    "model",
    "model_hash",
    "adapter",
    "adapter_hash",
    "domain",
    "verdict",
    "laundering",
    "validators",
    "input_sha256",
    "redacted",
    "retain_until",
    "payload_sha256",
    "prev_hash",
)
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def canonical_json(obj: Any) -> str:
    """Sorted keys, no spaces, raw UTF-8 (not \\u escapes), no NaN: the form every hash is over."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def canonical_bytes(obj: Any) -> bytes:
    """canonical_json encoded as UTF-8."""
    return canonical_json(obj).encode("utf-8")


def sha256_hex(data: bytes | str) -> str:
    """Hex SHA-256 of bytes (or of a string's UTF-8)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def record_hash(header: dict[str, Any]) -> str:
    """The hash of a record: SHA-256 over its canonical header (which holds prev_hash)."""
    return sha256_hex(canonical_bytes(header))


def format_ts(dt: datetime) -> str:
    """A UTC timestamp in the fixed-width form stored and hashed (sorts as text)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime(TS_FORMAT)


def parse_ts(text: str) -> datetime:
    """Inverse of format_ts (accepts any ISO-8601; naive times are taken as UTC)."""
    return utc_instant(datetime.fromisoformat(text))


def utc_instant(dt: datetime) -> datetime:
    """dt in UTC (naive: taken as UTC); ValueError when UTC has no such instant.

    9999-12-31T23:00-01:00 is year 10000 in UTC, 0001-01-01T00:00+01:00 year 0: Python cannot
    represent either, and the overflow must be a refusal of the input, not a crash.
    """
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        raise ValueError(
            f"{dt.isoformat()} is outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z"
        ) from None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(obj: Any) -> Any:
    # Only reached when plain encoding failed: lone surrogates cannot be written as UTF-8 and
    # NaN/Infinity are not JSON, so both are replaced by stable stand-ins *before* hashing.
    if isinstance(obj, str):
        return _SURROGATE.sub("\ufffd", obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {str(_clean(k)): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return format_ts(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=str)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def to_canonical_text(obj: Any) -> str:
    """Canonical JSON of caller data, repairing what JSON/UTF-8 cannot hold (see _clean)."""
    try:
        text = json.dumps(
            obj,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_default,
        )
        text.encode("utf-8")
        return text
    except (ValueError, UnicodeEncodeError, TypeError) as exc:
        if isinstance(exc, TypeError) and "serialisable" in str(exc):
            raise
        return json.dumps(
            _clean(obj),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_default,
        )
