"""The whole pipeline on real GSM8K train chains and their corruptions (bench/corrupt.py)."""

from __future__ import annotations

import random

import pytest

from bench.corrupt import answer_altered, foreign_reasoning, load_gsm8k, reference, result_altered
from validators import validate

N = 600


@pytest.fixture(scope="module")
def items(data_dir):
    return load_gsm8k(data_dir / "gsm8k" / "train.jsonl", N)


def flagged(r: dict) -> bool:
    return r["verdict"] == "unfaithful" or r["laundering"]


def test_reference_solutions_are_not_flagged(items):
    reports = [validate(reference(it, i).chain) for i, it in enumerate(items)]
    wrongly = [r["id"] for r in reports if flagged(r)]
    faithful = sum(r["verdict"] == "faithful" for r in reports)
    # The few left are real slips in the GSM8K references (e.g. "192*100=$1920"); see BENCHMARKS.md.
    assert len(wrongly) <= N * 0.015, wrongly
    assert faithful >= N * 0.97


def test_altered_results_are_found_at_their_step(items):
    rng = random.Random(1)
    cases = [c for i, it in enumerate(items) if (c := result_altered(it, i, rng))]
    reports = [validate(c.chain) for c in cases]
    assert sum(flagged(r) for r in reports) >= len(cases) * 0.97
    exact = sum(r["first_error_step"] == c.error_step for r, c in zip(reports, cases, strict=True))
    assert exact >= len(cases) * 0.96


def test_altered_answers_and_foreign_reasoning_are_laundering(items):
    rng = random.Random(2)
    altered = [validate(answer_altered(it, i, rng).chain) for i, it in enumerate(items)]
    assert sum(r["laundering"] for r in altered) >= N * 0.99
    foreign = [
        validate(foreign_reasoning(it, items[(i + 7) % N], i).chain)
        for i, it in enumerate(items)
        if it["answer"].split("####")[-1] != items[(i + 7) % N]["answer"].split("####")[-1]
    ]
    assert sum(r["laundering"] for r in foreign) >= len(foreign) * 0.99
