"""One validation run: a source, a runner (local or Ray), the reports, the kept rows, a summary."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from service.datasets.formats import CHAIN, FIELDS, Fields, RowFormat, detect
from service.datasets.sinks import kept_writer
from service.datasets.sources import Chunk, JsonlSource, TableSource
from service.datasets.summary import Summary
from service.datasets.work import Job, RowResult


class UsageError(ValueError):
    """The run cannot start (unknown format, unreadable combination of options): exit 2."""


@dataclass
class Plan:
    """Everything a run needs, resolved from the command line."""

    input: str
    kind: str  # jsonl | parquet | arrow
    job: Job
    workers: int
    ray_address: str | None = None
    use_ray: bool = False
    kept_path: str | None = None


def open_source(path: str, kind: str, stream: IO[bytes] | None) -> JsonlSource | TableSource:
    """The reader for the input (JSON Lines may come from a stream, tables need a file)."""
    if kind == "jsonl":
        assert stream is not None
        return JsonlSource(stream)
    if path == "-":
        raise UsageError(f"{kind} input must be a file, not stdin")
    try:
        return TableSource(path, kind)
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        raise UsageError(f"cannot read {path} as {kind}: {exc}") from exc


def resolve_format(
    columns: list[str] | None, wanted: str, fields: Fields, mapped: bool, where: str
) -> RowFormat:
    """The row format: as asked, named columns when any is given, else detected from the columns."""
    if wanted != "auto":
        return RowFormat(wanted, fields)
    if mapped:
        return RowFormat(FIELDS, fields)
    if columns is None:  # no JSON object among the first lines: each line gets its own error
        return RowFormat(CHAIN, fields)
    kind = detect(columns)
    if kind is None:
        raise UsageError(
            f"cannot tell the format of {where} from its columns {sorted(columns)[:12]}: "
            "name them with --reasoning-field (and --question-field, --answer-field, "
            "--id-field) or choose --format"
        )
    return RowFormat(kind, fields)


def execute(
    plan: Plan,
    source: JsonlSource | TableSource,
    out: IO[str],
    tick: Any,
) -> Summary:
    """Validate every row, write reports (and kept rows); the summary of what was done."""
    summary = Summary()
    kept = None
    if plan.job.keep is not None:
        assert plan.kept_path is not None
        kept = kept_writer(plan.kept_path, plan.kind, getattr(source, "schema", None))
    try:
        for chunk, results in _validated(plan, source):
            for result in results:
                out.write("\n".join(result.reports) + "\n")
                summary.add(result)
            if kept is not None:
                kept.write(chunk, [r.passed for r in results])
            tick(sum(len(r.reports) for r in results))
    finally:
        if kept is not None:
            kept.close()
    return summary


def _validated(
    plan: Plan, source: JsonlSource | TableSource
) -> Iterator[tuple[Chunk, list[RowResult]]]:
    if plan.use_ray:
        from service.datasets.ray_data import ray_chunks

        return ray_chunks(plan.input, plan.kind, plan.job, plan.ray_address, plan.workers)
    from service.datasets.local import validate_chunks

    return validate_chunks(source.chunks(), plan.job, plan.workers)
