"""The audit trail for auditors: a signed export bundle for a period, and a chain check."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from service.api.deps import StoreDep, require_scope
from service.api.routing import JSONRoute
from service.errors import ApiError, responses

router = APIRouter(tags=["audit"], route_class=JSONRoute)
AuditKey = Annotated[Any, Depends(require_scope("audit:read"))]
log = logging.getLogger("faithgate.service")

_CHUNK = 64 * 1024
_SLOTS = 16  # chunks buffered between the export thread and a slow client
_STALL_S = 300.0  # a client that reads nothing for this long is dropped
_DONE = object()


class ChainCheck(BaseModel):
    """The result of re-hashing the whole audit chain."""

    ok: bool
    count: int
    first_bad: int | None
    message: str


class _Cancelled(Exception):
    """The client went away (or stopped reading); the export thread stops writing."""


class _Channel:
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
                raise _Cancelled
        if self.cancelled.is_set():
            raise _Cancelled
        self._loop.call_soon_threadsafe(self._items.put_nowait, item)

    async def get(self) -> object:
        """From the event loop: the next chunk, _DONE, or the exception that ended the export."""
        item = await self._items.get()
        self._slots.release()
        return item


class _ChannelWriter:
    """A write-only file object over a channel, in chunks of _CHUNK bytes."""

    def __init__(self, channel: _Channel) -> None:
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


def _produce(store: Any, channel: _Channel, since: datetime | None, until: datetime | None) -> None:
    """The export thread: write the bundle into the channel, then _DONE (or the error)."""
    writer = _ChannelWriter(channel)
    try:
        store.export_bundle(writer, since=since, until=until)
        writer.flush()
        channel.put(_DONE)
    except _Cancelled:
        return
    except Exception as exc:  # reported to the client as a 503 or a cut stream
        log.exception("audit export failed")
        with contextlib.suppress(_Cancelled):
            channel.put(exc)


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@router.get(
    "/v1/audit/export",
    summary="Export the audit bundle for a period",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/x-tar": {}},
            "description": "The signed bundle, a tar (check it with `faithgate audit verify`)",
        },
        **responses(401, 403, 422, 503),
    },
)
async def export(
    _: AuditKey, store: StoreDep, since: datetime | None = None, until: datetime | None = None
) -> StreamingResponse:
    """Stream every record between `since` and `until` (ISO 8601) as a verifiable bundle."""
    since, until = _utc(since), _utc(until)
    if since and until and since > until:
        raise ApiError(422, "invalid_request", "since: must not be after until")
    channel = _Channel(asyncio.get_running_loop())
    thread = threading.Thread(
        target=_produce, args=(store, channel, since, until), name="faithgate-export", daemon=True
    )
    thread.start()
    # Wait for the first bytes so that a failure to start is still a proper error status.
    first = await channel.get()
    if isinstance(first, Exception):
        raise ApiError(503, "export_failed", "the audit bundle could not be written")

    async def body() -> AsyncIterator[bytes]:
        item = first
        try:
            while item is not _DONE:
                if isinstance(item, Exception):
                    raise RuntimeError("audit export failed mid-stream") from item
                yield item
                item = await channel.get()
        finally:
            channel.cancelled.set()

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    headers = {"content-disposition": f'attachment; filename="faithgate-audit-{stamp}.tar"'}
    return StreamingResponse(
        body(),
        media_type="application/x-tar",
        headers=headers,
        background=BackgroundTask(channel.cancelled.set),
    )


@router.get(
    "/v1/audit/verify",
    summary="Verify the audit hash chain",
    response_model=ChainCheck,
    responses=responses(401, 403),
)
def verify(_: AuditKey, store: StoreDep) -> dict[str, Any]:
    """Re-hash every record and report the first that does not match its successor's link."""
    return store.verify_chain()
