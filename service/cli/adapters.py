"""`faithgate adapters list|show|promote|rollback`: the adapter registry.

Promotion and rollback change the registry on disk and are audited; a running service notices
the change within a second and hot-loads (or unloads) the adapter in its engine.
"""

from __future__ import annotations

import argparse
import json
import sys

from service.cli.storeopts import add_store_options, cli_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `adapters` subcommand."""
    parser = subparsers.add_parser("adapters", help="list, promote and roll back LoRA adapters")
    sub = parser.add_subparsers(dest="adapters_command", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="registered adapters, newest first")
    add_store_options(listing)
    listing.add_argument("--json", action="store_true", help="full metadata as JSON")
    listing.set_defaults(func=run_list)
    show = sub.add_parser("show", help="one adapter's metadata as JSON")
    add_store_options(show)
    show.add_argument("name")
    show.set_defaults(func=run_show)
    promote = sub.add_parser("promote", help="make an adapter active (hot-loaded by the service)")
    add_store_options(promote)
    promote.add_argument("name")
    promote.add_argument(
        "--force", action="store_true", help="promote although the gate refused it"
    )
    promote.set_defaults(func=run_promote)
    rollback = sub.add_parser("rollback", help="withdraw the active adapter, restore the previous")
    add_store_options(rollback)
    rollback.set_defaults(func=run_rollback)


def _registry(args: argparse.Namespace):  # -> training.registry.Registry (imported lazily)
    from training.registry import Registry

    return Registry(cli_settings(args).registry_dir)


def run_list(args: argparse.Namespace) -> int:
    """One line per adapter: name, status, faithfulness gain, general drop, hash."""
    registry = _registry(args)
    items = registry.list()
    if args.json:
        print(json.dumps({"active": registry.active(), "adapters": items}, indent=2))
        return 0
    if not items:
        print("no adapters")
    for m in items:
        gate = m.get("gate") or {}
        print(
            f"{m['name']:<34} {m.get('status', '?'):<12} "
            f"faithfulness {gate.get('faithfulness_gain_points', 0):+.1f} pt  "
            f"general {-gate.get('general_drop_points', 0):+.1f} pt  "
            f"{m.get('content_hash', '')[:12]}  {m.get('created_at', '')[:19]}"
        )
    return 0


def run_show(args: argparse.Namespace) -> int:
    """The adapter's metadata."""
    from service.ops.adapters import get_adapter
    from service.ops.errors import OpError

    try:
        print(json.dumps(get_adapter(_registry(args), args.name), indent=2))
    except OpError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


def run_promote(args: argparse.Namespace) -> int:
    """Promote (audited as adapter.promoted); refused when the gate refused, unless --force."""
    from service.ops.adapters import promote
    from service.ops.audit import cli_actor
    from service.ops.errors import OpError
    from service.settings import open_store

    settings = cli_settings(args)
    store = open_store(settings)
    try:
        done = promote(store, _registry(args), args.name, cli_actor(), force=args.force)
    except OpError as exc:
        print(f"refused: {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if not done.changed:
        print(f"{args.name} is already active")
    else:
        print(f"promoted {args.name}" + (f" (was {done.previous})" if done.previous else ""))
    return 0


def run_rollback(args: argparse.Namespace) -> int:
    """Withdraw the active adapter (audited as adapter.rolled_back)."""
    from service.ops.adapters import rollback
    from service.ops.audit import cli_actor
    from service.ops.errors import OpError
    from service.settings import open_store

    store = open_store(cli_settings(args))
    try:
        withdrawn, restored = rollback(store, _registry(args), cli_actor())
    except OpError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"rolled back {withdrawn}; active now: {restored or 'none (base model)'}")
    return 0
