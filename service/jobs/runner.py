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
from typing import TYPE_CHECKING, Any

from service.engines.factory import EngineRuntime
from service.jobs import hotload, launch
from service.jobs.store import HOST, JobStore
from service.jobs.triggers import due_domains
from service.ops import jobs as job_ops
from service.ops.audit import Actor, record, service_actor
from service.ops.errors import OpError
from service.settings import Settings
from training.registry import Registry

if TYPE_CHECKING:
    from service.store import Store

log = logging.getLogger("faithgate.jobs")
TICK_S = 1.0
TRIGGER_EVERY_S = 30.0
KILL_AFTER_S = 30.0
# Even with the registry unchanged, the engine is checked this often: an engine server that was
# restarted (by Kubernetes, say) has lost its adapters and must get the promoted ones back.
RESYNC_S = 30.0


class JobRunner:
    """Runs training jobs for one app (see the module docstring)."""

    def __init__(self, settings: Settings, store: Store, runtime: EngineRuntime) -> None:
        self.settings = settings
        self.store = store
        self.runtime = runtime
        self.actor = service_actor("jobs")
        self.jobs = JobStore(store)
        self.registry = Registry(settings.registry_dir)
        self.procs: dict[str, subprocess.Popen] = {}
        self.signalled: dict[str, float] = {}
        self.failed_loads: dict[str, str] = {}
        self._task: asyncio.Task | None = None
        self._last_trigger = 0.0
        self._registry_stamp = -1.0
        self._synced_at = 0.0
        self._sync_lock = asyncio.Lock()
        self._stopping = False

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
                record(
                    self.store,
                    "training.interrupted",
                    self.actor,
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
            self.jobs.finish(
                job["id"], "interrupted", error="interrupted: the worker stopped sending heartbeats"
            )

    def _start_queued(self) -> None:
        limit = self.settings.training_max_jobs
        for job in self.jobs.queued():
            if len(self.procs) >= limit or self._stopping:
                return
            if not self.jobs.claim(job["id"]):
                continue
            proc = launch.spawn(job["id"], self.settings)
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

    def start_auto(self, domain: str, count: int) -> dict[str, Any] | None:
        """Queue the automatic job of a domain that reached its reviewed-case count.

        A job the guards refuse (no base model yet, say) is logged and tried again next round.
        """
        request = job_ops.JobRequest(cases={"domain": domain} if domain else {})
        try:
            job, _ = job_ops.create_job(
                self.store,
                self.settings,
                request,
                self.actor,
                triggered_by="auto",
                dedup_key=f"auto:{domain}:{count}",
            )
        except OpError as exc:
            log.warning("domain %r: automatic job refused: %s", domain, exc.message)
            return None
        self.jobs.set_mark(domain, count, job["id"])
        log.info("domain %r reached %d reviewed cases: job %s", domain, count, job["id"])
        return job

    # --- adapters --------------------------------------------------------------------------

    async def sync_engine(self, force: bool = True, actor: Actor | None = None) -> dict[str, Any]:
        """Bring the engine's adapters in line with the registry (changed, forced or due)."""
        stamp = self.registry.stamp()
        due = time.monotonic() - self._synced_at >= RESYNC_S
        if not force and not due and stamp == self._registry_stamp:
            return {"engine": None, "loaded": [], "unloaded": [], "errors": {}}
        async with self._sync_lock:
            result = await hotload.sync(
                self.runtime, self.registry, self.failed_loads, actor or self.actor
            )
        if result["engine"]:
            self._registry_stamp, self._synced_at = stamp, time.monotonic()
        return result


def _signal(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(OSError):
        proc.send_signal(sig)
