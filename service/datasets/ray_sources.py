"""Ray Data readers that number the rows (so ids match a local run) and never fail on a bad line.

Ray's own `read_json` stops at the first malformed line and `read_text` at invalid UTF-8;
these pass JSON Lines on undecoded, for `ValidateBatch` to report line by line. Each file is
read by one task, so the row index is exact for the single file that the CLI reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from ray.data.datasource import FileBasedDatasource

from service.datasets.ray_data import LINE, RAW, ROW
from service.datasets.sources import CHUNK_ROWS

BLOCK_ROWS = 16 * CHUNK_ROWS


class JsonlLines(FileBasedDatasource):
    """Rows (_faithgate_row, _faithgate_line, _faithgate_raw) for the non-blank lines of a file."""

    def _read_stream(self, f: Any, path: str) -> Iterator[pa.Table]:
        rows: list[int] = []
        lines: list[int] = []
        raws: list[bytes] = []
        emitted = 0
        for lineno, raw in enumerate(_lines(f), start=1):
            if raw.strip():
                rows.append(emitted + len(rows))
                lines.append(lineno)
                raws.append(raw)
            if len(rows) == BLOCK_ROWS:
                yield _block(rows, lines, raws)
                emitted += len(rows)
                rows, lines, raws = [], [], []
        if rows:
            yield _block(rows, lines, raws)


def _lines(f: Any) -> Iterator[bytes]:
    """The lines of an Arrow input stream, newline kept, read in large pieces."""
    tail = b""
    while piece := f.read(1 << 20):
        parts = (tail + piece).split(b"\n")
        tail = parts.pop()
        for part in parts:
            yield part + b"\n"
    if tail:
        yield tail


def _block(rows: list[int], lines: list[int], raws: list[bytes]) -> pa.Table:
    return pa.table(
        {
            ROW: pa.array(rows, pa.int64()),
            LINE: pa.array(lines, pa.int64()),
            RAW: pa.array(raws, pa.binary()),
        }
    )


class ParquetRows(FileBasedDatasource):
    """The rows of a Parquet file, batch by batch, with a _faithgate_row column."""

    def _open_input_source(self, filesystem: Any, path: str, **open_args: Any) -> Any:
        return filesystem.open_input_file(path)  # Parquet needs random access to its footer

    def _read_stream(self, f: Any, path: str) -> Iterator[pa.Table]:
        first = 0
        for batch in pq.ParquetFile(f).iter_batches(batch_size=BLOCK_ROWS):
            index = pa.array(range(first, first + batch.num_rows), pa.int64())
            yield pa.Table.from_batches([batch]).append_column(ROW, index)
            first += batch.num_rows
