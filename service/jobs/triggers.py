"""Automatic starts: reviewed-case counts per domain, and Alertmanager webhooks."""

from __future__ import annotations

import hashlib
import re
from typing import Any


def due_domains(counts: dict[str, int], marks: dict[str, int], threshold: int) -> list[str]:
    """Domains whose reviewed cases grew by `threshold` since their last automatic job."""
    if threshold <= 0:
        return []
    return sorted(d for d, n in counts.items() if n - marks.get(d, 0) >= threshold)


def matching_alerts(payload: dict[str, Any], pattern: str) -> list[dict[str, Any]]:
    """The firing alerts of an Alertmanager webhook whose alertname matches `pattern`."""
    regex = re.compile(pattern)
    out = []
    for alert in payload.get("alerts") or []:
        if not isinstance(alert, dict) or alert.get("status", "firing") != "firing":
            continue
        labels = alert.get("labels") or {}
        if isinstance(labels, dict) and regex.search(str(labels.get("alertname", ""))):
            out.append(alert)
    return out


def group_key(payload: dict[str, Any], alerts: list[dict[str, Any]]) -> str:
    """The idempotency key: the alert group and when its episode began.

    Alertmanager repeats a firing group's notification (repeat_interval) with the same groupKey
    and the same alert startsAt: one job. The group resolving and firing again later starts a
    new episode (a later startsAt): a new job.
    """
    group = str(payload.get("groupKey") or sorted((payload.get("groupLabels") or {}).items()))
    began = min(str(a.get("startsAt") or "") for a in alerts) if alerts else ""
    digest = hashlib.sha256(f"{group}\x00{began}".encode()).hexdigest()[:32]
    return f"alertmanager:{digest}"


def alert_domain(payload: dict[str, Any], alerts: list[dict[str, Any]]) -> str | None:
    """The `domain` label the alerts share (the job then trains on that domain's cases)."""
    common = payload.get("commonLabels") or {}
    if isinstance(common, dict) and common.get("domain"):
        return str(common["domain"])
    domains = {str((a.get("labels") or {}).get("domain")) for a in alerts}
    domains.discard("None")
    return domains.pop() if len(domains) == 1 else None
