"""The grounding validator: every quantity a step uses comes from somewhere."""

from __future__ import annotations

import re
from collections.abc import Iterable
from fractions import Fraction

from validators.arithmetic.exact import show
from validators.arithmetic.extract import numbers_in
from validators.arithmetic.validator import step_quantities
from validators.text.quantities import word_numbers
from validators.types import Analysis, Finding

NAME = "grounding"
# `1/8`, `1 1/2`, `2 and 3/4`. A whole part starts where a run of digits does: the leftmost
# match never starts one inside a run, and trying each of a long run's digits was quadratic.
_FRACTION = re.compile(r"(?:(?<!\d)(\d+)\s+(?:and\s+)?)?(\d{1,4})/(\d{1,4})\b")
# `$420 million`: (\d[\d,.]*)\s*(million|billion|thousand)\b, case-insensitive, read on the
# reversed text, from the scale word back to the number's first digit. Read forwards, a long
# run of digits and commas not followed by a scale word was scanned again from each of its
# digits: minutes for a 200,000-character question. The matches are the same.
_SCALED_REVERSED = re.compile(r"\b(noillim|noillib|dnasuoht)\s*([\d,.]*\d)", re.I)
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
# A quarter and three quarters (¼ ¾, "three-quarters"), known as themselves only: as a
# percentage's base they would ground any 25 or 75
_QUARTERS = {(1, 4), (3, 4)}


Key = tuple[int, int]


def _keys(values: Iterable[Fraction]) -> set[Key]:
    """Exact values as (numerator, denominator): hashing a Fraction is slow, a tuple is not."""
    return {v.as_integer_ratio() for v in values}


def _derivable(x: Fraction, known: set[Key]) -> bool:
    """One obvious step away from a known number: 100 - 15 = 85 %, 1 + 10 % = 1.1, 15 % = 0.15."""
    # x is one of 100 - k, 100 + k, k / 100, 1 + k / 100, 1 - k / 100, k * 100 for a known k
    # exactly when one of these values of k is known: six look-ups instead of a scan.
    ks = (100 - x, x - 100, x * 100, (x - 1) * 100, (1 - x) * 100, x / 100)
    return any((k.numerator, k.denominator) in known for k in ks)


def _source_numbers(text: str) -> set[Key]:
    """The numbers the question and context write in figures, and the constants."""
    known = _keys(numbers_in(text))
    for m in _FRACTION.finditer(text) if "/" in text else ():  # "1/8 of", "1 1/2 cups"
        whole, num, den = m.group(1), int(m.group(2)), int(m.group(3))
        if den:
            known |= _keys((Fraction(num, den) + int(whole or 0), Fraction(num, den)))
    for number, scale in _scaled(text):  # "$420 million"
        known |= _keys(n * _SCALE[scale.lower()] for n in numbers_in(number))
    return known | _CONSTANT_KEYS


def _scaled(text: str) -> list[tuple[str, str]]:
    """(number, scale word) of each `1.5 million` in text, in order."""
    low = text.lower()
    if text.isascii() and "illion" not in low and "thousand" not in low:
        return []  # the usual case, told without reversing the text
    found = _SCALED_REVERSED.finditer(text[::-1])
    return [(m.group(2)[::-1], m.group(1)[::-1]) for m in found][::-1]


class GroundingValidator:
    """Marks steps `unsupported` when they compute with a number that comes from nowhere."""

    name = NAME
    version = "1.1"

    def check(self, analysis: Analysis) -> None:
        """Trace each operand to the question, the context, an earlier result or a constant."""
        source = analysis.chain.question + "\n" + analysis.chain.context_text()
        known = _source_numbers(source)
        in_words = True  # the numbers the source writes in words are still to be added
        for step, q in zip(analysis.steps, step_quantities(analysis), strict=True):
            if analysis.budget.expired():
                return
            results = _keys(q.results)
            operands: dict[Key, Fraction] = {}  # distinct, in order: hashing a Fraction is slow
            for x in q.operands:
                operands.setdefault(x.as_integer_ratio(), x)
            missing = [
                x
                for k, x in operands.items()
                if k not in known and k not in results and k not in _QUARTERS
            ]
            if missing and in_words:  # most chains never need them: read them when one does
                known |= _keys(word_numbers(source))
                in_words = False
                missing = [x for x in missing if x.as_integer_ratio() not in known]
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
            known |= results
            known |= _keys(q.numbers)
