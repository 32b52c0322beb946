"""Who acts (the actor every audit record names) and the one way an operation writes a record.

HTTP requests act as their API key (`key_…`), CLI commands as the operating-system user on
its host (`cli:<user>@<host>`), and the service's own work (automatic jobs, recovery, the
retention purge, engine supervision) as `service:<component>@<host>`. The actor goes into the
record header's `key_id` field, so it is hashed with the record and survives payload purges.
"""

from __future__ import annotations

import getpass
import os
import secrets
import socket
from dataclasses import dataclass
from typing import Any

HOST = socket.gethostname()


@dataclass(frozen=True)
class Actor:
    """Who did something, the request it belongs to, and whether their inputs are redacted."""

    id: str
    request_id: str | None = None
    redact: bool = False


def key_actor(key: Any, request_id: str | None) -> Actor:
    """The actor of an HTTP request: its API key (service.store.KeyInfo)."""
    return Actor(key.id, request_id, bool(getattr(key, "redact", False)))


def os_user() -> str:
    """The operating-system user running this process (the uid when it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def cli_actor() -> Actor:
    """The actor of a CLI command: cli:<user>@<host>, with a fresh request id."""
    return Actor(f"cli:{os_user()}@{HOST}", f"cli-{secrets.token_hex(8)}")


def service_actor(component: str, request_id: str | None = None) -> Actor:
    """The actor of the service's own work: service:<component>@<host>."""
    return Actor(f"service:{component}@{HOST}", request_id)


def record(store: Any, event: str, actor: Actor, **fields: Any) -> dict[str, Any]:
    """Append one record for `actor` (committed before return; AuditWriteError otherwise)."""
    return store.append(event, request_id=actor.request_id, key_id=actor.id, **fields)
