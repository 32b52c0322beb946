"""SQLAlchemy Core descriptions of the tables, for queries only (migrations.py creates them)."""

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
