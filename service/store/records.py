"""Building audit records and appending them to the hash chain."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection

from service.store.canonical import (
    RECORD_SCHEMA,
    canonical_json,
    format_ts,
    parse_ts,
    record_hash,
    sha256_hex,
    to_canonical_text,
)
from service.store.tables import audit_head, audit_records

_META_MAX = 512  # metadata strings (ids, model names) are short; clip what a client inflates


def meta(value: Any) -> str | None:
    """A metadata string safe for every back end (PostgreSQL TEXT rejects NUL)."""
    if value is None:
        return None
    return str(value).replace("\x00", "\ufffd")[:_META_MAX]


@dataclass(frozen=True)
class Entry:
    """A record prepared outside the chain lock: everything but id, time and links."""

    event: str
    request_id: str | None
    key_id: str | None
    model: str | None
    model_hash: str | None
    adapter: str | None
    adapter_hash: str | None
    domain: str | None
    verdict: str | None
    laundering: bool | None
    validators: dict[str, str] | None
    input_sha256: str | None
    redacted: bool
    payload: str
    payload_sha256: str


def _report_of(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, dict):
        return None
    if "verdict" in data:
        return data
    report = data.get("report")
    return report if isinstance(report, dict) else None


def redact_report(report: dict[str, Any]) -> dict[str, Any]:
    """A report without any text taken from the input: statuses, codes, scores, versions only.

    Step texts, finding messages and evidence quote the reasoning, so a tenant that asked for
    redaction keeps the structure of the verdict and nothing of the content.
    """

    def finding(f: Any) -> dict[str, Any]:
        f = f if isinstance(f, dict) else {}
        return {k: f.get(k) for k in ("validator", "code", "severity", "step") if k in f}

    steps = report.get("steps") if isinstance(report.get("steps"), list) else []
    return {
        **{
            k: report.get(k)
            for k in (
                "verdict",
                "laundering",
                "score",
                "coverage",
                "first_error_step",
                "validators",
                "elapsed_ms",
            )
        },
        "steps": [
            {
                "index": s.get("index"),
                "status": s.get("status"),
                "findings": [finding(f) for f in s.get("findings") or []],
            }
            for s in steps
            if isinstance(s, dict)
        ],
        "findings": [finding(f) for f in report.get("findings") or []],
        "redacted": True,
    }


def payload_text(data_text: str, input_text: str | None) -> str:
    """The canonical JSON of {"input", "data"} from the canonical JSON of each.

    The same text as to_canonical_text({"input": input, "data": data}) (sorted keys: "data"
    first), without encoding the chain a second time.
    """
    return f'{{"data":{data_text},"input":{"null" if input_text is None else input_text}}}'


def prepare(
    event: str,
    *,
    request_id: str | None = None,
    key_id: str | None = None,
    model: str | None = None,
    adapter: str | None = None,
    model_hash: str | None = None,
    adapter_hash: str | None = None,
    domain: str | None = None,
    data: Any = None,
    input: Any = None,
    redact: bool = False,
    verdict: str | None = None,
    laundering: bool | None = None,
) -> Entry:
    """Serialise and hash one record's payload (done before taking the chain lock).

    The header's verdict and laundering come from the report in `data`; a record without one
    (a review) gives them explicitly, so that they survive the purge of its payload.
    """
    input_text = None if input is None else to_canonical_text(input)
    data_text = to_canonical_text(data)
    payload = payload_text(data_text, None if redact else input_text)
    report = _report_of(data)
    if report:
        verdict, laundering = report.get("verdict"), report.get("laundering")
    validators = report.get("validators") if report else None
    return Entry(
        event=meta(event) or "unknown",
        request_id=meta(request_id),
        key_id=meta(key_id),
        model=meta(model),
        model_hash=meta(model_hash),
        adapter=meta(adapter),
        adapter_hash=meta(adapter_hash),
        domain=meta(domain),
        verdict=meta(verdict) if isinstance(verdict, str) else None,
        laundering=laundering if isinstance(laundering, bool) else None,
        validators={meta(k): meta(v) for k, v in validators.items()}
        if isinstance(validators, dict)
        else None,
        input_sha256=None if input_text is None else sha256_hex(input_text),
        redacted=bool(redact),
        payload=payload,
        payload_sha256=sha256_hex(payload),
    )


def validation_entry(item: dict, request_id: str, key_id: str | None, redact: bool) -> Entry:
    """The Entry of one validation item ({"chain", "report", "model", "adapter", ...}).

    Made by the validation worker for the requests it checks (the serialising and hashing then
    cost the web process nothing), or by the store for items given as dicts (chat).
    """
    chain, report = item.get("chain"), item.get("report")
    domain = chain.get("domain") if isinstance(chain, dict) else None
    if redact and isinstance(report, dict):
        report = redact_report(report)
    return prepare(
        "validation",
        request_id=request_id,
        key_id=key_id,
        model=item.get("model"),
        adapter=item.get("adapter"),
        model_hash=item.get("model_hash"),
        adapter_hash=item.get("adapter_hash"),
        domain=domain,
        data=report,
        input=chain,
        redact=redact,
    )


def header_of(row: Any) -> dict[str, Any]:
    """The hashed header of a stored row (the inverse of what append() writes)."""
    validators = row.validators
    return {
        "v": RECORD_SCHEMA,
        "id": int(row.id),
        "ts": row.ts,
        "event": row.event,
        "request_id": row.request_id,
        "key_id": row.key_id,
        "model": row.model,
        "model_hash": row.model_hash,
        "adapter": row.adapter,
        "adapter_hash": row.adapter_hash,
        "domain": row.domain,
        "verdict": row.verdict,
        "laundering": None if row.laundering is None else bool(row.laundering),
        "validators": None if validators is None else _decode(validators),
        "input_sha256": row.input_sha256,
        "redacted": bool(row.redacted),
        "retain_until": row.retain_until,
        "payload_sha256": row.payload_sha256,
        "prev_hash": row.prev_hash,
    }


def _decode(text: str) -> Any:
    # A column someone edited into invalid JSON is kept as text: the hash check then names it.
    try:
        return json.loads(text)
    except ValueError:
        return text


# The three statements of an append, as driver SQL: they run on every audit transaction, and
# through SQLAlchemy's statement machinery (compiled-cache lookup, per-row bind processing)
# they cost several times what the database itself spends on them.
_RECORD_COLUMNS = tuple(c.name for c in audit_records.columns)


@cache
def _append_sql(dialect: str, paramstyle: str) -> tuple[str, str, str]:
    """(read the head, insert records, move the head) in `dialect`'s SQL and placeholders."""
    mark = "?" if paramstyle == "qmark" else "%s"
    # FOR UPDATE serialises appenders across PostgreSQL replicas (SQLite: BEGIN IMMEDIATE
    # already holds the write lock and has no such clause).
    lock = "" if dialect == "sqlite" else " FOR UPDATE"
    read = f"SELECT last_id, last_hash, last_ts FROM {audit_head.name} WHERE id = 1{lock}"
    columns, marks = ", ".join(_RECORD_COLUMNS), ", ".join([mark] * len(_RECORD_COLUMNS))
    insert = f"INSERT INTO {audit_records.name} ({columns}) VALUES ({marks})"
    move = (
        f"UPDATE {audit_head.name} SET last_id = {mark}, last_hash = {mark}, last_ts = {mark} "
        "WHERE id = 1"
    )
    return read, insert, move


def append_entries(
    conn: Connection, entries: list[Entry], retention: timedelta
) -> list[dict[str, Any]]:
    """Append entries to the chain inside the caller's write transaction; returns their headers."""
    read, insert_rows, move = _append_sql(conn.dialect.name, conn.dialect.paramstyle)
    last_id, last_hash, last_ts = conn.exec_driver_sql(read).one()
    # Never let time run backwards along the chain (clock steps, replicas a little apart):
    # period exports select by time and rely on it growing with the id.
    ts = max(format_ts(datetime.now(UTC)), last_ts)
    retain_until = format_ts(parse_ts(ts) + retention)
    prev_hash, next_id = last_hash, last_id + 1
    rows, headers = [], []
    for offset, e in enumerate(entries):
        header = {
            "v": RECORD_SCHEMA,
            "id": next_id + offset,
            "ts": ts,
            "event": e.event,
            "request_id": e.request_id,
            "key_id": e.key_id,
            "model": e.model,
            "model_hash": e.model_hash,
            "adapter": e.adapter,
            "adapter_hash": e.adapter_hash,
            "domain": e.domain,
            "verdict": e.verdict,
            "laundering": e.laundering,
            "validators": e.validators,
            "input_sha256": e.input_sha256,
            "redacted": e.redacted,
            "retain_until": retain_until,
            "payload_sha256": e.payload_sha256,
            "prev_hash": prev_hash,
        }
        prev_hash = record_hash(header)
        row = {k: v for k, v in header.items() if k != "v"}
        row["validators"] = None if e.validators is None else canonical_json(e.validators)
        row.update(payload=e.payload, hash=prev_hash, purged_at=None)
        rows.append(tuple(row[c] for c in _RECORD_COLUMNS))
        headers.append({**header, "hash": prev_hash})
    if rows:
        conn.exec_driver_sql(insert_rows, rows)
        conn.exec_driver_sql(move, (next_id + len(rows) - 1, prev_hash, ts))
    return headers
