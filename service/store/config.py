"""Where the store lives by default; service.settings.Settings reads the FAITHGATE_* variables."""

from __future__ import annotations

from pathlib import Path

DEFAULT_DATA_DIR = ".faithgate"
DB_FILE = "faithgate.db"
DEFAULT_DB_TIMEOUT_S = 10.0  # connect and pool waits, and what a request waits before its 503
DEFAULT_STATEMENT_TIMEOUT_S = 300.0  # PostgreSQL statement/lock backstop: above any real query
DEFAULT_RETENTION_DAYS = 183  # about six months: the minimum of AI Act Art. 19(1) / 26(6)


def sqlite_url(data_dir: Path) -> str:
    """The SQLite URL of the database file inside data_dir."""
    return f"sqlite:///{(data_dir / DB_FILE).as_posix()}"
