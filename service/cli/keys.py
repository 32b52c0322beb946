"""`faithgate keys create|list|revoke`: API keys (the secret is shown once, at creation)."""

from __future__ import annotations

import argparse
import sys

from service.cli.storeopts import add_store_options, open_store


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `keys` subcommand."""
    parser = subparsers.add_parser("keys", help="create, list and revoke API keys")
    sub = parser.add_subparsers(dest="keys_command", required=True, metavar="ACTION")

    create = sub.add_parser("create", help="create a key; its secret is the last line printed")
    add_store_options(create)
    create.add_argument("--name", required=True, help="who or what the key is for")
    create.add_argument("--scopes", required=True, help="comma-separated, e.g. validate,review")
    create.add_argument(
        "--redact", action="store_true", help="keep only SHA-256 of this key's inputs"
    )
    create.set_defaults(func=run_create)

    listing = sub.add_parser("list", help="list keys (never their secrets)")
    add_store_options(listing)
    listing.set_defaults(func=run_list)

    revoke = sub.add_parser("revoke", help="revoke a key by id")
    add_store_options(revoke)
    revoke.add_argument("key_id", help="the key's id (key_…)")
    revoke.set_defaults(func=run_revoke)


def run_create(args: argparse.Namespace) -> int:
    """Create a key (audited, by cli:<user>@<host>) and print its secret last (`tail -1`)."""
    from service.ops.audit import cli_actor
    from service.ops.errors import OpError
    from service.ops.keys import create_key

    store = open_store(args)
    try:
        info, secret = create_key(
            store, args.name, args.scopes.split(","), cli_actor(), redact=args.redact
        )
    except OpError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    finally:
        store.close()
    scopes = ",".join(sorted(info.scopes))
    print(f"created {info.id} ({info.name}) scopes={scopes} redact={info.redact}")
    print("the secret below is shown once and stored only as its SHA-256:")
    print(secret)
    return 0


def run_list(args: argparse.Namespace) -> int:
    """One line per key: id, state, scopes, name."""
    store = open_store(args)
    try:
        keys = store.list_keys()
    finally:
        store.close()
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        redact = " redact" if k.redact else ""
        print(f"{k.id}  {state:<18} {','.join(sorted(k.scopes)):<30} {k.name}{redact}")
    if not keys:
        print("no keys")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    """Revoke (audited); exit 1 when the key is unknown or already revoked."""
    from service.ops.audit import cli_actor
    from service.ops.errors import OpError
    from service.ops.keys import revoke_key

    store = open_store(args)
    try:
        revoke_key(store, args.key_id, cli_actor())
    except OpError:
        print(f"error: no active key {args.key_id}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"revoked {args.key_id}")
    return 0
