"""Progress of a run (stage, step, loss, ETA), cancellation, and the bridge from HF's Trainer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class Cancelled(Exception):
    """The run was asked to stop (a cancel request or a signal)."""


def _noop(_: dict[str, Any]) -> None:
    return None


def _never() -> bool:
    return False


class Progress:
    """Counts work units (training steps and evaluation batches) and estimates the time left.

    `report` receives a dict {stage, step, total_steps, loss, eta_s, elapsed_s} after every
    unit; `cancelled` is polled at each unit and makes the run raise Cancelled.
    """

    def __init__(
        self,
        total: int,
        report: Callable[[dict[str, Any]], None] = _noop,
        cancelled: Callable[[], bool] = _never,
    ) -> None:
        self.total = max(1, total)
        self.done = 0
        self.stage_name = "starting"
        self.loss: float | None = None
        self.report = report
        self.cancelled = cancelled
        self.started = time.monotonic()
        self._unit_started: float | None = None
        self._work_s = 0.0  # time spent in counted units (loading models is not one)

    def stage(self, name: str) -> None:
        """Enter a stage (e.g. "cycle 2/4: sft"); reported at once."""
        self.stage_name = name
        self._unit_started = time.monotonic()
        self.emit()

    def advance(self, n: int = 1, loss: float | None = None) -> None:
        """Count `n` finished units; raise Cancelled when a cancel was asked for."""
        now = time.monotonic()
        if self._unit_started is not None:
            self._work_s += now - self._unit_started
        self._unit_started = now
        self.done = min(self.total, self.done + n)
        if loss is not None:
            self.loss = float(loss)
        self.emit()
        self.check()

    def check(self) -> None:
        """Raise Cancelled when a cancel was asked for."""
        if self.cancelled():
            raise Cancelled("cancelled")

    def eta_s(self) -> float | None:
        """Seconds left at the mean time per unit so far (None before the first unit)."""
        if self.done == 0:
            return None
        return self._work_s / self.done * (self.total - self.done)

    def snapshot(self) -> dict[str, Any]:
        """The current progress as a JSON-ready dict."""
        eta = self.eta_s()
        return {
            "stage": self.stage_name,
            "step": self.done,
            "total_steps": self.total,
            "loss": self.loss,
            "eta_s": None if eta is None else round(eta, 1),
            "elapsed_s": round(time.monotonic() - self.started, 1),
        }

    def emit(self) -> None:
        """Send the snapshot to the reporter."""
        self.report(self.snapshot())


def trainer_callback(progress: Progress) -> Any:
    """A transformers TrainerCallback that advances `progress` and honours cancellation."""
    from transformers import TrainerCallback

    class _Callback(TrainerCallback):
        def __init__(self) -> None:
            self.cancelled = False
            self.losses: list[float] = []
            self.step_s: list[float] = []  # wall time of each optimizer step
            self._began = 0.0

        def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self._began = time.perf_counter()

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if logs and "loss" in logs:
                self.losses.append(float(logs["loss"]))
                progress.loss = float(logs["loss"])

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.step_s.append(time.perf_counter() - self._began)
            try:
                progress.advance(1)
            except Cancelled:
                self.cancelled = True
                control.should_training_stop = True

    return _Callback()
