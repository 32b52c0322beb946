"""Where the store lives by default: FAITHGATE_DATA_DIR and FAITHGATE_DATABASE_URL."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = ".faithgate"
DB_FILE = "faithgate.db"
DEFAULT_RETENTION_DAYS = 183  # about six months: the minimum of AI Act Art. 19(1) / 26(6)


def default_data_dir() -> Path:
    """$FAITHGATE_DATA_DIR, else ./.faithgate."""
    return Path(os.environ.get("FAITHGATE_DATA_DIR") or DEFAULT_DATA_DIR)


def sqlite_url(data_dir: Path) -> str:
    """The SQLite URL of the database file inside data_dir."""
    return f"sqlite:///{(data_dir / DB_FILE).as_posix()}"


def default_database_url(data_dir: Path | None = None) -> str:
    """$FAITHGATE_DATABASE_URL, else SQLite at <data_dir>/faithgate.db."""
    return os.environ.get("FAITHGATE_DATABASE_URL") or sqlite_url(data_dir or default_data_dir())
