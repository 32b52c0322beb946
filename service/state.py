"""The one typed application state (settings, store, metrics, engine runtime, job runner, audit
writer, validation pool) and its lifecycle: the app's lifespan calls start() and stop(), nothing
else starts or stops any of them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from service.audit_writer import AuditWriter
from service.engines.factory import EngineRuntime
from service.metrics import Metrics
from service.ops.audit import service_actor
from service.pool import ValidationPool
from service.settings import Settings, open_store

if TYPE_CHECKING:
    from service.jobs.runner import JobRunner
    from service.store import Store

log = logging.getLogger("faithgate.service")


@dataclass
class AppState:
    """The resources of one app, reachable from handlers as request.app.state.faithgate."""

    settings: Settings
    metrics: Metrics
    runtime: EngineRuntime
    store: Store | None = None  # opened by start() unless given (tests, embedding)
    owns_store: bool = True
    pool: ValidationPool | None = None
    # Audit writes from async code go through one thread: one hash chain, written in order.
    audit_executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="faithgate-audit")
    )
    audit: AuditWriter | None = None
    jobs: JobRunner | None = None
    _tasks: list[asyncio.Task] = field(default_factory=list)

    async def start(self) -> None:
        """Open the store; start the audit writer, workers, purge, engine load and job runner."""
        from service.jobs.runner import JobRunner

        s = self.settings
        if self.store is None:
            self.store = await asyncio.to_thread(open_store, s)
        self.metrics.watch_state(self.store, s.registry_dir)
        self.audit = AuditWriter(self.store, self.audit_executor, self.metrics)
        self.pool = ValidationPool(
            s.workers, s.budget_s, s.worker_grace_s, on_restart=self._worker_lost
        )
        await self.pool.start()
        self._tasks.append(asyncio.create_task(self._purge_loop()))
        self.runtime.start(self.audit)
        self.jobs = JobRunner(self.settings, self.store, self.runtime)
        await self.jobs.start()

    async def stop(self) -> None:
        """Stop in the reverse order: job runner, engine, tasks, workers, audit thread, store."""
        if self.jobs is not None:
            await self.jobs.stop()
        await self.runtime.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.pool is not None:
            await self.pool.close()
        self.audit_executor.shutdown(wait=True)
        if self.owns_store and self.store is not None:
            self.store.close()

    def _worker_lost(self, why: str) -> None:
        self.metrics.worker_restarts.inc()

    async def _purge_loop(self) -> None:
        # Expired payloads are dropped on a timer; a failure is logged and retried next round.
        actor = service_actor("retention")
        while True:
            try:
                purged = await asyncio.to_thread(self.store.purge_expired, actor=actor.id)
                if purged:
                    log.info("retention: purged %d expired audit payloads", purged)
            except Exception:
                log.exception("retention purge failed")
            await asyncio.sleep(self.settings.purge_interval_s)
