"""A real Prometheus (Debian's /usr/bin/prometheus) on a free loopback port, for tests.

It scrapes one target every second, evaluates the given rule files every second, sends the
alerts to the given Alertmanagers, keeps its TSDB in a temp folder and is stopped by the test
(never run as a system service).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.deploy.tools import binary
from tests.processes import LoopbackServer


class Prometheus(LoopbackServer):
    """One Prometheus process scraping `target` (host:port) as job "faithgate"."""

    name = "prometheus"

    def __init__(
        self,
        workdir: Path,
        target: str,
        rule_files: list[Path],
        alertmanagers: list[str] | None = None,
    ) -> None:
        super().__init__(workdir)
        self.target = target
        self.rule_files = rule_files
        self.alertmanagers = alertmanagers or []  # host:port

    def config(self) -> dict[str, Any]:
        """Scrape and evaluate every second; send alerts to the given Alertmanagers."""
        config: dict[str, Any] = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p.resolve()) for p in self.rule_files],
            "scrape_configs": [
                {
                    "job_name": "faithgate",
                    "scrape_timeout": "1s",
                    "static_configs": [{"targets": [self.target]}],
                }
            ],
        }
        if self.alertmanagers:
            config["alerting"] = {
                "alertmanagers": [{"static_configs": [{"targets": self.alertmanagers}]}]
            }
        return config

    def executable(self) -> str:
        """Debian's binary."""
        return binary("prometheus")

    def options(self) -> list[str]:
        """Its TSDB in the work folder; /-/reload enabled."""
        return [f"--storage.tsdb.path={self.workdir / 'tsdb'}", "--web.enable-lifecycle"]

    def api(self, path: str, **params: Any) -> dict[str, Any]:
        """GET /api/v1/<path>: the decoded answer, whatever its status (errors included)."""
        r = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=30)
        return r.json()

    def query(self, expr: str) -> dict[str, Any]:
        """An instant query; {"status", "data": {"resultType", "result"}} or an error."""
        return self.api("query", query=expr)

    def value(self, expr: str) -> float | None:
        """The single value of an instant query whose result is one sample, else None."""
        answer = self.query(expr)
        result = answer.get("data", {}).get("result") or []
        return float(result[0]["value"][1]) if len(result) == 1 else None
