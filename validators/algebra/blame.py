"""Which of two contradicting steps made the mistake: the earlier one, when it miscopied a number.

`Total: x + 4 + x + 8 + 2x = 75`, then `4x + 12 = 56`: the second step does not follow from
the first, and the question gives 56, not 75. The contradiction is certain; placing it on
the earlier step needs evidence, and `miscopied` asks for all of it:

- the earlier equation has a literal v given nowhere before it (not in the question, not in
  any earlier step) and other than 0 (a stated 0 is a conclusion, "nothing left");
- a number w given before it (in the question or an earlier step), written for v, makes the
  later equation follow from the earlier one;
- and exactly one such (v, w) exists, among all of them (a search cut short by its bound or
  the time budget proves no uniqueness).

Otherwise the later step keeps the error, as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from validators.algebra.system import Eq, KnownSystem, Unchecked, to_equation
from validators.arithmetic.exact import TooLarge, number_value, show
from validators.arithmetic.extract import numbers_in
from validators.text.mathparse import BoundError
from validators.text.mathspans import find_equations
from validators.types import Budget

# A literal of an equation's text (the equation is already normalised: no thousands commas
# inside formulas); a digit glued to a letter before it is part of a name (`x2`).
_LITERAL = re.compile(r"(?<![A-Za-z\d.])\d+(?:\.\d+)?(?!\d|\.\d)")
MAX_TRIES = 60  # (literal, number) pairs tried per contradiction: each is one small judgement


@dataclass(frozen=True)
class Miscopy:
    """The earlier equation wrote `stated` where the given number `given` makes the chain agree."""

    premise: Eq
    stated: Fraction
    given: Fraction
    source: str  # "the question" or "an earlier step"


def _rewritten(premise: Eq, start: int, end: int, literal: str) -> Eq | None:
    """The premise with one literal replaced, parsed again (None when it no longer parses)."""
    text = premise.text[:start] + literal + premise.text[end:]
    cands = find_equations(text)
    if len(cands) != 1 or cands[0].lhs is None or cands[0].rhs is None:
        return None
    cand = cands[0]
    try:
        return to_equation(cand.lhs, cand.rhs, cand.text, cand.decimals, cand.unit)
    except (Unchecked, BoundError, TooLarge):
        return None


def _follows(known: list[Eq], eq: Eq) -> bool:
    system = KnownSystem()
    for e in known:
        system.add(e)
    try:
        return system.follows(eq)
    except Unchecked:
        return False


def miscopied(
    eq: Eq,
    known: list[Eq],
    earlier: dict[int, int | None],
    texts: list[str],
    question: str,
    step: int,
    budget: Budget,
) -> tuple[int, Miscopy] | None:
    """(the earlier step at fault, what it miscopied), or None when the evidence is not all there.

    `eq` is step `step`'s equation that contradicts `known`; `earlier` maps each known
    equation's uid to the step that stated it (None: the question); `texts` are the steps'.
    """
    in_question = set(numbers_in(question))
    found: list[tuple[int, Miscopy]] = []
    tries = 0
    for premise in known:
        k = earlier.get(premise.uid)
        if k is None or k >= step:
            continue
        before = in_question.union(*(numbers_in(t) for t in texts[:k]))
        rest = [e for e in known if e is not premise]
        for m in _LITERAL.finditer(premise.text):
            v = number_value(m.group())
            if v in before or v == 0:
                continue
            for w in sorted(before - {v}):
                if tries >= MAX_TRIES or budget.expired():
                    return None  # not every replacement was tried: no evidence of uniqueness
                tries += 1
                fixed = _rewritten(premise, m.start(), m.end(), show(w))
                if fixed is not None and _follows([*rest, fixed], eq):
                    source = "the question" if w in in_question else "an earlier step"
                    found.append((k, Miscopy(premise, v, w, source)))
    return found[0] if len(found) == 1 else None
