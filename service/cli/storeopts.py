"""The --database-url / --data-dir options of the commands that open the store, and the
Settings they build: the same object the server builds, with these options on top."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.settings import Settings
    from service.store import Store


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


def cli_settings(args: argparse.Namespace) -> Settings:
    """The server's Settings (FAITHGATE_* variables) with the command's store options on top."""
    from service.settings import Settings

    given = {"data_dir": args.data_dir, "database_url": args.database_url}
    return Settings(**{k: v for k, v in given.items() if v is not None})


def open_store(args: argparse.Namespace) -> Store:
    """A migrated Store for the options given (retention from FAITHGATE_RETENTION_DAYS)."""
    from service.settings import open_store as open_settings_store

    return open_settings_store(cli_settings(args))
