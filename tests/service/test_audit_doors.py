"""One operation, one audit record, whichever door it came through (HTTP, CLI, Alertmanager hook).

Every state-changing record names its actor (an API key id, `cli:<user>@<host>`), never null;
reviews keep their verdict in the hashed header; the adapter trail and its metrics agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.cli import main
from service.ops.audit import HOST, os_user
from service.settings import Settings, open_store
from tests.service.api_support import store_events
from tests.service.engine_support import ScriptedEngine
from tests.service.training_support import seed_cases, start_app
from training.registry import Registry

CLI_ACTOR = f"cli:{os_user()}@{HOST}"
# Header fields that differ from record to record whatever the door.
_PER_RECORD = {"id", "ts", "hash", "prev_hash", "payload", "payload_sha256", "retain_until"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.training.tiny import build

    return build(tmp_path_factory.mktemp("tiny") / "tiny-llama")


@pytest.fixture
def env(tiny: Path, tmp_path: Path) -> Iterator[tuple[Any, Any, dict[str, str], str]]:
    """A running app on tmp_path (the CLI opens the same store) and a key with every scope."""
    for app, client in start_app(tmp_path, ScriptedEngine(), training_base_model=str(tiny)):
        info, secret = app.state.faithgate.store.create_key("ops", ["train", "review", "admin"])
        yield app, client, {"Authorization": f"Bearer {secret}"}, info.id


def _records(app: Any, event: str) -> list[tuple[dict, dict]]:
    """(data, record) of every `event` record, in chain order."""
    return [(d, r) for e, d, r in store_events(app.state.faithgate.store) if e == event]


def _shape(data: dict, record: dict) -> tuple[frozenset, frozenset]:
    """What a record carries: its payload's keys and its non-null header fields."""
    header = {k for k, v in record.items() if v is not None and k not in _PER_RECORD}
    return frozenset(data), frozenset(header)


def test_job_creation_is_recorded_alike_through_every_door(env, tiny: Path, tmp_path) -> None:
    app, client, headers, key_id = env
    http = client.post("/v1/training/jobs", json={"cases": {"domain": "math"}}, headers=headers)
    assert http.status_code == 202, http.text
    alert = {
        "groupKey": "{}:{alertname=FaithgateLaunderingHigh}",
        "commonLabels": {"alertname": "FaithgateLaunderingHigh", "domain": "math"},
        "alerts": [{"status": "firing", "labels": {"alertname": "FaithgateLaunderingHigh"}}],
    }
    hook = client.post("/v1/hooks/alertmanager", json=alert, headers=headers)
    assert hook.status_code == 202, hook.text
    cli = ["train", "--base", str(tiny), "--cases", "domain=math", "--detach"]
    assert main([*cli, "--data-dir", str(tmp_path)]) == 0

    created = {d["job_id"]: (d, r) for d, r in _records(app, "training.job_created")}
    assert len(created) == 3
    by_door = {d["triggered_by"]: (d, r) for d, r in created.values()}
    assert by_door["api"][1]["key_id"] == by_door["alert"][1]["key_id"] == key_id
    assert by_door["cli"][1]["key_id"] == CLI_ACTOR
    assert all(r["request_id"] for _, r in by_door.values())
    assert len({_shape(d, r) for d, r in by_door.values()}) == 1
    # One case filter: a domain with no status means that domain's reviewed cases, everywhere.
    filters = {json.dumps(d["config"]["cases"], sort_keys=True) for d, _ in by_door.values()}
    assert filters == {'{"domain": "math", "status": "reviewed"}'}


def test_the_hook_passes_the_same_guards(tmp_path: Path) -> None:
    for app, client in start_app(tmp_path, None, training_base_model=str(tmp_path / "none")):
        _, secret = app.state.faithgate.store.create_key("am", ["train"])
        alert = {"alerts": [{"status": "firing", "labels": {"alertname": "FaithfulnessLow"}}]}
        r = client.post(
            "/v1/hooks/alertmanager", json=alert, headers={"Authorization": f"Bearer {secret}"}
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "base_model_not_found"
        assert _records(app, "training.job_created") == []


def _fake_adapter(registry: Registry, tmp: Path, name: str) -> dict:
    src = tmp / f"src-{name}"
    src.mkdir()
    (src / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    (src / "adapter_model.safetensors").write_bytes(name.encode())
    return registry.register(src, name, {"gate": {"passed": True, "reasons": []}})


def test_promotion_and_rollback_are_recorded_alike_and_agree_with_the_metrics(
    env, tmp_path: Path
) -> None:
    app, client, headers, key_id = env
    registry = app.state.faithgate.jobs.registry
    first, second = (_fake_adapter(registry, tmp_path, n) for n in ("fg-one", "fg-two"))
    assert client.post("/v1/adapters/fg-one/promote", headers=headers).status_code == 200
    assert main(["adapters", "promote", "fg-two", "--data-dir", str(tmp_path)]) == 0
    # Promoting the active adapter again changes nothing and records nothing.
    again = client.post("/v1/adapters/fg-two/promote", headers=headers)
    assert again.status_code == 200 and again.json()["adapter"]["status"] == "active"
    assert main(["adapters", "promote", "fg-two", "--data-dir", str(tmp_path)]) == 0
    promoted = _records(app, "adapter.promoted")
    assert [(d["name"], r["key_id"]) for d, r in promoted] == [
        ("fg-one", key_id),
        ("fg-two", CLI_ACTOR),
    ]
    assert len({_shape(d, r) for d, r in promoted}) == 1
    metrics = client.get("/metrics").text
    assert 'faithgate_adapter_promotions_total{adapter="fg-two"} 1.0' in metrics

    assert main(["adapters", "rollback", "--data-dir", str(tmp_path)]) == 0
    ((data, record),) = _records(app, "adapter.rolled_back")
    assert record["key_id"] == CLI_ACTOR
    assert record["adapter"] == "fg-two" and record["adapter_hash"] == second["content_hash"]
    assert data["reinstated"] == "fg-one" and data["reinstated_hash"] == first["content_hash"]
    assert registry.active() == "fg-one"


def test_keys_are_recorded_with_their_creator(env, tmp_path: Path, capsys) -> None:
    app, client, headers, key_id = env
    r = client.post("/v1/keys", json={"name": "app", "scopes": ["validate"]}, headers=headers)
    assert r.status_code == 201
    opts = ["--data-dir", str(tmp_path)]
    assert main(["keys", "create", "--name", "operator", "--scopes", "review", *opts]) == 0
    cli_key = capsys.readouterr().out.split()[1]
    assert main(["keys", "revoke", cli_key, *opts]) == 0
    created = {d["name"]: (d, r) for d, r in _records(app, "key.created")}
    assert created["app"][1]["key_id"] == key_id
    assert created["operator"][1]["key_id"] == CLI_ACTOR
    assert _shape(*created["app"]) == _shape(*created["operator"])
    ((_, revoked),) = _records(app, "key.revoked")
    assert revoked["key_id"] == CLI_ACTOR


def test_jobs_the_cli_ran_are_counted_by_the_service(env, tiny: Path, tmp_path, capsys) -> None:
    from service.jobs.store import JobStore

    app, client, _, _ = env
    cli = ["train", "--base", str(tiny), "--detach", "--data-dir", str(tmp_path)]
    assert main(cli) == 0
    job_id = capsys.readouterr().out.strip()
    cli_store = open_store(Settings(data_dir=tmp_path))  # a CLI process of its own, say
    try:
        JobStore(cli_store).finish(job_id, "succeeded")
    finally:
        cli_store.close()
    assert 'faithgate_training_jobs_total{status="succeeded"} 1.0' in client.get("/metrics").text


def test_a_review_keeps_its_verdict_in_the_header_after_the_purge(tmp_path: Path) -> None:
    from service.store import Store

    # Retention of 0 days: every payload is due for the purge at once.
    store = Store(f"sqlite:///{tmp_path / 'faithgate.db'}", tmp_path, retention_days=0)
    try:
        (case_id,) = seed_cases(store, 1, review=False)
        review = {"verdict": "faithful", "laundering": False, "comment": "a false alarm"}
        store.review_case(case_id, review, key_id="key_reviewer", request_id="r1")
        assert store.purge_expired(actor="cli:test@host") > 0
        events = store_events(store)
        (reviewed,) = [r for e, _, r in events if e == "case.reviewed"]
        assert reviewed["payload"] is None  # purged ...
        assert reviewed["verdict"] == "faithful" and reviewed["laundering"] is False  # ... kept
        (purged,) = [r for e, _, r in events if e == "audit.purged"]
        assert purged["key_id"] == "cli:test@host"
        assert store.verify_chain()["ok"]
    finally:
        store.close()


def test_the_cli_and_the_worker_read_the_retention_setting(tmp_path, monkeypatch) -> None:
    import argparse

    from service.cli.storeopts import open_store as cli_open_store
    from service.jobs.worker import worker_settings

    monkeypatch.setenv("FAITHGATE_RETENTION_DAYS", "400")
    args = argparse.Namespace(data_dir=tmp_path, database_url=None)
    store = cli_open_store(args)
    try:
        assert store.retention.days == 400
    finally:
        store.close()
    given = argparse.Namespace(database_url=None, data_dir=tmp_path, retention_days=9)
    assert worker_settings(given).retention_days == 9  # what the service passes on
    monkeypatch.delenv("FAITHGATE_RETENTION_DAYS")
    alone = argparse.Namespace(database_url=None, data_dir=tmp_path, retention_days=None)
    assert worker_settings(alone).retention_days == 183
