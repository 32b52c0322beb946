"""The --database-url / --data-dir options of the commands that open the store, and the
Settings they build: the same object the server builds, with these options on top."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.settings import Settings
    from service.store import Store

Command = Callable[[argparse.Namespace], int]


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """Add --database-url and --data-dir (defaults: the FAITHGATE_* settings at run time)."""
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL (default: $FAITHGATE_DATABASE_URL, else SQLite at "
        "<data-dir>/faithgate.db); PostgreSQL: postgresql+psycopg://user@host/db",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="holds the database file and the audit signing key "
        "(default: $FAITHGATE_DATA_DIR, else ./.faithgate)",
    )


def actions(subparsers: argparse._SubParsersAction, command: str, help: str) -> Any:
    """Add a command with actions (`faithgate keys create|list|revoke`); its action parsers."""
    parser = subparsers.add_parser(command, help=help)
    return parser.add_subparsers(dest=f"{command}_command", required=True, metavar="ACTION")


def store_action(actions: Any, name: str, help: str, func: Command) -> argparse.ArgumentParser:
    """Add an action that opens the store (--database-url, --data-dir) and runs `func`."""
    parser = actions.add_parser(name, help=help)
    add_store_options(parser)
    parser.set_defaults(func=func)
    return parser


def cli_settings(args: argparse.Namespace) -> Settings:
    """The server's Settings (FAITHGATE_* variables) with the command's store options on top."""
    from service.settings import Settings

    given = {"data_dir": args.data_dir, "database_url": args.database_url}
    return Settings(**{k: v for k, v in given.items() if v is not None})


@contextmanager
def opened_store(args: argparse.Namespace) -> Iterator[Store]:
    """The store for the options given, closed afterwards."""
    store = open_store(args)
    try:
        yield store
    finally:
        store.close()


def refusals(label: str, code: int) -> Callable[[Command], Command]:
    """Wrap a command: a refused operation (OpError) prints "<label>: <why>", exits `code`."""

    def wrap(command: Command) -> Command:
        @functools.wraps(command)
        def run(args: argparse.Namespace) -> int:
            from service.ops.errors import OpError

            try:
                return command(args)
            except OpError as exc:
                print(f"{label}: {exc.message}", file=sys.stderr)
                return code

        return run

    return wrap


def open_store(args: argparse.Namespace) -> Store:
    """A migrated Store for the options given (retention from FAITHGATE_RETENTION_DAYS)."""
    from service.settings import open_store as open_settings_store

    return open_settings_store(cli_settings(args))
