"""Validation records written by a process of their own (`python -m service.audit_process`).

The web process is the service's one serial part: every request passes through its event loop,
while validation spreads over the workers. Appending records (hashing the chain, the SQL, the
commit) cost about a third of its CPU; here it runs beside it instead. The web process still
groups concurrent requests (service.audit_writer) and still answers each request only after
its own records are committed: it sends a group write here and awaits the reply.

Protocol on stdin/stdout, frames as service/worker.py's: the first frame is the Store's
arguments (service.store.Store.open_args; on stdin, not argv, where a database password would
be visible to every user of the machine); the process answers ("ready", pid). Then each frame
(write_id, groups) gets (write_id, outcomes): per group the list of its results, or
("error", message). A group is {"items", "request_id", "key_id", "redact"}; an item is the
worker's pickled Entry (bytes) or a dict for the store to make one of. The process exits when
stdin closes; what it had read by then is still written.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import pickle
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

from service.pool import START_TIMEOUT_S, reap, spawn_child
from service.store.errors import AuditWriteError
from service.worker import HEADER, protocol_streams, read_frame, write_frame

log = logging.getLogger("faithgate.audit")

Outcome = list[dict] | Exception


def write_groups(store: Any, groups: list[dict]) -> list[Outcome]:
    """All groups in one transaction if the store can; else, or if that fails, one by one."""
    groups = [{**g, "items": [_item(i) for i in g["items"]]} for g in groups]
    write_all = getattr(store, "record_validation_groups", None)
    if write_all is not None and len(groups) > 1:
        try:
            return write_all(groups)
        except AuditWriteError:
            # One bad group must not fail its neighbours: retry them one by one below.
            log.warning(
                "shared audit transaction failed; writing its %d groups singly", len(groups)
            )
    outcomes: list[Outcome] = []
    for g in groups:
        try:
            outcomes.append(
                store.record_validations(
                    g["items"], request_id=g["request_id"], key_id=g["key_id"], redact=g["redact"]
                )
            )
        except Exception as exc:
            outcomes.append(exc)
    return outcomes


def _item(item: Any) -> Any:
    # The worker's Entry travels pickled through the web process, which never opens it.
    return pickle.loads(item) if isinstance(item, bytes) else item


# --- the child ----------------------------------------------------------------------------------


def _wire(outcome: Outcome) -> Any:
    if not isinstance(outcome, Exception):
        return outcome
    if isinstance(outcome, AuditWriteError):
        return ("error", str(outcome))  # the store's message names no payload
    return ("error", f"audit record not written: {type(outcome).__name__}")


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    """Open the store the first frame names, then write each group frame until stdin closes."""
    from service.store import Store

    first = read_frame(inp)
    if first is None:
        return
    store = Store(**pickle.loads(first), auto_migrate=False)  # the web process migrated it
    try:
        write_frame(out, ("ready", os.getpid()))
        while (payload := read_frame(inp)) is not None:
            write_id, groups = pickle.loads(payload)
            try:
                outcomes = write_groups(store, groups)
            except Exception as exc:  # a bug: every group of this write fails, the process lives
                outcomes = [exc] * len(groups)
            write_frame(out, (write_id, [_wire(o) for o in outcomes]))
    finally:
        store.close()


def main() -> int:
    """Entry point: take the protocol streams, serve."""
    inp, out = protocol_streams()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the service went away
        serve(inp, out)
    return 0


# --- the web process's side -----------------------------------------------------------------------


class AuditProcess:
    """The child that writes validation records; started again on the next write if it dies."""

    def __init__(
        self, open_args: dict[str, Any], on_restart: Callable[[], None] | None = None
    ) -> None:
        self.open_args = open_args
        self.on_restart = on_restart
        self._proc: asyncio.subprocess.Process | None = None
        self._ready: asyncio.Future[None] | None = None
        self._waiting: dict[int, asyncio.Future[list[Outcome]]] = {}
        self._ids = itertools.count()
        self._starting: asyncio.Task | None = None
        self._reaping: set[asyncio.Task] = set()  # the loop keeps only weak references to tasks
        # After a failed start the next try waits (1 s, doubling to 30 s): a child that cannot
        # start must not be spawned again for every write meanwhile, which fail at once.
        self._retry_at = 0.0
        self._delay = 0.0
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        """The live child's process id."""
        return None if self._proc is None else self._proc.pid

    async def start(self) -> None:
        """Start the child and wait until it has opened the store."""
        loop = asyncio.get_running_loop()
        proc, protocol = await spawn_child("service.audit_process")
        self._proc, self._ready = proc, loop.create_future()
        protocol.attach(lambda frame, p=proc: self._frame(p, frame))
        assert proc.stdin is not None
        args = pickle.dumps(self.open_args, protocol=pickle.HIGHEST_PROTOCOL)
        proc.stdin.write(HEADER.pack(len(args)) + args)
        await asyncio.wait_for(asyncio.shield(self._ready), START_TIMEOUT_S)

    async def write(self, groups: list[dict]) -> list[Outcome]:
        """Each group's results from the child (AuditWriteError when it cannot answer)."""
        proc = self._proc
        if proc is not None and proc.stdin is not None and proc.stdin.is_closing():
            # A killed child's pipe can close before its end is read from stdout: it is gone.
            self._gone(proc, "the audit writer process's pipe closed")
        if self._proc is None or self._proc.returncode is not None or self._ready is None:
            await self._restart()
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        write_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._waiting[write_id] = future
        payload = pickle.dumps((write_id, groups), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            proc.stdin.write(HEADER.pack(len(payload)) + payload)
        except (RuntimeError, OSError) as exc:  # (uvloop raises RuntimeError on a closed pipe)
            self._waiting.pop(write_id, None)
            self._gone(proc, f"the audit writer process's pipe closed ({exc})")
            why = "audit record not written: the audit writer process is down"
            raise AuditWriteError(why) from exc
        return await future

    async def close(self) -> None:
        """Let the child finish what it was sent, then reap it."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()
            await reap(proc)
        await asyncio.gather(*self._reaping)  # children that died before

    async def _restart(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() < self._retry_at:
            raise AuditWriteError("audit record not written: the audit writer process is down")
        if self._starting is None or self._starting.done():
            self.restarts += 1
            if self.on_restart is not None:
                self.on_restart()
            log.warning("audit writer process gone; starting another")
            self._starting = loop.create_task(self.start())
        try:
            await asyncio.shield(self._starting)
        except Exception as exc:
            self._delay = min(max(self._delay * 2, 1.0), 30.0)
            self._retry_at = loop.time() + self._delay
            raise AuditWriteError(f"audit writer process could not start: {exc}") from exc
        self._delay = 0.0

    def _frame(self, proc: asyncio.subprocess.Process, frame: bytes | None) -> None:
        if proc is not self._proc:
            return  # a child already replaced
        if frame is None:
            self._gone(proc, "the audit writer process exited")
            return
        try:
            message = pickle.loads(frame)
        except Exception as exc:
            self._gone(proc, f"bad message from the audit writer process: {exc}")
            return
        if message[0] == "ready":
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(None)
            return
        write_id, outcomes = message
        future = self._waiting.pop(write_id, None)
        if future is not None and not future.done():
            future.set_result([_outcome(o) for o in outcomes])

    def _gone(self, proc: asyncio.subprocess.Process, why: str) -> None:
        self._proc = None
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        if proc.stdin is not None:
            proc.stdin.close()
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(AuditWriteError(why))
            self._ready.exception()  # retrieved: start() reports it
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(AuditWriteError(f"audit record not written: {why}"))
        task = asyncio.get_running_loop().create_task(reap(proc))
        self._reaping.add(task)
        task.add_done_callback(self._reaping.discard)


def _outcome(wire: Any) -> Outcome:
    if isinstance(wire, tuple) and wire and wire[0] == "error":
        return AuditWriteError(wire[1])
    return wire


if __name__ == "__main__":
    sys.exit(main())
