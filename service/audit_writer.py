"""The async side of the audit trail: every append from async code runs on one audit thread.

Validation records are group-committed: requests arriving during a write share the next one,
and while other requests' chains are still being validated (`arriving`) a write waits a little
for them (at most `group_wait_s`, or until `group_records` are ready).

Every request still awaits its own records before it answers (the audit-before-response rule);
what is shared is the transaction, and with it the fsync and the per-transaction overhead that
otherwise dominate a single-chain request. With nothing else on its way a request is written at
once, so an idle service adds no latency.

The store's `record_validation_groups(groups)` writes several requests in one transaction; on a
store without it each request is its own transaction (same results, fewer savings).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from service.store.errors import AuditWriteError

if TYPE_CHECKING:
    from service.metrics import Metrics
    from service.ops.audit import Actor

log = logging.getLogger("faithgate.audit")

MAX_GROUP_ITEMS = 1024  # records per shared transaction
T = TypeVar("T")


@dataclass
class _Group:
    items: list[dict]
    request_id: str
    key_id: str | None
    redact: bool
    future: asyncio.Future[list[dict]]


class AuditWriter:
    """Appends records on one thread; validation records in shared transactions."""

    def __init__(
        self,
        store: Any,
        executor: Executor,
        metrics: Metrics,
        timeout_s: float | None = None,
        group_wait_s: float = 0.002,
        group_records: int = 64,
    ) -> None:
        self.store = store
        self.executor = executor
        self.metrics = metrics
        # A caller waits this long for its commit, then gets AuditWriteError (503): a stalled
        # database must not hold requests forever. The write itself goes on and may still land.
        self.timeout_s = timeout_s
        self.group_wait_s = group_wait_s
        self.group_records = min(group_records, MAX_GROUP_ITEMS)
        self._pending: list[_Group] = []
        self._pending_records = 0
        self._arriving = 0  # records of requests still being validated
        self._arrived = asyncio.Event()
        self._flushing: asyncio.Task | None = None

    @contextmanager
    def arriving(self, records: int) -> Iterator[None]:
        """Announces `records` that will be recorded when this block ends (it validates them)."""
        self._arriving += records
        try:
            yield
        finally:
            self._arriving -= records
            self._arrived.set()  # a waiting write re-checks: these may never come (a failure)

    async def append(self, event: str, actor: Actor, **fields: Any) -> dict[str, Any]:
        """Store.append for `actor` on the audit thread: the record, committed, and counted."""
        loop = asyncio.get_running_loop()
        write = partial(
            self.store.append, event, request_id=actor.request_id, key_id=actor.id, **fields
        )
        record = await self._bounded(loop.run_in_executor(self.executor, write))
        self.metrics.audit_records.labels(event).inc()
        return record

    async def record(
        self, items: list[dict], *, request_id: str, key_id: str | None, redact: bool = False
    ) -> list[dict]:
        """Store.record_validations semantics: the records, committed, or AuditWriteError."""
        loop = asyncio.get_running_loop()
        group = _Group(items, request_id, key_id, redact, loop.create_future())
        self._pending.append(group)
        self._pending_records += len(items)
        self._arrived.set()
        if self._flushing is None or self._flushing.done():
            self._flushing = loop.create_task(self._flush())
        return await self._bounded(group.future)

    async def _bounded(self, future: asyncio.Future[T]) -> T:
        if self.timeout_s is None:
            return await future
        try:
            # shield: a timed-out caller must not cancel a write that others share
            async with asyncio.timeout(self.timeout_s):
                return await asyncio.shield(future)
        except TimeoutError:
            raise AuditWriteError(
                f"the audit database did not commit within {self.timeout_s:g} s"
            ) from None

    async def _gather(self) -> None:
        """Wait (at most group_wait_s) for the records still being validated to join this write."""
        if self.group_wait_s <= 0 or not self._arriving:
            return
        try:
            async with asyncio.timeout(self.group_wait_s):
                while self._arriving and self._pending_records < self.group_records:
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            pass

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            await self._gather()
            take, count = [], 0
            while self._pending and (
                not take or count + len(self._pending[0].items) <= MAX_GROUP_ITEMS
            ):
                count += len(self._pending[0].items)
                take.append(self._pending.pop(0))
            self._pending_records -= count
            self.metrics.audit_group_records.observe(count)
            try:
                outcomes = await loop.run_in_executor(self.executor, self._write, take)
            except Exception as exc:  # _write reports per group; this is a bug or a shutdown
                outcomes = [exc] * len(take)
            for group, outcome in zip(take, outcomes, strict=True):
                if group.future.done():
                    continue
                if isinstance(outcome, BaseException):
                    group.future.set_exception(outcome)
                else:
                    group.future.set_result(outcome)

    def _write(self, groups: list[_Group]) -> list[list[dict] | Exception]:
        """On the audit thread: one transaction for all groups if the store can, else one each."""
        write_groups = getattr(self.store, "record_validation_groups", None)
        if write_groups is not None and len(groups) > 1:
            try:
                return write_groups(
                    [
                        {
                            "items": g.items,
                            "request_id": g.request_id,
                            "key_id": g.key_id,
                            "redact": g.redact,
                        }
                        for g in groups
                    ]
                )
            except AuditWriteError:
                # One bad group must not fail its neighbours: retry them one by one below.
                log.warning(
                    "shared audit transaction failed; writing its %d groups singly", len(groups)
                )
        outcomes: list[list[dict] | Exception] = []
        for g in groups:
            try:
                outcomes.append(
                    self.store.record_validations(
                        g.items, request_id=g.request_id, key_id=g.key_id, redact=g.redact
                    )
                )
            except Exception as exc:
                outcomes.append(exc)
        return outcomes
