"""Streaming test helpers: an engine wrapper that pauses after its first token, a stream reader.

"Tokens arrive before generation ends" is shown by order, not by a clock: the gated engine
holds its thread after the first delta until the client says it has received a content chunk,
and records whether it had finished by then.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


class GatedEngine:
    """Wraps a real engine: its stream() waits after the first delta until `gate` is set."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.gate = threading.Event()
        self.finished = threading.Event()  # set when a stream() returned
        self.timeout_s = 120.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def stream(self, messages: list[dict], *, on_text: Any, **options: Any) -> Any:
        """The wrapped engine's stream(), paused after the first delta until the gate opens."""
        first = [True]

        def gated(delta: str) -> None:
            on_text(delta)
            if first[0]:
                first[0] = False
                self.gate.wait(self.timeout_s)

        try:
            return self.engine.stream(messages, on_text=gated, **options)
        finally:
            self.finished.set()


@dataclass
class Streamed:
    """What a client read from one streamed chat completion."""

    text: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)
    finished_before_first_token: bool | None = None
    report: dict[str, Any] | None = None
    finish_reason: str | None = None
    usage: Any = None
    order: list[str] = field(default_factory=list)  # "text" | "step" | "final", as received
    provisional: list[bool] = field(default_factory=list)


def read_stream(
    stream: Any, gated: GatedEngine | None = None, on_first: Any = None, on_step: Any = None
) -> Streamed:
    """Read an openai Stream of chunks, opening the gate / calling the hooks on the way."""
    out = Streamed()
    for chunk in stream:
        if chunk.usage is not None:
            out.usage = chunk.usage
        extra = chunk.model_extra or {}
        if extra.get("faithfulness_step"):
            out.steps.append(extra["faithfulness_step"])
            out.order.append("step")
            if on_step is not None:
                on_step()
        for choice in chunk.choices:
            if choice.delta.content:
                if "text" not in out.order:
                    if gated is not None:
                        out.finished_before_first_token = gated.finished.is_set()
                        gated.gate.set()
                    if on_first is not None:
                        on_first()
                out.text += choice.delta.content
                out.order.append("text")
            if choice.finish_reason:
                out.finish_reason = choice.finish_reason
                out.provisional = [s["provisional"] for s in out.steps]
                out.report = extra.get("faithfulness")
                out.order.append("final")
    return out


# Fields of a report that differ between two runs on the same text (ids, timings, records).
VOLATILE = {"id", "elapsed_ms", "record_id", "case_id", "attempts"}


def same_report(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two faithfulness reports agree on everything but ids, timings and records."""
    return {k: v for k, v in a.items() if k not in VOLATILE} == {
        k: v for k, v in b.items() if k not in VOLATILE
    }


def cancelled_after_first_delta(engine: Any, messages: Any, max_tokens: int) -> tuple[Any, ...]:
    """The full generation, a stream cancelled at its first delta, and the text it delivered."""
    cancel = threading.Event()
    pieces: list[str] = []

    def on_text(delta: str) -> None:
        pieces.append(delta)
        cancel.set()

    full = engine.generate(messages, max_tokens=max_tokens)
    cut = engine.stream(messages, on_text=on_text, cancel=cancel, max_tokens=max_tokens)
    return full, cut, "".join(pieces)
