"""The async side of the audit trail: every append from async code runs on one audit thread.

Validation records are group-committed: requests arriving during a write share the next one,
and while other requests' chains are still being validated (`arriving`) a write waits a little
for them (at most `group_wait_s`, or until `group_records` are ready).

Every request still awaits its own records before it answers (the audit-before-response rule);
what is shared is the transaction, and with it the fsync and the per-transaction overhead that
otherwise dominate a single-chain request. With nothing else on its way a request is written at
once, so an idle service adds no latency.

The writes themselves run in the audit writer process (service.audit_process) when one is
given, else on the audit thread; either way through audit_process.write_groups: the store's
`record_validation_groups(groups)` writes several requests in one transaction (on a store without
it each request is its own transaction: same results, fewer savings). An item whose validation
worker made its record ("entry", pickled) travels as those bytes, unopened by this process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from service.audit_process import Outcome, write_groups
from service.store.errors import AuditWriteError

if TYPE_CHECKING:
    from service.audit_process import AuditProcess
    from service.metrics import Metrics
    from service.ops.audit import Actor

MAX_GROUP_ITEMS = 1024  # records per shared transaction
T = TypeVar("T")


@dataclass
class _Group:
    items: list[dict]
    request_id: str
    key_id: str | None
    redact: bool
    future: asyncio.Future[list[dict]]

    def wire(self) -> dict[str, Any]:
        """The group as write_groups takes it: each item its worker-made entry if it has one."""
        return {
            "items": [item.get("entry") or item for item in self.items],
            "request_id": self.request_id,
            "key_id": self.key_id,
            "redact": self.redact,
        }


class AuditWriter:
    """Appends records on one thread; validation records in shared transactions, written by
    the audit writer process when there is one."""

    def __init__(
        self,
        store: Any,
        executor: Executor,
        metrics: Metrics,
        timeout_s: float | None = None,
        group_wait_s: float = 0.002,
        group_records: int = 64,
        process: AuditProcess | None = None,
    ) -> None:
        self.store = store
        self.process = process  # writes validation records when given (else the audit thread)
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
            wire = [g.wire() for g in take]
            outcomes: list[Outcome]
            try:
                if self.process is not None:
                    outcomes = await self.process.write(wire)
                else:
                    outcomes = await loop.run_in_executor(
                        self.executor, write_groups, self.store, wire
                    )
            except Exception as exc:  # write_groups reports per group: a bug, a dead child
                outcomes = [exc] * len(take)
            for group, outcome in zip(take, outcomes, strict=True):
                if group.future.done():
                    continue
                if isinstance(outcome, BaseException):
                    group.future.set_exception(outcome)
                else:
                    group.future.set_result(outcome)
