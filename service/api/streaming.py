"""Streaming a bundle the store writes in a thread to an HTTP response, with backpressure."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import IO

log = logging.getLogger("faithgate.service")

_CHUNK = 64 * 1024
_SLOTS = 16  # chunks buffered between the export thread and a slow client
_STALL_S = 300.0  # a client that reads nothing for this long is dropped
DONE = object()


class Cancelled(Exception):
    """The client went away (or stopped reading); the export thread stops writing."""


class Channel:
    """Bytes from the export thread to the response, at most `_SLOTS` chunks in flight."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._items: asyncio.Queue = asyncio.Queue()
        self._slots = threading.Semaphore(_SLOTS)
        self.cancelled = threading.Event()

    def put(self, item: object) -> None:
        """From the export thread: wait for room (backpressure), give up once cancelled."""
        waited = 0.0
        while not self._slots.acquire(timeout=0.5):
            waited += 0.5
            if self.cancelled.is_set() or waited > _STALL_S:
                raise Cancelled
        if self.cancelled.is_set():
            raise Cancelled
        self._loop.call_soon_threadsafe(self._items.put_nowait, item)

    async def get(self) -> object:
        """From the event loop: the next chunk, DONE, or the exception that ended the export."""
        item = await self._items.get()
        self._slots.release()
        return item


class ChannelWriter:
    """A write-only file object over a channel, in chunks of _CHUNK bytes."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._buffer = bytearray()
        self._pos = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        self._buffer += data
        self._pos += len(data)
        if len(self._buffer) >= _CHUNK:
            self.flush()
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        if self._buffer:
            self._channel.put(bytes(self._buffer))
            self._buffer.clear()


def produce(write: Callable[[IO[bytes]], object], channel: Channel) -> None:
    """The export thread: write(file) into the channel, then DONE (or the error)."""
    writer = ChannelWriter(channel)
    try:
        write(writer)  # type: ignore[arg-type]  # a write-only file object is all it needs
        writer.flush()
        channel.put(DONE)
    except Cancelled:
        return
    except Exception as exc:  # reported to the client as a 503 or a cut stream
        log.exception("audit export failed")
        with contextlib.suppress(Cancelled):
            channel.put(exc)
