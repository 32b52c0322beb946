"""The one typed application state (settings, store, metrics, engine runtime, job runner, audit
writer, validation pool) and its lifecycle: the app's lifespan calls start() and stop(), nothing
else starts or stops any of them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from service.audit_process import AuditProcess
from service.audit_writer import AuditWriter
from service.engines.factory import EngineRuntime
from service.metrics import Metrics
from service.ops.audit import service_actor
from service.pool import ValidationPool
from service.settings import Settings, open_store
from service.store.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from service.jobs.runner import JobRunner
    from service.store import Store

log = logging.getLogger("faithgate.service")
T = TypeVar("T")


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
    # Database reads from async code (key lookups, readiness): off the event loop, and bounded,
    # so that a stalled database ties up these threads at most, never the loop or /healthz.
    db_executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(8, thread_name_prefix="faithgate-db")
    )
    audit: AuditWriter | None = None
    audit_process: AuditProcess | None = None
    jobs: JobRunner | None = None
    _tasks: list[asyncio.Task] = field(default_factory=list)

    async def start(self) -> None:
        """Open the store; start the audit writer, workers, purge, engine load and job runner."""
        from service.jobs.runner import JobRunner

        s = self.settings
        # Started again after a stop() (an ASGI host may cycle the lifespan): fresh threads.
        if getattr(self.db_executor, "_shutdown", False):
            self.db_executor = ThreadPoolExecutor(8, thread_name_prefix="faithgate-db")
        if getattr(self.audit_executor, "_shutdown", False):
            self.audit_executor = ThreadPoolExecutor(1, thread_name_prefix="faithgate-audit")
        if self.store is None:
            self.store = await asyncio.to_thread(open_store, s)
        self.metrics.watch_state(self.store, s.registry_dir)
        self.pool = ValidationPool(
            s.workers, s.budget_s, s.worker_grace_s, on_restart=self._worker_lost
        )
        starting = [self.pool.start()]
        if s.audit_process and self.store.shareable:
            self.audit_process = AuditProcess(
                self.store.open_args, on_restart=self.metrics.audit_process_restarts.inc
            )
            starting.append(self.audit_process.start())
        await asyncio.gather(*starting)
        self.audit = AuditWriter(
            self.store,
            self.audit_executor,
            self.metrics,
            timeout_s=s.db_timeout_s,
            group_wait_s=s.audit_group_wait_ms / 1000,
            group_records=s.audit_group_records,
            process=self.audit_process,
        )
        self._tasks.append(asyncio.create_task(self._purge_loop()))
        self.runtime.start(self.audit)
        self.jobs = JobRunner(self.settings, self.store, self.runtime)
        await self.jobs.start()

    async def stop(self) -> None:
        """Stop in the reverse order: job runner, engine, tasks, workers, audit writers, store."""
        if self.jobs is not None:
            await self.jobs.stop()
        await self.runtime.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.pool is not None:
            await self.pool.close()
        if self.audit_process is not None:
            await self.audit_process.close()
        self.audit_executor.shutdown(wait=True)
        self.db_executor.shutdown(wait=False, cancel_futures=True)  # a stalled read may never end
        if self.owns_store and self.store is not None:
            self.store.close()

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(*args) on a database thread, at most db_timeout_s; else DatabaseUnavailable (503).

        On timeout the thread is left to finish on its own: a blocked driver call cannot be
        interrupted, and waiting for it is what froze the service.
        """
        loop = asyncio.get_running_loop()
        timeout = self.settings.db_timeout_s
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(self.db_executor, partial(fn, *args)), timeout
            )
        except TimeoutError:
            raise DatabaseUnavailable(
                f"the audit database did not answer within {timeout:g} s"
            ) from None

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
