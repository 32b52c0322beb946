"""Chunks validated on this machine: in this process, or in N worker processes, output in order.

Memory stays bounded: at most `WINDOW_PER_WORKER` chunks per worker are in flight, and the
reader is not asked for the next chunk until the oldest one's results have been handed on.
"""

from __future__ import annotations

import collections
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from service.datasets.sources import Chunk
from service.datasets.work import Job, RowResult, validate_rows

WINDOW_PER_WORKER = 4

_JOB: Job | None = None


def _start_worker(job: Job) -> None:
    global _JOB
    _JOB = job
    from validators.pipeline import validators

    validators()  # built and warmed up once per worker, before its first chunk


def _run_chunk(chunk: Chunk) -> list[RowResult]:
    assert _JOB is not None
    return validate_rows(chunk.rows(), _JOB)


def validate_chunks(
    chunks: Iterator[Chunk], job: Job, workers: int
) -> Iterator[tuple[Chunk, list[RowResult]]]:
    """Each chunk with its results, in input order."""
    if workers <= 1:
        for chunk in chunks:
            yield chunk, validate_rows(chunk.rows(), job)
        return
    # spawn, not fork: the parent may hold threads (progress bar, Arrow's pool) that fork
    # would copy mid-operation.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(job,)
    ) as pool:
        pending: collections.deque[tuple[Chunk, Future[list[RowResult]]]] = collections.deque()
        for chunk in chunks:
            pending.append((chunk, pool.submit(_run_chunk, chunk)))
            if len(pending) >= workers * WINDOW_PER_WORKER:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
