"""`faithgate adapters list|show|promote|rollback`: the adapter registry.

Promotion and rollback change the registry on disk and are audited; a running service notices
the change within a second and hot-loads (or unloads) the adapter in its engine.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from service.cli.storeopts import add_store_options, open_store


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


def _registry(args: argparse.Namespace):
    from service.store.config import default_data_dir
    from training.registry import Registry

    return Registry(Path(args.data_dir or default_data_dir()) / "adapters")


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
    from training.registry import RegistryError

    try:
        print(json.dumps(_registry(args).get(args.name), indent=2))
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def run_promote(args: argparse.Namespace) -> int:
    """Promote (audited as adapter.promoted); refused when the gate refused, unless --force."""
    from training.registry import RegistryError

    registry = _registry(args)
    try:
        meta = registry.get(args.name)
        gate = meta.get("gate") or {}
        if not gate.get("passed") and not args.force:
            raise RegistryError(
                f"adapter {args.name!r} did not pass the gate: "
                + "; ".join(gate.get("reasons") or ["no gate result"])
            )
    except RegistryError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    previous = registry.active()
    store = open_store(args)
    try:
        store.append(
            "adapter.promoted",
            model=meta.get("base_model"),
            model_hash=meta.get("base_model_hash"),
            adapter=args.name,
            adapter_hash=meta.get("content_hash"),
            data={
                "name": args.name,
                "previous": previous,
                "forced": args.force,
                "gate": gate,
                "by": "cli",
            },
        )
    finally:
        store.close()
    registry.promote(args.name, force=args.force, by="cli")
    print(f"promoted {args.name}" + (f" (was {previous})" if previous else ""))
    return 0


def run_rollback(args: argparse.Namespace) -> int:
    """Withdraw the active adapter (audited as adapter.rolled_back)."""
    from training.registry import RegistryError

    registry = _registry(args)
    current = registry.active()
    if current is None:
        print("error: no adapter is active", file=sys.stderr)
        return 1
    store = open_store(args)
    try:
        store.append("adapter.rolled_back", adapter=current, data={"name": current, "by": "cli"})
    finally:
        store.close()
    try:
        withdrawn, restored = registry.rollback(by="cli")
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"rolled back {withdrawn}; active now: {restored or 'none (base model)'}")
    return 0
