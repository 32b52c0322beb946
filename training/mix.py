"""The general-reasoning mix: verified multi-step arithmetic from the generator or a JSONL file."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from training.dedup import normalize
from training.generator import Problem, corrupted, problems, verified
from training.judge import validate_safely
from training.prompts import prompt_messages, steps_of
from validators.text.segment import strip_annotations

GENERATED = "generated"
_MAX_LINE = 200_000


def general_count(domain_examples: int, mix: float) -> int:
    """How many general examples make them at most `mix` of the total (0 <= mix < 1).

    Floored, never rounded up: 2 case rows at 15 % get no general row (one would make 33 %).
    """
    if mix <= 0 or domain_examples <= 0:
        return 0
    # The epsilon keeps exact shares exact (17 * 0.15 / 0.85 is 2.9999999999999996).
    return math.floor(domain_examples * mix / (1 - mix) + 1e-9)


def _from_record(record: dict, idx: int) -> Problem | None:
    """A GSM8K-format record ({"question", "answer": "... #### N"}) as a Problem, else None."""
    question, answer = record.get("question"), record.get("answer")
    if not isinstance(question, str) or not isinstance(answer, str) or "####" not in answer:
        return None
    body, _, final = answer.rpartition("####")
    steps = steps_of(strip_annotations(body))
    final = final.strip().replace(",", "")
    if not steps or not final:
        return None
    return Problem(f"file-{idx}", question.strip(), tuple(steps), final)


def load_file(path: Path, limit: int) -> tuple[list[Problem], int]:
    """Up to `limit` records of a user JSONL file whose solutions the validators pass.

    Returns (problems, how many records were refused: malformed or failing the validators).
    """
    out: list[Problem] = []
    refused = 0
    with path.open(encoding="utf-8", errors="replace") as fh:
        for idx, line in enumerate(fh):
            if len(out) >= limit:
                break
            if not line.strip() or len(line) > _MAX_LINE:
                refused += bool(line.strip())
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                refused += 1
                continue
            problem = _from_record(record, idx) if isinstance(record, dict) else None
            if problem is None or not verified(problem, validate_safely):
                refused += 1
                continue
            out.append(problem)
    return out, refused


def eval_set(size: int, seed: int) -> list[Problem]:
    """The fixed general-reasoning evaluation set (same size and seed, same problems)."""
    return list(problems(size, seed=seed, prefix="eval"))


def training_problems(
    source: str, count: int, seed: int, exclude: set[str]
) -> tuple[list[Problem], int]:
    """`count` problems for training, none of whose questions is in `exclude` (normalized)."""
    if count <= 0:
        return [], 0
    refused = 0
    if source == GENERATED:
        pool = list(problems(count + len(exclude), seed=seed, prefix="mix"))
    else:
        pool, refused = load_file(Path(source), count * 2 + len(exclude))
        random.Random(seed).shuffle(pool)
    picked = [p for p in pool if normalize(p.question) not in exclude][:count]
    return picked, refused


def sft_row(problem: Problem) -> dict:
    """A general problem as a TRL conversational prompt-completion row."""
    return {
        "prompt": prompt_messages(problem.question),
        "completion": [{"role": "assistant", "content": problem.solution}],
    }


def dpo_row(problem: Problem, rng: random.Random) -> dict | None:
    """A general problem as a preference row: verified solution over a flagged corruption."""
    rejected = corrupted(problem, rng)
    if rejected is None:
        return None
    return {
        "prompt": prompt_messages(problem.question),
        "chosen": [{"role": "assistant", "content": problem.solution}],
        "rejected": [{"role": "assistant", "content": rejected}],
    }
