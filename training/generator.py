"""Seeded multi-step arithmetic word problems whose solutions the validators have checked.

The general-reasoning mix: the adapter keeps practising ordinary multi-step arithmetic while it
learns a domain, and the gate measures general accuracy on a fixed set of these problems. Every
problem is built with its step-by-step solution; a problem is kept only when the validators
pass that solution (faithful, not laundering) and derive the intended answer. The project ships
this generator instead of a public data set, so nothing third-party is copied into the repo.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

from training.prompts import solution_text
from validators.pipeline import validate

_RESULT = re.compile(r"= \$?(?P<n>\d+)")
NAMES = [
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
    "Mei",
    "Noor",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tariq",
    "Uma",
    "Vera",
]
ITEMS = [
    ("notebook", "notebooks"),
    ("pen", "pens"),
    ("apple", "apples"),
    ("ticket", "tickets"),
    ("book", "books"),
    ("mug", "mugs"),
    ("plant", "plants"),
    ("shirt", "shirts"),
]


@dataclass(frozen=True)
class Problem:
    """A word problem, its solution steps and its answer (an integer, as a string)."""

    id: str
    question: str
    steps: tuple[str, ...]
    answer: str

    @property
    def solution(self) -> str:
        """The solution in the project's answer format (steps, then '#### answer')."""
        return solution_text(list(self.steps), self.answer)

    def chain(self) -> dict:
        """The problem and its solution as a chain dict for the validators."""
        return {"id": self.id, "question": self.question, "reasoning": self.solution}


def _shopping(r: random.Random) -> tuple[str, list[str], int]:
    name, (one, many), (one2, many2) = r.choice(NAMES), *r.sample(ITEMS, 2)
    a, p, b, q = r.randint(2, 9), r.randint(2, 15), r.randint(2, 9), r.randint(2, 15)
    cost = a * p + b * q
    bill = next(v for v in (20, 50, 100, 200, 500) if v > cost)
    question = (
        f"{name} buys {a} {many} at ${p} each and {b} {many2} at ${q} each. "
        f"{name} pays with a ${bill} bill. How much change does {name} get?"
    )
    steps = [
        f"The {many} cost {a} * ${p} = ${a * p}.",
        f"The {many2} cost {b} * ${q} = ${b * q}.",
        f"Together they cost ${a * p} + ${b * q} = ${cost}.",
        f"The change is ${bill} - ${cost} = ${bill - cost}.",
    ]
    del one, one2
    return question, steps, bill - cost


def _reading(r: random.Random) -> tuple[str, list[str], int]:
    name = r.choice(NAMES)
    r1, d1, r2, d2 = r.randint(5, 30), r.randint(2, 7), r.randint(5, 30), r.randint(2, 7)
    read = r1 * d1 + r2 * d2
    total = read + r.randint(10, 200)
    question = (
        f"A book has {total} pages. {name} reads {r1} pages a day for {d1} days, then "
        f"{r2} pages a day for {d2} days. How many pages are left to read?"
    )
    steps = [
        f"First {name} reads {r1} * {d1} = {r1 * d1} pages.",
        f"Then {name} reads {r2} * {d2} = {r2 * d2} pages.",
        f"In all {name} reads {r1 * d1} + {r2 * d2} = {read} pages.",
        f"Pages left: {total} - {read} = {total - read}.",
    ]
    return question, steps, total - read


def _sharing(r: random.Random) -> tuple[str, list[str], int]:
    name, k = r.choice(NAMES), r.randint(2, 8)
    share = r.randint(3, 25)
    total = share * k
    b = r.randint(2, total - 2)
    a = total - b
    question = (
        f"{name} has {a} stickers and is given {b} more. {name} shares all the stickers "
        f"equally among {k} friends. How many stickers does each friend get?"
    )
    steps = [
        f"{name} has {a} + {b} = {total} stickers.",
        f"Each friend gets {total} / {k} = {share} stickers.",
    ]
    return question, steps, share


def _discount(r: random.Random) -> tuple[str, list[str], int]:
    (_, many), pct = r.choice(ITEMS), r.choice([10, 20, 25, 50])
    price = r.choice([p for p in range(8, 121, 4) if p * pct % 100 == 0])
    k = r.randint(2, 6)
    off = price * pct // 100
    question = (
        f"{many.capitalize()} cost ${price} each and are on sale at {pct}% off. "
        f"How much do {k} {many} cost on sale?"
    )
    steps = [
        f"The discount is {price} * {pct} / 100 = ${off}.",
        f"One costs ${price} - ${off} = ${price - off} on sale.",
        f"{k} of them cost {k} * ${price - off} = ${k * (price - off)}.",
    ]
    return question, steps, k * (price - off)


def _travel(r: random.Random) -> tuple[str, list[str], int]:
    v1, h1, v2, h2 = r.randint(30, 90), r.randint(1, 5), r.randint(30, 90), r.randint(1, 5)
    question = (
        f"A train travels at {v1} km per hour for {h1} hours, then at {v2} km per hour "
        f"for {h2} hours. How many kilometres does it travel in all?"
    )
    steps = [
        f"In the first part it travels {v1} * {h1} = {v1 * h1} km.",
        f"In the second part it travels {v2} * {h2} = {v2 * h2} km.",
        f"In all it travels {v1 * h1} + {v2 * h2} = {v1 * h1 + v2 * h2} km.",
    ]
    return question, steps, v1 * h1 + v2 * h2


def _savings(r: random.Random) -> tuple[str, list[str], int]:
    name, s, w = r.choice(NAMES), r.randint(5, 40), r.randint(3, 12)
    saved = s * w
    spent = r.randint(1, saved - 1)
    question = (
        f"{name} saves ${s} every week for {w} weeks, then spends ${spent} on a gift. "
        f"How much money does {name} have left?"
    )
    steps = [
        f"{name} saves {s} * {w} = ${saved}.",
        f"After the gift {name} has ${saved} - ${spent} = ${saved - spent}.",
    ]
    return question, steps, saved - spent


def _fraction(r: random.Random) -> tuple[str, list[str], int]:
    name, (word, d) = r.choice(NAMES), r.choice([("half", 2), ("a third", 3), ("a quarter", 4)])
    total = d * r.randint(3, 30)
    gone = total // d
    extra = r.randint(1, 20)
    question = (
        f"{name} has {total} marbles and gives away {word} of them. Then {name} buys "
        f"{extra} more. How many marbles does {name} have now?"
    )
    steps = [
        f"{name} gives away {total} / {d} = {gone} marbles.",
        f"{name} keeps {total} - {gone} = {total - gone} marbles.",
        f"After buying more, {name} has {total - gone} + {extra} = {total - gone + extra}.",
    ]
    return question, steps, total - gone + extra


TEMPLATES: list[Callable[[random.Random], tuple[str, list[str], int]]] = [
    _shopping,
    _reading,
    _sharing,
    _discount,
    _travel,
    _savings,
    _fraction,
]


def _colours(r: random.Random) -> tuple[str, list[str], int]:
    name, (_, many) = r.choice(NAMES), r.choice(ITEMS)
    a, b, c = r.randint(2, 9), r.randint(2, 9), r.randint(2, 9)
    question = (
        f"{name} has {a} red {many}, {b} blue {many} and {c} green {many}. "
        f"How many {many} does {name} have?"
    )
    steps = [
        f"{name} has {a} + {b} = {a + b} red and blue {many}.",
        f"With the green ones {name} has {a + b} + {c} = {a + b + c} {many}.",
    ]
    return question, steps, a + b + c


def _bags(r: random.Random) -> tuple[str, list[str], int]:
    name, (_, many) = r.choice(NAMES), r.choice(ITEMS)
    a, b, c = r.randint(2, 9), r.randint(2, 9), r.randint(1, 9)
    question = (
        f"{name} has {a} bags with {b} {many} in each bag and finds {c} more {many}. "
        f"How many {many} does {name} have now?"
    )
    steps = [
        f"The bags hold {a} * {b} = {a * b} {many}.",
        f"With the ones found {name} has {a * b} + {c} = {a * b + c} {many}.",
    ]
    return question, steps, a * b + c


def _rows(r: random.Random) -> tuple[str, list[str], int]:
    a, b = r.randint(2, 9), r.randint(2, 9)
    c = r.randint(1, min(9, a * b - 1))
    question = (
        f"A garden has {a} rows of {b} plants. Then {c} plants die. How many plants are left?"
    )
    steps = [
        f"The garden has {a} * {b} = {a * b} plants.",
        f"After {c} die, {a * b} - {c} = {a * b - c} plants are left.",
    ]
    return question, steps, a * b - c


# Two steps on one-digit numbers: arithmetic SmolLM2-135M mostly gets right (84-87 % of its
# one-digit sums and products held in the demo-loop chats, against 14-65 % with larger
# numbers), so its failures on these are in how it sets the steps up, which training can teach.
SMALL_TEMPLATES: list[Callable[[random.Random], tuple[str, list[str], int]]] = [
    _colours,
    _bags,
    _rows,
]


def verified(problem: Problem, check: Callable[[dict], dict] = validate) -> bool:
    """True when the validators pass the solution and derive the intended answer.

    `check` validates a chain; untrusted problems (a user's file) pass the judge's hard-limited
    one (training.judge.validate_safely).
    """
    report = check(problem.chain())
    if report["verdict"] != "faithful" or report["laundering"]:
        return False
    try:
        return Fraction(str(report["answer"]).replace("$", "").replace(",", "")) == Fraction(
            problem.answer
        )
    except (ValueError, ZeroDivisionError):
        return False


def problems(
    n: int,
    seed: int = 0,
    prefix: str = "gen",
    templates: list[Callable[[random.Random], tuple[str, list[str], int]]] | None = None,
) -> Iterator[Problem]:
    """`n` distinct verified problems from the seed (the same seed, the same problems), made
    from `templates` (default: the multi-step TEMPLATES)."""
    templates = TEMPLATES if templates is None else templates
    rng = random.Random(seed)
    seen: set[str] = set()
    made = attempts = 0
    while made < n:
        attempts += 1
        if attempts > 20 * n + 100:
            raise RuntimeError("the generator could not make enough distinct verified problems")
        question, steps, answer = rng.choice(templates)(rng)
        if question in seen:
            continue
        problem = Problem(f"{prefix}-{seed}-{made}", question, tuple(steps), str(answer))
        if not verified(problem):
            continue
        seen.add(question)
        made += 1
        yield problem


def corrupted(problem: Problem, rng: random.Random) -> str | None:
    """The solution with one stated result changed (a flagged chain to reject); None if none.

    The change is kept only when the validators flag the result, so every DPO "rejected" of the
    general mix is a chain the gate itself would fail.
    """
    steps = list(problem.steps)
    i = rng.randrange(len(steps))
    found = list(_RESULT.finditer(steps[i]))
    if not found:
        return None
    m = found[-1]
    wrong = int(m.group("n")) + rng.choice([-3, -2, -1, 1, 2, 3, 10])
    if wrong < 0:
        return None
    steps[i] = steps[i][: m.start("n")] + str(wrong) + steps[i][m.end("n") :]
    text = solution_text(steps, problem.answer)
    report = validate({"question": problem.question, "reasoning": text})
    return text if report["verdict"] == "unfaithful" else None
