"""deploy/helm/faithgate: helm lint, and the manifests it renders for the default, production
(external PostgreSQL, external vLLM, GPU training) and in-cluster vLLM values pass Kubernetes
schema validation; configurations that cannot work are refused with a reason."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.deploy.k8s import kubernetes_validate, manifests, render, validate
from tests.deploy.settings_names import unknown
from tests.deploy.tools import ALERTMANAGER, CHART, DASHBOARD, RULES, binary

PRODUCTION = ["-f", str(CHART / "values-production.yaml")]
VALUE_SETS = {
    "default": [],
    "production": PRODUCTION,
    "vllm-in-cluster": [
        "--set", "engine.kind=vllm", "--set", "vllm.enabled=true",
        "--set", "vllm.tensorParallelSize=2", "--set", "engine.vllm.apiKey=k",
        "--set", "database.url=postgresql+psycopg://u:p@pg:5432/fg", "--set", "replicaCount=2",
        "--set", "persistence.accessModes={ReadWriteMany}",
    ],
    "queued-job-on-gpu": [
        "--set", "training.job.enabled=true", "--set", "training.job.jobId=job_abc",
        "--set", "signingKey.pem=-----BEGIN PRIVATE KEY-----", "--set", "apiKeys.metrics=m",
    ],
    "one-gpu-train": [
        "--set", "training.job.enabled=true", "--set", "training.job.promote=true",
        "--set", "training.job.adapterName=fg-legal-1",
    ],
    "alertmanager-config": [
        "--set", "alertmanagerConfig.enabled=true", "--set", "apiKeys.train=train-secret",
    ],
}  # fmt: skip


def _by_kind(docs: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for doc in docs:
        out.setdefault(doc["kind"], []).append(doc)
    return out


def test_helm_lint_passes() -> None:
    for values in ([], PRODUCTION):
        out = subprocess.run(
            [binary("helm"), "lint", "--strict", str(CHART), *values],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_rendered_manifests_pass_schema_validation(name: str) -> None:
    docs = manifests(*VALUE_SETS[name])
    kinds = _by_kind(docs)
    assert {"Deployment", "Service", "ConfigMap", "ServiceMonitor"} <= set(kinds)
    for doc in docs:
        validate(doc)
    env_names = set(kinds["ConfigMap"][0]["data"])
    for doc in kinds["Deployment"] + kinds.get("Job", []):
        for container in doc["spec"]["template"]["spec"]["containers"]:
            env_names |= {e["name"] for e in container.get("env", [])}
    assert unknown(env_names) == []


def test_the_validators_reject_a_broken_manifest() -> None:
    (deployment,) = [d for d in manifests() if d["kind"] == "Deployment"]
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)
    (monitor,) = [d for d in manifests() if d["kind"] == "ServiceMonitor"]
    monitor["spec"]["endpoints"][0]["intervall"] = "15s"
    with pytest.raises(jsonschema.ValidationError):
        validate(monitor)


def test_production_values_scale_out_on_postgresql_vllm_and_gpus() -> None:
    kinds = _by_kind(manifests(*PRODUCTION))
    (deployment,) = kinds["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (server,) = pod["containers"]
    env = {e["name"]: e for e in server["env"]}
    assert env["FAITHGATE_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "faithgate-db"
    config = kinds["ConfigMap"][0]["data"]
    assert config["FAITHGATE_ENGINE"] == "vllm" and config["FAITHGATE_VLLM_URL"].startswith("http")
    assert config["FAITHGATE_TRAINING_MAX_JOBS"] == "0"
    mounts = {m["mountPath"]: m for m in server["volumeMounts"]}
    assert mounts["/data/audit_signing_key.pem"]["subPath"] == "audit_signing_key.pem"
    assert kinds["HorizontalPodAutoscaler"][0]["spec"]["minReplicas"] == 3
    assert kinds["PersistentVolumeClaim"][0]["spec"]["accessModes"] == ["ReadWriteMany"]
    (job,) = kinds["Job"]
    (train,) = job["spec"]["template"]["spec"]["containers"]
    assert train["resources"]["limits"]["nvidia.com/gpu"] == 4
    assert train["args"][:4] == [
        "accelerate", "launch", "--config_file", "/app/deploy/training/multi_gpu.yaml",
    ]  # fmt: skip
    assert (Path(__file__).parents[2] / "deploy/training/multi_gpu.yaml").is_file()
    run = json.loads(
        next(c for c in kinds["ConfigMap"] if "run.json" in c["data"])["data"]["run.json"]
    )
    assert run["registry_dir"] == "/data/adapters" and run["base"].startswith("/data/models/")
    (monitor,) = kinds["ServiceMonitor"]
    assert monitor["spec"]["endpoints"][0]["authorization"]["credentials"]["name"] == (
        "faithgate-api-keys"
    )


def test_the_training_job_runs_a_queued_job_or_faithgate_train() -> None:
    (job,) = _by_kind(manifests(*VALUE_SETS["queued-job-on-gpu"]))["Job"]
    (train,) = job["spec"]["template"]["spec"]["containers"]
    assert train["args"] == ["python", "-m", "service.jobs.worker", "job_abc"]
    assert train["resources"]["limits"]["nvidia.com/gpu"] == 1
    (job,) = _by_kind(manifests(*VALUE_SETS["one-gpu-train"]))["Job"]
    (train,) = job["spec"]["template"]["spec"]["containers"]
    assert train["args"][:2] == ["faithgate", "train"] and "--promote" in train["args"]
    assert train["args"][train["args"].index("--name") + 1] == "fg-legal-1"


def test_monitoring_objects_carry_the_rules_and_dashboard_files() -> None:
    kinds = _by_kind(manifests())
    (rule,) = kinds["PrometheusRule"]
    assert rule["spec"] == yaml.safe_load(RULES.read_text())
    board = next(c for c in kinds["ConfigMap"] if "faithgate.json" in c.get("data", {}))
    assert json.loads(board["data"]["faithgate.json"]) == json.loads(DASHBOARD.read_text())
    assert board["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_the_rendered_prometheus_rule_passes_promtool(tmp_path: Path) -> None:
    (rule,) = _by_kind(manifests())["PrometheusRule"]
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rule["spec"]))
    out = subprocess.run(
        [binary("promtool"), "check", "rules", str(path)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_alertmanager_config_routes_the_laundering_alert_to_the_hook(tmp_path: Path) -> None:
    assert "AlertmanagerConfig" not in _by_kind(manifests())  # disabled by default
    kinds = _by_kind(manifests(*VALUE_SETS["alertmanager-config"]))
    (config,) = kinds["AlertmanagerConfig"]
    route, (receiver,) = config["spec"]["route"], config["spec"]["receivers"]
    assert route["receiver"] == receiver["name"]
    assert route["matchers"] == [
        {"name": "alertname", "value": "FaithgateLaunderingRateHigh", "matchType": "="}
    ]
    # The same grouping and timers as the compose stack's Alertmanager route.
    compose_routes = yaml.safe_load(ALERTMANAGER.read_text())["route"]["routes"]
    (same,) = [r for r in compose_routes if r["receiver"] == "faithgate-training"]
    for key in ("group_by", "group_wait", "group_interval", "repeat_interval", "continue"):
        camel = "".join(w.title() if i else w for i, w in enumerate(key.split("_")))
        assert route[camel] == same[key], key
    (hook,) = receiver["webhookConfigs"]
    (service,) = kinds["Service"]
    port = service["spec"]["ports"][0]["port"]
    assert (
        hook["url"] == f"http://{service['metadata']['name']}.ml.svc:{port}/v1/hooks/alertmanager"
    )
    assert hook["sendResolved"] is False
    ref = hook["httpConfig"]["authorization"]["credentials"]
    (secret,) = kinds["Secret"]
    assert secret["metadata"]["name"] == ref["name"]
    assert secret["stringData"][ref["key"]] == "train-secret"
    # The operator matches the config's alerts on their namespace: every rule carries it.
    (rule,) = kinds["PrometheusRule"]
    rules = [r for g in rule["spec"]["groups"] for r in g["rules"]]
    assert {r["labels"]["namespace"] for r in rules} == {"ml"}
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rule["spec"]))
    out = subprocess.run([binary("promtool"), "check", "rules", str(path)], capture_output=True)
    assert out.returncode == 0, out.stdout + out.stderr
    for r in rules:  # and nothing else changed
        del r["labels"]["namespace"]
    assert rule["spec"] == yaml.safe_load(RULES.read_text())
    # A key of the operator's own Secret instead of the chart's.
    existing = manifests(
        "--set", "alertmanagerConfig.enabled=true", "--set", "apiKeys.existingSecret=fg-keys"
    )  # fmt: skip
    (config,) = _by_kind(existing)["AlertmanagerConfig"]
    hook = config["spec"]["receivers"][0]["webhookConfigs"][0]
    assert hook["httpConfig"]["authorization"]["credentials"] == {
        "name": "fg-keys",
        "key": "train-api-key",
    }


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--set", "replicaCount=2"], "external PostgreSQL"),
        (["--set", "autoscaling.enabled=true"], "external PostgreSQL"),
        (
            ["--set", "replicaCount=2", "--set", "database.url=postgresql+psycopg://h/d",
             "--set", "persistence.enabled=false"],
            "shared data volume",
        ),
        (["--set", "engine.kind=vllm"], "engine.vllm.url"),
        (["--set", "alertmanagerConfig.enabled=true"], "apiKeys.train"),
        (["--set", "engine.kind=llama"], "transformers, vllm or none"),
        (
            ["--set", "training.job.enabled=true", "--set", "training.job.gpus=2"],
            "training.job.base",
        ),
    ],
)  # fmt: skip
def test_configurations_that_cannot_work_are_refused(args: list[str], reason: str) -> None:
    out = render(*args)
    assert out.returncode != 0 and reason in out.stderr
