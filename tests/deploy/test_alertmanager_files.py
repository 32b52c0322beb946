"""deploy/alertmanager, without a server: amtool accepts the config, its routes send only the
laundering alert to faithgate's training hook, the hook it calls exists, and compose and
Prometheus wire Alertmanager in."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from service.api.routes import ROUTERS
from service.settings import Settings
from tests.deploy import dashboard as dash
from tests.deploy.alertmanager_server import amtool, local_config, receivers
from tests.deploy.tools import ALERTMANAGER, DEPLOY

HOOK = "/v1/hooks/alertmanager"


def _config() -> dict:
    return yaml.safe_load(ALERTMANAGER.read_text())


def _hooks() -> list[dict]:
    return [w for r in _config()["receivers"] for w in r.get("webhook_configs") or []]


def test_amtool_checks_the_config() -> None:
    out = amtool("check-config", str(ALERTMANAGER))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout and "2 receivers" in out.stdout


def test_amtool_rejects_a_broken_config(tmp_path: Path) -> None:
    broken = tmp_path / "alertmanager.yml"
    # A route to a receiver that does not exist.
    broken.write_text(
        ALERTMANAGER.read_text().replace("receiver: faithgate-training", "receiver: x")
    )
    out = amtool("check-config", str(broken))
    assert out.returncode != 0 and 'undefined receiver "x"' in out.stdout + out.stderr


def test_only_the_laundering_alert_reaches_the_training_hook() -> None:
    alerts = [r["alert"] for r in dash.alert_rules()]
    trainers = [a for a in alerts if "faithgate-training" in receivers(ALERTMANAGER, alertname=a)]
    assert trainers == ["FaithgateLaunderingRateHigh"]
    # ...and the hook starts training for exactly that name (FAITHGATE_TRAINING_ALERT_PATTERN).
    pattern = re.compile(Settings().training_alert_pattern)
    assert [a for a in alerts if pattern.search(a)] == trainers
    # Operators see every alert; a regression after a promotion goes to them alone (rollback).
    for alert in alerts:
        assert "operators" in receivers(ALERTMANAGER, alertname=alert, domain="math")
    assert receivers(ALERTMANAGER, alertname="FaithgatePromotedAdapterRegressed") == ["operators"]
    assert receivers(ALERTMANAGER, alertname="FaithgateLaunderingRateHigh", domain="math") == [
        "faithgate-training",
        "operators",
    ]


def test_the_webhook_calls_the_hook_with_a_key_file_and_no_resolved() -> None:
    (hook,) = _hooks()
    assert hook["url"] == f"http://faithgate:8000{HOOK}"
    assert hook["send_resolved"] is False  # the hook ignores resolved notifications
    assert hook["http_config"]["authorization"] == {
        "credentials_file": "/etc/alertmanager/secrets/faithgate-train-key"
    }
    posts = {(r.path, m) for router in ROUTERS for r in router.routes for m in r.methods}
    assert (HOOK, "POST") in posts


def test_the_training_route_makes_one_group_per_domain_and_repeats_rarely() -> None:
    (route,) = [r for r in _config()["route"]["routes"] if r["receiver"] == "faithgate-training"]
    assert route["group_by"] == ["alertname", "domain"]  # the hook trains on the group's domain
    assert route["continue"] is True
    # Repeats only return the job already queued: at most a couple a day.
    repeat = re.fullmatch(r"(\d+)h", route["repeat_interval"])
    assert repeat and int(repeat[1]) >= 12


def test_the_local_config_changes_only_the_address_key_path_and_timers(tmp_path: Path) -> None:
    local = local_config("http://127.0.0.1:1234", tmp_path)
    (hook,) = [w for r in local["receivers"] for w in r.get("webhook_configs") or []]
    assert hook["url"] == f"http://127.0.0.1:1234{HOOK}"
    assert hook["http_config"]["authorization"]["credentials_file"] == str(
        tmp_path / "faithgate-train-key"
    )
    timers = ("group_wait", "group_interval", "repeat_interval")

    def strip(route: dict) -> dict:
        out = {k: v for k, v in route.items() if k not in timers}
        return {**out, "routes": [strip(r) for r in route.get("routes") or []]}

    assert strip(local["route"]) == strip(_config()["route"])


def test_compose_and_prometheus_wire_alertmanager_in() -> None:
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == ["alertmanager:9093"]
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    service = compose["services"]["alertmanager"]
    assert re.fullmatch(r"prom/alertmanager:v0\.\d+\.\d+", service["image"])
    mounts = dict(v.rsplit(":", 2)[:2] for v in service["volumes"] if v.startswith("./"))
    assert mounts["./alertmanager/alertmanager.yml"] == "/etc/alertmanager/alertmanager.yml"
    key_dir = Path(_hooks()[0]["http_config"]["authorization"]["credentials_file"]).parent
    assert mounts["./alertmanager/secrets"] == str(key_dir)
    # The key folder exists in a clean clone but keeps its key files out of git.
    ignore = (DEPLOY / "alertmanager" / "secrets" / ".gitignore").read_text().splitlines()
    assert [ln for ln in ignore if ln and not ln.startswith("#")] == ["*", "!.gitignore"]
