"""Prometheus metrics of one app: its own registry, faithgate_* names, bounded label values."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/+-]{0,63}$")
_VERDICTS = {"faithful", "unfaithful", "unverifiable"}
_STATUSES = {"verified", "error", "unsupported", "unchecked"}
_SEVERITIES = {"error", "warning", "info"}

# Validation time buckets (seconds): from the sub-millisecond arithmetic chains to the budget.
VALIDATION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5)
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
GENERATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320)


class BoundedLabel:
    """Maps free-form values (model, adapter, domain) to a bounded set of label values.

    Configured values always keep their name; up to `limit` further values keep theirs in the
    order they are first seen; every other value is "other" and a missing one is "none".
    """

    def __init__(self, known: Iterable[str], limit: int) -> None:
        self._known = {v for v in known if _SAFE.match(v)}
        self._limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: Any) -> str:
        if value is None or value == "":
            return "none"
        if not isinstance(value, str) or not _SAFE.match(value):
            return "other"
        if value in self._known or value in self._seen:
            return value
        with self._lock:
            if len(self._seen) < self._limit:
                self._seen.add(value)
                return value
        return "other"


class Metrics:
    """Every metric the service exports, registered on a registry of its own."""

    def __init__(
        self,
        domains: Iterable[str] = (),
        models: Iterable[str] = (),
        adapters: Iterable[str] = (),
        label_limit: int = 32,
    ) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.domain = BoundedLabel(domains, label_limit)
        self.model = BoundedLabel(models, label_limit)
        self.adapter = BoundedLabel(adapters, label_limit)
        # Finding codes come from the validators' code, not from users; bound them all the same.
        self.code = BoundedLabel((), 512)
        chain_labels = ["domain", "model", "adapter"]
        self.validations = Counter(
            "faithgate_validations_total",
            "Chains validated, by verdict",
            ["verdict", *chain_labels],
            registry=r,
        )
        self.laundering = Counter(
            "faithgate_laundering_total",
            "Chains flagged as reasoning laundering (answer not what the reasoning supports)",
            chain_labels,
            registry=r,
        )
        self.findings = Counter(
            "faithgate_findings_total",
            "Validator findings, by validator, code and severity",
            ["validator", "code", "severity"],
            registry=r,
        )
        self.steps = Counter(
            "faithgate_steps_total", "Reasoning steps checked, by status", ["status"], registry=r
        )
        self.validation_seconds = Histogram(
            "faithgate_validation_duration_seconds",
            "Time the validators spent on one chain",
            buckets=VALIDATION_BUCKETS,
            registry=r,
        )
        self.audit_records = Counter(
            "faithgate_audit_records_total",
            "Audit records written, by event",
            ["event"],
            registry=r,
        )
        self.audit_group_records = Histogram(
            "faithgate_audit_group_records",
            "Validation records per audit transaction (group commit: one fsync for them all)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 1024),
            registry=r,
        )
        self.audit_failures = Counter(
            "faithgate_audit_write_failures_total",
            "Audit writes that failed (the request was answered 503)",
            registry=r,
        )
        self.cases_opened = Counter(
            "faithgate_cases_opened_total", "Review cases opened for flagged chains", registry=r
        )
        self.cases_reviewed = Counter(
            "faithgate_cases_reviewed_total",
            "Cases reviewed, by review verdict",
            ["verdict"],
            registry=r,
        )
        self.worker_restarts = Counter(
            "faithgate_validation_worker_restarts_total",
            "Validation worker processes that died or were killed and replaced",
            registry=r,
        )
        self.audit_process_restarts = Counter(
            "faithgate_audit_process_restarts_total",
            "Audit writer processes started again after the previous one died",
            registry=r,
        )
        self.workers_ready = Gauge(
            "faithgate_validation_workers", "Validation worker processes ready", registry=r
        )
        self.http_requests = Counter(
            "faithgate_http_requests_total",
            "HTTP requests, by method, route template and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_seconds = Histogram(
            "faithgate_http_request_duration_seconds",
            "HTTP request duration, by method and route template",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=r,
        )
        # Model hosting: chat generations, probes, adapter changes (service/engines, chat, probe).
        self.generations = Counter(
            "faithgate_generations_total",
            "Chat generation attempts, by policy and outcome (returned, blocked, retried)",
            ["model", "adapter", "policy", "outcome"],
            registry=r,
        )
        self.generation_tokens = Counter(
            "faithgate_generation_tokens_total",
            "Tokens processed by the engine, by kind (prompt, completion)",
            ["kind"],
            registry=r,
        )
        self.generation_seconds = Histogram(
            "faithgate_generation_duration_seconds",
            "Engine time of one generation attempt",
            buckets=GENERATION_BUCKETS,
            registry=r,
        )
        self.probes = Counter(
            "faithgate_probes_total",
            "Counterfactual probe runs, by interpretation (causal, partial, decorative, unchecked)",
            ["interpretation"],
            registry=r,
        )
        self.probe_seconds = Histogram(
            "faithgate_probe_duration_seconds",
            "Time of one counterfactual probe run",
            buckets=GENERATION_BUCKETS,
            registry=r,
        )
        self.adapter_operations = Counter(
            "faithgate_adapter_operations_total",
            "Adapter loads and unloads, by result",
            ["operation", "result"],
            registry=r,
        )
        # Series that exist from the start, at 0: rate() and increase() then see their first
        # increment (a series born at 1 looks unchanged), and dashboards show the zeros.
        for verdict in sorted(_VERDICTS):
            self.cases_reviewed.labels(verdict)
        for status in sorted(_STATUSES):
            self.steps.labels(status)
        # Scrape-time values of the whole deployment (service/metrics_state.py), once watched.
        self._state_collector: Any = None
        self._children: dict[tuple[Any, tuple[str, ...]], Any] = {}

    def watch_state(self, store: Any, registry_root: Path) -> None:
        """Export the review backlog, active jobs and registry promotions read at scrape time."""
        from service.metrics_state import StateCollector

        if self._state_collector is not None:
            self.registry.unregister(self._state_collector)
        self._state_collector = StateCollector(store, registry_root, self.adapter)
        self.registry.register(self._state_collector)

    def observe_reports(self, items: list[dict[str, Any]]) -> None:
        """Count the validations of audited items ({"report", "chain", "model", "adapter"})."""
        for item in items:
            report = item["report"]
            chain = item["chain"] if isinstance(item["chain"], dict) else {}
            labels = (
                self.domain(chain.get("domain")),
                self.model(item.get("model")),
                self.adapter(item.get("adapter")),
            )
            verdict = report.get("verdict")
            verdict = verdict if verdict in _VERDICTS else "other"
            self.child(self.validations, verdict, *labels).inc()
            if report.get("laundering"):
                self.child(self.laundering, *labels).inc()
            statuses: dict[str, int] = {}
            for step in report.get("steps", ()):
                status = step.get("status")
                status = status if status in _STATUSES else "other"
                statuses[status] = statuses.get(status, 0) + 1
                self._count_findings(step.get("findings", ()))
            for status, n in statuses.items():
                self.child(self.steps, status).inc(n)
            self._count_findings(report.get("findings", ()))
            elapsed = report.get("elapsed_ms")
            if isinstance(elapsed, (int, float)):
                self.validation_seconds.observe(elapsed / 1000.0)

    def child(self, metric: Any, *values: str) -> Any:
        """metric.labels(*values), kept: labels() costs a lock and checks on every call, and the
        label values are bounded (domain, model, adapter, code), so the cache is too."""
        key = (metric, values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def _count_findings(self, findings: Iterable[dict[str, Any]]) -> None:
        for f in findings:
            severity = f.get("severity")
            self.child(
                self.findings,
                self.code(f.get("validator")),
                self.code(f.get("code")),
                severity if severity in _SEVERITIES else "other",
            ).inc()
