"""Scrape-time metrics: review backlog, active training jobs, registry promotions and rollbacks."""

# The fixtures imported from api_support reappear as test parameters (pytest injects them).
# ruff: noqa: F811

from __future__ import annotations

import json
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from service.jobs.store import JobStore
from service.metrics import BoundedLabel
from service.metrics_state import StateCollector
from tests.service.api_support import (  # noqa: F401 (fixtures)
    BAD,
    api,
    backend,
    chain,
    metric_samples,
    parse_metrics,
    sqlite_api_factory,
)
from training.registry import Registry


def _value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def _register(registry: Registry, tmp: Path, name: str) -> None:
    src = tmp / f"src-{name}"
    src.mkdir()
    (src / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    (src / "adapter_model.safetensors").write_bytes(name.encode())
    registry.register(src, name, {"gate": {"passed": True, "reasons": []}, "base_model": "b"})


def test_the_review_backlog_follows_opened_and_reviewed_cases(api) -> None:
    before = _value(metric_samples(api), "faithgate_cases_open")
    assert before is not None
    r = api.client.post("/v1/validate", json=chain(BAD), headers=api.auth("validate"))
    case_id = r.headers["x-case-id"]
    assert _value(metric_samples(api), "faithgate_cases_open") == before + 1
    review = {"verdict": "unfaithful"}
    url = f"/v1/cases/{case_id}/review"
    assert api.client.post(url, json=review, headers=api.auth("review")).is_success
    assert _value(metric_samples(api), "faithgate_cases_open") == before


def test_active_training_jobs_are_counted_from_the_job_table(sqlite_api_factory) -> None:
    app = sqlite_api_factory(training_max_jobs=0)  # nothing claims the job: it stays queued
    samples = metric_samples(app)
    assert _value(samples, "faithgate_training_jobs_active", status="queued") == 0
    assert _value(samples, "faithgate_training_jobs_active", status="running") == 0
    # Counters whose first increment must show in rate(): present at 0 from the start.
    for status in ("succeeded", "failed", "cancelled", "interrupted"):
        assert _value(samples, "faithgate_training_jobs_total", status=status) == 0
    for verdict in ("faithful", "unfaithful", "unverifiable"):
        assert _value(samples, "faithgate_cases_reviewed_total", verdict=verdict) == 0
    jobs = JobStore(app.store)
    job, _ = jobs.create({"cases": {"status": "reviewed"}, "train": {"base": "b"}})
    assert _value(metric_samples(app), "faithgate_training_jobs_active", status="queued") == 1
    assert jobs.claim(job["id"], pid=1)
    samples = metric_samples(app)
    assert _value(samples, "faithgate_training_jobs_active", status="queued") == 0
    assert _value(samples, "faithgate_training_jobs_active", status="running") == 1


def test_promotions_and_rollbacks_come_from_the_registry(sqlite_api_factory, tmp_path) -> None:
    app = sqlite_api_factory(training_max_jobs=0)
    assert _value(metric_samples(app), "faithgate_adapter_promotions_total", adapter="fg-a") is None
    registry = Registry(app.settings.data_dir / "adapters")
    for name in ("fg-a", "fg-b"):
        _register(registry, tmp_path, name)
    headers = {"Authorization": f"Bearer {app.key('train')}"}
    started = time.time()
    assert app.client.post("/v1/adapters/fg-a/promote", headers=headers).status_code == 200
    registry.promote("fg-b", by="cli")  # a promotion made outside this process counts too
    assert app.client.post("/v1/adapters/rollback", headers=headers).status_code == 200
    samples = metric_samples(app)
    assert _value(samples, "faithgate_adapter_promotions_total", adapter="fg-a") == 1
    assert _value(samples, "faithgate_adapter_promotions_total", adapter="fg-b") == 1
    assert _value(samples, "faithgate_adapter_rollbacks_total", adapter="fg-b") == 1
    assert _value(samples, "faithgate_adapter_rollbacks_total", adapter="fg-a") is None
    for name in ("fg-a", "fg-b"):
        at = _value(samples, "faithgate_adapter_last_promotion_timestamp_seconds", adapter=name)
        assert at is not None and started - 1 <= at <= time.time() + 1


def test_an_unreadable_registry_is_counted_and_metrics_still_answer(sqlite_api_factory) -> None:
    app = sqlite_api_factory(training_max_jobs=0)
    root = app.settings.data_dir / "adapters"
    root.mkdir(parents=True, exist_ok=True)
    (root / "registry.json").write_text("{not json")
    samples = metric_samples(app)
    assert _value(samples, "faithgate_state_collect_errors_total", source="registry") == 1
    assert _value(samples, "faithgate_cases_open") == 0  # the other sources still report
    assert _value(samples, "faithgate_validation_workers") == 1


class _DownStore:
    """A store whose database is gone: every query raises."""

    def list_cases(self, **_: object) -> None:
        raise ConnectionError("database unreachable")


def test_a_failing_database_drops_only_itsmetric_samples(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    registry.register(StateCollector(_DownStore(), tmp_path, BoundedLabel((), 4)))
    for scrape in (1, 2):
        samples = parse_metrics(generate_latest(registry).decode())
        errors = "faithgate_state_collect_errors_total"
        assert _value(samples, errors, source="cases") == scrape
        assert _value(samples, errors, source="jobs") == scrape
        assert _value(samples, errors, source="registry") == 0  # no registry yet: not an error
        assert _value(samples, "faithgate_cases_open") is None
