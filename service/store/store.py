"""The Store: the one object the HTTP layer and the CLI use to reach the audit database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from service.store import cases as case_ops
from service.store import keys as key_ops
from service.store.canonical import format_ts
from service.store.config import (
    DEFAULT_DB_TIMEOUT_S,
    DEFAULT_RETENTION_DAYS,
    DEFAULT_STATEMENT_TIMEOUT_S,
)
from service.store.engine import Database
from service.store.errors import AuditWriteError
from service.store.export import write_bundle
from service.store.keys import KeyInfo
from service.store.migrations import migrate
from service.store.records import (
    Entry,
    append_entries,
    header_of,
    meta,
    prepare,
    validation_entry,
)
from service.store.signing import load_or_create
from service.store.tables import audit_head, audit_records
from service.store.verify import ChainBroken, ChainChecker
from training.flagging import flagged  # a flagged report opens a case

_AUTH_TTL_S = 5.0  # how long another replica's revocation may take to reach this one
_AUTH_CACHE_MAX = 10_000  # bounds the memory a stream of random keys can take
_VERIFY_CHUNK = 2000


class Store:
    """Audit trail, API keys and cases on SQLite (WAL) or PostgreSQL."""

    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        *,
        auto_migrate: bool = True,
        db_timeout_s: float = DEFAULT_DB_TIMEOUT_S,
        statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
    ) -> None:
        self.data_dir = Path(data_dir)
        # What another process needs to open this same store (service/audit_process.py).
        self.open_args = {
            "database_url": database_url,
            "data_dir": str(data_dir),
            "retention_days": retention_days,
            "db_timeout_s": db_timeout_s,
            "statement_timeout_s": statement_timeout_s,
        }
        self.retention = timedelta(days=retention_days)
        self.db_timeout_s = db_timeout_s
        self.db = Database(database_url, db_timeout_s, statement_timeout_s)
        self.signing = load_or_create(self.data_dir)
        self._auth_cache: dict[str, tuple[float, KeyInfo | None]] = {}
        if auto_migrate:
            self.migrate()

    def migrate(self) -> None:
        """Apply numbered, append-only migrations (idempotent)."""
        migrate(self.db)

    def close(self) -> None:
        """Release database connections."""
        self.db.close()

    @property
    def shareable(self) -> bool:
        """Whether another process can open this database (not an in-memory SQLite one)."""
        return self.db.engine.url.database not in (None, "", ":memory:")

    @property
    def fingerprint(self) -> str:
        """Fingerprint of the export-signing public key (for the operator to publish)."""
        return self.signing.fingerprint

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        try:
            with self.db.write() as conn:
                yield conn
        except (SQLAlchemyError, OSError) as exc:
            # Only the driver's first line: SQLAlchemy's full text quotes the statement's
            # parameters, i.e. the payload, which must not reach logs or HTTP answers.
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            raise AuditWriteError(
                f"audit record not written: {exc.__class__.__name__}: {reason[0] if reason else ''}"
            ) from exc

    def _append(self, conn: Connection, entries: list[Entry]) -> list[dict[str, Any]]:
        return append_entries(conn, entries, self.retention)

    # --- audit trail ---------------------------------------------------------------------

    def append(self, event: str, **fields: Any) -> dict:
        """Append one record, committed before return (AuditWriteError otherwise).

        `fields` are records.prepare's: request_id, key_id (the actor), model, model_hash,
        adapter, adapter_hash, domain, data, input, redact. With redact, `input` is kept only
        as its SHA-256; `data` is stored as given, so the caller must not copy input text into it.
        """
        try:
            entry = prepare(event, **fields)
        except (TypeError, ValueError) as exc:
            raise AuditWriteError(f"audit record not serialisable: {exc}") from exc
        with self._writing() as conn:
            return self._append(conn, [entry])[0]

    def record_validations(
        self, items: list[dict], *, request_id: str, key_id: str | None, redact: bool = False
    ) -> list[dict]:
        """One validation record per item and a case per flagged report, in ONE transaction."""
        group = {"items": items, "request_id": request_id, "key_id": key_id, "redact": redact}
        return self.record_validation_groups([group])[0]

    def record_validation_groups(self, groups: list[dict]) -> list[list[dict]]:
        """Several requests' record_validations in ONE transaction (group commit).

        groups: [{"items", "request_id", "key_id", "redact"}]; returns each group's results. An
        item is {"chain", "report", "model", "adapter", ...}, or the Entry the validation worker
        already made of one (records.validation_entry).
        """
        try:
            entries = [
                [
                    item
                    if isinstance(item, Entry)
                    else validation_entry(
                        item, g["request_id"], g.get("key_id"), g.get("redact", False)
                    )
                    for item in g["items"]
                ]
                for g in groups
            ]
        except (TypeError, ValueError, AttributeError) as exc:
            raise AuditWriteError(f"audit record not serialisable: {exc}") from exc
        with self._writing() as conn:
            headers = self._append(conn, [e for group in entries for e in group])
            out: list[list[dict]] = []
            new_cases: list[dict] = []
            position = 0
            for g in groups:
                results = []
                for header in headers[position : position + len(g["items"])]:
                    # the header keeps the report's verdict and laundering, redacted or not
                    case = case_ops.case_row(header) if flagged(header) else None
                    if case:
                        new_cases.append(case)
                    results.append(
                        {
                            "record_id": header["id"],
                            "hash": header["hash"],
                            "case_id": case and case["id"],
                        }
                    )
                out.append(results)
                position += len(g["items"])
            case_ops.insert_cases(conn, new_cases)
        return out

    def verify_chain(self) -> dict:
        """Check the live chain: {"ok", "count", "first_bad", "message"}."""
        checker = ChainChecker(purge_horizon=format_ts(datetime.now(UTC)))
        try:
            with self.db.read(snapshot=True) as conn:
                head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).first()
                if head is None:
                    raise ChainBroken(None, "the chain-head row is missing")
                after = 0
                while True:
                    rows = conn.execute(
                        select(audit_records)
                        .where(audit_records.c.id > after)
                        .order_by(audit_records.c.id)
                        .limit(_VERIFY_CHUNK)
                    ).all()
                    for row in rows:
                        checker.feed({**header_of(row), "hash": row.hash, "payload": row.payload})
                    if len(rows) < _VERIFY_CHUNK:
                        break
                    after = int(rows[-1].id)
                checker.finish(int(head.last_id), head.last_hash)
        except ChainBroken as bad:
            return {
                "ok": False,
                "count": checker.count,
                "first_bad": bad.record_id,
                "message": bad.message,
            }
        return {
            "ok": True,
            "count": checker.count,
            "first_bad": None,
            "message": f"chain intact: {checker.count} records",
        }

    def export_bundle(
        self, out: BinaryIO, since: datetime | None = None, until: datetime | None = None
    ) -> dict:
        """Write a signed bundle of the records in [since, until) to out; returns its manifest."""
        with self.db.read(snapshot=True) as conn:
            return write_bundle(conn, self.signing, out, since, until)

    def purge_expired(self, now: datetime | None = None, *, actor: str | None = None) -> int:
        """Drop payloads whose retain_until has passed (their digests stay); returns how many.

        `now` may only move the cutoff back: a payload is never dropped before its date, which is
        also what verify_chain checks. `actor` is recorded in the audit.purged record.
        """
        present = datetime.now(UTC)
        cutoff = format_ts(min(now, present) if now else present)
        r = audit_records.c
        with self._writing() as conn:
            result = conn.execute(
                update(audit_records)
                .where(r.retain_until <= cutoff, r.payload.is_not(None))
                .values(payload=None, purged_at=cutoff)
            )
            purged = int(result.rowcount or 0)
            if purged:
                self._append(
                    conn,
                    [
                        prepare(
                            "audit.purged",
                            key_id=actor,
                            data={"records": purged, "retain_until_before": cutoff},
                        )
                    ],
                )
        return purged

    def ping(self) -> None:
        """Raise when the database cannot answer a trivial query (readiness probes)."""
        with self.db.read() as conn:
            conn.execute(select(1)).scalar_one()

    def count_records(self) -> int:
        """How many records the chain holds."""
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(audit_records)).scalar_one())

    # --- API keys --------------------------------------------------------------------------

    def create_key(
        self,
        name: str,
        scopes: list[str],
        redact: bool = False,
        request_id: str | None = None,
        by_key_id: str | None = None,
    ) -> tuple[KeyInfo, str]:
        """Create a key; returns (info, secret). The secret is shown once and never stored."""
        wanted = key_ops.check_scopes(scopes)
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a key needs a name")
        name = meta(name.strip())
        secret, key_id = key_ops.new_secret(), key_ops.new_key_id()
        data = {"key": key_id, "name": name, "scopes": sorted(wanted), "redact": bool(redact)}
        with self._writing() as conn:
            header = self._append(
                conn, [prepare("key.created", request_id=request_id, key_id=by_key_id, data=data)]
            )[0]
            key_ops.insert_key(
                conn,
                key_id,
                name,
                wanted,
                bool(redact),
                key_ops.secret_digest(secret),
                header["ts"],
            )
        with self.db.read() as conn:
            info = key_ops.find_by_digest(conn, key_ops.secret_digest(secret))
        assert info is not None
        return info, secret

    def cached_key(self, secret: str) -> tuple[bool, KeyInfo | None]:
        """(True, answer) when authenticate() can answer without the database, else (False, None).

        Unknown and revoked secrets are cached too: a flood of bad keys must not become a flood
        of database reads (nor, with a stalled database, a pile of waiting threads).
        """
        if not key_ops.plausible_secret(secret):
            return True, None
        hit = self._auth_cache.get(key_ops.secret_digest(secret))
        if hit and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def authenticate(self, secret: str) -> KeyInfo | None:
        """The live key with that secret, else None (either answer cached for a few seconds)."""
        known, info = self.cached_key(secret)
        if known:
            return info
        digest = key_ops.secret_digest(secret)
        with self.db.read() as conn:
            info = key_ops.find_by_digest(conn, digest)
        if info is not None and info.revoked_at is not None:
            info = None
        if len(self._auth_cache) >= _AUTH_CACHE_MAX:
            now = time.monotonic()  # drop the expired; if all are live, start over
            live = {d: hit for d, hit in self._auth_cache.items() if hit[0] > now}
            self._auth_cache = live if len(live) < _AUTH_CACHE_MAX else {}
        self._auth_cache[digest] = (time.monotonic() + _AUTH_TTL_S, info)
        return info

    def list_keys(self) -> list[KeyInfo]:
        """Every key (never a secret), oldest first."""
        with self.db.read() as conn:
            return key_ops.all_keys(conn)

    def revoke_key(
        self, key_id: str, request_id: str | None = None, by_key_id: str | None = None
    ) -> bool:
        """Revoke a key; False when it is unknown or already revoked. Audited as key.revoked."""
        with self._writing() as conn:
            now = format_ts(datetime.now(UTC))
            if not key_ops.mark_revoked(conn, key_id, now):
                return False
            self._append(
                conn,
                [
                    prepare(
                        "key.revoked", request_id=request_id, key_id=by_key_id, data={"key": key_id}
                    )
                ],
            )
        # Revocation takes effect at once in this process; other replicas within _AUTH_TTL_S.
        self._auth_cache = {
            d: hit for d, hit in self._auth_cache.items() if hit[1] is None or hit[1].id != key_id
        }
        return True

    # --- cases and reviews -----------------------------------------------------------------

    def list_cases(
        self, *, limit: int = 50, offset: int = 0, **filters: Any
    ) -> tuple[list[dict], int]:
        """A page of cases, newest first, and the total that match.

        filters (None: any): status, domain, model, adapter, laundering, verdict, since, until.
        """
        with self.db.read() as conn:
            return case_ops.query_cases(conn, limit, offset, **filters)

    def get_case(self, case_id: str) -> dict:
        """One case with its chain, report and reviews; CaseNotFound otherwise."""
        with self.db.read() as conn:
            return case_ops.fetch_case(conn, case_id)

    def review_case(
        self,
        case_id: str,
        review: dict,
        *,
        key_id: str | None,
        request_id: str | None,
        expected_status: str | None = None,
        expected_reviews: int | None = None,
    ) -> dict:
        """Record a review (audited as case.reviewed in the same transaction); returns the case.

        Raises ValueError for a malformed review, CaseNotFound, and CaseConflict when
        expected_status is given and the case is not in it, when expected_reviews is given and
        the case has another number of reviews, or when (without expected_status) the review
        contradicts the verdict of an earlier review.
        """
        clean = case_ops.check_review(review)
        with self._writing() as conn:
            row = case_ops.lock_case(conn, case_id)  # reviewers of one case queue here
            case_ops.check_transition(conn, row, clean, expected_status, expected_reviews)
            entry = prepare(
                "case.reviewed",
                request_id=request_id,
                key_id=key_id,
                model=row.model,
                adapter=row.adapter,
                domain=row.domain,
                data={"case_id": case_id, "previous_status": row.status, "review": clean},
                verdict=clean["verdict"],
                laundering=clean.get("laundering"),
            )
            header = self._append(conn, [entry])[0]
            case_ops.record_review(conn, row, header, clean)
        return self.get_case(case_id)
