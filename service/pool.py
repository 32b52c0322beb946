"""Validation off the event loop: worker processes fed through pipes, replaced when they die.

Each worker owns one duplex pipe. The event loop writes a message of tasks to an idle worker
and reads the reports back through `loop.add_reader`, one message per finished task, so no
thread sits between the request and its worker. A worker that exits, crashes or runs past the
budgets of its chains (plus a grace period) is killed and replaced, and the requests it was
serving fail with WorkerFailed instead of hanging.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import math
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger("faithgate.pool")

# Coalesce queued single-chain tasks into one message up to this many chains: when more tasks
# wait than workers are idle they would queue anyway, and one pipe round trip costs less.
MAX_COALESCE_CHAINS = 32
START_TIMEOUT_S = 120.0


class WorkerFailed(RuntimeError):
    """The worker validating a request died or was killed; the request gets an error."""


@dataclass
class _Task:
    id: int
    chains: list[Any]
    future: asyncio.Future[list[dict]]


@dataclass
class _Worker:
    proc: Any
    conn: Connection
    ready: asyncio.Future[None]
    inflight: dict[int, _Task] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None
    gone: bool = False


def _fallback_report(chain: Any, why: str) -> dict[str, Any]:
    """The report for a chain whose validation raised: unverifiable, never an accusation."""
    chain_id = chain.get("id") if isinstance(chain, dict) else None
    return {
        "id": chain_id if isinstance(chain_id, str) else None,
        "verdict": "unverifiable",
        "laundering": False,
        "score": None,
        "first_error_step": None,
        "answer": None,
        "derived_answer": None,
        "steps": [],
        "findings": [
            {
                "validator": "pipeline",
                "code": "pipeline.unchecked",
                "severity": "info",
                "message": f"the chain could not be validated: {why}",
                "step": None,
            }
        ],
        "validators": {},
        "elapsed_ms": 0.0,
    }


def _worker_main(conn: Connection, budget_s: float) -> None:
    """A worker process: validate the chains of each task, send each task's reports back."""
    # The parent stops workers by closing the pipe; Ctrl-C on the terminal is the parent's job.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from validators import pipeline

    pipeline.validators()  # build the validators (imports sympy, z3) before the first request
    pipeline.validate({"question": "warm-up", "reasoning": "1 + 1 = 2"}, budget_s=budget_s)
    conn.send_bytes(pickle.dumps(("ready", os.getpid())))
    while True:
        try:
            tasks = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        for task_id, chains in tasks:
            reports = []
            for chain in chains:
                try:
                    reports.append(pipeline.validate(chain, budget_s=budget_s))
                except Exception as exc:  # a pipeline bug costs this chain's checks, not the worker
                    reports.append(_fallback_report(chain, f"{type(exc).__name__}: {exc}"[:300]))
            try:
                conn.send_bytes(pickle.dumps((task_id, reports), protocol=pickle.HIGHEST_PROTOCOL))
            except OSError:
                return


def _context() -> multiprocessing.context.BaseContext:
    # forkserver: a clean process (no inherited threads or sockets) that forks fast replacements.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["validators.pipeline", "service.pool"])
        return ctx
    return multiprocessing.get_context("spawn")


class ValidationPool:
    """A fixed number of validation worker processes, used from one asyncio event loop."""

    def __init__(
        self,
        size: int,
        budget_s: float,
        grace_s: float = 10.0,
        on_restart: Callable[[str], None] | None = None,
    ) -> None:
        self.size = size
        self.budget_s = budget_s
        self.grace_s = grace_s
        self.on_restart = on_restart
        self._ctx = _context()
        self._workers: list[_Worker] = []
        self._idle: list[_Worker] = []
        self._queue: collections.deque[_Task] = collections.deque()
        self._ids = itertools.count()
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        """Start every worker and wait until each has loaded the validators."""
        self._loop = asyncio.get_running_loop()
        workers = await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        await asyncio.wait_for(asyncio.gather(*(w.ready for w in workers)), START_TIMEOUT_S)

    async def close(self) -> None:
        """Stop the workers (they exit when their pipe closes) and fail anything still queued."""
        self._closing = True
        while self._queue:
            self._fail(self._queue.popleft(), WorkerFailed("the service is shutting down"))
        workers = list(self._workers)
        for w in workers:
            self._drop(w, "the service is shutting down", kill=False)
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, _reap, w.proc) for w in workers))

    @property
    def ready_workers(self) -> int:
        """How many workers are up and accepting work."""
        return sum(1 for w in self._workers if w.ready.done() and not w.gone)

    @property
    def pending(self) -> int:
        """Tasks waiting for a worker."""
        return len(self._queue)

    # --- work -----------------------------------------------------------------------------
    async def validate(self, chains: list[Any]) -> list[dict]:
        """The reports of `chains`, in order, computed by the workers (split across them)."""
        if not chains:
            return []
        per = math.ceil(len(chains) / self.size)
        futures = [self._submit(chains[i : i + per]) for i in range(0, len(chains), per)]
        results = await asyncio.gather(*futures, return_exceptions=True)
        reports: list[dict] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            reports.extend(result)
        return reports

    def _submit(self, chains: list[Any]) -> asyncio.Future[list[dict]]:
        assert self._loop is not None, "ValidationPool.start() was not awaited"
        if self._closing:
            raise WorkerFailed("the service is shutting down")
        task = _Task(next(self._ids), chains, self._loop.create_future())
        self._queue.append(task)
        self._dispatch()
        return task.future

    def _dispatch(self) -> None:
        while self._queue and self._idle:
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
        assert self._loop is not None
        for task in batch:
            worker.inflight[task.id] = task
        try:
            worker.conn.send_bytes(pickle.dumps([(t.id, t.chains) for t in batch]))
        except OSError:
            self._drop(worker, "the worker exited")
            return
        deadline = count * self.budget_s + self.grace_s
        worker.timer = self._loop.call_later(deadline, self._expire, worker)

    def _on_readable(self, worker: _Worker) -> None:
        try:
            while not worker.gone and worker.conn.poll():
                message = pickle.loads(worker.conn.recv_bytes())
                self._receive(worker, message)
        except (EOFError, OSError):
            self._drop(worker, "the worker exited")

    def _receive(self, worker: _Worker, message: tuple) -> None:
        if message[0] == "ready":
            if not worker.ready.done():
                worker.ready.set_result(None)
            self._idle.append(worker)
            self._dispatch()
            return
        task_id, reports = message
        task = worker.inflight.pop(task_id, None)
        if task is not None and not task.future.done():
            task.future.set_result(reports)
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
        assert self._loop is not None
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=_worker_main, args=(child, self.budget_s), name="faithgate-validator", daemon=True
        )
        # Process.start() talks to the fork server synchronously: keep it off the event loop.
        await self._loop.run_in_executor(None, proc.start)
        child.close()
        worker = _Worker(proc=proc, conn=parent, ready=self._loop.create_future())
        self._workers.append(worker)
        self._loop.add_reader(parent.fileno(), self._on_readable, worker)
        return worker

    def _drop(self, worker: _Worker, why: str, kill: bool = True) -> None:
        """Take a worker out of service, fail its tasks and (unless closing) start a replacement."""
        if worker.gone:
            return
        worker.gone = True
        started_ok = worker.ready.done()
        assert self._loop is not None
        self._loop.remove_reader(worker.conn.fileno())
        if worker.timer is not None:
            worker.timer.cancel()
        if kill and worker.proc.is_alive():
            worker.proc.kill()
        worker.conn.close()
        if worker in self._idle:
            self._idle.remove(worker)
        if worker in self._workers:
            self._workers.remove(worker)
        for task in worker.inflight.values():
            self._fail(task, WorkerFailed(why))
        worker.inflight.clear()
        if not worker.ready.done():
            worker.ready.set_exception(WorkerFailed(f"a worker failed to start: {why}"))
            worker.ready.exception()  # retrieved: start() reports it, a replacement must not log it
        if self._closing:
            return
        log.warning("validation worker %s lost (%s); starting a replacement", worker.proc.pid, why)
        if self.on_restart is not None:
            self.on_restart(why)
        self._loop.run_in_executor(None, _reap, worker.proc)
        self._loop.create_task(self._replace(started_ok))

    async def _replace(self, started_ok: bool) -> None:
        # A worker that dies before it is ready would die again at once: do not spin.
        if not started_ok:
            await asyncio.sleep(1.0)
        if self._closing:
            return
        try:
            await self._spawn()
        except Exception:
            log.exception("could not start a replacement validation worker")

    @staticmethod
    def _fail(task: _Task, exc: Exception) -> None:
        if not task.future.done():
            task.future.set_exception(exc)
            task.future.exception()  # mark retrieved; the awaiting request raises it anyway


def _reap(proc: Any) -> None:
    """Wait for a worker process to exit (so it leaves no zombie), killing it if it lingers."""
    proc.join(5.0)
    if proc.is_alive():
        proc.kill()
        proc.join(5.0)
