"""The validation worker pool: order, splitting, and workers that die or stall are replaced."""

# The fixtures imported from api_support reappear as test parameters (pytest injects them).
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

import pytest

from service.pool import ValidationPool, WorkerFailed, _Task
from tests.service.api_support import BAD, GOOD, chain, sqlite_api_factory  # noqa: F401


async def _until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def test_reports_come_back_in_order_across_workers() -> None:
    async def scenario() -> None:
        pool = ValidationPool(2, budget_s=2.0)
        await pool.start()
        try:
            chains = [chain(GOOD if i % 2 else BAD) for i in range(9)]
            reports, single = await asyncio.gather(
                pool.validate(chains), pool.validate([chains[0]])
            )
            assert [r["id"] for r in reports] == [c["id"] for c in chains]
            assert [r["verdict"] for r in reports] == [
                "faithful" if i % 2 else "unfaithful" for i in range(9)
            ]
            assert single[0]["id"] == chains[0]["id"]
            assert await pool.validate([]) == []
            assert pool.ready_workers == 2
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_a_killed_worker_fails_its_request_and_is_replaced() -> None:
    lost: list[str] = []

    async def scenario() -> None:
        pool = ValidationPool(1, budget_s=2.0, on_restart=lost.append)
        await pool.start()
        try:
            (pid,) = pool.pids()
            os.kill(pid, signal.SIGSTOP)  # hold it so the request is surely in flight
            pending = asyncio.ensure_future(pool.validate([chain(GOOD)]))
            await asyncio.sleep(0.2)
            assert not pending.done()
            os.kill(pid, signal.SIGKILL)
            with pytest.raises(WorkerFailed, match="exited"):
                await pending
            await _until(lambda: pool.ready_workers == 1)
            assert pool.pids() != [pid]
            (report,) = await pool.validate([chain(GOOD)])
            assert report["verdict"] == "faithful"
        finally:
            await pool.close()

    asyncio.run(scenario())
    assert len(lost) == 1


def test_a_stalled_worker_is_killed_after_budget_and_grace() -> None:
    async def scenario() -> None:
        pool = ValidationPool(1, budget_s=0.1, grace_s=0.3)
        await pool.start()
        try:
            (pid,) = pool.pids()
            os.kill(pid, signal.SIGSTOP)  # a worker that never answers (a hung C extension)
            with pytest.raises(WorkerFailed, match="time budget"):
                await pool.validate([chain(GOOD)])
            await _until(lambda: pool.ready_workers == 1)
            (report,) = await pool.validate([chain(GOOD)])
            assert report["id"] is not None
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_other_requests_go_on_while_one_worker_is_stuck() -> None:
    async def scenario() -> None:
        pool = ValidationPool(2, budget_s=5.0, grace_s=30.0)
        await pool.start()
        try:
            pids = pool.pids()
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
            first = asyncio.ensure_future(pool.validate([chain(GOOD)]))
            await asyncio.sleep(0.1)
            # The worker that took the first request stays stuck (a chain that never ends).
            (stuck,) = [w.proc.pid for w in pool._workers if w.inflight]
            for pid in pids:
                if pid != stuck:
                    os.kill(pid, signal.SIGCONT)
            for _ in range(5):
                (report,) = await asyncio.wait_for(pool.validate([chain(GOOD)]), 30)
                assert report["verdict"] == "faithful"
            assert not first.done()
            os.kill(stuck, signal.SIGKILL)
            with pytest.raises(WorkerFailed):
                await first
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_close_fails_queued_work_and_stops_the_workers() -> None:
    async def scenario() -> None:
        pool = ValidationPool(1, budget_s=2.0)
        await pool.start()
        (pid,) = pool.pids()
        os.kill(pid, signal.SIGSTOP)
        busy = asyncio.ensure_future(pool.validate([chain(GOOD)]))
        queued = asyncio.ensure_future(pool.validate([chain(GOOD)]))
        await asyncio.sleep(0.1)
        os.kill(pid, signal.SIGCONT)
        await pool.close()
        results = await asyncio.gather(busy, queued, return_exceptions=True)
        assert [type(r) for r in results] == [WorkerFailed, WorkerFailed]
        assert pool.ready_workers == 0
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)

    asyncio.run(scenario())


def test_http_request_on_a_dying_worker_is_a_503_not_a_hang(sqlite_api_factory) -> None:
    api = sqlite_api_factory(workers=1)
    pool = api.app.state.faithgate.pool
    (pid,) = pool.pids()
    os.kill(pid, signal.SIGSTOP)
    killer = threading.Timer(0.5, os.kill, (pid, signal.SIGKILL))
    killer.start()
    r = api.client.post("/v1/validate", json=chain(GOOD), headers=api.auth("validate"))
    killer.join()
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "worker_failed"
    deadline = time.monotonic() + 60
    while api.client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "no replacement worker"
        time.sleep(0.1)
    ok = api.client.post("/v1/validate", json=chain(GOOD), headers=api.auth("validate"))
    assert ok.status_code == 200
    metrics = api.client.get("/metrics").text
    assert "faithgate_validation_worker_restarts_total 1.0" in metrics


def test_a_request_that_waits_too_long_is_failed_not_left_hanging() -> None:
    async def scenario() -> None:
        pool = ValidationPool(1, budget_s=5.0, grace_s=60.0)
        await pool.start()
        try:
            (pid,) = pool.pids()
            os.kill(pid, signal.SIGSTOP)
            with pytest.raises(WorkerFailed, match="did not finish"):
                await pool.validate([chain(GOOD)], timeout=0.3)
            queued = pool.validate([chain(GOOD)], timeout=0.3)  # waits behind the first
            with pytest.raises(WorkerFailed, match="did not finish"):
                await queued
            os.kill(pid, signal.SIGCONT)
            (report,) = await pool.validate([chain(GOOD)], timeout=60)
            assert report["verdict"] == "faithful"
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_tasks_behind_a_stuck_one_are_handed_to_another_worker() -> None:
    async def scenario() -> None:
        pool = ValidationPool(2, budget_s=0.2, grace_s=0.5)
        await pool.start()
        try:
            stuck, other = pool._workers
            os.kill(stuck.proc.pid, signal.SIGSTOP)
            # One message holding three tasks, as coalescing sends them under load.
            loop = asyncio.get_running_loop()
            tasks = [_Task(1000 + i, [chain(GOOD)], None, loop.create_future()) for i in range(3)]
            pool._idle.remove(stuck)
            pool._send(stuck, tasks, 3)
            results = await asyncio.gather(*(t.future for t in tasks), return_exceptions=True)
            assert isinstance(results[0], WorkerFailed)  # the one the worker was on
            # each task's result: [(report, its audit entry)]
            assert [r[0][0]["verdict"] for r in results[1:]] == ["faithful", "faithful"]
            assert other.proc.pid in pool.pids()
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_the_worker_makes_each_audit_entry_as_the_store_would() -> None:
    import pickle

    from service.pool import AuditLabels
    from service.store.records import validation_entry

    chains = [chain(GOOD), {"id": "odd", "question": "a lone \ud800 surrogate?", "x": 1.5e-7}]
    labels = [{"model": "m1", "adapter": None}, {"model": "m2", "adapter": "a"}]

    async def scenario() -> tuple[list, list, list]:
        pool = ValidationPool(2, budget_s=2.0)
        await pool.start()
        try:
            plain = await pool.validated(chains)
            audited = await pool.validated(chains, audit=AuditLabels("r1", "k1", False, labels))
            redacted = await pool.validated(chains, audit=AuditLabels("r2", None, True, labels))
            return plain, audited, redacted
        finally:
            await pool.close()

    plain, audited, redacted = asyncio.run(scenario())
    assert [entry for _report, entry in plain] == [None, None]  # nothing to audit
    for (rid, key, redact), validated in (
        (("r1", "k1", False), audited),
        (
            ("r2", None, True),
            redacted,
        ),
    ):
        assert len(validated) == 2
        for sent, label, (report, entry) in zip(chains, labels, validated, strict=True):
            item = {"chain": sent, "report": report, **label}
            # The very record the store would make (surrogate repaired alike), each chain with
            # its own labels although the batch was split across the two workers.
            assert pickle.loads(entry) == validation_entry(item, rid, key, redact)
    first = pickle.loads(redacted[0][1])
    assert first.redacted and "Natalia" not in first.payload and first.input_sha256
    assert "Natalia" in pickle.loads(audited[0][1]).payload


def test_frames_are_cut_from_the_bytes_however_they_arrive() -> None:
    from service.pool import FrameProtocol
    from service.worker import HEADER

    frames = [b"a", b"", b"x" * 70_000]  # one larger than a pipe read
    wire = b"".join(HEADER.pack(len(f)) + f for f in frames)

    async def feed(chunks: list[bytes], attach_after: int = 0) -> list[bytes | None]:
        got: list[bytes | None] = []
        protocol = FrameProtocol()
        for i, chunk in enumerate(chunks):
            if i == attach_after:
                protocol.attach(got.append)
            protocol.pipe_data_received(1, chunk)
        if attach_after >= len(chunks):
            protocol.attach(got.append)
        protocol.pipe_connection_lost(1, None)
        return got

    assert asyncio.run(feed([wire])) == [*frames, None]  # several frames in one read
    assert asyncio.run(feed([wire[i : i + 1] for i in range(len(wire))])) == [*frames, None]
    assert asyncio.run(feed([wire[:-1]])) == [*frames[:2], None]  # a cut frame is never handed on
    # Frames that come before the pool attaches are handed on when it does, in order.
    assert asyncio.run(feed([wire[:5], wire[5:]], attach_after=2)) == [*frames, None]


def test_a_garbled_frame_retires_the_worker_and_the_pool_goes_on() -> None:
    async def scenario() -> None:
        pool = ValidationPool(1, budget_s=2.0)
        await pool.start()
        try:
            (worker,) = pool._workers
            pool._frame(worker, b"not a pickle")
            assert worker.gone
            deadline = time.monotonic() + 60
            while not pool.ready_workers:
                assert time.monotonic() < deadline, "no replacement worker"
                await asyncio.sleep(0.1)
            (report,) = await pool.validate([chain(GOOD)], timeout=60)
            assert report["verdict"] == "faithful"
        finally:
            await pool.close()

    asyncio.run(scenario())
