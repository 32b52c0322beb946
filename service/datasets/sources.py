"""Streaming readers: JSON Lines as raw lines, Parquet and Arrow as record batches, in chunks.

A chunk is what one worker validates at a time. Raw lines and record batches travel to the
workers undecoded, so the reading process does little more than read.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from service.cli.jsonl import decode_line
from service.datasets.extras import require
from service.datasets.formats import detect
from service.datasets.work import Row

CHUNK_ROWS = 64
SAMPLE_LINES = 1000  # lines read to find the first JSON object that tells the format


@dataclass
class Chunk:
    """Consecutive rows: raw JSON Lines (index, line number, bytes) or an Arrow record batch."""

    first: int
    lines: list[tuple[int, int, bytes]] | None = None
    batch: Any = None  # pyarrow.RecordBatch

    def __len__(self) -> int:
        return len(self.lines) if self.lines is not None else self.batch.num_rows

    def rows(self) -> list[Row]:
        """The rows decoded (in the worker): (index, object or None, why unreadable)."""
        if self.lines is not None:
            return [(i, *decode_line(n, raw)) for i, n, raw in self.lines]
        return [(self.first + k, row, None) for k, row in enumerate(self.batch.to_pylist())]


class JsonlSource:
    """JSON Lines from a binary stream; blank lines are skipped and get no row index."""

    kind = "jsonl"
    total_rows: int | None = None

    def __init__(self, stream: IO[bytes]) -> None:
        self._lines = self._numbered(stream)
        self._peeked: list[tuple[int, int, bytes]] = list(
            itertools.islice(self._lines, SAMPLE_LINES)
        )

    @staticmethod
    def _numbered(stream: IO[bytes]) -> Iterator[tuple[int, int, bytes]]:
        index = 0
        for lineno, raw in enumerate(stream, start=1):
            if raw.strip():
                yield index, lineno, raw
                index += 1

    def columns(self) -> list[str] | None:
        """The keys of the first JSON object of a known format among the first lines."""
        # Else the first object's keys (None without one): one bad first row must not decide.
        first = None
        for _, lineno, raw in self._peeked:
            obj, _ = decode_line(lineno, raw)
            if isinstance(obj, dict):
                if detect(list(obj)) is not None:
                    return list(obj)
                first = list(obj) if first is None else first
        return first

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[Chunk]:
        """The rows in chunks of `size`, streaming."""
        lines = itertools.chain(self._peeked, self._lines)
        while block := list(itertools.islice(lines, size)):
            yield Chunk(first=block[0][0], lines=block)


class TableSource:
    """Parquet (row group by row group) or an Arrow IPC stream (HF `save_to_disk` files)."""

    def __init__(self, path: str, kind: str) -> None:
        self.kind = kind
        if kind == "parquet":
            pq = require("pyarrow.parquet", "Parquet input")
            self._file = pq.ParquetFile(path)
            self.schema = self._file.schema_arrow
            self.total_rows = self._file.metadata.num_rows
        else:
            pa = require("pyarrow", "Arrow input")
            self._reader = pa.ipc.open_stream(pa.memory_map(path))
            self.schema = self._reader.schema
            self.total_rows = None

    def columns(self) -> list[str]:
        """The column names of the schema."""
        return list(self.schema.names)

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[Chunk]:
        """The rows in chunks of `size`, streaming."""
        parquet = self.kind == "parquet"
        batches = self._file.iter_batches(batch_size=size) if parquet else self._reader
        first = 0
        for batch in batches:
            for offset in range(0, batch.num_rows, size):
                part = batch.slice(offset, size)
                yield Chunk(first=first, batch=part)
                first += part.num_rows


def input_kind(path: str, given: str | None) -> str:
    """jsonl, parquet or arrow: as given, else from the file name (JSON Lines by default)."""
    if given:
        return given
    lower = path.lower()
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    if lower.endswith(".arrow"):
        return "arrow"
    return "jsonl"
