"""The service's job runner: starts queued jobs in worker processes, watches them, triggers.

One asyncio task per app. Each tick (about a second) it reaps finished workers, forwards cancel
requests as SIGTERM, marks jobs whose worker is gone or silent as interrupted, starts queued
jobs up to the concurrency limit, starts jobs for domains whose reviewed cases reached the
configured count, and syncs the engine's adapters with the registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from service.jobs import hotload, launch
from service.jobs.spec import job_config
from service.jobs.store import HOST, JobStore
from service.jobs.triggers import due_domains
from training.registry import Registry

log = logging.getLogger("faithgate.jobs")
TICK_S = 1.0
TRIGGER_EVERY_S = 30.0
KILL_AFTER_S = 30.0
# Even with the registry unchanged, the engine is checked this often: an engine server that was
# restarted (by Kubernetes, say) has lost its adapters and must get the promoted ones back.
RESYNC_S = 30.0
FINAL_STATUSES = ("succeeded", "failed", "cancelled", "interrupted")


class JobRunner:
    """Runs training jobs for one app (see the module docstring)."""

    def __init__(self, app: Any, settings: Any, store: Any, metrics: Any = None) -> None:
        self.app = app
        self.settings = settings
        self.store = store
        self.jobs = JobStore(store)
        self.registry = Registry(training_dir(settings, "adapters"))
        self.procs: dict[str, subprocess.Popen] = {}
        self.signalled: dict[str, float] = {}
        self.failed_loads: dict[str, str] = {}
        self._task: asyncio.Task | None = None
        self._last_trigger = 0.0
        self._registry_stamp = -1.0
        self._synced_at = 0.0
        self._sync_lock = asyncio.Lock()
        self._stopping = False
        self.counters = _metrics(metrics)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Mark jobs this host ran before a restart as interrupted, then start ticking."""
        await asyncio.to_thread(self.recover)
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop ticking; the workers' jobs end as interrupted (the service is going away)."""
        self._stopping = True  # a tick still running in its thread starts nothing more
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for job_id, proc in list(self.procs.items()):
            await asyncio.to_thread(
                self.jobs.finish,
                job_id,
                "interrupted",
                error="the service stopped while the job ran",
            )
            _signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
            if proc.poll() is None:
                _signal(proc, signal.SIGKILL)
        self.procs.clear()

    def recover(self) -> None:
        """Jobs left "running" on this host by an earlier process are interrupted."""
        for job in self.jobs.running():
            worker = job["worker"]
            if worker["host"] != HOST or job["id"] in self.procs:
                continue
            if launch.is_worker(worker["pid"], job["id"]):
                with contextlib.suppress(OSError):
                    os.kill(worker["pid"], signal.SIGKILL)
            if self.jobs.finish(
                job["id"],
                "interrupted",
                error="interrupted: the service restarted while the job ran",
            ):
                self._count("interrupted")
                self.store.append(
                    "training.interrupted",
                    data={"job_id": job["id"], "reason": "service restarted"},
                )

    # --- the tick -------------------------------------------------------------------------------

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.tick)
                await self.sync_engine(force=False)
            except Exception:
                log.exception("job runner tick failed")
            await asyncio.sleep(TICK_S)

    def tick(self) -> None:
        """One round of housekeeping (blocking; runs in a thread)."""
        self._reap()
        self._forward_cancels()
        self._expire_stale()
        self._auto_trigger()
        self._start_queued()

    def _reap(self) -> None:
        for job_id, proc in list(self.procs.items()):
            code = proc.poll()
            if code is None:
                continue
            del self.procs[job_id]
            self.signalled.pop(job_id, None)
            job = self.jobs.get(job_id)
            if job["status"] == "running":  # the worker died without recording its end
                status = "cancelled" if job["cancel_requested"] else "failed"
                self.jobs.finish(job_id, status, error=f"the worker exited with code {code}")
                job = self.jobs.get(job_id)
            self._count(job["status"])

    def _forward_cancels(self) -> None:
        now = time.monotonic()
        for job in self.jobs.running():
            proc = self.procs.get(job["id"])
            if proc is None or not job["cancel_requested"]:
                continue
            first = self.signalled.setdefault(job["id"], now)
            if first == now:
                _signal(proc, signal.SIGTERM)
            elif now - first > KILL_AFTER_S:
                _signal(proc, signal.SIGKILL)

    def _expire_stale(self) -> None:
        for job in self.jobs.stale(self.settings.training_stale_s):
            if job["id"] in self.procs and self.procs[job["id"]].poll() is None:
                continue  # our own live worker: slow, not gone
            if self.jobs.finish(
                job["id"], "interrupted", error="interrupted: the worker stopped sending heartbeats"
            ):
                self._count("interrupted")

    def _start_queued(self) -> None:
        limit = self.settings.training_max_jobs
        for job in self.jobs.queued():
            if len(self.procs) >= limit or self._stopping:
                return
            if not self.jobs.claim(job["id"]):
                continue
            url = self.settings.resolved_database_url
            proc = launch.spawn(job["id"], url, Path(self.settings.data_dir))
            self.procs[job["id"]] = proc
            self.jobs.set_pid(job["id"], proc.pid)
            log.info("job %s started in worker %d", job["id"], proc.pid)

    def _auto_trigger(self) -> None:
        threshold = self.settings.training_auto_reviewed_cases
        if threshold <= 0 or time.monotonic() - self._last_trigger < TRIGGER_EVERY_S:
            return
        self._last_trigger = time.monotonic()
        counts, marks = self.jobs.reviewed_counts(), self.jobs.trigger_marks()
        for domain in due_domains(counts, marks, threshold):
            self.start_auto(domain, counts[domain])

    def start_auto(self, domain: str, count: int) -> dict[str, Any]:
        """Queue the automatic job of a domain that reached its reviewed-case count."""
        cases = {"status": "reviewed", **({"domain": domain} if domain else {})}
        config = job_config(base=default_base(self.settings), cases=cases)
        job, _ = self.jobs.create(config, triggered_by="auto", dedup_key=f"auto:{domain}:{count}")
        self.jobs.set_mark(domain, count, job["id"])
        log.info("domain %r reached %d reviewed cases: job %s", domain, count, job["id"])
        return job

    # --- adapters --------------------------------------------------------------------------

    async def sync_engine(
        self, force: bool = True, request_id: str | None = None, key_id: str | None = None
    ) -> dict[str, Any]:
        """Bring the engine's adapters in line with the registry (changed, forced or due)."""
        stamp = self.registry.stamp()
        due = time.monotonic() - self._synced_at >= RESYNC_S
        if not force and not due and stamp == self._registry_stamp:
            return {"engine": None, "loaded": [], "unloaded": [], "errors": {}}
        async with self._sync_lock:
            result = await hotload.sync(
                self.app, self.registry, self.failed_loads, request_id=request_id, key_id=key_id
            )
        if result["engine"]:
            self._registry_stamp, self._synced_at = stamp, time.monotonic()
        return result

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a job: a queued one ends now (and is counted), a running one is flagged."""
        job = self.jobs.request_cancel(job_id)
        if job["status"] == "cancelled":
            self._count("cancelled")
        return job

    def _count(self, status: str) -> None:
        if self.counters is not None:
            self.counters.labels(status).inc()


def _signal(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(OSError):
        proc.send_signal(sig)


def training_dir(settings: Any, kind: str) -> Path:
    """The registry ("adapters") or run ("training") folder: <data_dir>/<kind>, as the worker's."""
    return Path(settings.data_dir) / kind


def default_base(settings: Any) -> str:
    """The base model jobs train on unless they name one: the one the engine serves."""
    from service.engines.model_files import default_model_dir

    configured = getattr(settings, "training_base_model", None) or getattr(settings, "model", None)
    return str(configured or default_model_dir(Path(settings.data_dir)))


def _metrics(metrics: Any) -> Any:
    if metrics is None or not hasattr(metrics, "registry"):
        return None
    from prometheus_client import Counter

    try:
        counter = Counter(
            "faithgate_training_jobs_total",
            "Training jobs ended, by final status",
            ["status"],
            registry=metrics.registry,
        )
    except ValueError:  # already registered on this registry
        return None
    for status in FINAL_STATUSES:  # at 0 from the start, so that a first ending shows in rate()
        counter.labels(status)
    return counter
