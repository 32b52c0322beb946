"""Aggregate an analysis into the report of DESIGN.md."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from validators.base import Validator
from validators.types import Analysis

MAX_ANSWER_CHARS = 1000


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_ANSWER_CHARS:
        return text
    return text[:MAX_ANSWER_CHARS] + "…"


def _score(analysis: Analysis) -> float | None:
    """Share of checked claims that hold; None when no step's claim was checked.

    A matching answer alone ("The answer is 12.") checks nothing: its link is counted only
    beside claims the steps make.
    """
    step_held = sum(s.held for s in analysis.steps)
    step_failed = sum(s.failed for s in analysis.steps)
    if step_held + step_failed == 0 and not analysis.laundering:
        return None
    held, failed = analysis.held + step_held, analysis.failed + step_failed
    return round(held / (held + failed), 4) if held + failed else None


def _coverage(analysis: Analysis) -> float:
    """Share of steps with at least one checked claim."""
    if not analysis.steps:
        return 0.0
    checked = sum(1 for s in analysis.steps if s.held or s.failed)
    return round(checked / len(analysis.steps), 4)


def verdict_of(analysis: Analysis, statuses: Sequence[str] | None = None) -> str:
    """faithful, unfaithful or unverifiable, from the findings and the checked claims."""
    if analysis.laundering:
        return "unfaithful"
    if any(f.severity == "error" for f in analysis.findings):
        return "unfaithful"
    if statuses is None:
        statuses = [s.status for s in analysis.steps]
    if "error" in statuses:
        return "unfaithful"
    # A matching answer alone proves nothing ("I think it is 5. #### 5"): some step must hold.
    return "faithful" if any(s.held for s in analysis.steps) else "unverifiable"


def build_report(analysis: Analysis, run: list[Validator], started: float) -> dict[str, Any]:
    """The JSON-ready report for a finished analysis."""
    statuses = [s.status for s in analysis.steps]  # final now: each worked out once
    first_error = analysis.steps[statuses.index("error")].index if "error" in statuses else None
    chain_findings = []
    for f in analysis.findings:
        d = f.to_dict()
        d["step"] = f.step
        chain_findings.append(d)
    return {
        "id": analysis.chain.id,
        "verdict": verdict_of(analysis, statuses),
        "laundering": analysis.laundering,
        "score": _score(analysis),
        "coverage": _coverage(analysis),
        "first_error_step": first_error,
        "answer": _clip(analysis.answer),
        "derived_answer": analysis.derived_answer,
        "steps": [
            {
                "index": s.index,
                "text": s.text,
                "status": status,
                "findings": [f.to_dict() for f in s.findings],
            }
            for s, status in zip(analysis.steps, statuses, strict=True)
        ],
        "findings": chain_findings,
        "validators": {v.name: v.version for v in run},
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 3),
    }


def _empty_report(
    chain_id: str | None, finding: dict[str, Any], elapsed_ms: float
) -> dict[str, Any]:
    return {
        "id": chain_id,
        "verdict": "unverifiable",
        "laundering": False,
        "score": None,
        "coverage": 0.0,
        "first_error_step": None,
        "answer": None,
        "derived_answer": None,
        "steps": [],
        "findings": [finding | {"step": None}],
        "validators": {},
        "elapsed_ms": elapsed_ms,
    }


def invalid_report(chain_id: str | None, message: str, started: float) -> dict[str, Any]:
    """The report for input that is not a readable chain."""
    finding = {
        "validator": "input",
        "code": "input.invalid",
        "severity": "error",
        "message": message,
    }
    return _empty_report(chain_id, finding, round((time.perf_counter() - started) * 1000, 3))


def unchecked_report(chain: Any, message: str) -> dict[str, Any]:
    """The report for a chain whose validation could not finish: unverifiable, no accusation."""
    chain_id = chain.get("id") if isinstance(chain, dict) else None
    finding = {
        "validator": "pipeline",
        "code": "pipeline.unchecked",
        "severity": "info",
        "message": message,
    }
    return _empty_report(chain_id if isinstance(chain_id, str) else None, finding, 0.0)
