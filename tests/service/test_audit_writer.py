"""The audit writer's group commit on a real store: shared transactions, no wait when idle."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from service.audit_writer import AuditWriter
from service.metrics import Metrics
from tests.service.api_support import GOOD, chain
from validators import validate

LONG_WAIT_S = 60.0  # a wait this long would fail the test's own timeout: none must happen


class CountingStore:
    """The real store, counting the transactions that validation records are written in."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.transactions: list[int] = []  # records per transaction

    def record_validation_groups(self, groups: list[dict]) -> list[list[dict]]:
        self.transactions.append(sum(len(g["items"]) for g in groups))
        return self.store.record_validation_groups(groups)

    def record_validations(self, items: list[dict], **kw: Any) -> list[dict]:
        self.transactions.append(len(items))
        return self.store.record_validations(items, **kw)


def _item() -> dict[str, Any]:
    body = chain(GOOD)
    return {"chain": body, "report": validate(body), "model": "m", "adapter": None}


def _writer(store: Any, wait_s: float) -> tuple[AuditWriter, CountingStore, ThreadPoolExecutor]:
    counting = CountingStore(store)
    executor = ThreadPoolExecutor(1)
    metrics = Metrics([], [], [], 8)
    return AuditWriter(counting, executor, metrics, group_wait_s=wait_s), counting, executor


def _record(writer: AuditWriter, rid: str) -> Any:
    return writer.record([_item()], request_id=rid, key_id=None)


def test_an_idle_writer_writes_at_once(store) -> None:
    async def run() -> list[dict]:
        writer, counting, executor = _writer(store, LONG_WAIT_S)
        try:
            return await asyncio.wait_for(_record(writer, "alone"), 20)
        finally:
            executor.shutdown()

    records = asyncio.run(run())
    assert records[0]["record_id"] == 1 and store.verify_chain()["ok"] is True


async def _request(writer: AuditWriter, rid: str, validated: asyncio.Event) -> list[dict]:
    """validate_and_audit's shape: announced while validating, recorded as soon as done."""
    with writer.arriving(1):
        await validated.wait()
    return await _record(writer, rid)


def test_requests_still_validating_share_the_next_transaction(store) -> None:
    async def run() -> list[int]:
        writer, counting, executor = _writer(store, LONG_WAIT_S)
        validated = asyncio.Event()
        try:
            others = [asyncio.ensure_future(_request(writer, rid, validated)) for rid in ("b", "c")]
            await asyncio.sleep(0)  # both are validating now
            first = asyncio.ensure_future(_record(writer, "a"))
            await asyncio.sleep(0.05)
            assert not first.done(), "written before the announced records came"
            validated.set()
            await asyncio.wait_for(asyncio.gather(first, *others), 20)
            return counting.transactions
        finally:
            executor.shutdown()

    assert asyncio.run(run()) == [3]
    assert store.count_records() == 3 and store.verify_chain()["ok"] is True


def test_a_request_that_fails_its_validation_does_not_hold_the_write(store) -> None:
    async def run() -> list[int]:
        writer, counting, executor = _writer(store, LONG_WAIT_S)
        try:
            with pytest.raises(RuntimeError), writer.arriving(1):
                first = asyncio.ensure_future(_record(writer, "first"))
                await asyncio.sleep(0.05)
                raise RuntimeError("the worker died")  # its record will never come
            await asyncio.wait_for(first, 20)
            return counting.transactions
        finally:
            executor.shutdown()

    assert asyncio.run(run()) == [1]


def test_the_wait_is_bounded(store) -> None:
    async def run() -> list[int]:
        writer, counting, executor = _writer(store, 0.01)
        try:
            with writer.arriving(1):  # announced, and still validating when the wait ends
                await asyncio.wait_for(_record(writer, "first"), 20)
            return counting.transactions
        finally:
            executor.shutdown()

    assert asyncio.run(run()) == [1]
