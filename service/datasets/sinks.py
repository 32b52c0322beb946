"""Writers for the rows that pass, in the input's own format: JSONL, Parquet or Arrow."""

from __future__ import annotations

from typing import Any

from service.datasets.extras import require
from service.datasets.sources import Chunk


class KeptJsonl:
    """The passing input lines, byte for byte as they were read."""

    def __init__(self, path: str) -> None:
        self._fh = open(path, "wb")  # noqa: SIM115 - closed by close(), like the table writers

    def write(self, chunk: Chunk, passed: list[bool]) -> None:
        """Append the passing lines of a chunk."""
        for (_, _, raw), ok in zip(chunk.lines, passed, strict=True):
            if ok:
                self._fh.write(raw if raw.endswith(b"\n") else raw + b"\n")

    def close(self) -> None:
        """Flush and close the file."""
        self._fh.close()


class KeptTable:
    """The passing rows as Parquet or an Arrow IPC stream, with the input's schema and metadata."""

    def __init__(self, path: str, kind: str, schema: Any) -> None:
        pa = require("pyarrow", "Parquet and Arrow output")
        self._pa = pa
        self._schema = schema
        if kind == "parquet":
            self._writer = require("pyarrow.parquet", "Parquet output").ParquetWriter(path, schema)
        else:
            self._writer = pa.ipc.new_stream(path, schema)

    def write(self, chunk: Chunk, passed: list[bool]) -> None:
        """Append the passing rows of a chunk."""
        batch = chunk.batch.select(self._schema.names).filter(self._pa.array(passed))
        if batch.num_rows:
            self._writer.write_table(self._pa.Table.from_batches([batch]).cast(self._schema))

    def close(self) -> None:
        """Finish the file (Parquet writes its footer here)."""
        self._writer.close()


def kept_writer(path: str, kind: str, schema: Any = None) -> KeptJsonl | KeptTable:
    """The writer for the input kind."""
    return KeptJsonl(path) if kind == "jsonl" else KeptTable(path, kind, schema)


def default_kept_path(input_path: str) -> str:
    """train.jsonl -> train.kept.jsonl, beside the input."""
    head, dot, ext = input_path.rpartition(".")
    if not dot or "/" in ext:
        return input_path + ".kept"
    return f"{head}.kept.{ext}"
