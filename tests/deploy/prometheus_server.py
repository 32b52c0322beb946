"""A real Prometheus (Debian's /usr/bin/prometheus) on a free loopback port, for tests.

It scrapes one target every second, evaluates the given rule files every second, sends the
alerts to the given Alertmanagers, keeps its TSDB in a temp folder and is stopped by the test
(never run as a system service).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.deploy.tools import binary
from tests.e2e.conftest import free_port
from tests.processes import terminate, wait_until_ready


class Prometheus:
    """One Prometheus process scraping `target` (host:port) as job "faithgate"."""

    def __init__(
        self,
        workdir: Path,
        target: str,
        rule_files: list[Path],
        alertmanagers: list[str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.target = target
        self.rule_files = rule_files
        self.alertmanagers = alertmanagers or []  # host:port
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log = workdir / "prometheus.log"

    @property
    def url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        """Write the config, start the binary and wait for /-/ready."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = {
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
        config_path = self.workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config))
        self.port = free_port()
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    binary("prometheus"),
                    f"--config.file={config_path}",
                    f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--web.enable-lifecycle",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until_ready(self.proc, f"{self.url}/-/ready", timeout, self.tail, "prometheus")

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL if it lingers)."""
        terminate(self.proc)

    def tail(self) -> str:
        """The end of Prometheus's log."""
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

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
