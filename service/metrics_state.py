"""Metrics read from shared state at scrape time: review backlog, jobs, adapter registry.

Counters in service/metrics.py count what this process did. These values belong to the whole
deployment (every replica reads the same database and the same adapter registry), so they are
read when /metrics is scraped rather than counted: each replica reports the same number, and
dashboards take max() over replicas, never sum(). A source that fails (database down, registry
unreadable) drops its samples from that scrape and counts an error; /metrics still answers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

log = logging.getLogger("faithgate.metrics")

ACTIVE_JOB_STATUSES = ("queued", "running")
FINAL_JOB_STATUSES = ("succeeded", "failed", "cancelled", "interrupted")


def _timestamp(text: Any) -> float | None:
    """Seconds since the epoch of a registry time ("2026-01-02T03:04:05.123456Z"), or None."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class StateCollector:
    """A prometheus_client collector over the store and the adapter registry folder."""

    def __init__(
        self,
        store: Any,
        registry_root: Path,
        adapter_label: Callable[[Any], str],
    ) -> None:
        self.store = store
        self.registry_root = Path(registry_root)
        self.adapter_label = adapter_label
        # Failed reads by source; yielded after the reads, so a scrape reports its own failures.
        self.errors = {"cases": 0, "jobs": 0, "registry": 0}
        self._lock = threading.Lock()

    def describe(self) -> Iterator[Metric]:
        """The families this collector yields (without reading anything)."""
        yield from self._families()
        yield self._error_family()

    def collect(self) -> Iterator[Metric]:
        """Read each source; one that fails is skipped and counted."""
        families = self._families()
        open_cases, jobs, ended, promotions, rollbacks, last = families
        sources = (
            ("cases", lambda: self._open_cases(open_cases)),
            ("jobs", lambda: self._jobs(jobs, ended)),
            ("registry", lambda: self._registry(promotions, rollbacks, last)),
        )
        for source, read in sources:
            try:
                read()
            except Exception as exc:  # any failure of a source must leave /metrics working
                with self._lock:
                    self.errors[source] += 1
                log.warning("metrics: could not read %s: %s", source, exc)
        yield from families
        yield self._error_family()

    def _error_family(self) -> CounterMetricFamily:
        family = CounterMetricFamily(
            "faithgate_state_collect_errors",
            "Scrapes that could not read a shared source (cases, jobs, registry), by source",
            labels=["source"],
        )
        with self._lock:
            for source, count in self.errors.items():
                family.add_metric([source], float(count))
        return family

    @staticmethod
    def _families() -> tuple[Metric, ...]:
        return (
            GaugeMetricFamily(
                "faithgate_cases_open",
                "Review cases waiting for a reviewer (the review backlog, whole deployment)",
            ),
            GaugeMetricFamily(
                "faithgate_training_jobs_active",
                "Training jobs queued or running (whole deployment), by status",
                labels=["status"],
            ),
            CounterMetricFamily(
                "faithgate_training_jobs",
                "Training jobs ended, by final status (whole deployment: API, CLI, hook, auto)",
                labels=["status"],
            ),
            CounterMetricFamily(
                "faithgate_adapter_promotions",
                "Adapter promotions recorded in the registry (API, CLI or automatic), by adapter",
                labels=["adapter"],
            ),
            CounterMetricFamily(
                "faithgate_adapter_rollbacks",
                "Adapters withdrawn by a rollback, by adapter",
                labels=["adapter"],
            ),
            GaugeMetricFamily(
                "faithgate_adapter_last_promotion_timestamp_seconds",
                "When each adapter was last promoted (Unix time)",
                labels=["adapter"],
            ),
        )

    def _open_cases(self, family: GaugeMetricFamily) -> None:
        _, total = self.store.list_cases(status="open", limit=0)
        family.add_metric([], float(total))

    def _jobs(self, active: GaugeMetricFamily, ended: CounterMetricFamily) -> None:
        from service.jobs.store import JobStore

        counts = JobStore(self.store).count_by_status()
        for status in ACTIVE_JOB_STATUSES:
            active.add_metric([status], float(counts[status]))
        for status in FINAL_JOB_STATUSES:
            ended.add_metric([status], float(counts[status]))

    def _registry(
        self,
        promotions: CounterMetricFamily,
        rollbacks: CounterMetricFamily,
        last: GaugeMetricFamily,
    ) -> None:
        from training.registry import Registry

        promoted: dict[str, int] = {}
        withdrawn: dict[str, int] = {}
        latest: dict[str, float] = {}
        # No adapter ever registered: an empty history, no samples, not an error.
        for entry in Registry(self.registry_root).history():
            label = self.adapter_label(entry.get("name"))
            if entry.get("action") == "promote":
                promoted[label] = promoted.get(label, 0) + 1
                at = _timestamp(entry.get("at"))
                if at is not None:
                    latest[label] = max(at, latest.get(label, 0.0))
            elif entry.get("action") == "rollback":
                withdrawn[label] = withdrawn.get(label, 0) + 1
        for label, count in sorted(promoted.items()):
            promotions.add_metric([label], float(count))
        for label, count in sorted(withdrawn.items()):
            rollbacks.add_metric([label], float(count))
        for label, at in sorted(latest.items()):
            last.add_metric([label], at)
