"""The --database-url / --data-dir options shared by the commands that open the store."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from service.store.config import DEFAULT_RETENTION_DAYS, default_data_dir, default_database_url


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """Add --database-url and --data-dir (defaults read from the environment at run time)."""
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


def open_store(args: argparse.Namespace):  # -> service.store.Store (imported lazily)
    """A migrated Store for the options given."""
    from service.store import Store

    data_dir = args.data_dir or default_data_dir()
    url = args.database_url or default_database_url(data_dir)
    retention = int(os.environ.get("FAITHGATE_RETENTION_DAYS") or DEFAULT_RETENTION_DAYS)
    return Store(url, data_dir, retention_days=retention)
