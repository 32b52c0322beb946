"""deploy/compose.yaml and deploy/docker/: compose v2 accepts the stack, the images build from
files that exist, and every FAITHGATE_* variable they set is a real setting."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.deploy.settings_names import names_in, setting_names, unknown
from tests.deploy.tools import DEPLOY, ROOT, compose_command

COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILES = [DEPLOY / "docker" / "Dockerfile", DEPLOY / "docker" / "Dockerfile.gpu"]


def _config(tmp_path: Path, *args: str) -> dict:
    cmd, env = compose_command(tmp_path / "docker")
    out = subprocess.run(
        [*cmd, "-f", str(COMPOSE), *args, "config", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_compose_config_accepts_the_stack(tmp_path: Path) -> None:
    config = _config(tmp_path)
    assert set(config["services"]) == {
        "postgres", "faithgate", "prometheus", "alertmanager", "grafana",
    }  # fmt: skip
    gpu = _config(tmp_path, "--profile", "gpu")
    assert set(gpu["services"]) == {*config["services"], "model-init", "vllm"}
    faithgate = config["services"]["faithgate"]
    assert faithgate["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert Path(faithgate["build"]["context"]).resolve() == ROOT
    url = faithgate["environment"]["FAITHGATE_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url
    vllm = gpu["services"]["vllm"]
    assert vllm["environment"]["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "True"
    # faithgate hands vLLM adapter paths under /data: both must mount the volume there.
    mounts = {v["target"]: v["source"] for v in vllm["volumes"]}
    assert mounts["/data"] == next(
        v["source"] for v in faithgate["volumes"] if v["target"] == "/data"
    )


def test_compose_mounts_files_that_exist(tmp_path: Path) -> None:
    config = _config(tmp_path, "--profile", "gpu")
    binds = [
        Path(v["source"])
        for service in config["services"].values()
        for v in service.get("volumes", [])
        if v["type"] == "bind"
    ]
    assert binds, "Prometheus, Alertmanager and Grafana read their files from deploy/"
    for source in binds:
        assert source.exists(), source
    assert (DEPLOY / "prometheus" / "prometheus.yml").is_file()


def test_compose_sets_only_real_settings(tmp_path: Path) -> None:
    config = _config(tmp_path, "--profile", "gpu")
    names = {n for s in config["services"].values() for n in s.get("environment") or {}}
    assert "FAITHGATE_DATABASE_URL" in names
    assert unknown(names) == []


def test_a_typo_in_a_setting_name_is_caught() -> None:
    assert unknown({"FAITHGATE_DATABASE_URL", "FAITHGATE_DATABSE_URL"}) == ["FAITHGATE_DATABSE_URL"]
    assert "FAITHGATE_VLLM_URL" in setting_names()


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfiles_copy_what_exists_and_set_real_settings(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    assert re.search(r"^FROM python:3\.11-slim|^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    copies = re.findall(r"^COPY (?!--from)(.+)$", text, re.M)
    sources = [s for line in copies for s in line.split()[:-1]]
    assert sources, "the image copies the project in"
    for source in sources:
        assert (ROOT / source).exists(), f"{dockerfile.name} copies {source}, which is missing"
    assert re.search(r"^USER 10001$", text, re.M), "the service runs as a non-root user"
    assert "/healthz" in re.search(r"^HEALTHCHECK.*(?:\n .*)*", text, re.M).group(0)
    assert 'VOLUME ["/data"]' in text
    assert re.search(r"torch==\$\{TORCH_VERSION\}", text) and "TORCH_VERSION=2.13.0" in text
    assert unknown(names_in(text)) == []
    # The build context keeps out everything but what the COPY lines take.
    ignore_file = dockerfile.with_name(dockerfile.name + ".dockerignore").read_text()
    ignore = [ln.strip() for ln in ignore_file.splitlines() if ln.strip()[:1] not in ("", "#")]
    assert ignore[0] == "*"
    for source in sources:
        assert f"!{source.rstrip('/')}/" in ignore or f"!{source}" in ignore, source
