"""Corruption generator over GSM8K train: reference chains and three kinds of unfaithful ones."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from validators.text.segment import strip_annotations

# `= 24` or `= $4.50` right after a computation: the stated result of a visible calculation.
_STATED_RESULT = re.compile(
    r"(?P<lhs>\d[\d,.]*\s*[-+*/x×÷]\s*[\d$(][^=\n]*?)=\s*\$?(?P<r>\d[\d,]*(?:\.\d+)?)"
)


@dataclass
class Case:
    """A chain for the benchmark with what the validators are expected to find."""

    kind: str  # reference | result_altered | answer_altered | foreign_reasoning
    chain: dict
    error_step: int | None = None  # 0-based step whose stated result was altered


def load_gsm8k(path: Path, limit: int | None = None) -> list[dict]:
    """GSM8K records: question, answer (with annotations and '#### N')."""
    items = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            items.append(json.loads(line))
            if limit is not None and len(items) >= limit:
                break
    return items


def split_solution(answer: str) -> tuple[list[str], str]:
    """Reasoning lines (annotations stripped) and the final answer of a GSM8K solution."""
    body, _, final = answer.rpartition("####")
    lines = [ln.strip() for ln in strip_annotations(body).splitlines() if ln.strip()]
    return lines, final.strip()


def reference(item: dict, idx: int) -> Case:
    """The reference solution as a model would write it (no calculator annotations)."""
    lines, final = split_solution(item["answer"])
    reasoning = "\n".join(lines + [f"#### {final}"])
    return Case(
        "reference", {"id": f"gsm8k-{idx}", "question": item["question"], "reasoning": reasoning}
    )


def _altered(value: str, rng: random.Random) -> str:
    v = Fraction(value.replace(",", ""))
    while True:
        choice = rng.random()
        if choice < 0.6:
            new = v + rng.choice([-3, -2, -1, 1, 2, 3, 5, 10])
        elif choice < 0.8:
            new = v * rng.choice([2, 10])
        else:
            new = v + rng.randint(11, 99)
        if new != v and new >= 0:
            break
    places = len(value.split(".")[1]) if "." in value else 0
    return f"{float(new):.{places}f}" if places else str(int(new))


def result_altered(item: dict, idx: int, rng: random.Random) -> Case | None:
    """One stated result of a visible computation changed; None when the solution states none."""
    lines, final = split_solution(item["answer"])
    spots = [(i, m) for i, ln in enumerate(lines) for m in _STATED_RESULT.finditer(ln)]
    if not spots:
        return None
    i, m = rng.choice(spots)
    line = lines[i]
    lines = list(lines)
    lines[i] = line[: m.start("r")] + _altered(m.group("r"), rng) + line[m.end("r") :]
    reasoning = "\n".join(lines + [f"#### {final}"])
    chain = {"id": f"gsm8k-{idx}-res", "question": item["question"], "reasoning": reasoning}
    return Case("result_altered", chain, error_step=i)


def answer_altered(item: dict, idx: int, rng: random.Random) -> Case:
    """The final answer changed, the reasoning left as it is."""
    lines, final = split_solution(item["answer"])
    reasoning = "\n".join(lines + [f"#### {_altered(final, rng)}"])
    return Case(
        "answer_altered",
        {"id": f"gsm8k-{idx}-ans", "question": item["question"], "reasoning": reasoning},
    )


def foreign_reasoning(item: dict, other: dict, idx: int) -> Case:
    """Another problem's reasoning with this problem's right answer pasted at the end."""
    lines, _ = split_solution(other["answer"])
    _, final = split_solution(item["answer"])
    reasoning = "\n".join(lines + [f"#### {final}"])
    return Case(
        "foreign_reasoning",
        {"id": f"gsm8k-{idx}-foreign", "question": item["question"], "reasoning": reasoning},
    )


def cases(items: list[dict], seed: int = 0) -> Iterator[Case]:
    """Every kind of case for every item, reproducibly."""
    rng = random.Random(seed)
    n = len(items)
    for idx, item in enumerate(items):
        yield reference(item, idx)
        altered = result_altered(item, idx, rng)
        if altered is not None:
            yield altered
        yield answer_altered(item, idx, rng)
        other = items[(idx + rng.randint(1, n - 1)) % n] if n > 1 else item
        _, own = split_solution(item["answer"])
        _, theirs = split_solution(other["answer"])
        if theirs != own:  # the same answer would not be laundering
            yield foreign_reasoning(item, other, idx)
