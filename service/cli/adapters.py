"""`faithgate adapters list|show|promote|rollback`: the adapter registry.

Promotion and rollback change the registry on disk and are audited; a running service notices
the change within a second and hot-loads (or unloads) the adapter in its engine.
"""

from __future__ import annotations

import argparse
import json

from service.cli.storeopts import actions, cli_settings, opened_store, refusals, store_action


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `adapters` subcommand."""
    sub = actions(subparsers, "adapters", "list, promote and roll back LoRA adapters")
    listing = store_action(sub, "list", "registered adapters, newest first", run_list)
    listing.add_argument("--json", action="store_true", help="full metadata as JSON")
    show = store_action(sub, "show", "one adapter's metadata as JSON", run_show)
    show.add_argument("name")
    promote = store_action(
        sub, "promote", "make an adapter active (hot-loaded by the service)", run_promote
    )
    promote.add_argument("name")
    promote.add_argument(
        "--force", action="store_true", help="promote although the gate refused it"
    )
    store_action(sub, "rollback", "withdraw the active adapter, restore the previous", run_rollback)


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


@refusals("error", 1)
def run_show(args: argparse.Namespace) -> int:
    """The adapter's metadata."""
    from service.ops.adapters import get_adapter

    print(json.dumps(get_adapter(_registry(args), args.name), indent=2))
    return 0


@refusals("refused", 1)
def run_promote(args: argparse.Namespace) -> int:
    """Promote (audited as adapter.promoted); refused when the gate refused, unless --force."""
    from service.ops.adapters import promote
    from service.ops.audit import cli_actor

    with opened_store(args) as store:
        done = promote(store, _registry(args), args.name, cli_actor(), force=args.force)
    if not done.changed:
        print(f"{args.name} is already active")
    else:
        print(f"promoted {args.name}" + (f" (was {done.previous})" if done.previous else ""))
    return 0


@refusals("error", 1)
def run_rollback(args: argparse.Namespace) -> int:
    """Withdraw the active adapter (audited as adapter.rolled_back)."""
    from service.ops.adapters import rollback
    from service.ops.audit import cli_actor

    with opened_store(args) as store:
        withdrawn, restored = rollback(store, _registry(args), cli_actor())
    print(f"rolled back {withdrawn}; active now: {restored or 'none (base model)'}")
    return 0
