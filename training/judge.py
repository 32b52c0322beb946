"""Validating untrusted chains (model answers, reviewers' corrections) under a hard time limit.

The validators keep to their per-chain budget; this is the second line for when one does not
(a loop that never reaches a budget check would otherwise stall a whole training run). Chains
are validated one at a time in a child process; a chain that overruns its budget by more than
the grace period gets its child killed and replaced, and an `unverifiable` report saying so,
which never passes the gate and never becomes a training example.
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import os
import threading
import time
from typing import Any

from validators.report import unchecked_report

GRACE_S = 10.0


def orphan_watch(parent: int) -> None:
    """Exit this child as soon as its parent is gone, even while a validation loops.

    A killed parent cannot kill a child stuck in a pure-Python loop; this thread still gets the
    GIL between bytecodes and ends the process.
    """

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, daemon=True, name="orphan-watch").start()


def serve(conn: Any, parent: int, check: Any) -> None:
    """The child's loop: `check(chain, budget_s=...)` each chain received, until the pipe closes."""
    orphan_watch(parent)
    while True:
        try:
            chain, budget_s = conn.recv()
        except EOFError:
            return
        conn.send(check(chain, budget_s=budget_s))


def _child(conn: Any, parent: int) -> None:
    from validators.pipeline import validate

    serve(conn, parent, validate)


class Judge:
    """A validation child process, replaced whenever a chain overruns its budget + grace."""

    def __init__(self, grace_s: float = GRACE_S, target: Any = _child) -> None:
        self.grace_s = grace_s
        self._target = target  # the child's loop (importable: the child is spawned)
        self._ctx = mp.get_context("spawn")  # not fork: the parent holds torch's threads
        self._proc: Any = None
        self._conn: Any = None
        self._lock = threading.Lock()
        self._warm = False  # the child has answered once (its imports are done)
        self.killed = 0

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=self._target, args=(child, os.getpid()), daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        self._warm = False

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(5)
        self._proc = self._conn = None

    def validate(self, chain: dict, budget_s: float = 2.0) -> dict[str, Any]:
        """The report of one chain (an unverifiable one if it did not finish in time)."""
        with self._lock:
            if self._proc is None or not self._proc.is_alive():
                self._start()
            # The first chain also waits for the child's imports.
            limit = budget_s + self.grace_s + (0.0 if self._warm else 30.0)
            try:
                self._conn.send((chain, budget_s))
                if self._conn.poll(limit):
                    self._warm = True
                    return self._conn.recv()
            except (EOFError, OSError, BrokenPipeError):
                pass
            self._stop()
            self.killed += 1
            return unchecked_report(chain, f"validation did not finish within {limit:.0f} s")

    def close(self) -> None:
        """Stop the child process."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
            self._stop()


_JUDGE: Judge | None = None
_JUDGE_LOCK = threading.Lock()


def judge() -> Judge:
    """The process-wide judge (started on first use, stopped at exit)."""
    global _JUDGE
    with _JUDGE_LOCK:
        if _JUDGE is None:
            _JUDGE = Judge()
            atexit.register(_JUDGE.close)
        return _JUDGE


def validate_safely(chain: dict, budget_s: float = 2.0) -> dict[str, Any]:
    """validators.pipeline.validate under a hard time limit (see the module docstring)."""
    return judge().validate(chain, budget_s)
