"""The unit of work every runner shares: rows in, report lines and the keep decision out.

One worker, N worker processes and Ray actors all call `validate_rows`, so their reports can
only differ in `elapsed_ms` (wall time of each chain).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from service.datasets.formats import PREFERENCE, RowError, RowFormat, chains_of

KEEP_POLICIES = ("faithful", "not-unfaithful")


@dataclass(frozen=True)
class Job:
    """What to do with each row: its format, the per-chain budget and the keep policy."""

    format: RowFormat = field(default_factory=RowFormat)
    budget_s: float = 2.0
    keep: str | None = None


class RowResult(NamedTuple):
    """One row's reports (JSON lines), their verdicts and finding codes, and whether it passed."""

    reports: list[str]
    verdicts: list[str]
    codes: list[str]
    passed: bool


# A row as the readers hand it over: (row index, decoded object or None, why it is unreadable).
Row = tuple[int | None, Any, str | None]


def validate_rows(rows: list[Row], job: Job) -> list[RowResult]:
    """Validate every chain of every row, in order."""
    return [_validate_row(index, obj, error, job) for index, obj, error in rows]


def _validate_row(index: int | None, obj: Any, error: str | None, job: Job) -> RowResult:
    from validators.pipeline import validate
    from validators.report import invalid_report

    started = time.perf_counter()
    if error is not None:
        return _result([(None, invalid_report(None, error, started))], job)
    try:
        chains = chains_of(obj, job.format, index)
    except RowError as exc:
        return _result([(None, invalid_report(None, str(exc), started))], job)
    return _result([(role, validate(c, budget_s=job.budget_s)) for role, c in chains], job)


def _result(reports: list[tuple[str | None, dict]], job: Job) -> RowResult:
    codes = [f["code"] for _, r in reports for f in _all_findings(r)]
    return RowResult(
        reports=[json.dumps(r, ensure_ascii=False) for _, r in reports],
        verdicts=[r["verdict"] for _, r in reports],
        codes=codes,
        passed=_passes(reports, job),
    )


def _all_findings(report: dict) -> list[dict]:
    return report["findings"] + [f for s in report.get("steps", ()) for f in s["findings"]]


def _passes(reports: list[tuple[str | None, dict]], job: Job) -> bool:
    if job.keep is None:
        return False
    # A preference pair is kept for its chosen side: a flawed rejected side is what it is for.
    pair = job.format.kind == PREFERENCE
    deciding = [r for role, r in reports if role == "chosen" or not pair]
    for report in deciding or [r for _, r in reports]:
        if any(f["code"] == "input.invalid" for f in report["findings"]):
            return False
        if report["verdict"] == "unfaithful" or (
            job.keep == "faithful" and report["verdict"] != "faithful"
        ):
            return False
    return True
