"""`faithgate audit export|verify|purge|public-key`: the audit trail from the command line."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path

from service.cli.storeopts import actions, open_store, store_action

AUDITOR_NOTE = (
    "An auditor should compare this fingerprint with the one the operator publishes: "
    "a bundle re-signed with another key verifies too."
)


def _when(option: str, text: str | None) -> datetime | None:
    """The instant an option names; ValueError with the one line to print otherwise."""
    from service.store.canonical import parse_ts

    if text is None:
        return None
    try:
        return parse_ts(text)
    except ValueError as exc:
        why = str(exc) if "outside" in str(exc) else "not an ISO-8601 time"
        raise ValueError(f"faithgate audit export: {option} {text!r}: {why}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `audit` subcommand."""
    sub = actions(subparsers, "audit", "export, verify and purge the audit trail")
    export = store_action(
        sub, "export", "write a signed bundle of the records of a period", run_export
    )
    # Parsed in run_export, not by argparse: a bad time is one line and exit 2, no usage dump.
    export.add_argument("--since", help="first time included (ISO-8601, UTC if naive)")
    export.add_argument("--until", help="first time excluded (ISO-8601)")
    export.add_argument("-o", "--output", type=Path, required=True, help="bundle file to write")
    verify = store_action(
        sub, "verify", "check a bundle (needs only the bundle) or the live chain", run_verify
    )
    verify.add_argument("bundle", nargs="?", type=Path, help="bundle written by `audit export`")
    verify.add_argument("--db", action="store_true", help="verify the live chain in the database")
    store_action(sub, "purge", "drop the payloads past their retention date", run_purge)
    store_action(
        sub, "public-key", "print the signing public key and its fingerprint", run_public_key
    )


def run_export(args: argparse.Namespace) -> int:
    """Write the bundle atomically (temp file, then rename)."""
    from service.store.errors import ChainHeadMismatch

    try:
        since, until = _when("--since", args.since), _when("--until", args.until)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    store = open_store(args)
    tmp = args.output.with_name(f".{args.output.name}.partial")
    try:
        with tmp.open("wb") as fh:
            manifest = store.export_bundle(fh, since=since, until=until)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(args.output)
    except ChainHeadMismatch as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    finally:
        tmp.unlink(missing_ok=True)
        store.close()
    print(
        f"wrote {args.output}: {manifest['count']} records, Merkle root {manifest['merkle_root']}"
    )
    print(f"signing key fingerprint: {manifest['public_key_fingerprint']}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """0 when intact, 1 naming the first bad record otherwise."""
    if args.db == (args.bundle is not None):
        print("give either a BUNDLE or --db", file=sys.stderr)
        return 2
    if args.db:
        store = open_store(args)
        try:
            result = store.verify_chain()
        finally:
            store.close()
        print(("OK: " if result["ok"] else "FAILED: ") + result["message"])
        return 0 if result["ok"] else 1
    from service.store.verify import verify_bundle

    outcome = verify_bundle(args.bundle)
    print(("OK: " if outcome.ok else "FAILED: ") + outcome.message)
    if outcome.fingerprint:
        print(f"signing key fingerprint: {outcome.fingerprint}")
        print(AUDITOR_NOTE)
    return 0 if outcome.ok else 1


def run_purge(args: argparse.Namespace) -> int:
    """Apply retention now (the audit.purged record names cli:<user>@<host>)."""
    from service.ops.audit import cli_actor

    store = open_store(args)
    try:
        purged = store.purge_expired(actor=cli_actor().id)
    finally:
        store.close()
    print(f"purged the payloads of {purged} expired records (their hashes stay in the chain)")
    return 0


def run_public_key(args: argparse.Namespace) -> int:
    """Print what the operator publishes for auditors."""
    store = open_store(args)
    try:
        sys.stdout.write(store.signing.public_pem.decode())
        print(f"fingerprint: {store.fingerprint}")
    finally:
        store.close()
    return 0
