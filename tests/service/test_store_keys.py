"""API keys on SQLite and PostgreSQL: secrets handed out once and stored only as digests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from service.store import SCOPES, Store


def _table_dump(store: Store) -> str:
    with store.db.engine.connect() as conn:
        rows = [
            list(r)
            for t in ("api_keys", "audit_records")
            for r in conn.execute(text(f"SELECT * FROM {t}"))
        ]
    return json.dumps(rows, default=str)


def test_create_authenticate_revoke(store: Store) -> None:
    info, secret = store.create_key(
        "billing-app", ["validate", "audit:read"], request_id="r1", by_key_id="key_admin"
    )
    assert secret.startswith("fg_") and len(secret) == 3 + 43
    assert info.scopes == frozenset({"validate", "audit:read"}) and not info.redact
    assert store.authenticate(secret) == info
    assert store.authenticate(secret + "x") is None
    assert store.authenticate("fg_" + "A" * 43) is None
    assert store.authenticate("not a key") is None
    assert store.revoke_key(info.id, request_id="r2", by_key_id="key_admin") is True
    assert store.authenticate(secret) is None
    assert store.revoke_key(info.id) is False
    assert store.revoke_key("key_unknown") is False
    [listed] = store.list_keys()
    assert listed.id == info.id and listed.revoked_at is not None


def test_only_the_digest_is_stored(store: Store, database_url: str) -> None:
    info, secret = store.create_key("n", ["validate"])
    dump = _table_dump(store)
    assert secret not in dump
    assert secret[3:] not in dump
    assert hashlib.sha256(secret.encode()).hexdigest() in dump
    if database_url.startswith("sqlite"):
        db_file = Path(database_url.removeprefix("sqlite:///"))
        for f in (db_file, db_file.with_name(db_file.name + "-wal")):
            if f.exists():
                assert secret.encode() not in f.read_bytes()
    assert all(not hasattr(k, "secret") for k in store.list_keys())


def test_key_creation_and_revocation_are_audited(store: Store) -> None:
    info, _ = store.create_key("n", ["review"], redact=True, request_id="r1", by_key_id="key_admin")
    store.revoke_key(info.id, request_id="r2", by_key_id="key_admin")
    with store.db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT event, key_id, request_id, payload FROM audit_records ORDER BY id")
        ).all()
    assert [(r.event, r.key_id, r.request_id) for r in rows] == [
        ("key.created", "key_admin", "r1"),
        ("key.revoked", "key_admin", "r2"),
    ]
    created = json.loads(rows[0].payload)["data"]
    assert created == {"key": info.id, "name": "n", "scopes": ["review"], "redact": True}
    assert store.verify_chain()["ok"]


def test_unknown_or_missing_scopes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown scope 'sudo'"):
        store.create_key("n", ["validate", "sudo"])
    with pytest.raises(ValueError, match="at least one scope"):
        store.create_key("n", [])
    assert store.list_keys() == []
    assert store.count_records() == 0


def test_every_documented_scope_is_accepted(store: Store) -> None:
    info, _ = store.create_key("all", sorted(SCOPES))
    assert info.scopes == SCOPES


def test_a_revocation_by_another_replica_reaches_this_one(store: Store, database_url: str) -> None:
    info, secret = store.create_key("n", ["validate"])
    assert store.authenticate(secret) is not None  # now cached here
    other = Store(database_url, store.data_dir)
    assert other.revoke_key(info.id)
    other.close()
    store._auth_cache.clear()  # what the cache TTL does after a few seconds
    assert store.authenticate(secret) is None
