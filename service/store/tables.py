"""SQLAlchemy Core descriptions of every table, for queries only (migrations.py creates them).

tests/service/test_store_schema.py checks that these descriptions and the migrated database
agree, column by column, on both back ends.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Integer, MetaData, Table, Text

metadata = MetaData()

audit_records = Table(
    "audit_records",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", Text, nullable=False),
    Column("event", Text, nullable=False),
    Column("request_id", Text),
    Column("key_id", Text),
    Column("model", Text),
    Column("model_hash", Text),
    Column("adapter", Text),
    Column("adapter_hash", Text),
    Column("domain", Text),
    Column("verdict", Text),
    Column("laundering", Boolean),
    Column("validators", Text),
    Column("input_sha256", Text),
    Column("redacted", Boolean, nullable=False),
    Column("retain_until", Text, nullable=False),
    Column("payload_sha256", Text, nullable=False),
    Column("payload", Text),
    Column("purged_at", Text),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_id", BigInteger, nullable=False),
    Column("last_hash", Text, nullable=False),
    Column("last_ts", Text, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("secret_sha256", Text, nullable=False, unique=True),
    Column("redact", Boolean, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("revoked_at", Text),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Text, primary_key=True),
    Column("record_id", BigInteger, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("domain", Text),
    Column("model", Text),
    Column("adapter", Text),
    Column("verdict", Text),
    Column("laundering", Boolean, nullable=False),
)

case_reviews = Table(
    "case_reviews",
    metadata,
    Column("record_id", BigInteger, primary_key=True, autoincrement=False),
    Column("case_id", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("verdict", Text, nullable=False),
    Column("key_id", Text),
)

# Training jobs (service/jobs) and the per-domain marks of the automatic trigger.
training_jobs = Table(
    "training_jobs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("triggered_by", Text, nullable=False),
    Column("dedup_key", Text, unique=True),
    Column("key_id", Text),
    Column("request_id", Text),
    Column("config", Text, nullable=False),
    Column("progress", Text),
    Column("result", Text),
    Column("error", Text),
    Column("cancel_requested", Boolean, nullable=False),
    Column("worker_host", Text),
    Column("worker_pid", Integer),
    Column("heartbeat_at", Text),
    Column("started_at", Text),
    Column("finished_at", Text),
)

training_triggers = Table(
    "training_triggers",
    metadata,
    Column("domain", Text, primary_key=True),
    Column("reviewed_count", Integer, nullable=False),
    Column("job_id", Text),
    Column("updated_at", Text, nullable=False),
)
