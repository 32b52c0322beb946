"""Traffic for the monitoring end-to-end tests: the real service, GSM8K chains of every kind
(reference and corrupted), and waiting until Prometheus has scraped what the service counted."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.corrupt import cases as corrupted_cases
from bench.corrupt import load_gsm8k, split_solution
from tests.deploy.prometheus_server import Prometheus
from tests.e2e.conftest import Server

MODEL = "tiny-llama"


@dataclass
class EngineServer(Server):
    """The e2e Server with extra FAITHGATE_* settings (engine, training)."""

    extra: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """The e2e environment plus `extra`."""
        return {**super().env(), **self.extra}


@dataclass
class Traffic:
    """What the service answered, to compare with what Prometheus recorded."""

    verdicts: dict[str, int] = field(default_factory=dict)
    laundering: int = 0
    opened: list[tuple[str, str]] = field(default_factory=list)  # (case id, corrected text)
    reviewed: int = 0


def chains(data_dir: Path, model: str = MODEL) -> dict[str, list[tuple[dict, str]]]:
    """GSM8K chains by kind, each with the reference reasoning a reviewer would write."""
    items = load_gsm8k(data_dir / "gsm8k" / "train.jsonl", limit=30)
    by_kind: dict[str, list[tuple[dict, str]]] = {}
    for case in corrupted_cases(items, seed=11):
        idx = int(case.chain["id"].split("-")[1])
        lines, final = split_solution(items[idx]["answer"])
        correct = "\n".join([*lines, f"#### {final}"])
        chain = {**case.chain, "domain": "math", "model": model}
        by_kind.setdefault(case.kind, []).append((chain, correct))
    return by_kind


def validate(server: Any, traffic: Traffic, chains: list[tuple[dict, str]], **labels: str) -> None:
    """POST each chain to /v1/validate and record the verdicts and opened cases in `traffic`."""
    for chain, correct in chains:
        r = httpx.post(
            f"{server.url}/v1/validate", json={**chain, **labels}, headers=server.auth("validate")
        )
        assert r.status_code == 200, r.text
        report = r.json()
        traffic.verdicts[report["verdict"]] = traffic.verdicts.get(report["verdict"], 0) + 1
        traffic.laundering += bool(report["laundering"])
        if r.headers.get("x-case-id"):
            traffic.opened.append((r.headers["x-case-id"], correct))


def wait_scraped(prometheus: Prometheus, expr: str, expected: float, timeout: float = 30) -> None:
    """Wait until the instant query `expr` has the single value `expected`."""
    deadline = time.monotonic() + timeout
    while prometheus.value(expr) != expected:
        assert time.monotonic() < deadline, (
            f"Prometheus has {prometheus.query(expr)} for {expr}, not {expected}"
        )
        time.sleep(0.5)
