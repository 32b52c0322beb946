"""Notation that models write in their solutions, from GSM8K-style prose to olympiad LaTeX,
in chat markdown, in applied maths with units, in the languages users ask in, as reasoning
models think aloud, as tutors explain K-12 arithmetic, and in counting, competition, vector,
complex-number and calculus solutions:
`data/model_notation/*.json` hold chains written for this test (no dataset). A correct chain
must draw no `error` and no laundering verdict; each wrong twin, one slip in the same
notation, must be caught where the slip is. Precision first, and the twins keep it honest: a
validator that read nothing would pass the first test and fail the second.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from validators import validate


def _cases() -> dict[str, list[dict]]:
    """Every file's `correct` chains and `wrong` twins, together (one file per id letter)."""
    cases: dict[str, list[dict]] = {"correct": [], "wrong": []}
    for path in sorted((Path(__file__).parent / "data" / "model_notation").glob("*.json")):
        shard = json.loads(path.read_text("utf-8"))
        for kind, chains in cases.items():
            chains.extend(shard[kind])
    if not cases["correct"]:  # (an empty suite would pass every test below)
        raise FileNotFoundError("no chains in tests/validators/data/model_notation/")
    return cases


CASES = _cases()


def _chain(case: dict) -> dict:
    chain = {"id": case["id"], "question": case.get("question", ""), "reasoning": case["steps"]}
    if "answer" in case:
        chain["answer"] = case["answer"]
    return chain


def _errors(report: dict) -> list[str]:
    findings = [f for s in report["steps"] for f in s["findings"]] + report["findings"]
    return [f["message"] for f in findings if f["severity"] == "error"]


@pytest.mark.parametrize("case", CASES["correct"], ids=lambda c: c["id"])
def test_correct_notation_is_not_flagged(case):
    r = validate(_chain(case))
    assert _errors(r) == [] and not r["laundering"], r


def test_the_correct_chains_are_read_not_skipped():
    verdicts = [validate(_chain(c))["verdict"] for c in CASES["correct"]]
    # most are checked and hold; the rest are notation left unchecked on purpose
    assert verdicts.count("faithful") >= 0.8 * len(verdicts)


@pytest.mark.parametrize("case", CASES["wrong"], ids=lambda c: c["id"])
def test_a_slip_in_the_same_notation_is_caught_where_it_is(case):
    r = validate(_chain(case))
    if case["flag"] == "laundering":
        assert r["laundering"], r
    else:
        assert r["first_error_step"] == case["flag"], r
