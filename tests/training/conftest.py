"""Fixtures of the training tests: flagged cases built from verified problems, a tiny Llama."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from training.generator import Problem, corrupted, problems
from validators.pipeline import validate


def make_case(
    problem: Problem,
    rng: random.Random,
    *,
    case_id: str | None = None,
    reviewed: bool = True,
    correction: str | list[str] | None = "solution",
    verdict: str = "unfaithful",
    domain: str = "math",
) -> dict:
    """A case as Store.get_case returns it: a flagged chain, its report and (maybe) a review."""
    flagged = corrupted(problem, rng)
    assert flagged is not None
    chain = {"id": problem.id, "question": problem.question, "reasoning": flagged, "domain": domain}
    report = validate(chain)
    reviews = []
    if reviewed:
        fix = problem.solution if correction == "solution" else correction
        reviews.append(
            {
                "verdict": verdict,
                "laundering": None,
                "wrong_steps": [],
                "step_judgements": [],
                "corrected_reasoning": fix,
                "comment": None,
                "record_id": 2,
                "created_at": "2026-01-01T00:00:00Z",
                "key_id": None,
            }
        )
    return {
        "id": case_id or f"case_{problem.id}",
        "status": "reviewed" if reviewed else "open",
        "created_at": "2026-01-01T00:00:00Z",
        "domain": domain,
        "model": "m",
        "adapter": None,
        "verdict": report["verdict"],
        "laundering": report["laundering"],
        "chain": chain,
        "report": report,
        "reviews": reviews,
        "record_id": 1,
    }


def flagged_cases(n: int, seed: int = 11) -> list[dict]:
    """`n` reviewed cases whose corrections are the verified solutions."""
    rng = random.Random(seed)
    out = []
    for p in problems(n * 2, seed=seed, prefix="case"):
        if len(out) == n:
            break
        try:
            out.append(make_case(p, rng))
        except AssertionError:
            continue
    return out


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Llama + tokenizer trained in code, saved as a base model folder."""
    from tests.training.tiny import build

    return build(tmp_path_factory.mktemp("tiny") / "tiny-llama")
