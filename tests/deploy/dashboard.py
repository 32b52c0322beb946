"""Reading the Grafana dashboard: every panel (rows nested or not) and its queries as PromQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.tools import DASHBOARD, RULES

# Grafana's variables, as a test substitutes them: All is ".*" (the variables' allValue).
RATE_WINDOW = "1m"
SUBSTITUTIONS = {
    "$__rate_interval": RATE_WINDOW,
    "$__interval": "15s",
    "$__range": "10m",
    "$model": ".*",
    "$adapter": ".*",
    "$domain": ".*",
}
_METRIC = re.compile(r"\b(faithgate_[a-z0-9_]*[a-z0-9])\b")


def load(path: Path = DASHBOARD) -> dict[str, Any]:
    """The dashboard JSON."""
    return json.loads(path.read_text())


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel that is not a row, including those inside collapsed rows."""
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def substitute(expr: str) -> str:
    """A panel query with Grafana's variables replaced by concrete values."""
    for name in sorted(SUBSTITUTIONS, key=len, reverse=True):
        expr = expr.replace(name, SUBSTITUTIONS[name])
    assert "$" not in expr, f"a variable is left unsubstituted in {expr!r}"
    return expr


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title + refId, PromQL) for every target of every panel."""
    return [
        (f"{p['title']} [{t['refId']}]", substitute(t["expr"]))
        for p in panels(dashboard)
        for t in p["targets"]
    ]


def alert_rules(path: Path = RULES) -> list[dict[str, Any]]:
    """The alerting rules of the rules file."""
    groups = yaml.safe_load(path.read_text())["groups"]
    return [r for g in groups for r in g["rules"] if "alert" in r]


def metric_names(text: str) -> set[str]:
    """faithgate_* metric names a text mentions."""
    return set(_METRIC.findall(text))
