"""A real Alertmanager (Debian's prometheus-alertmanager) on a free loopback port, for tests.

It runs deploy/alertmanager/alertmanager.yml with the webhook pointed at the test's faithgate,
its key file in a temp folder and short grouping timers; no gossip cluster, its state in a temp
folder, stopped by the test (never run as a system service).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from tests.deploy.tools import ALERTMANAGER, ROOT, binary
from tests.processes import LoopbackServer

# Grouping timers of the test: notify at once, repeat within seconds (the hook must dedup).
FAST = {"group_wait": "0s", "group_interval": "1s", "repeat_interval": "2s"}


def amtool(*args: str) -> subprocess.CompletedProcess:
    """Run Debian's amtool (its output, exit code and stderr)."""
    return subprocess.run(
        [binary("amtool"), *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def receivers(config: Path, **labels: str) -> list[str]:
    """The receivers an alert with `labels` reaches under `config` (amtool config routes test)."""
    out = amtool(
        "config", "routes", "test", f"--config.file={config}",
        *(f"{k}={v}" for k, v in labels.items()),
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.strip().split(",")


def _routes(route: dict[str, Any]) -> list[dict[str, Any]]:
    return [route, *(r for child in route.get("routes") or [] for r in _routes(child))]


def local_config(faithgate_url: str, key_dir: Path, source: Path = ALERTMANAGER) -> dict[str, Any]:
    """`source` with its webhooks sent to `faithgate_url` (same path), their credentials files
    in `key_dir` (same names) and FAST timers (the root's, and those the child routes set)."""
    config = yaml.safe_load(source.read_text())
    target = urlsplit(faithgate_url)
    hooks = [w for r in config["receivers"] for w in r.get("webhook_configs") or []]
    assert hooks, f"{source} has no webhook receiver"
    for hook in hooks:
        hook["url"] = urlsplit(hook["url"])._replace(netloc=target.netloc).geturl()
        auth = hook["http_config"]["authorization"]
        auth["credentials_file"] = str(key_dir / Path(auth["credentials_file"]).name)
    for route in _routes(config["route"]):
        route.update({k: v for k, v in FAST.items() if route is config["route"] or k in route})
    return config


class Alertmanager(LoopbackServer):
    """One Alertmanager process with the given config (a dict, written as YAML)."""

    name = "alertmanager"

    def __init__(self, workdir: Path, config: dict[str, Any]) -> None:
        super().__init__(workdir)
        self._config = config

    def config(self) -> dict[str, Any]:
        """The config given."""
        return self._config

    def executable(self) -> str:
        """Debian's binary."""
        return binary("alertmanager")

    def options(self) -> list[str]:
        """Its state in the work folder, no gossip cluster (one instance: no gossip port)."""
        return [f"--storage.path={self.workdir / 'data'}", "--cluster.listen-address="]

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts it holds (GET /api/v2/alerts)."""
        return httpx.get(f"{self.url}/api/v2/alerts", timeout=10).json()

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the samples of `name` on its /metrics whose labels include `labels`."""
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        total = 0.0
        for line in text.splitlines():
            match = re.fullmatch(rf"{name}(?:{{(.*)}})? (\S+)", line)
            if match and all(f'{k}="{v}"' in (match[1] or "") for k, v in labels.items()):
                total += float(match[2])
        return total
