"""GET /metrics: the faithgate_* series move with what the service does; labels stay bounded."""

# The fixtures imported from api_support reappear as test parameters (pytest injects them).
# ruff: noqa: F811

from __future__ import annotations

import uuid
from collections.abc import Callable

from service.metrics import BoundedLabel
from tests.service.api_support import (  # noqa: F401 (fixtures)
    BAD,
    GOOD,
    api,
    backend,
    chain,
    metric_samples,
    sqlite_api_factory,
)


def _growth(before: dict, after: dict) -> Callable[..., float]:
    """How much a series grew between two scrapes: grew(name, **labels)."""

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    return grew


def test_validation_metrics_follow_the_reports(api) -> None:
    model = f"m-{uuid.uuid4().hex[:6]}"
    before = metric_samples(api)
    batch = {"chains": [chain(GOOD, model=model), chain(BAD, model=model, adapter="fix-1")]}
    r = api.client.post("/v1/validate/batch", json=batch, headers=api.auth("validate"))
    assert r.status_code == 200
    after = metric_samples(api)
    grew = _growth(before, after)
    chain_labels = {"domain": "math", "model": model}
    labels = {"verdict": "faithful", "adapter": "none", **chain_labels}
    assert grew("faithgate_validations_total", **labels) == 1
    labels = {"verdict": "unfaithful", "adapter": "fix-1", **chain_labels}
    assert grew("faithgate_validations_total", **labels) == 1
    assert grew("faithgate_laundering_total", adapter="fix-1", **chain_labels) == 1
    assert grew("faithgate_steps_total", status="verified") == 3
    assert grew("faithgate_steps_total", status="error") == 1
    labels = {"validator": "arithmetic", "code": "arithmetic.wrong_result", "severity": "error"}
    assert grew("faithgate_findings_total", **labels) == 1
    assert grew("faithgate_validation_duration_seconds_count") == 2
    assert grew("faithgate_audit_records_total", event="validation") == 2
    assert grew("faithgate_cases_opened_total") == 1
    labels = {"method": "POST", "route": "/v1/validate/batch", "status": "200"}
    assert grew("faithgate_http_requests_total", **labels) == 1
    labels = {"method": "POST", "route": "/v1/validate/batch"}
    assert grew("faithgate_http_request_duration_seconds_count", **labels) == 1


def test_reviews_and_errors_are_counted(api) -> None:
    r = api.client.post("/v1/validate", json=chain(BAD), headers=api.auth("validate"))
    before = metric_samples(api)
    url = f"/v1/cases/{r.headers['x-case-id']}/review"
    assert api.client.post(
        url, json={"verdict": "unfaithful"}, headers=api.auth("review")
    ).is_success
    api.client.get("/v1/cases/case_missing", headers=api.auth("review"))
    api.client.get(f"/nowhere/{uuid.uuid4().hex}")
    after = metric_samples(api)
    grew = _growth(before, after)
    assert grew("faithgate_cases_reviewed_total", verdict="unfaithful") == 1
    labels = {"method": "GET", "route": "/v1/cases/{case_id}", "status": "404"}
    assert grew("faithgate_http_requests_total", **labels) == 1
    # Unknown paths share one label value: a scanner cannot grow the series.
    labels = {"method": "GET", "route": "unmatched", "status": "404"}
    assert grew("faithgate_http_requests_total", **labels) == 1


def test_label_values_are_bounded(sqlite_api_factory) -> None:
    small = sqlite_api_factory(metrics_models=["known-model"], metrics_label_limit=2)
    for model in ("known-model", "m1", "m2", "m3", "m4", "bad label!"):
        body = chain(GOOD, model=model)
        assert small.client.post(
            "/v1/validate", json=body, headers=small.auth("validate")
        ).is_success
    samples = metric_samples(small)
    models = {
        dict(labels)["model"]
        for (name, labels), _ in samples.items()
        if name == "faithgate_validations_total"
    }
    assert models == {"known-model", "m1", "m2", "other"}


def test_bounded_label_unit() -> None:
    label = BoundedLabel(["a"], limit=1)
    assert [label(v) for v in ("a", None, "", "b", "c", "b", 7, "x" * 100)] == [
        "a",
        "none",
        "none",
        "b",
        "other",
        "b",
        "other",
        "other",
    ]


def test_worker_gauge(api) -> None:
    samples = metric_samples(api)
    assert samples[("faithgate_validation_workers", ())] == api.settings.workers
