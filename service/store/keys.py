"""API keys: random secrets handed out once, stored only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from service.store.canonical import parse_ts
from service.store.tables import api_keys

# The one list of scopes (API docs show them in this order); SCOPES is the same as a set.
SCOPE_ORDER = ("validate", "generate", "review", "train", "audit:read", "admin", "metrics")
SCOPES = frozenset(SCOPE_ORDER)
SECRET_PREFIX = "fg_"
_SECRET_MAX = 128  # real secrets are 46 characters; anything longer is refused unhashed


@dataclass(frozen=True)
class KeyInfo:
    """What the service knows about a key; never the secret."""

    id: str
    name: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None
    redact: bool


def check_scopes(scopes: list[str] | tuple[str, ...] | frozenset[str]) -> frozenset[str]:
    """The scopes as a set; ValueError naming any unknown scope."""
    wanted = frozenset(str(s).strip() for s in scopes if s is not None and str(s).strip())
    unknown = sorted(wanted - SCOPES)
    if unknown:
        known = ", ".join(sorted(SCOPES))
        raise ValueError(f"unknown scope {', '.join(map(repr, unknown))}; known scopes: {known}")
    if not wanted:
        raise ValueError(
            f"a key needs at least one scope; known scopes: {', '.join(sorted(SCOPES))}"
        )
    return wanted


def new_secret() -> str:
    """fg_ followed by 32 random bytes, URL-safe base64."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def new_key_id() -> str:
    """A public, loggable key id."""
    return "key_" + secrets.token_hex(8)


def secret_digest(secret: str) -> str:
    """SHA-256 of the secret.

    A fast unsalted hash is right here (unlike for passwords): the secret is 256 random bits,
    so there is no dictionary to try and brute force is hopeless however fast the hash; a slow
    KDF would only add latency to every request. Lookups go by digest through a unique index,
    so response time does not leak how much of a guess matched.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def plausible_secret(secret: Any) -> bool:
    """Cheap shape check before hashing anything a client sent."""
    return (
        isinstance(secret, str) and secret.startswith(SECRET_PREFIX) and len(secret) <= _SECRET_MAX
    )


def info_of(row: Any) -> KeyInfo:
    """KeyInfo from an api_keys row."""
    return KeyInfo(
        id=row.id,
        name=row.name,
        scopes=frozenset(s for s in row.scopes.split(",") if s),
        created_at=parse_ts(row.created_at),
        revoked_at=parse_ts(row.revoked_at) if row.revoked_at else None,
        redact=bool(row.redact),
    )


def insert_key(
    conn: Connection,
    key_id: str,
    name: str,
    scopes: frozenset[str],
    redact: bool,
    digest: str,
    now: str,
) -> None:
    """Store a new key (its digest only)."""
    conn.execute(
        insert(api_keys).values(
            id=key_id,
            name=name,
            scopes=",".join(sorted(scopes)),
            secret_sha256=digest,
            redact=redact,
            created_at=now,
            revoked_at=None,
        )
    )


def find_by_digest(conn: Connection, digest: str) -> KeyInfo | None:
    """The key with that secret digest, revoked or not."""
    row = conn.execute(select(api_keys).where(api_keys.c.secret_sha256 == digest)).first()
    return info_of(row) if row else None


def all_keys(conn: Connection) -> list[KeyInfo]:
    """Every key, oldest first."""
    return [
        info_of(r)
        for r in conn.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id))
    ]


def mark_revoked(conn: Connection, key_id: str, now: str) -> bool:
    """Revoke a live key; False when unknown or already revoked."""
    result = conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1
