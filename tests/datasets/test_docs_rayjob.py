"""The KubeRay RayJob in docs/datasets.md is well-formed and its entrypoint is a valid command."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from service.cli import build_parser

DOC = Path(__file__).resolve().parents[2] / "docs" / "datasets.md"


def test_rayjob_runs_faithgate_validate_on_the_cluster():
    (block,) = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    job = yaml.safe_load(block)
    assert (job["apiVersion"], job["kind"]) == ("ray.io/v1", "RayJob")
    spec = job["spec"]
    ray = pytest.importorskip("ray")
    assert spec["rayClusterSpec"]["rayVersion"] == ray.__version__
    argv = shlex.split(spec["entrypoint"])
    assert argv[:2] == ["faithgate", "validate"]
    args = build_parser().parse_args(argv[1:])
    assert args.ray == "auto" and args.input.startswith("/data/")
    pods = [spec["rayClusterSpec"]["headGroupSpec"]["template"]]
    pods += [g["template"] for g in spec["rayClusterSpec"]["workerGroupSpecs"]]
    for pod in pods:
        (container,) = pod["spec"]["containers"]
        assert container["volumeMounts"][0]["mountPath"] == "/data"
        assert pod["spec"]["volumes"][0]["name"] == container["volumeMounts"][0]["name"]
