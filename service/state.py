"""What a running app holds (settings, store, worker pool, metrics) and its start and stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from service.audit_writer import AuditWriter
from service.metrics import Metrics
from service.pool import ValidationPool
from service.settings import Settings

log = logging.getLogger("faithgate.service")


@dataclass
class AppState:
    """The resources of one app, reachable from handlers as request.app.state.faithgate."""

    settings: Settings
    metrics: Metrics
    store: Any = None  # service.store.Store (or a test double with the same methods)
    pool: ValidationPool | None = None
    # Audit writes go through one thread: the records form one hash chain, written in order.
    audit_executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="faithgate-audit")
    )
    audit_writer: AuditWriter | None = None
    owns_store: bool = True
    _tasks: list[asyncio.Task] = field(default_factory=list)

    async def start(self) -> None:
        """Open (and migrate) the store, start the validation workers and the retention purge."""
        s = self.settings
        if self.store is None:
            from service.store import Store

            def open_store() -> Store:
                s.data_dir.mkdir(parents=True, exist_ok=True)
                store = Store(s.resolved_database_url, s.data_dir, retention_days=s.retention_days)
                store.migrate()
                return store

            self.store = await asyncio.to_thread(open_store)
        from service.jobs.runner import training_dir

        self.metrics.watch_state(self.store, training_dir(s, "adapters"))
        self.audit_writer = AuditWriter(self.store, self.audit_executor)
        self.pool = ValidationPool(
            s.workers, s.budget_s, s.worker_grace_s, on_restart=self._worker_lost
        )
        await self.pool.start()
        self._tasks.append(asyncio.create_task(self._purge_loop()))

    async def stop(self) -> None:
        """Stop in the reverse order: background tasks, workers, audit thread, store."""
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
        while True:
            try:
                purged = await asyncio.to_thread(self.store.purge_expired)
                if purged:
                    log.info("retention: purged %d expired audit payloads", purged)
            except Exception:
                log.exception("retention purge failed")
            await asyncio.sleep(self.settings.purge_interval_s)
