"""The dashboard and the alerts against a real Prometheus scraping the real service.

`faithgate serve` runs with a tiny Llama as its engine; traffic produces faithful, unfaithful
and laundering verdicts (GSM8K reference chains and corrupted ones), client errors, chat
completions, reviewed cases, a real training job and an adapter promotion. Prometheus scrapes
it every second and evaluates deploy/prometheus's rules; then every dashboard panel query and
every alert expression runs through Prometheus's HTTP API: each must be valid PromQL, and each
panel query must return data.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.deploy import dashboard as dash
from tests.deploy.prometheus_server import Prometheus
from tests.deploy.tools import RULES
from tests.deploy.traffic import MODEL, EngineServer, Traffic, chains, validate, wait_scraped
from tests.service.training_support import tiny_train_options

pytestmark = pytest.mark.slow  # a real Prometheus and a service process with a model

ADAPTER = "fg-e2e"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.training.tiny import build

    return build(tmp_path_factory.mktemp("tiny") / MODEL)


@pytest.fixture(scope="module")
def stack(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    tmp = tmp_path_factory.mktemp("prom-e2e")
    server = EngineServer(
        database_url=f"sqlite:///{tmp / 'faithgate.db'}",
        data_dir=tmp / "data",
        extra={
            "FAITHGATE_ENGINE": "transformers",
            "FAITHGATE_MODEL": str(tiny),
            "FAITHGATE_ENGINE_THREADS": "1",
            "FAITHGATE_CHAT_DEFAULT_MAX_TOKENS": "8",
            "FAITHGATE_TRAINING_MAX_JOBS": "1",
            "FAITHGATE_METRICS_MODELS": MODEL,
        },
    )
    server.start()
    prometheus = Prometheus(tmp / "prometheus", f"127.0.0.1:{server.port}", [RULES])
    try:
        prometheus.start()
        yield server, prometheus
    finally:
        prometheus.stop()
        server.stop()


def _errors(server: Any) -> None:
    bad_json = httpx.post(
        f"{server.url}/v1/validate", content=b"{nope", headers=server.auth("validate")
    )
    assert bad_json.status_code == 400
    assert (
        httpx.get(f"{server.url}/v1/cases/case_missing", headers=server.auth("review")).status_code
        == 404
    )
    assert httpx.post(f"{server.url}/v1/validate", json={}).status_code == 401


def _chat(server: Any, model: str) -> None:
    r = httpx.post(
        f"{server.url}/v1/chat/completions",
        headers=server.auth("generate"),
        json={
            "model": model,
            "messages": [{"role": "user", "content": "Tom has 5 apples and buys 7. How many?"}],
        },
        timeout=120,
    )
    assert r.status_code == 200, r.text
    assert r.json()["usage"]["completion_tokens"] > 0


def _review(server: Any, traffic: Traffic, count: int) -> None:
    for case_id, correct in traffic.opened[traffic.reviewed : traffic.reviewed + count]:
        body = {"verdict": "unfaithful", "corrected_reasoning": correct}
        r = httpx.post(
            f"{server.url}/v1/cases/{case_id}/review", json=body, headers=server.auth("review")
        )
        assert r.status_code == 200, r.text
        traffic.reviewed += 1


def _train_and_promote(server: Any) -> None:
    headers = server.auth("train")
    body = {
        "cases": {"domain": "math"},
        "cycles": 1,
        "name": ADAPTER,
        "options": tiny_train_options(),
    }
    r = httpx.post(f"{server.url}/v1/training/jobs", json=body, headers=headers)
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    deadline = time.monotonic() + 240
    while True:
        job = httpx.get(f"{server.url}/v1/training/jobs/{job_id}", headers=headers).json()
        if job["status"] not in ("queued", "running"):
            break
        assert time.monotonic() < deadline, f"the training job did not end: {job}"
        time.sleep(0.5)
    log = httpx.get(f"{server.url}/v1/training/jobs/{job_id}/log", headers=headers).text
    assert job["status"] == "succeeded", log[-3000:]
    # The gate may refuse an adapter of a random tiny model: promotion is forced, as an
    # operator would after reading the gate's reasons.
    r = httpx.post(
        f"{server.url}/v1/adapters/{ADAPTER}/promote", json={"force": True}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["hot_loaded"] is True


def _service_total(server: Any, name: str) -> float:
    text = httpx.get(f"{server.url}/metrics").text
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def _client_errors(server: Any) -> float:
    """The service's own count of 4xx answers (label values may hold braces: parsed properly)."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"{server.url}/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "faithgate_http_requests_total"
        and sample.labels.get("status", "").startswith("4")
    )


@pytest.fixture(scope="module")
def recorded(stack: tuple[Any, Prometheus], data_dir: Path) -> Traffic:
    """Send the traffic in two rounds around a training job; wait until Prometheus has it all."""
    server, prometheus = stack
    by_kind = chains(data_dir)
    traffic = Traffic()
    # Round 1, in two halves a scrape apart: series born in the first half show increases.
    first = by_kind["reference"][:6] + by_kind["result_altered"][:6] + by_kind["answer_altered"][:4]
    validate(server, traffic, first)
    _errors(server)
    _chat(server, MODEL)
    wait_scraped(prometheus, "sum(faithgate_validations_total)", len(first) + 1)
    # 24 more chains of one model, adapter and domain: over the laundering alert's minimum of
    # 20 that Prometheus sees increase within its window.
    second = (
        by_kind["reference"][6:12]
        + by_kind["result_altered"][6:12]
        + by_kind["foreign_reasoning"][:6]
        + by_kind["answer_altered"][10:16]
    )
    validate(server, traffic, second)
    _review(server, traffic, 12)
    _errors(server)
    _train_and_promote(server)
    # Round 2, on the promoted adapter.
    _chat(server, ADAPTER)
    validate(
        server,
        traffic,
        by_kind["reference"][12:18] + by_kind["answer_altered"][4:10],
        adapter=ADAPTER,
    )
    _review(server, traffic, 4)
    _errors(server)
    total = _service_total(server, "faithgate_validations_total")
    wait_scraped(prometheus, "sum(faithgate_validations_total)", total)
    wait_scraped(prometheus, "sum(faithgate_cases_reviewed_total)", traffic.reviewed)
    # The runner counts a job when it reaps the worker, a tick after the job row says so.
    wait_scraped(prometheus, 'faithgate_training_jobs_total{status="succeeded"}', 1)
    # The last _errors() came after everything the waits above watch: wait for it as well.
    errors = _client_errors(server)
    wait_scraped(prometheus, 'sum(faithgate_http_requests_total{status=~"4.."})', errors)
    return traffic


def test_traffic_has_every_verdict(recorded: Traffic) -> None:
    assert recorded.verdicts.get("faithful", 0) >= 3
    assert recorded.verdicts.get("unfaithful", 0) >= 3
    assert recorded.laundering >= 3
    assert len(recorded.opened) > recorded.reviewed >= 16


def test_prometheus_holds_what_the_service_answered(stack, recorded: Traffic) -> None:
    _, prometheus = stack
    api = sum(recorded.verdicts.values())
    chats = 2  # each chat answer is validated too (model tiny-llama)
    assert prometheus.value("sum(faithgate_validations_total)") == api + chats
    laundering = prometheus.value('sum(faithgate_laundering_total{model="tiny-llama"})')
    assert laundering is not None and laundering >= recorded.laundering
    assert prometheus.value("max(faithgate_cases_open)") >= len(recorded.opened) - recorded.reviewed
    assert prometheus.value("sum(faithgate_cases_reviewed_total)") == recorded.reviewed
    assert prometheus.value('faithgate_training_jobs_total{status="succeeded"}') == 1
    assert prometheus.value(f'max(faithgate_adapter_promotions_total{{adapter="{ADAPTER}"}})') == 1
    assert prometheus.value('sum(faithgate_generation_tokens_total{kind="completion"})') > 0
    assert prometheus.value('sum(faithgate_http_requests_total{status=~"4.."})') >= 9


def _finite(result: list[dict]) -> bool:
    return any(math.isfinite(float(sample["value"][1])) for sample in result)


def test_every_panel_query_is_valid_and_returns_data(stack, recorded: Traffic) -> None:
    _, prometheus = stack
    queries = dash.panel_queries(dash.load())
    assert len(queries) >= 25
    # A rate over the last minute needs two scrapes of a series inside it; a scrape that
    # timed out while training held both cores leaves a gap: ask again for a few seconds.
    deadline = time.monotonic() + 20
    while True:
        empty = []
        for title, expr in queries:
            answer = prometheus.query(expr)
            assert answer["status"] == "success", f"{title}: {answer.get('error')}\n{expr}"
            result = answer["data"]["result"]
            if not result or not _finite(result):
                empty.append((title, expr, result))
        if not empty or time.monotonic() > deadline:
            break
        queries = [(title, expr) for title, expr, _ in empty]
        time.sleep(1)
    shown = [f"{title}: {result}\n  {expr}" for title, expr, result in empty]
    assert not empty, "panels without data:\n" + "\n".join(shown)


def test_the_dashboard_variables_have_values(stack, recorded: Traffic) -> None:
    _, prometheus = stack
    values: dict[str, set[str]] = {}
    for var in dash.load()["templating"]["list"]:
        if var["type"] != "query":
            continue
        match = re.fullmatch(r"label_values\((.+), (\w+)\)", var["definition"])
        assert match, var["definition"]
        expr = f"group by ({match[2]}) ({dash.substitute(match[1])})"
        values[var["name"]] = {
            r["metric"][match[2]] for r in prometheus.query(expr)["data"]["result"]
        }
    assert MODEL in values["model"]
    assert {"none", ADAPTER} <= values["adapter"]
    assert "math" in values["domain"]


def test_every_alert_expression_is_valid_and_the_rules_load(stack, recorded: Traffic) -> None:
    _, prometheus = stack
    for rule in dash.alert_rules():
        answer = prometheus.query(rule["expr"])
        assert answer["status"] == "success", f"{rule['alert']}: {answer.get('error')}"
    for annotation in dash.load()["annotations"]["list"]:
        if "expr" in annotation:
            assert prometheus.query(annotation["expr"])["status"] == "success"
    # Prometheus evaluates the same file every second: every rule healthy.
    deadline = time.monotonic() + 30
    while True:
        groups = prometheus.api("rules", type="alert")["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        if all(r["health"] == "ok" for r in rules) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(rules) == len(dash.alert_rules())
    assert [r["name"] for r in rules if r["health"] != "ok"] == []


def test_the_laundering_alert_goes_pending_on_laundering_traffic(stack, recorded) -> None:
    _, prometheus = stack
    expr = 'ALERTS{alertname="FaithgateLaunderingRateHigh", alertstate="pending"}'
    deadline = time.monotonic() + 30
    while not (result := prometheus.query(expr)["data"]["result"]):
        assert time.monotonic() < deadline, "the laundering alert did not go pending"
        time.sleep(0.5)
    labels = {(r["metric"]["model"], r["metric"]["domain"]) for r in result}
    assert (MODEL, "math") in labels
    # Nothing failed to be audited: that alert stays silent.
    quiet = 'ALERTS{alertname="FaithgateAuditWriteFailures"}'
    assert prometheus.query(quiet)["data"]["result"] == []
