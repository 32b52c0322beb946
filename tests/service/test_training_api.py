"""Training, adapter and hook routes: jobs, guards, scopes, Alertmanager idempotency, promotion."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.jobs import runner as runner_module
from tests.service.api_support import store_events
from tests.service.engine_support import ScriptedEngine
from tests.service.training_support import auth, seed_cases, start_app, wait_for
from training.registry import Registry


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.training.tiny import build

    return build(tmp_path_factory.mktemp("tiny") / "tiny-llama")


@pytest.fixture
def env(tiny: Path, tmp_path: Path) -> Iterator[tuple[Any, Any, ScriptedEngine]]:
    engine = ScriptedEngine(replies=["ok"])
    for app, client in start_app(tmp_path, engine, training_base_model=str(tiny)):
        yield app, client, engine


def _fake_adapter(registry: Registry, tmp: Path, name: str, passed: bool) -> None:
    src = tmp / f"src-{name}"
    src.mkdir()
    (src / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    (src / "adapter_model.safetensors").write_bytes(name.encode())
    gate = {"passed": passed, "reasons": [] if passed else ["faithfulness did not improve"]}
    registry.register(src, name, {"gate": gate, "base_model": "scripted-base"})


def _events(app: Any) -> list[tuple[str, dict]]:
    return [(event, data) for event, data, _ in store_events(app.state.faithgate.store)]


def test_a_job_is_queued_watched_and_cancelled(env) -> None:
    app, client, _ = env
    headers = auth(app, "train")
    body = {"cases": {"domain": "math"}, "cycles": 2, "mix": 0.2, "name": "fg-api"}
    r = client.post("/v1/training/jobs", json=body, headers=headers)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "queued" and job["triggered_by"] == "api"
    assert job["config"]["cases"] == {"status": "reviewed", "domain": "math"}
    train = job["config"]["train"]
    assert train["cycles"] == 2 and train["data"]["general_mix"] == 0.2
    assert train["name"] == "fg-api"
    got = client.get(f"/v1/training/jobs/{job['id']}", headers=headers).json()
    assert got["id"] == job["id"] and got["progress"] is None
    listed = client.get("/v1/training/jobs", params={"status": "queued"}, headers=headers).json()
    assert job["id"] in [j["id"] for j in listed["jobs"]]
    cancelled = client.post(f"/v1/training/jobs/{job['id']}/cancel", headers=headers)
    assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
    metrics = client.get("/metrics").text
    assert 'faithgate_training_jobs_total{status="cancelled"} 1.0' in metrics
    again = client.post(f"/v1/training/jobs/{job['id']}/cancel", headers=headers)
    assert again.status_code == 409
    assert client.get("/v1/training/jobs/job_nope", headers=headers).status_code == 404
    events = [e for e, d in _events(app) if d.get("job_id") == job["id"]]
    assert events == ["training.job_created", "training.cancel_requested"]


def test_scopes_guards_and_bad_options(env, tmp_path: Path) -> None:
    app, client, _ = env
    assert client.post("/v1/training/jobs", json={}).status_code == 401
    assert (
        client.post("/v1/training/jobs", json={}, headers=auth(app, "validate")).status_code == 403
    )
    headers = auth(app, "train")
    refused = client.post("/v1/training/jobs", json={"learning_rate": 3e-4}, headers=headers)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "guard_refused" and "above 0.0001" in error["message"]
    forced = client.post(
        "/v1/training/jobs", json={"learning_rate": 3e-4, "force": True}, headers=headers
    )
    assert forced.status_code == 202 and forced.json()["config"]["warnings"]
    bad = client.post("/v1/training/jobs", json={"options": {"sft": {"lr": 1}}}, headers=headers)
    assert bad.status_code == 422 and "unknown sft option" in bad.json()["error"]["message"]
    missing = client.post(
        "/v1/training/jobs", json={"base": str(tmp_path / "none")}, headers=headers
    )
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "base_model_not_found"
    assert client.post("/v1/training/jobs", json={"cycles": 0}, headers=headers).status_code == 422


def _alert(
    status: str = "firing",
    name: str = "FaithgateFaithfulnessLow",
    starts: str = "2026-11-28T10:00:00Z",
    domain: str | None = "math",
) -> dict:
    labels = {"alertname": name, **({"domain": domain} if domain else {})}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "status": status,
        "receiver": "faithgate",
        "groupLabels": {"alertname": name},
        "commonLabels": labels,
        "alerts": [{"status": status, "labels": labels, "startsAt": starts}],
    }


def test_alertmanager_starts_one_job_per_alert_group(env) -> None:
    app, client, _ = env
    headers = auth(app, "train")
    first = client.post("/v1/hooks/alertmanager", json=_alert(), headers=headers)
    assert first.status_code == 202 and first.json()["action"] == "created"
    job_id = first.json()["job_id"]
    repeat = client.post("/v1/hooks/alertmanager", json=_alert(), headers=headers)
    assert repeat.status_code == 200 and repeat.json() == {
        "action": "existing",
        "job_id": job_id,
        "reason": None,
    }
    job = client.get(f"/v1/training/jobs/{job_id}", headers=headers).json()
    assert job["triggered_by"] == "alert" and job["config"]["cases"]["domain"] == "math"
    resolved = client.post("/v1/hooks/alertmanager", json=_alert("resolved"), headers=headers)
    assert resolved.json()["action"] == "ignored"
    other = client.post("/v1/hooks/alertmanager", json=_alert(name="HighLatency"), headers=headers)
    assert other.json()["action"] == "ignored"
    later = client.post(
        "/v1/hooks/alertmanager",
        headers=headers,
        json=_alert(name="FaithgateLaunderingHigh", starts="2026-11-29T10:00:00Z", domain=None),
    )
    assert later.json()["action"] == "created" and later.json()["job_id"] != job_id
    assert (
        client.post(
            "/v1/hooks/alertmanager", json=_alert(), headers=auth(app, "review")
        ).status_code
        == 403
    )


def test_promotion_hot_loads_and_rollback_unloads(env, tmp_path: Path) -> None:
    app, client, engine = env
    registry = app.state.faithgate.jobs.registry
    _fake_adapter(registry, tmp_path, "fg-good", passed=True)
    _fake_adapter(registry, tmp_path, "fg-bad", passed=False)
    headers = auth(app, "train")
    listing = client.get("/v1/adapters", headers=auth(app, "generate")).json()
    assert {a["name"] for a in listing["adapters"]} == {"fg-good", "fg-bad"}
    assert listing["active"] is None and listing["loaded"] == []
    refused = client.post("/v1/adapters/fg-bad/promote", headers=headers)
    assert refused.status_code == 409 and "faithfulness did not improve" in refused.text
    promoted = client.post("/v1/adapters/fg-good/promote", headers=headers)
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["hot_loaded"] is True and engine.adapters() == ["fg-good"]
    forced = client.post("/v1/adapters/fg-bad/promote", json={"force": True}, headers=headers)
    assert forced.json()["previous"] == "fg-good"
    assert sorted(engine.adapters()) == ["fg-bad", "fg-good"]  # the superseded one stays
    back = client.post("/v1/adapters/rollback", headers=headers).json()
    assert back["previous"] == "fg-bad" and back["adapter"]["name"] == "fg-good"
    assert engine.adapters() == ["fg-good"]
    assert client.get("/v1/adapters/fg-bad", headers=headers).json()["status"] == "rolled_back"
    assert client.get("/v1/adapters/nope", headers=headers).status_code == 404
    events = [e for e, _ in _events(app)]
    assert events.count("adapter.promoted") == 2 and "adapter.rolled_back" in events
    assert (
        client.post("/v1/adapters/fg-good/promote", headers=auth(app, "generate")).status_code
        == 403
    )


def test_a_promotion_made_outside_the_service_is_hot_loaded(env, tmp_path: Path) -> None:
    app, _, engine = env
    registry = Registry(app.state.faithgate.jobs.registry.root)  # e.g. `faithgate adapters promote`
    _fake_adapter(registry, tmp_path, "fg-cli", passed=True)
    registry.promote("fg-cli", by="cli")
    wait_for(lambda: engine.adapters() == ["fg-cli"], 10)


def test_an_engine_that_lost_its_adapters_gets_the_promoted_one_back(
    env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _, engine = env
    registry = app.state.faithgate.jobs.registry
    _fake_adapter(registry, tmp_path, "fg-kept", passed=True)
    registry.promote("fg-kept", by="cli")
    runner = app.state.faithgate.jobs
    wait_for(lambda: runner._registry_stamp == registry.stamp(), 10)  # the change is synced
    assert engine.adapters() == ["fg-kept"]
    monkeypatch.setattr(runner_module, "RESYNC_S", 0.5)
    engine.unload_adapter("fg-kept")  # what a restarted engine server looks like
    assert engine.adapters() == []
    wait_for(lambda: engine.adapters() == ["fg-kept"], 10)


def test_reviewed_cases_reaching_the_count_start_a_job(tiny: Path, tmp_path: Path) -> None:
    for app, _client in start_app(
        tmp_path, None, training_base_model=str(tiny), training_auto_reviewed_cases=3
    ):
        runner = app.state.faithgate.jobs
        seed_cases(runner.store, 2, domain="legal")
        runner.tick()
        assert runner.jobs.list()[1] == 0
        seed_cases(runner.store, 1, seed=9, domain="legal")
        runner._last_trigger = 0.0
        runner.tick()
        jobs, total = runner.jobs.list()
        assert total == 1 and jobs[0]["triggered_by"] == "auto"
        assert jobs[0]["config"]["cases"] == {"status": "reviewed", "domain": "legal"}
        runner._last_trigger = 0.0
        runner.tick()
        assert runner.jobs.list()[1] == 1  # the same count never starts a second job
