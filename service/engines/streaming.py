"""Token streaming shared by the engines: text deltas as they are generated, and cancellation.

An engine's `stream()` is `generate()` that also calls `on_text(delta)` as the answer grows and
stops early when `cancel` is set (finish_reason "cancelled"). The deltas always add up to the
returned Generation's text: text that might still turn out to be the start of a stop sequence,
or half of a multi-byte character, is held back until it is certain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

OnText = Callable[[str], None]
CANCELLED = "cancelled"  # finish_reason of a stream stopped by its caller


class TextEmitter:
    """Sends the new part of a growing text, holding back what a stop sequence could still cut."""

    def __init__(self, on_text: OnText, stop: list[str] | None = None) -> None:
        self.on_text = on_text
        self.sent = ""
        # A stop sequence of n characters can begin in the last n - 1 characters of the text.
        self.hold = max((len(s) for s in stop or [] if s), default=1) - 1

    def update(self, text: str) -> None:
        """The text so far: send what is certain to stay in the answer."""
        text = text.rstrip("\ufffd")  # a multi-byte character decoded from half its tokens
        safe = text[: len(text) - self.hold] if self.hold else text
        if len(safe) > len(self.sent) and safe.startswith(self.sent):
            self.on_text(safe[len(self.sent) :])
            self.sent = safe

    def finish(self, text: str) -> None:
        """The final text: send the rest (the caller's deltas then add up to it)."""
        if text.startswith(self.sent) and len(text) > len(self.sent):
            self.on_text(text[len(self.sent) :])
            self.sent = text


def cancelled(cancel: threading.Event | None) -> bool:
    """Whether the caller asked the stream to stop."""
    return cancel is not None and cancel.is_set()
