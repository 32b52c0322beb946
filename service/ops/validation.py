"""Validation: chains checked in the worker pool, every report recorded before it is answered.

Used by POST /v1/validate(/batch) and by chat, whose every attempt is validated and audited the
same way. (`faithgate validate` checks chains locally and keeps no audit trail.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.ops.audit import Actor
from service.ops.errors import Unavailable
from service.pool import AuditLabels, Validated, WorkerFailed

if TYPE_CHECKING:
    from service.state import AppState


async def validate_chains(state: AppState, chains: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reports of `chains`, in order, from the worker pool (Unavailable if it fails)."""
    return [report for report, _entry in await _validated(state, chains)]


async def _validated(
    state: AppState, chains: list[dict[str, Any]], audit: AuditLabels | None = None
) -> list[Validated]:
    """validate_chains(), each report with the audit Entry its worker made (given `audit`)."""
    assert state.pool is not None, "the app has not started"
    timeout = state.settings.validation_timeout_s
    try:
        return await state.pool.validated(chains, timeout=timeout, audit=audit)
    except WorkerFailed as exc:
        raise Unavailable("worker_failed", f"validation failed: {exc}") from exc


async def audit_validations(
    state: AppState, items: list[dict[str, Any]], actor: Actor
) -> list[dict[str, Any]]:
    """Record the validations (group-committed) and count them; AuditWriteError propagates.

    items: [{"chain", "report", "model", "adapter", ...}]; returns one {"record_id", "hash",
    "case_id"} per item (a flagged report opens a case).
    """
    assert state.audit is not None, "the app has not started"
    records = await state.audit.record(
        items, request_id=actor.request_id or "", key_id=actor.id, redact=actor.redact
    )
    state.metrics.audit_records.labels("validation").inc(len(items))
    opened = sum(1 for r in records if r.get("case_id"))
    if opened:
        state.metrics.cases_opened.inc(opened)
    state.metrics.observe_reports(items)
    return records


async def validate_and_audit(
    state: AppState, chains: list[dict[str, Any]], labels: list[dict[str, Any]], actor: Actor
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Validate, then record each report with its labels ({"model", "adapter"}): both lists."""
    assert state.audit is not None, "the app has not started"
    # Announced to the audit writer while they are validated: a write about to start waits a
    # moment for them, so that concurrent requests share one transaction.
    audit = AuditLabels(actor.request_id or "", actor.id, actor.redact, labels)
    with state.audit.arriving(len(chains)):
        validated = await _validated(state, chains, audit)
    # "entry": the record the worker made of chain and report, written as it is.
    items = [
        {"chain": chain, "report": report, "entry": entry, **label}
        for chain, (report, entry), label in zip(chains, validated, labels, strict=True)
    ]
    reports = [report for report, _entry in validated]
    return reports, await audit_validations(state, items, actor)
