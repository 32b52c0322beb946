"""The README's worked examples, run: what the README says they report is what they report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from validators.pipeline import validate

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text(encoding="utf-8")


def _inputs() -> dict[str, dict]:
    """Every chain the README feeds to `faithgate validate` (echo '…' lines and heredocs), by id."""
    found = [
        json.loads(m) for m in re.findall(r"echo '(\{.*?\})' \\\n\s+\| \S*faithgate validate", TEXT)
    ]
    for block in re.findall(r"<<'EOF'\n(.*?)\nEOF\n\S*faithgate validate", TEXT, re.S):
        found.extend(json.loads(line) for line in block.splitlines() if line.strip())
    return {chain["id"]: chain for chain in found}


def _shown_report() -> dict:
    """The report shown under '### The report'."""
    section = TEXT.split("### The report", 1)[1]
    return json.loads(re.search(r"```json\n(.*?)\n```", section, re.S).group(1))


INPUTS = _inputs()


def test_the_readme_has_its_three_examples() -> None:
    assert set(INPUTS) == {"natalia", "hba1c", "pizza"}


def test_the_shown_report_is_the_natalia_report_less_its_timing() -> None:
    shown = _shown_report()
    real = validate(INPUTS["natalia"])
    for field in ("id", "verdict", "laundering", "score", "first_error_step", "answer"):
        assert real[field] == shown[field], field
    assert real["derived_answer"] == shown["derived_answer"]
    assert real["validators"] == shown["validators"]
    assert [s["text"] for s in real["steps"]] == [s["text"] for s in shown["steps"]]
    assert [s["status"] for s in real["steps"]] == [s["status"] for s in shown["steps"]]
    for real_step, shown_step in zip(real["steps"], shown["steps"], strict=True):
        assert _without_step(real_step["findings"]) == _without_step(shown_step["findings"])
    assert _without_step(real["findings"]) == _without_step(shown["findings"])


def _without_step(findings: list[dict]) -> list[dict]:
    return [{k: v for k, v in f.items() if k != "step"} for f in findings]


@pytest.mark.parametrize(
    ("chain_id", "verdict", "laundering", "code"),
    [
        ("hba1c", "faithful", False, None),
        ("pizza", "unfaithful", True, "rules.reason_does_not_support"),
    ],
)
def test_the_diabetes_examples_say_what_the_readme_says(
    chain_id: str, verdict: str, laundering: bool, code: str | None
) -> None:
    report = validate(INPUTS[chain_id])
    assert (report["verdict"], report["laundering"]) == (verdict, laundering)
    codes = {f["code"] for f in report["findings"]} | {
        f["code"] for s in report["steps"] for f in s["findings"]
    }
    if code is None:
        assert not any(c.startswith("rules.") and "support" in c for c in codes)
    else:
        assert code in codes
