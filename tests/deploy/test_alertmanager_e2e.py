"""The monitoring loop end to end, real parts only: laundering traffic -> faithgate's metrics ->
Prometheus (the real rules, the laundering alert's `for:` cut to 0s) -> Alertmanager
(deploy/alertmanager/alertmanager.yml, webhook pointed at this faithgate) -> POST
/v1/hooks/alertmanager -> one queued corrective training job, audited.

The service runs no engine and no training worker (FAITHGATE_TRAINING_MAX_JOBS=0): the job stays
queued, as it does on serving replicas until a training run takes it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.deploy.alertmanager_server import Alertmanager, local_config
from tests.deploy.prometheus_server import Prometheus
from tests.deploy.tools import ROOT, RULES
from tests.deploy.traffic import MODEL, EngineServer, Traffic, chains, validate, wait_scraped
from tests.service.api_support import bundle_records

pytestmark = pytest.mark.slow  # a real Prometheus, Alertmanager and service process

ALERT = "FaithgateLaunderingRateHigh"


@dataclass
class Loop:
    """The running parts and the key Alertmanager calls faithgate with."""

    server: EngineServer
    prometheus: Prometheus
    alertmanager: Alertmanager
    key_id: str


def fast_rules(path: Path) -> Path:
    """The real rules file with the laundering alert firing as soon as its expression holds."""
    rules = yaml.safe_load(RULES.read_text())
    (rule,) = [r for g in rules["groups"] for r in g["rules"] if r.get("alert") == ALERT]
    rule["for"] = "0s"
    path.write_text(yaml.safe_dump(rules))
    return path


def create_key(server: EngineServer) -> tuple[str, str]:
    """`faithgate keys create --name alertmanager --scopes train`, as docs/operations.md says:
    (key id, secret)."""
    out = subprocess.run(
        [sys.executable, "-m", "service", "keys", "create", "--name", "alertmanager"]
        + ["--scopes", "train"],
        cwd=ROOT,
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    key_id = re.search(r"^created (key_\S+)", out.stdout, re.M)
    assert key_id, out.stdout
    return key_id[1], out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    from tests.training.tiny import build

    tmp = tmp_path_factory.mktemp("am-e2e")
    # The hook's job passes the same guards as any other: its base model must exist.
    base = build(tmp / MODEL)
    server = EngineServer(
        database_url=f"sqlite:///{tmp / 'faithgate.db'}",
        data_dir=tmp / "data",
        extra={
            "FAITHGATE_TRAINING_MAX_JOBS": "0",
            "FAITHGATE_METRICS_MODELS": MODEL,
            "FAITHGATE_TRAINING_BASE_MODEL": str(base),
        },
    )
    server.start()
    keys = tmp / "secrets"
    keys.mkdir()
    alertmanager = Alertmanager(tmp / "alertmanager", local_config(server.url, keys))
    prometheus = None
    try:
        alertmanager.start()
        # The key file appears after Alertmanager started: it reads it at each notification.
        key_id, secret = create_key(server)
        (keys / "faithgate-train-key").write_text(secret + "\n")
        prometheus = Prometheus(
            tmp / "prometheus",
            f"127.0.0.1:{server.port}",
            [fast_rules(tmp / "rules.yml")],
            alertmanagers=[alertmanager.address],
        )
        prometheus.start()
        yield Loop(server, prometheus, alertmanager, key_id)
    finally:
        if prometheus is not None:
            prometheus.stop()
        alertmanager.stop()
        server.stop()


def _wait(what: str, check: Callable[[], Any], loop: Loop, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, (
            f"{what} did not happen in {timeout} s\n--- alertmanager:\n"
            f"{loop.alertmanager.tail()}\n--- faithgate:\n{loop.server.tail()}"
        )
        time.sleep(0.5)
    return result


def _alert_jobs(loop: Loop) -> list[dict[str, Any]]:
    r = httpx.get(f"{loop.server.url}/v1/training/jobs", headers=loop.server.auth("train"))
    assert r.status_code == 200, r.text
    return [j for j in r.json()["jobs"] if j["triggered_by"] == "alert"]


@pytest.fixture(scope="module")
def fired(loop: Loop, data_dir: Path) -> dict[str, Any]:
    """Send laundering traffic; the alert's job, once Alertmanager has delivered it."""
    by_kind = chains(data_dir)
    traffic = Traffic()
    # Two halves a scrape apart: the counters born in the first show increases in the second,
    # which brings the chains within the alert's window over its minimum of 20.
    first = by_kind["reference"][:6] + by_kind["result_altered"][:6] + by_kind["answer_altered"][:4]
    validate(loop.server, traffic, first)
    wait_scraped(loop.prometheus, "sum(faithgate_validations_total)", len(first))
    second = (
        by_kind["reference"][6:12]
        + by_kind["result_altered"][6:12]
        + by_kind["foreign_reasoning"][:6]
        + by_kind["answer_altered"][10:16]
    )
    validate(loop.server, traffic, second)
    assert traffic.laundering / (len(first) + len(second)) > 0.05
    (job,) = _wait("a training job queued by the alert", lambda: _alert_jobs(loop), loop)
    return job


def test_the_laundering_alert_queues_one_training_job(loop: Loop, fired: dict) -> None:
    assert fired["status"] == "queued"  # no training worker on this replica
    assert fired["config"]["alert"]["alertnames"] == [ALERT]
    # The route groups by domain; the job trains on that domain's reviewed cases.
    assert fired["config"]["cases"] == {"status": "reviewed", "domain": "math"}
    (alert,) = [a for a in loop.alertmanager.alerts() if a["labels"]["alertname"] == ALERT]
    assert alert["labels"]["model"] == MODEL and alert["status"]["state"] == "active"
    assert {r["name"] for r in alert["receivers"]} == {"faithgate-training", "operators"}


def test_repeated_notifications_return_the_same_job(loop: Loop, fired: dict) -> None:
    # The test config repeats every 2 s; the hook keys the job on the group and its start.
    sent = loop.alertmanager.metric("alertmanager_notifications_total", integration="webhook")
    _wait(
        "two more notifications",
        lambda: (
            loop.alertmanager.metric("alertmanager_notifications_total", integration="webhook")
            >= sent + 2
        ),
        loop,
    )
    assert [j["id"] for j in _alert_jobs(loop)] == [fired["id"]]
    failed = loop.alertmanager.metric(
        "alertmanager_notifications_failed_total", integration="webhook"
    )
    assert failed == 0, loop.alertmanager.tail()


def test_the_audit_trail_records_the_hook_and_its_key(loop: Loop, fired: dict) -> None:
    r = httpx.get(f"{loop.server.url}/v1/audit/export", headers=loop.server.auth("audit:read"))
    assert r.status_code == 200, r.text
    created = [
        rec
        for rec in bundle_records(r.content)
        if rec["event"] == "training.job_created" and fired["id"] in rec["payload"]
    ]
    assert len(created) == 1, created
    assert created[0]["key_id"] == loop.key_id
    data = json.loads(created[0]["payload"])["data"]
    assert data["triggered_by"] == "alert"
    assert data["dedup_key"].startswith("alertmanager:")
    assert data["config"]["alert"]["alertnames"] == [ALERT]
