"""Validation off the event loop: worker processes fed through pipes, replaced when they die.

Each worker is a `python -m service.worker` child speaking length-prefixed pickle frames on its
stdin/stdout (see service/worker.py). The event loop writes a message of tasks to an idle worker,
and each worker's stdout protocol cuts frames out of the bytes as they arrive and resolves each
task's future, so no thread and no reader task sits between a request and its worker. A worker
that exits, crashes or runs past the budgets of its chains (plus a grace period) is killed and
replaced: the request it was on fails with WorkerFailed instead of hanging, and the tasks queued
behind it on that worker are handed on.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import math
import os
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from service.worker import HEADER

log = logging.getLogger("faithgate.pool")

# Coalesce queued tasks into one message up to this many chains: when more tasks wait than
# workers are idle they would queue anyway, and one pipe round trip costs less than several.
MAX_COALESCE_CHAINS = 32
START_TIMEOUT_S = 120.0
_ROOT = str(Path(__file__).resolve().parents[1])


class WorkerFailed(RuntimeError):
    """The worker validating a request died or was killed; the request gets an error."""


# A report and the pickled audit-record Entry the worker made of it (None without an audit).
Validated = tuple[dict, bytes | None]


@dataclass(frozen=True)
class AuditLabels:
    """Who asked (the audit record's actor) and each chain's labels ({"model", "adapter"})."""

    request_id: str
    key_id: str | None
    redact: bool
    labels: list[dict[str, Any]]

    def part(self, start: int, stop: int) -> tuple:
        """The worker's `audit` for chains[start:stop] (see service/worker.py)."""
        return (self.request_id, self.key_id, self.redact, self.labels[start:stop])


@dataclass
class _Task:
    id: int
    chains: list[Any]
    audit: tuple | None
    future: asyncio.Future[list[Validated]]


@dataclass
class _Worker:
    proc: asyncio.subprocess.Process
    ready: asyncio.Future[None]
    inflight: dict[int, _Task] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None
    gone: bool = False


class FrameProtocol(asyncio.subprocess.SubprocessStreamProtocol):
    """A worker's pipes, its stdout cut into frames in the callback that receives the bytes.

    It replaces a reader task that woke and awaited twice per frame. Frames (and the end of
    stdout, as None) that come before the pool attaches its handler are kept until it does.
    """

    def __init__(self) -> None:
        super().__init__(limit=2**16, loop=asyncio.get_running_loop())
        self._buffer = bytearray()
        self._handle: Callable[[bytes | None], None] | None = None
        self._early: list[bytes | None] = []

    def attach(self, handle: Callable[[bytes | None], None]) -> None:
        """From now on each frame, then None at the end of stdout, goes to `handle`."""
        self._handle = handle
        for frame in self._early:
            handle(frame)
        self._early.clear()

    def _deliver(self, frame: bytes | None) -> None:
        if self._handle is None:
            self._early.append(frame)
        else:
            self._handle(frame)

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd != 1:
            super().pipe_data_received(fd, data)
            return
        buf = self._buffer
        buf += data
        while len(buf) >= HEADER.size:
            (size,) = HEADER.unpack_from(buf)
            end = HEADER.size + size
            if len(buf) < end:
                break
            frame = bytes(buf[HEADER.size : end])
            del buf[:end]
            self._deliver(frame)

    def pipe_connection_lost(self, fd: int, exc: BaseException | None) -> None:
        super().pipe_connection_lost(fd, exc)
        if fd == 1:
            self._deliver(None)


class ValidationPool:
    """A fixed number of validation worker processes, used from one asyncio event loop."""

    def __init__(
        self,
        size: int,
        budget_s: float,
        grace_s: float = 5.0,
        on_restart: Callable[[str], None] | None = None,
    ) -> None:
        self.size = size
        self.budget_s = budget_s
        self.grace_s = grace_s
        self.on_restart = on_restart
        self._workers: list[_Worker] = []
        self._idle: list[_Worker] = []
        self._queue: collections.deque[_Task] = collections.deque()
        self._ids = itertools.count()
        self._closing = False
        self._background: set[asyncio.Task] = set()

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        """Start every worker and wait until each has loaded the validators."""
        workers = await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        await asyncio.wait_for(asyncio.gather(*(w.ready for w in workers)), START_TIMEOUT_S)

    async def close(self) -> None:
        """Stop the workers (they exit when their stdin closes) and fail anything queued."""
        self._closing = True
        while self._queue:
            self._fail(self._queue.popleft(), WorkerFailed("the service is shutting down"))
        workers = list(self._workers)
        for w in workers:
            self._drop(w, "the service is shutting down", kill=False)
        await asyncio.gather(*(reap(w.proc) for w in workers))
        for task in list(self._background):
            task.cancel()

    @property
    def ready_workers(self) -> int:
        """How many workers are up and accepting work."""
        return sum(1 for w in self._workers if w.ready.done() and not w.gone)

    @property
    def pending(self) -> int:
        """Tasks waiting for a worker."""
        return len(self._queue)

    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        return [w.proc.pid for w in self._workers if not w.gone]

    # --- work -----------------------------------------------------------------------------
    async def validate(self, chains: list[Any], timeout: float | None = None) -> list[dict]:
        """The reports of `chains`, in order, computed by the workers (split across them).

        WorkerFailed if a worker dies on them, or if they are not all done within `timeout`
        seconds (queueing included: no request waits forever for a pool that cannot start).
        """
        return [report for report, _entry in await self.validated(chains, timeout)]

    async def validated(
        self, chains: list[Any], timeout: float | None = None, audit: AuditLabels | None = None
    ) -> list[Validated]:
        """validate(), each report with its audit Entry when `audit` says who the record is for."""
        if not chains:
            return []
        per = math.ceil(len(chains) / self.size)
        futures = [
            self._submit(chains[i : i + per], audit and audit.part(i, i + per))
            for i in range(0, len(chains), per)
        ]
        if len(futures) == 1:  # the common single-chain request: no waiter set to build
            return await self._one(futures[0], timeout)
        done, pending = await asyncio.wait(futures, timeout=timeout)
        if pending:
            for future in pending:
                future.cancel()  # queued tasks are skipped; running ones finish unread
            raise WorkerFailed(f"validation did not finish within {timeout:g} s")
        results = [f.exception() or f.result() for f in futures]
        out: list[Validated] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            out.extend(result)
        return out

    async def _one(self, future: asyncio.Future[list[Validated]], timeout: float | None) -> list:
        """The results of one submitted task, or WorkerFailed past `timeout`."""
        try:
            # On the timeout the future is cancelled with the wait, as validated() cancels its
            # pending ones: queued, it is skipped; running, it finishes unread.
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise WorkerFailed(f"validation did not finish within {timeout:g} s") from None

    def _submit(self, chains: list[Any], audit: tuple | None) -> asyncio.Future[list[Validated]]:
        if self._closing:
            raise WorkerFailed("the service is shutting down")
        task = _Task(next(self._ids), chains, audit, asyncio.get_running_loop().create_future())
        self._queue.append(task)
        self._dispatch()
        return task.future

    def _dispatch(self) -> None:
        while self._queue and self._idle:
            if self._queue[0].future.done():  # its request gave up (timed out) while queued
                self._queue.popleft()
                continue
            worker = self._idle.pop()
            batch = [self._queue.popleft()]
            count = len(batch[0].chains)
            while (
                self._queue
                and len(self._queue) > len(self._idle)
                and count + len(self._queue[0].chains) <= MAX_COALESCE_CHAINS
            ):
                count += len(self._queue[0].chains)
                batch.append(self._queue.popleft())
            self._send(worker, batch, count)

    def _send(self, worker: _Worker, batch: list[_Task], count: int) -> None:
        for task in batch:
            worker.inflight[task.id] = task
        payload = pickle.dumps(
            [(t.id, t.chains, t.audit) for t in batch], protocol=pickle.HIGHEST_PROTOCOL
        )
        stdin = worker.proc.stdin
        if stdin is None or stdin.is_closing():
            self._drop(worker, "the worker exited")
            return
        stdin.write(HEADER.pack(len(payload)) + payload)  # buffered by the transport; never blocks
        deadline = count * self.budget_s + self.grace_s
        worker.timer = asyncio.get_running_loop().call_later(deadline, self._expire, worker)

    def _frame(self, worker: _Worker, frame: bytes | None) -> None:
        """One frame from the worker's stdout, or None at its end (called by its protocol)."""
        if worker.gone:
            return
        if frame is None:
            self._drop(worker, "the worker exited")
            return
        try:
            self._receive(worker, pickle.loads(frame))
        except Exception as exc:  # a garbled frame: the worker cannot be trusted any more
            self._drop(worker, f"bad message from the worker: {exc}")

    def _receive(self, worker: _Worker, message: tuple) -> None:
        if message[0] == "ready":
            if not worker.ready.done():
                worker.ready.set_result(None)
            self._idle.append(worker)
            self._dispatch()
            return
        task_id, reports, entries = message
        task = worker.inflight.pop(task_id, None)
        if task is not None and not task.future.done():
            task.future.set_result(list(zip(reports, entries, strict=True)))
        if not worker.inflight:
            if worker.timer is not None:
                worker.timer.cancel()
                worker.timer = None
            self._idle.append(worker)
            self._dispatch()

    def _expire(self, worker: _Worker) -> None:
        self._drop(worker, "the worker ran past its time budget and was killed")

    # --- workers --------------------------------------------------------------------------
    async def _spawn(self) -> _Worker:
        proc, protocol = await spawn_child("service.worker", repr(self.budget_s))
        worker = _Worker(proc=proc, ready=asyncio.get_running_loop().create_future())
        self._workers.append(worker)
        protocol.attach(partial(self._frame, worker))
        return worker

    def _drop(self, worker: _Worker, why: str, kill: bool = True) -> None:
        """Take a worker out of service, fail its tasks and (unless closing) start a replacement."""
        if worker.gone:
            return
        worker.gone = True
        started_ok = worker.ready.done()
        if worker.timer is not None:
            worker.timer.cancel()
        if kill and worker.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                worker.proc.kill()
        if worker.proc.stdin is not None:
            worker.proc.stdin.close()
        if worker in self._idle:
            self._idle.remove(worker)
        if worker in self._workers:
            self._workers.remove(worker)
        # The worker runs a message's tasks in order and answers each as it ends: the first task
        # still unanswered is the one it was on (the likely culprit) and fails; the ones after it
        # never started, so they go back to the front of the queue for another worker.
        unanswered = list(worker.inflight.values())
        worker.inflight.clear()
        if unanswered:
            self._fail(unanswered[0], WorkerFailed(why))
        for task in reversed(unanswered[1:]):
            if self._closing:
                self._fail(task, WorkerFailed(why))
            else:
                self._queue.appendleft(task)
        if not started_ok:
            worker.ready.set_exception(WorkerFailed(f"a worker failed to start: {why}"))
            worker.ready.exception()  # retrieved: start() reports it; a replacement must not log it
        if self._closing:
            return
        log.warning("validation worker %s lost (%s); starting a replacement", worker.proc.pid, why)
        if self.on_restart is not None:
            self.on_restart(why)
        self._background_task(reap(worker.proc))
        self._background_task(self._replace(started_ok))
        self._dispatch()

    async def _replace(self, started_ok: bool) -> None:
        # A worker that dies before it is ready would die again at once: do not spin.
        delay = 0.0 if started_ok else 1.0
        while not self._closing:
            await asyncio.sleep(delay)
            try:
                await self._spawn()
                return
            except Exception:
                log.exception("could not start a replacement validation worker")
                delay = min(max(delay * 2, 1.0), 30.0)

    def _background_task(self, coro: Any) -> asyncio.Task:
        # Keep a reference: the event loop only holds weak ones to tasks.
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    @staticmethod
    def _fail(task: _Task, exc: Exception) -> None:
        if not task.future.done():
            task.future.set_exception(exc)
            task.future.exception()  # mark retrieved; the awaiting request raises it anyway


async def spawn_child(module: str, *args: str) -> tuple[asyncio.subprocess.Process, FrameProtocol]:
    """`python -m module *args` with this checkout importable; its stdout is cut into frames."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT, env.get("PYTHONPATH")]))
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.subprocess_exec(
        FrameProtocol,
        sys.executable,
        "-m",
        module,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    return asyncio.subprocess.Process(transport, protocol, loop), protocol


async def reap(proc: asyncio.subprocess.Process) -> None:
    """Wait for a child to exit (no zombie), killing it if it lingers after its stdin closed."""
    try:
        await asyncio.wait_for(proc.wait(), 5.0)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
