"""API keys: created and revoked by an admin or an operator at the CLI, each change audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from service.ops.audit import Actor
from service.ops.errors import Invalid, NotFound
from service.store.keys import KeyInfo, check_scopes


def create_key(
    store: Any, name: str, scopes: Iterable[str], actor: Actor, *, redact: bool = False
) -> tuple[KeyInfo, str]:
    """A new key and its secret (shown once); audited as key.created by `actor`."""
    try:
        wanted = sorted(check_scopes(list(dict.fromkeys(scopes))))
        return store.create_key(
            name, wanted, redact=redact, request_id=actor.request_id, by_key_id=actor.id
        )
    except ValueError as exc:  # unknown scope, blank name: the store names the field
        raise Invalid("invalid_request", str(exc)) from exc


def revoke_key(store: Any, key_id: str, actor: Actor) -> None:
    """Revoke a live key at once; audited as key.revoked by `actor`."""
    if not store.revoke_key(key_id, request_id=actor.request_id, by_key_id=actor.id):
        raise NotFound("key_not_found", f"no active key {key_id!r}")


def key_view(info: KeyInfo) -> dict[str, Any]:
    """A key as the API and the CLI show it (never its secret)."""
    return {
        "id": info.id,
        "name": info.name,
        "scopes": sorted(info.scopes),
        "created_at": info.created_at,
        "revoked_at": info.revoked_at,
        "redact": info.redact,
    }
