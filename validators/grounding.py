"""The grounding validator: every quantity a step uses comes from somewhere."""

from __future__ import annotations

import re
from collections.abc import Iterable
from fractions import Fraction

from validators.arithmetic import step_quantities
from validators.exact import show
from validators.extract import numbers_in
from validators.quantities import word_numbers
from validators.types import Analysis, Finding

NAME = "grounding"
_FRACTION = re.compile(r"(?:(\d+)\s+(?:and\s+)?)?(\d{1,4})/(\d{1,4})\b")
_SCALED = re.compile(r"(\d[\d,.]*)\s*(million|billion|thousand)\b", re.I)
_SCALE = {"thousand": 1000, "million": 10**6, "billion": 10**9}

# Constants a solution may use without stating them: units of time, counting, percent.
COMMON_CONSTANTS = (
    frozenset(
        Fraction(v)
        for v in (0, 1, 2, 3, 4, 5, 7, 8, 10, 12, 14, 16, 24, 28, 30, 31, 36, 52, 60, 100, 128, 365)
    )
    | {Fraction(v) for v in (1000, 3600, 5280)}
    | {Fraction(1, 2)}
)
_CONSTANT_KEYS = {(v.numerator, v.denominator) for v in COMMON_CONSTANTS}


Key = tuple[int, int]


def _keys(values: Iterable[Fraction]) -> set[Key]:
    """Exact values as (numerator, denominator): hashing a Fraction is slow, a tuple is not."""
    return {(v.numerator, v.denominator) for v in values}


def _derivable(x: Fraction, known: set[Key]) -> bool:
    """One obvious step away from a known number: 100 - 15 = 85 %, 1 + 10 % = 1.1, 15 % = 0.15."""
    for n, d in known:
        k = Fraction(n, d)
        if x in (100 - k, 100 + k, k / 100, 1 + k / 100, 1 - k / 100, k * 100):
            return True
    return False


def _source_numbers(analysis: Analysis) -> set[Key]:
    chain = analysis.chain
    text = chain.question + "\n" + chain.context_text()
    known = set(numbers_in(text)) | word_numbers(text)
    for m in _FRACTION.finditer(text):  # "1/8 of", "1 1/2 cups"
        whole, num, den = m.group(1), int(m.group(2)), int(m.group(3))
        if den:
            known.add(Fraction(num, den) + int(whole or 0))
            known.add(Fraction(num, den))
    for m in _SCALED.finditer(text):  # "$420 million"
        known.update(n * _SCALE[m.group(2).lower()] for n in numbers_in(m.group(1)))
    return _keys(known) | _CONSTANT_KEYS


class GroundingValidator:
    """Marks steps `unsupported` when they compute with a number that comes from nowhere."""

    name = NAME
    version = "1.0"

    def check(self, analysis: Analysis) -> None:
        """Trace each operand to the question, the context, an earlier result or a constant."""
        known = _source_numbers(analysis)
        for step, q in zip(analysis.steps, step_quantities(analysis), strict=True):
            if analysis.budget.expired():
                return
            results = _keys(q.results)
            missing = [
                x
                for x in dict.fromkeys(q.operands)
                if (k := (x.numerator, x.denominator)) not in known and k not in results
            ]
            if missing:  # the slower look-ups only for what is not found directly
                available = known | results | _keys(word_numbers(step.text))
                missing = [x for x in missing if (x.numerator, x.denominator) not in available]
                missing = [x for x in missing if not _derivable(x, available)]
            if missing:
                shown = ", ".join(show(x) for x in missing[:5])
                analysis.add(
                    Finding(
                        NAME,
                        "grounding.unsupported",
                        "warning",
                        f"{shown} is not in the question, the context or an earlier step",
                        evidence={"quantities": [show(x) for x in missing[:20]]},
                        step=step.index,
                    )
                )
            known |= results | _keys(q.numbers)
