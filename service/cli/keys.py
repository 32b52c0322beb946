"""`faithgate keys create|list|revoke`: API keys (the secret is shown once, at creation)."""

from __future__ import annotations

import argparse

from service.cli.storeopts import actions, opened_store, refusals, store_action


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `keys` subcommand."""
    sub = actions(subparsers, "keys", "create, list and revoke API keys")
    create = store_action(sub, "create", "create a key; its secret is printed last", run_create)
    create.add_argument("--name", required=True, help="who or what the key is for")
    create.add_argument("--scopes", required=True, help="comma-separated, e.g. validate,review")
    create.add_argument("--redact", action="store_true", help="keep only SHA-256 of its inputs")
    store_action(sub, "list", "list keys (never their secrets)", run_list)
    revoke = store_action(sub, "revoke", "revoke a key by id", run_revoke)
    revoke.add_argument("key_id", help="the key's id (key_…)")


@refusals("error", 2)
def run_create(args: argparse.Namespace) -> int:
    """Create a key (audited, by cli:<user>@<host>) and print its secret last (`tail -1`)."""
    from service.ops.audit import cli_actor
    from service.ops.keys import create_key

    scopes, actor = args.scopes.split(","), cli_actor()
    with opened_store(args) as store:
        info, secret = create_key(store, args.name, scopes, actor, redact=args.redact)
    scopes = ",".join(sorted(info.scopes))
    print(f"created {info.id} ({info.name}) scopes={scopes} redact={info.redact}")
    print("the secret below is shown once and stored only as its SHA-256:")
    print(secret)
    return 0


def run_list(args: argparse.Namespace) -> int:
    """One line per key: id, state, scopes, name."""
    with opened_store(args) as store:
        keys = store.list_keys()
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        redact = " redact" if k.redact else ""
        print(f"{k.id}  {state:<18} {','.join(sorted(k.scopes)):<30} {k.name}{redact}")
    if not keys:
        print("no keys")
    return 0


@refusals("error", 1)
def run_revoke(args: argparse.Namespace) -> int:
    """Revoke (audited); exit 1 when the key is unknown or already revoked."""
    from service.ops.audit import cli_actor
    from service.ops.keys import revoke_key

    with opened_store(args) as store:
        revoke_key(store, args.key_id, cli_actor())
    print(f"revoked {args.key_id}")
    return 0
