"""Ray Data integration: validate a dataset across a cluster with `Dataset.map_batches`.

    import ray
    from service.datasets.ray_data import ValidateBatch

    ds = ray.data.read_parquet("s3://bucket/chains/")
    out = ds.map_batches(ValidateBatch, batch_format="pyarrow",
                         compute=ray.data.ActorPoolStrategy(size=8))
    out.filter(lambda row: row["faithgate_passed"]).drop_columns(REPORT_COLUMNS).write_parquet(...)

`ValidateBatch` builds the validators once per actor and returns each batch with the report
columns added. Reading and writing stay Ray's; `faithgate validate --ray` runs the same job
from the command line and writes the same files as a local run.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

from service.cli.jsonl import decode_line
from service.datasets.extras import require
from service.datasets.formats import Fields, RowFormat, detect
from service.datasets.sources import CHUNK_ROWS, Chunk
from service.datasets.work import Job, Row, RowResult, validate_rows

# Added to every batch: one entry per chain of the row (two for a preference pair).
REPORTS, VERDICTS, CODES, PASSED = (
    "faithgate_reports",
    "faithgate_verdicts",
    "faithgate_codes",
    "faithgate_passed",
)
REPORT_COLUMNS = [REPORTS, VERDICTS, CODES, PASSED]
# Columns of the readers below: the global row index, and a JSON Lines line still undecoded.
ROW, LINE, RAW = "_faithgate_row", "_faithgate_line", "_faithgate_raw"
# Larger than a local chunk: each Ray batch pays a scheduling round trip.
RAY_BATCH_ROWS = 4 * CHUNK_ROWS
INTERNAL_COLUMNS = [ROW, LINE, RAW]


class ValidateBatch:
    """A `map_batches` callable (batch_format="pyarrow"): the batch plus the report columns.

    Rows are read in `format` ("auto" detects it from the batch's columns); `keep` decides
    `faithgate_passed` ("faithful" or "not-unfaithful"; without it every row is False);
    `id_field` names the column that identifies a row in its reports.
    """

    def __init__(
        self,
        format: str = "auto",
        budget_s: float = 2.0,
        keep: str | None = None,
        id_field: str | None = None,
        job: Job | None = None,
    ) -> None:
        from validators.pipeline import validators

        validators()  # once per actor: its warm-up is not charged to the first chain
        self._auto = job is None and format == "auto"
        kind = "chain" if format == "auto" else format
        self.job = job or Job(RowFormat(kind, Fields(id=id_field)), budget_s, keep)

    def __call__(self, batch: Any) -> Any:
        """Validate the rows of one pyarrow Table and append the report columns."""
        pa = require("pyarrow", "ValidateBatch")
        job = self._job_for(batch.column_names)
        results = validate_rows(_rows(batch), job)
        for name, values, kind in (
            (REPORTS, [r.reports for r in results], pa.list_(pa.string())),
            (VERDICTS, [r.verdicts for r in results], pa.list_(pa.string())),
            (CODES, [r.codes for r in results], pa.list_(pa.string())),
            (PASSED, [r.passed for r in results], pa.bool_()),
        ):
            batch = batch.append_column(name, pa.array(values, type=kind))
        return batch

    def _job_for(self, columns: list[str]) -> Job:
        if not self._auto or RAW in columns:
            return self.job
        kind = detect([c for c in columns if c not in INTERNAL_COLUMNS]) or "chain"
        return Job(RowFormat(kind, self.job.format.fields), self.job.budget_s, self.job.keep)


def _rows(batch: Any) -> list[Row]:
    names = batch.column_names
    if RAW in names:
        return [
            (i, *decode_line(n, raw))
            for i, n, raw in zip(
                batch[ROW].to_pylist(), batch[LINE].to_pylist(), batch[RAW].to_pylist(), strict=True
            )
        ]
    data = batch.drop_columns([c for c in INTERNAL_COLUMNS if c in names]).to_pylist()
    # Without the row index column (a dataset read by Ray's own readers) ids need an id column.
    index = batch[ROW].to_pylist() if ROW in names else [None] * len(data)
    return [(i, row, None) for i, row in zip(index, data, strict=True)]


def read_dataset(path: str, kind: str) -> Any:
    """A Ray Dataset of `path` with the row index column; JSON Lines stay undecoded bytes."""
    ray_data = require("ray.data", "--ray")
    from service.datasets.ray_sources import JsonlLines, ParquetRows

    if "://" not in path:
        path = os.path.abspath(path)  # read tasks run in other processes, with another cwd
    source = JsonlLines(path) if kind == "jsonl" else ParquetRows(path)
    # The read is I/O: asking a CPU for it would leave the validating actors, which hold every
    # CPU of a small cluster, waiting for a read that can never be scheduled.
    return ray_data.read_datasource(source, num_cpus=0)


def ray_chunks(
    path: str, kind: str, job: Job, address: str | None, workers: int | None
) -> Iterator[tuple[Chunk, list[RowResult]]]:
    """Each block of the validated dataset as (chunk, results), in input order."""
    ray = require("ray", "--ray")
    if kind not in ("jsonl", "parquet"):
        raise ValueError(f"--ray reads JSON Lines or Parquet, not {kind}")
    if not ray.is_initialized():
        local_cpus = workers if address is None else None
        if address is None:
            # Ray runs its workers at nice 15 by default; a local cluster started for this one
            # job should compete for the cores like `--workers` does, not yield to everything.
            os.environ.setdefault("RAY_worker_niceness", "0")
        ray.init(
            address=address,
            num_cpus=local_cpus,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # reports in input order, as locally
    context.enable_progress_bars = False  # faithgate draws its own
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # its notices would bury the summary
    size = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    validated = read_dataset(path, kind).map_batches(
        ValidateBatch,
        fn_constructor_kwargs={"job": job},
        batch_format="pyarrow",
        batch_size=RAY_BATCH_ROWS,
        compute=ray.data.ActorPoolStrategy(size=size),
    )
    for batch in validated.iter_batches(batch_format="pyarrow", batch_size=None):
        if batch.num_rows:
            yield _chunk(batch), _results(batch)


def _chunk(batch: Any) -> Chunk:
    first = batch[ROW][0].as_py()
    if RAW in batch.column_names:
        rows, lines, raws = (batch[c].to_pylist() for c in (ROW, LINE, RAW))
        return Chunk(first=first, lines=list(zip(rows, lines, raws, strict=True)))
    return Chunk(first=first, batch=batch.combine_chunks().to_batches()[0])


def _results(batch: Any) -> list[RowResult]:
    columns = [batch[c].to_pylist() for c in REPORT_COLUMNS]
    return [RowResult(*values) for values in zip(*columns, strict=True)]
