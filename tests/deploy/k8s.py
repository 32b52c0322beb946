"""Rendering the Helm chart and validating what it renders against Kubernetes schemas."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.deploy.tools import CHART, binary, missing

try:
    import kubernetes_validate
except ImportError:  # the dev extra installs it; fail in CI, skip elsewhere
    missing("kubernetes-validate")

K8S_VERSIONS = ("1.29.0", kubernetes_validate.utils.latest_version())

# The Prometheus Operator's kinds are CRDs that kubernetes-validate has no schema for: they are
# checked against the parts of the operator's schema that the chart uses.
_NAME = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}
_SECRET_REF = {
    "type": "object",
    "required": ["name", "key"],
    "properties": {"name": _NAME, "key": {"type": "string"}},
    "additionalProperties": False,
}


_DURATION = {"type": "string", "pattern": r"^(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$", "minLength": 2}


def _operator_kind(spec: dict[str, Any], version: str = "v1") -> dict[str, Any]:
    """The schema of a Prometheus Operator object (monitoring.coreos.com/`version`) whose spec
    follows `spec`."""
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": f"monitoring.coreos.com/{version}"},
            "metadata": {"type": "object", "required": ["name"], "properties": {"name": _NAME}},
            "spec": spec,
        },
    }


CRD_SCHEMAS: dict[str, dict[str, Any]] = {
    "ServiceMonitor": _operator_kind(
        {
            "type": "object",
            "required": ["selector", "endpoints"],
            "additionalProperties": False,
            "properties": {
                "selector": {"type": "object", "required": ["matchLabels"]},
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["port"],
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string", "pattern": "^/"},
                            "interval": {"type": "string", "pattern": r"^\d+[smh]$"},
                            "authorization": {
                                "type": "object",
                                "required": ["credentials"],
                                "properties": {
                                    "type": {"const": "Bearer"},
                                    "credentials": _SECRET_REF,
                                },
                                "additionalProperties": False,
                            },
                        },
                    },
                },
            },
        }
    ),
    "PrometheusRule": _operator_kind(
        {
            "type": "object",
            "required": ["groups"],
            "additionalProperties": False,
            "properties": {
                "groups": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["name", "rules"],
                        "properties": {
                            "name": {"type": "string"},
                            "rules": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["expr"],
                                    "oneOf": [
                                        {"required": ["alert"]},
                                        {"required": ["record"]},
                                    ],
                                },
                            },
                        },
                    },
                }
            },
        }
    ),
    "AlertmanagerConfig": _operator_kind(
        {
            "type": "object",
            "required": ["route", "receivers"],
            "additionalProperties": False,
            "properties": {
                "route": {
                    "type": "object",
                    "required": ["receiver"],
                    "additionalProperties": False,
                    "properties": {
                        "receiver": {"type": "string", "minLength": 1},
                        "matchers": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["name"],
                                "additionalProperties": False,
                                "properties": {
                                    "name": {"type": "string", "minLength": 1},
                                    "value": {"type": "string"},
                                    "matchType": {"enum": ["=", "!=", "=~", "!~"]},
                                },
                            },
                        },
                        "groupBy": {"type": "array", "items": {"type": "string"}},
                        "groupWait": _DURATION,
                        "groupInterval": _DURATION,
                        "repeatInterval": _DURATION,
                        "continue": {"type": "boolean"},
                    },
                },
                "receivers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "additionalProperties": False,
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "webhookConfigs": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {
                                        "url": {"type": "string", "pattern": "^https?://"},
                                        "sendResolved": {"type": "boolean"},
                                        "httpConfig": {
                                            "type": "object",
                                            "additionalProperties": False,
                                            "properties": {
                                                "authorization": {
                                                    "type": "object",
                                                    "additionalProperties": False,
                                                    "properties": {
                                                        "type": {"const": "Bearer"},
                                                        "credentials": _SECRET_REF,
                                                    },
                                                }
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
        version="v1alpha1",
    ),
}


def render(*args: str, chart: Path = CHART) -> subprocess.CompletedProcess:
    """`helm template faithgate CHART ARGS...` (its output, exit code and stderr)."""
    return subprocess.run(
        [binary("helm"), "template", "faithgate", str(chart), "--namespace", "ml", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def manifests(*args: str) -> list[dict[str, Any]]:
    """The rendered objects (the render must succeed)."""
    out = render(*args)
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def validate(doc: dict[str, Any]) -> None:
    """Raise when an object does not match its schema (strict: unknown fields are errors)."""
    schema = CRD_SCHEMAS.get(doc["kind"])
    if schema is not None:
        jsonschema.validate(doc, schema)
        return
    for version in K8S_VERSIONS:
        kubernetes_validate.validate(doc, version, strict=True)
