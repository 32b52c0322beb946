"""The service's one configuration object, read from FAITHGATE_* environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from service.engines.config import HostingSettings
from service.store.config import (
    DEFAULT_DATA_DIR,
    DEFAULT_DB_TIMEOUT_S,
    DEFAULT_RETENTION_DAYS,
    DEFAULT_STATEMENT_TIMEOUT_S,
    sqlite_url,
)

if TYPE_CHECKING:
    from service.store import Store

CommaList = Annotated[list[str], NoDecode]


class Settings(HostingSettings):
    """Everything faithgate can be told; each field is FAITHGATE_<NAME> in the env.

    The server, every CLI command and the training worker build this same object, so a setting
    means the same wherever it is read.
    """

    model_config = SettingsConfigDict(env_prefix="FAITHGATE_", extra="ignore")

    data_dir: Path = Path(DEFAULT_DATA_DIR)
    database_url: str | None = None  # default: SQLite in data_dir
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    log_level: str = "info"

    # Validation: request limits, per-chain budget, process pool.
    batch_max: int = Field(256, ge=1)
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024)
    budget_s: float = Field(2.0, gt=0)
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    # Seconds a worker may run past the budgets of its chains before it is killed and replaced.
    worker_grace_s: float = Field(5.0, gt=0)
    # Longest a request waits for its reports, queueing included, before it is answered 503.
    validation_timeout_s: float = Field(120.0, gt=0)

    # Database faults: the longest a request waits on the database (connect, statement, lock,
    # pooled connection, key lookup) before it is answered 503 with Retry-After; and the longest
    # a plain (synchronous) handler may run before its caller gets 503 (it then finishes unseen).
    db_timeout_s: float = Field(DEFAULT_DB_TIMEOUT_S, gt=0)
    handler_timeout_s: float = Field(60.0, gt=0)
    # PostgreSQL's own statement_timeout and lock_timeout: frees the server of queries nobody
    # waits for any more; generous, since a purge or an export of a long period must finish.
    db_statement_timeout_s: float = Field(DEFAULT_STATEMENT_TIMEOUT_S, gt=0)
    # Slow or stuck clients: the longest a request body may take to arrive (then 408), and the
    # most connections served at once (uvicorn answers 503 past it, before file descriptors or
    # memory run out).
    body_timeout_s: float = Field(30.0, gt=0)
    max_connections: int = Field(1000, ge=1)

    # Audit trail.
    # Group commit: while other requests' chains are still being validated, a write waits up to
    # audit_group_wait_ms for them (or until audit_group_records are ready), so that they share
    # one transaction and one fsync. An idle service never waits (0 turns the wait off).
    audit_group_wait_ms: float = Field(2.0, ge=0, le=100)
    audit_group_records: int = Field(64, ge=1)
    # Validation records are written by a process of their own (service/audit_process.py), which
    # takes their hashing and SQL off the web process; false writes them on its audit thread.
    audit_process: bool = True
    retention_days: int = Field(DEFAULT_RETENTION_DAYS, ge=1)
    purge_interval_s: float = Field(3600.0, gt=0)

    # Metrics: /metrics is open unless this is set; label values are bounded (service/metrics.py).
    metrics_require_key: bool = False
    metrics_domains: CommaList = ["math", "logic", "medical", "legal", "finance", "general"]
    metrics_models: CommaList = []
    metrics_adapters: CommaList = []
    metrics_label_limit: int = Field(32, ge=0)  # further label values first seen at run time

    # Corrective fine-tuning (service/jobs, training/): jobs run in worker processes.
    training_base_model: str | None = None  # default: the model the engine serves
    training_max_jobs: int = Field(1, ge=0)  # workers at once on this replica (0: runs none)
    training_stale_s: float = Field(300.0, gt=0)  # a running job silent this long: interrupted
    training_auto_reviewed_cases: int = Field(0, ge=0)  # new reviewed cases per domain (0: off)
    training_alert_pattern: str = "(?i)faithful|launder"  # alertnames that start a job

    @field_validator("metrics_domains", "metrics_models", "metrics_adapters", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in data_dir."""
        return self.database_url or sqlite_url(self.data_dir.resolve())

    @property
    def registry_dir(self) -> Path:
        """The adapter registry folder (training writes it, the service and the CLI read it)."""
        return Path(self.data_dir) / "adapters"

    @property
    def training_base(self) -> str:
        """The base model jobs train on unless they name one: the one the engine serves."""
        from service.engines.model_files import default_model_dir

        configured = self.training_base_model or self.model
        return str(configured or default_model_dir(Path(self.data_dir)))


def open_store(settings: Settings) -> Store:
    """The migrated audit store the settings describe (URL, data directory, retention)."""
    from service.store import Store

    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return Store(
        settings.resolved_database_url,
        settings.data_dir,
        retention_days=settings.retention_days,
        db_timeout_s=settings.db_timeout_s,
        statement_timeout_s=settings.db_statement_timeout_s,
    )
