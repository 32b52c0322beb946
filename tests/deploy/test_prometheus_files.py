"""deploy/prometheus and the dashboard, without a server: promtool checks and unit tests, runbook
links, and every faithgate_* name they query is one the service exports."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from service.settings import Settings
from tests.deploy import dashboard as dash
from tests.deploy.tools import DASHBOARD, DEPLOY, ROOT, RULES, binary
from tests.service.api_support import start_api

OPERATIONS = ROOT / "docs" / "operations.md"
SUFFIXES = ("", "_total", "_bucket", "_count", "_sum", "_created")


def _promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [binary("promtool"), *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_promtool_checks_the_config_and_its_rules() -> None:
    out = _promtool("check", "config", str(DEPLOY / "prometheus" / "prometheus.yml"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 rule files found" in out.stdout + out.stderr


def test_promtool_checks_the_rules() -> None:
    out = _promtool("check", "rules", str(RULES))
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(dash.alert_rules())} rules found" in out.stdout + out.stderr


def test_alert_unit_tests_pass() -> None:
    tests = sorted((DEPLOY / "prometheus" / "tests").glob("*.yml"))
    assert tests
    out = _promtool("test", "rules", *map(str, tests))
    assert out.returncode == 0, out.stdout + out.stderr


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "groups: [{name: g, rules: [{alert: A, expr: 'sum(rate(faithgate_x_total[5m])'}]}]\n"
    )
    assert _promtool("check", "rules", str(broken)).returncode != 0


def test_every_alert_has_a_runbook_section_and_a_severity() -> None:
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", OPERATIONS.read_text(), re.M)
    }
    for rule in dash.alert_rules():
        assert rule["labels"]["severity"] in ("critical", "warning", "info")
        link = rule["annotations"]["runbook"]
        assert link == f"docs/operations.md#{rule['alert'].lower()}"
        assert rule["alert"].lower() in anchors, f"no runbook section for {rule['alert']}"


def test_only_the_laundering_alert_starts_corrective_training() -> None:
    # Alertmanager -> /v1/hooks/alertmanager queues a job for alert names matching this pattern.
    pattern = re.compile(Settings().training_alert_pattern)
    starting = [r["alert"] for r in dash.alert_rules() if pattern.search(r["alert"])]
    assert starting == ["FaithgateLaunderingRateHigh"]


def test_dashboard_panels_are_complete() -> None:
    board = dash.load()
    panels = list(dash.panels(board))
    assert len(panels) >= 20
    assert any(p["type"] == "row" and p["collapsed"] and p["panels"] for p in board["panels"])
    rows = [p for p in board["panels"] if p["type"] == "row"]
    ids = [p["id"] for p in rows + panels]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"] and panel["description"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    for name in ("model", "adapter", "domain"):
        assert variables[name]["includeAll"] and variables[name]["multi"]
        assert variables[name]["allValue"] == ".*"
    titles = " ".join(p["title"].lower() for p in panels)
    for topic in (
        "faithfulness rate",
        "laundering rate",
        "findings",
        "step statuses",
        "p99",
        "request rate",
        "errors",
        "audit",
        "opened vs reviewed",
        "training jobs",
        "promoted adapters",
        "tokens per second",
    ):
        assert topic in titles, topic


def test_every_queried_metric_is_exported_by_the_service(tmp_path: Path) -> None:
    for api in start_api(f"sqlite:///{tmp_path / 'fg.db'}", tmp_path / "data"):
        exposition = api.client.get("/metrics").text
    exported = {f.name for f in text_string_to_metric_families(exposition)}
    assert "faithgate_training_jobs" in exported  # the job runner's, on the same registry
    names = dash.metric_names(DASHBOARD.read_text()) | dash.metric_names(RULES.read_text())
    assert len(names) >= 20
    assert _unexported(names, exported) == []
    # A misspelt name would be caught: it matches no family, with or without a suffix.
    assert _unexported({"faithgate_laundring_total", "faithgate_cases_open"}, exported) == [
        "faithgate_laundring_total"
    ]


def _unexported(names: set[str], families: set[str]) -> list[str]:
    return sorted(
        n
        for n in names
        if not any(n.removesuffix(s) in families for s in SUFFIXES if n.endswith(s))
    )
