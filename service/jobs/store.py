"""Training jobs in the service's database (store/tables.py; made by store migration 4).

States: queued -> running -> succeeded | failed | cancelled | interrupted. A job never stays
"running" without a live worker: the worker beats a heartbeat, and the runner marks jobs whose
worker is gone (restart, crash, stale heartbeat) as interrupted.
"""

from __future__ import annotations

import json
import secrets
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from service.store.canonical import format_ts
from service.store.tables import cases
from service.store.tables import training_jobs as jobs
from service.store.tables import training_triggers as triggers

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
FINISHED = ("succeeded", "failed", "cancelled", "interrupted")
HOST = socket.gethostname()


class JobNotFound(LookupError):
    """No job with that id."""


def _now() -> str:
    return format_ts(datetime.now(UTC))


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def job_dict(row: Any) -> dict[str, Any]:
    """The API form of a job row."""
    return {
        "id": row.id,
        "status": row.status,
        "triggered_by": row.triggered_by,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "config": _loads(row.config),
        "progress": _loads(row.progress),
        "result": _loads(row.result),
        "error": row.error,
        "cancel_requested": bool(row.cancel_requested),
        "key_id": row.key_id,
        "dedup_key": row.dedup_key,
        "worker": {
            "host": row.worker_host,
            "pid": row.worker_pid,
            "heartbeat_at": row.heartbeat_at,
        },
    }


class JobStore:
    """Training jobs on the Store's database (`store.db`, a service.store.engine.Database)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.db = store.db

    def create(
        self,
        config: dict[str, Any],
        *,
        triggered_by: str = "manual",
        dedup_key: str | None = None,
        key_id: str | None = None,
        request_id: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Queue a job; with dedup_key, an existing job with that key is returned instead.

        Returns (job, created). Audited as training.job_created.
        """
        if dedup_key is not None:
            existing = self.find_by_key(dedup_key)
            if existing is not None:
                return existing, False
        job_id, now = "job_" + secrets.token_hex(8), _now()
        row = {
            "id": job_id,
            "created_at": now,
            "updated_at": now,
            "status": "queued",
            "triggered_by": triggered_by,
            "dedup_key": dedup_key,
            "key_id": key_id,
            "request_id": request_id,
            "config": json.dumps(config, sort_keys=True),
            "cancel_requested": False,
        }
        try:
            with self.db.write() as conn:
                conn.execute(insert(jobs).values(**row))
        except IntegrityError:
            # Another replica queued the same trigger a moment ago: theirs is the one job.
            existing = self.find_by_key(dedup_key) if dedup_key else None
            if existing is None:
                raise
            return existing, False
        self.store.append(
            "training.job_created",
            request_id=request_id,
            key_id=key_id,
            data={
                "job_id": job_id,
                "triggered_by": triggered_by,
                "dedup_key": dedup_key,
                "config": config,
            },
        )
        return self.get(job_id), True

    def find_by_key(self, dedup_key: str) -> dict[str, Any] | None:
        """The job created for a trigger key, if any."""
        with self.db.read() as conn:
            row = conn.execute(select(jobs).where(jobs.c.dedup_key == dedup_key)).first()
        return job_dict(row) if row else None

    def get(self, job_id: str) -> dict[str, Any]:
        """One job; JobNotFound otherwise."""
        with self.db.read() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            raise JobNotFound(job_id)
        return job_dict(row)

    def list(
        self, *, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of jobs, newest first, and the total."""
        where = [jobs.c.status == status] if status else []
        with self.db.read() as conn:
            total = conn.execute(select(func.count()).select_from(jobs).where(*where)).scalar_one()
            rows = conn.execute(
                select(jobs)
                .where(*where)
                .order_by(jobs.c.created_at.desc(), jobs.c.id)
                .limit(max(0, min(limit, 500)))
                .offset(max(0, offset))
            ).all()
        return [job_dict(r) for r in rows], int(total)

    def count_by_status(self) -> dict[str, int]:
        """How many jobs are in each status (every status, 0 for none)."""
        with self.db.read() as conn:
            rows = conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status)).all()
        counts = dict.fromkeys(STATUSES, 0)
        counts.update({str(status): int(n) for status, n in rows})
        return counts

    def _update(self, job_id: str, *conditions: Any, **values: Any) -> bool:
        values.setdefault("updated_at", _now())
        with self.db.write() as conn:
            result = conn.execute(
                update(jobs).where(jobs.c.id == job_id, *conditions).values(**values)
            )
        return bool(result.rowcount)

    def claim(self, job_id: str, pid: int | None = None, owner: str = HOST) -> bool:
        """Move a queued job to running under `owner` (False if someone else took it).

        The owner is the service's host name, or "<host>/cli" for a job the CLI runs itself:
        a restarting service interrupts only its own host's jobs, never a CLI's.
        """
        now = _now()
        return self._update(
            job_id,
            jobs.c.status == "queued",
            status="running",
            started_at=now,
            heartbeat_at=now,
            worker_host=owner,
            worker_pid=pid,
        )

    def set_pid(self, job_id: str, pid: int) -> None:
        """Record the worker's process id."""
        self._update(job_id, worker_pid=pid)

    def heartbeat(self, job_id: str, progress: dict[str, Any] | None = None) -> bool:
        """Refresh the heartbeat (and progress); returns whether a cancel was asked for."""
        values: dict[str, Any] = {"heartbeat_at": _now()}
        if progress is not None:
            values["progress"] = json.dumps(progress)
        self._update(job_id, jobs.c.status == "running", **values)
        with self.db.read() as conn:
            flag = conn.execute(select(jobs.c.cancel_requested).where(jobs.c.id == job_id)).scalar()
        return bool(flag)

    def finish(
        self,
        job_id: str,
        status: str,
        *,
        result: dict | None = None,
        error: str | None = None,
        progress: dict | None = None,
    ) -> bool:
        """Record the end of a running (or queued) job; False if it had already ended."""
        assert status in FINISHED
        values: dict[str, Any] = {"status": status, "finished_at": _now()}
        if result is not None:
            values["result"] = json.dumps(result, default=str)
        if error is not None:
            values["error"] = error[:4000]
        if progress is not None:
            values["progress"] = json.dumps(progress)
        return self._update(job_id, jobs.c.status.in_(("queued", "running")), **values)

    def request_cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a queued job now, or flag a running one (its worker stops at its next step)."""
        job = self.get(job_id)
        if job["status"] == "queued":
            self.finish(job_id, "cancelled", error="cancelled before it started")
        elif job["status"] == "running":
            self._update(job_id, jobs.c.status == "running", cancel_requested=True)
        return self.get(job_id)

    def queued(self) -> list[dict[str, Any]]:
        """Queued jobs, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(jobs).where(jobs.c.status == "queued").order_by(jobs.c.created_at)
            ).all()
        return [job_dict(r) for r in rows]

    def running(self) -> list[dict[str, Any]]:
        """Running jobs."""
        with self.db.read() as conn:
            rows = conn.execute(select(jobs).where(jobs.c.status == "running")).all()
        return [job_dict(r) for r in rows]

    def stale(self, older_than_s: float) -> list[dict[str, Any]]:
        """Running jobs whose heartbeat is older than `older_than_s`."""
        cutoff = format_ts(datetime.now(UTC) - timedelta(seconds=older_than_s))
        with self.db.read() as conn:
            rows = conn.execute(
                select(jobs).where(jobs.c.status == "running", jobs.c.heartbeat_at < cutoff)
            ).all()
        return [job_dict(r) for r in rows]

    # --- automatic trigger: reviewed cases per domain ------------------------------------

    def reviewed_counts(self) -> dict[str, int]:
        """Reviewed cases per domain ("" for cases without a domain)."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(cases.c.domain, func.count())
                .where(cases.c.status == "reviewed")
                .group_by(cases.c.domain)
            ).all()
        return {str(d or ""): int(n) for d, n in rows}

    def trigger_marks(self) -> dict[str, int]:
        """Per domain, the reviewed count at the last automatic job."""
        with self.db.read() as conn:
            rows = conn.execute(select(triggers.c.domain, triggers.c.reviewed_count)).all()
        return {d: int(n) for d, n in rows}

    def set_mark(self, domain: str, count: int, job_id: str | None) -> None:
        """Remember the reviewed count at which `domain` last started a job."""
        now = _now()
        with self.db.write() as conn:
            done = conn.execute(
                update(triggers)
                .where(triggers.c.domain == domain)
                .values(reviewed_count=count, job_id=job_id, updated_at=now)
            ).rowcount
            if not done:
                conn.execute(
                    insert(triggers).values(
                        domain=domain, reviewed_count=count, job_id=job_id, updated_at=now
                    )
                )
