"""The service's one configuration object, read from FAITHGATE_* environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from service.engines.config import HostingSettings

CommaList = Annotated[list[str], NoDecode]


class Settings(HostingSettings):
    """Everything the HTTP service can be told; each field is FAITHGATE_<NAME> in the env."""

    model_config = SettingsConfigDict(env_prefix="FAITHGATE_", extra="ignore")

    data_dir: Path = Path(".faithgate")
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

    # Audit trail.
    retention_days: int = Field(183, ge=1)
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
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'faithgate.db').resolve()}"
