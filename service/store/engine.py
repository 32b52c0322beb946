"""Engine setup and the two kinds of transaction: reads, and serialized chain writes."""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from service.store.config import DEFAULT_DB_TIMEOUT_S, DEFAULT_STATEMENT_TIMEOUT_S


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event (below) emit BEGIN itself: pysqlite's own implicit
        # transactions would start too late to take the write lock up front.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # WAL + synchronous=FULL: every COMMIT fsyncs the WAL before returning. NORMAL would
        # already survive a SIGKILL of this process (the committed WAL frames sit in the OS page
        # cache, which outlives the process), but not a power cut or kernel crash; an audit
        # record promised "committed before the response" should survive both. The cost is one
        # fsync per transaction, which record_validations amortises over a whole batch.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take SQLite's write lock at BEGIN (IMMEDIATE), so two processes appending to
        # one file queue on the busy timeout instead of forking the chain or deadlocking on an
        # upgrade from a read lock; readers start a plain deferred snapshot.
        immediate = conn.get_execution_options().get("faithgate_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(
    url: str,
    timeout_s: float = DEFAULT_DB_TIMEOUT_S,
    statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
) -> Engine:
    """An engine for sqlite:///file (WAL) or postgresql+psycopg://…, with bounded waits.

    PostgreSQL gets a connect timeout and a bounded wait for a pooled connection (`timeout_s`),
    so an unreachable server costs a request about that much instead of hanging it; and a
    server-side statement and lock timeout (`statement_timeout_s`, generous: a purge or a long
    export must still run) so that abandoned queries do not hold the server forever. A stalled
    server answers nothing at all: the service's callers bound that themselves, off the loop.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            _create_private(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _sqlite_setup(engine)
        return engine
    ms = max(1, int(statement_timeout_s * 1000))
    connect_args = {
        "connect_timeout": max(1, math.ceil(timeout_s)),
        "options": f"-c statement_timeout={ms} -c lock_timeout={ms}",
    }
    return create_engine(url, pool_pre_ping=True, pool_timeout=timeout_s, connect_args=connect_args)


def _create_private(path: Path) -> None:
    """Create the SQLite file readable by its owner only (it holds key digests and reports)."""
    if path.exists():
        return
    # FileExistsError: another process created it first; its mode is its creator's.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


class Database:
    """An engine plus the process-wide lock that serializes this process's chain writes."""

    def __init__(
        self,
        url: str,
        timeout_s: float = DEFAULT_DB_TIMEOUT_S,
        statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
    ) -> None:
        self.engine = make_engine(url, timeout_s, statement_timeout_s)
        self.dialect = self.engine.dialect.name
        self._lock = threading.Lock()

    @contextmanager
    def read(self, snapshot: bool = False) -> Iterator[Connection]:
        """A read-only transaction; snapshot=True sees one consistent state throughout.

        (SQLite transactions always do; PostgreSQL needs REPEATABLE READ for it.)
        """
        with self.engine.connect() as conn:
            if snapshot and self.dialect == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed on normal exit; at most one per process at a time.

        The in-process lock keeps threads from queueing on the database; the database-level
        guard (BEGIN IMMEDIATE on SQLite, the chain-head row lock on PostgreSQL, taken by the
        caller) keeps several processes or replicas sharing one database in line.
        """
        with self._lock, self.engine.connect() as conn:
            conn.execution_options(faithgate_write=True)
            with conn.begin():
                yield conn

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()
