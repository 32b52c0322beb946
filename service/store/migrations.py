"""Numbered, append-only schema migrations, recorded in schema_migrations.

Rules (as in simonw/llm): a released migration is never edited or renumbered; a schema change is
a new function appended with the next number. Each runs in its own transaction together with
the row that records it, under a lock, so two replicas starting together apply each once.
The SQL is written out here (not derived from tables.py) so that editing the query-side table
definitions can never change what an old migration did.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, text

from service.store.canonical import GENESIS_HASH, format_ts
from service.store.engine import Database

Migration = Callable[[Connection], None]
MIGRATIONS: list[tuple[int, str, Migration]] = []
# pg_advisory_xact_lock key for migrations ('fgmg'); chain writes lock the head row instead.
_PG_MIGRATION_LOCK = 0x66676D67


def migration(number: int, name: str) -> Callable[[Migration], Migration]:
    """Register a migration; numbers must follow each other."""

    def register(fn: Migration) -> Migration:
        assert number == len(MIGRATIONS) + 1, "migrations are numbered 1, 2, 3… in order"
        MIGRATIONS.append((number, name, fn))
        return fn

    return register


def _big_id(conn: Connection) -> str:
    # SQLite's INTEGER PRIMARY KEY is the rowid (fast, 64-bit); PostgreSQL's INTEGER is 32-bit.
    return "INTEGER" if conn.dialect.name == "sqlite" else "BIGINT"


@migration(1, "audit records and the chain head")
def _m001_audit(conn: Connection) -> None:
    conn.execute(
        text(f"""
        CREATE TABLE audit_records (
            id {_big_id(conn)} PRIMARY KEY,
            ts TEXT NOT NULL,
            event TEXT NOT NULL,
            request_id TEXT,
            key_id TEXT,
            model TEXT,
            model_hash TEXT,
            adapter TEXT,
            adapter_hash TEXT,
            domain TEXT,
            verdict TEXT,
            laundering BOOLEAN,
            validators TEXT,
            input_sha256 TEXT,
            redacted BOOLEAN NOT NULL,
            retain_until TEXT NOT NULL,
            payload_sha256 TEXT NOT NULL,
            payload TEXT,
            purged_at TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""")
    )
    conn.execute(text("CREATE INDEX ix_audit_records_ts ON audit_records (ts)"))
    conn.execute(text("CREATE INDEX ix_audit_records_event ON audit_records (event)"))
    conn.execute(text("CREATE INDEX ix_audit_records_retain ON audit_records (retain_until)"))
    # One row: the id, hash and time of the last record. Appenders lock it (FOR UPDATE) so the
    # chain cannot fork across replicas, and verify compares the chain's tail with it.
    conn.execute(
        text(f"""
        CREATE TABLE audit_head (
            id INTEGER PRIMARY KEY,
            last_id {_big_id(conn)} NOT NULL,
            last_hash TEXT NOT NULL,
            last_ts TEXT NOT NULL
        )""")
    )
    conn.execute(
        text("INSERT INTO audit_head (id, last_id, last_hash, last_ts) VALUES (1, 0, :h, '')"),
        {"h": GENESIS_HASH},
    )


@migration(2, "API keys")
def _m002_keys(conn: Connection) -> None:
    conn.execute(
        text("""
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            scopes TEXT NOT NULL,
            secret_sha256 TEXT NOT NULL UNIQUE,
            redact BOOLEAN NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        )""")
    )


@migration(3, "cases and their reviews")
def _m003_cases(conn: Connection) -> None:
    # Cases and reviews are indexes into the audit trail: their content (chain, report, review
    # text) lives only in the audit records' payloads, so the retention purge covers it too.
    conn.execute(
        text(f"""
        CREATE TABLE cases (
            id TEXT PRIMARY KEY,
            record_id {_big_id(conn)} NOT NULL REFERENCES audit_records (id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            status TEXT NOT NULL,
            domain TEXT,
            model TEXT,
            adapter TEXT,
            verdict TEXT,
            laundering BOOLEAN NOT NULL
        )""")
    )
    conn.execute(text("CREATE INDEX ix_cases_status_record ON cases (status, record_id)"))
    conn.execute(text("CREATE INDEX ix_cases_record ON cases (record_id)"))
    conn.execute(
        text(f"""
        CREATE TABLE case_reviews (
            record_id {_big_id(conn)} PRIMARY KEY REFERENCES audit_records (id),
            case_id TEXT NOT NULL REFERENCES cases (id),
            created_at TEXT NOT NULL,
            verdict TEXT NOT NULL,
            key_id TEXT
        )""")
    )
    conn.execute(text("CREATE INDEX ix_case_reviews_case ON case_reviews (case_id)"))


@migration(4, "training jobs and automatic-trigger counters")
def _m004_training_jobs(conn: Connection) -> None:
    # Jobs of the corrective fine-tuning worker (service/jobs). dedup_key makes triggers
    # idempotent (one job per Alertmanager group firing); heartbeat_at lets any replica tell a
    # running job from one whose worker died.
    conn.execute(
        text("""
        CREATE TABLE training_jobs (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            status TEXT NOT NULL,
            triggered_by TEXT NOT NULL,
            dedup_key TEXT UNIQUE,
            key_id TEXT,
            request_id TEXT,
            config TEXT NOT NULL,
            progress TEXT,
            result TEXT,
            error TEXT,
            cancel_requested BOOLEAN NOT NULL,
            worker_host TEXT,
            worker_pid INTEGER,
            heartbeat_at TEXT,
            started_at TEXT,
            finished_at TEXT
        )""")
    )
    conn.execute(text("CREATE INDEX ix_training_jobs_status ON training_jobs (status, created_at)"))
    conn.execute(
        text("""
        CREATE TABLE training_triggers (
            domain TEXT PRIMARY KEY,
            reviewed_count INTEGER NOT NULL,
            job_id TEXT,
            updated_at TEXT NOT NULL
        )""")
    )


def _applied(conn: Connection) -> set[int]:
    return {row[0] for row in conn.execute(text("SELECT version FROM schema_migrations"))}


def _lock(db: Database, conn: Connection) -> None:
    # SQLite is already locked by BEGIN IMMEDIATE; PostgreSQL needs an explicit lock.
    if db.dialect == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})


def migrate(db: Database) -> list[int]:
    """Apply every migration not yet recorded; returns the numbers applied now."""
    with db.write() as conn:
        _lock(db, conn)  # concurrent CREATE TABLE IF NOT EXISTS can still collide on PostgreSQL
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        )
    done: list[int] = []
    for number, name, fn in MIGRATIONS:
        with db.write() as conn:
            _lock(db, conn)
            if number in _applied(conn):
                continue
            fn(conn)
            conn.execute(
                text(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)"
                ),
                {"v": number, "n": name, "t": format_ts(datetime.now(UTC))},
            )
            done.append(number)
    return done
