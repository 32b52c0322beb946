"""The answer as the steps derive it in another form.

Linkage accepts an answer that is none of the steps' conclusions when it is one of them
written otherwise: in another unit or metric prefix, rounded (to its places, its figures,
up), on a clock, as a fraction's numerator, its last digits, an option a step names, or a
result written after `=` where the arithmetic could not read the computation.
"""

from __future__ import annotations

import re
from fractions import Fraction

from validators.arithmetic.exact import round_to
from validators.arithmetic.extract import numbers_in
from validators.arithmetic.validator import step_quantities
from validators.chain.past_the_answer import computed_by_a_step
from validators.types import Analysis

_NEEDED = re.compile(r"\b(?:needs?|needed|required?|must)\b")
_ROUNDS_UP = re.compile(r"\bround(?:s|ed|ing)?\s+(?:it\s+|this\s+|that\s+)?up\b", re.I)
_UNIT_SCALES = {"cent": (100,), "minute": (60, Fraction(1, 60)), "hour": (60, Fraction(1, 60))}


def _rounds_up(analysis: Analysis, value: Fraction) -> bool:
    """Whether a step says it rounds up ("13.42, round up to 14 squares"), or names the whole
    number just above its own result ("9,412 ÷ 120 ≈ 78.4, so 79 beds")."""
    for step, q in zip(analysis.steps, step_quantities(analysis), strict=True):
        if _ROUNDS_UP.search(step.text):
            return True
        whole = value.denominator == 1 and value in numbers_in(step.text)
        if whole and any(r.denominator != 1 and round_to(r, 0, "ceil") == value for r in q.results):
            return True
    return False


def same_in_other_unit(answer: Fraction, accepted: set[Fraction], analysis: Analysis) -> bool:
    """An answer in another unit than the steps' result, a unit the question or the answer
    names: $0.25 is 25 cents ("how many cents"), 135 cents is $1.35 ("at 45 cents each",
    answer 1.35), "= $0.015, i.e. 1.5 cents" (answer "1.5 cents")."""
    lowered = f"{analysis.chain.question}\n{analysis.answer}".lower()
    if answer.denominator == 1:
        # A whole answer to a fractional result: 15.36 minutes -> 15, 16.66 % -> 17, and,
        # where the question asks what is needed or a step rounds up, 5.42 buses -> 6.
        whole = {
            round_to(v, 0, m) for v in accepted if v.denominator != 1 for m in ("half_up", "floor")
        }
        if _NEEDED.search(lowered) or _rounds_up(analysis, answer):
            whole |= {round_to(v, 0, "ceil") for v in accepted if v.denominator != 1 and v > 1}
        if "percent" in lowered or "%" in lowered:
            whole |= {round_to(v * 100, 0, "half_up") for v in accepted if v < 1}
        if answer in whole:
            return True
    return any(
        answer == v * k or answer * k == v
        for word, scales in _UNIT_SCALES.items()
        if word in lowered
        for k in scales
        for v in accepted
    )


_WHICH = re.compile(
    r"\bwhich\s+(?:one\s+)?of\b|\bwhich\s+(?:one\s+)?(?:is|was|has|gives)\b[^?]{0,80}\bor\b",
    re.I,
)
_NOT_WRITTEN = re.compile(r"[\s$]|\\boxed\{|\\[()\[\]]")


def an_option_a_step_names(analysis: Analysis, answer: Fraction) -> bool:
    """ "Which of the following is divisible by 12: 3472, 5184, 7326?": the answer is one of the
    question's numbers, and a step that weighs it names it."""
    question = analysis.chain.question or ""
    if "hich" not in question or _WHICH.search(question) is None:
        return False
    if answer in numbers_in(question) and any(
        answer in q.numbers for q in step_quantities(analysis)
    ):
        return True
    # an option written as an expression ("$1.1^{10}$"): the question and a step write it so
    named = _NOT_WRITTEN.sub("", analysis.answer or "").removesuffix("}")
    return (
        bool(named)
        and named in _NOT_WRITTEN.sub("", question)
        and any(named in _NOT_WRITTEN.sub("", s.text) for s in analysis.steps)
    )


# "What is the units digit of $7^{100}$?", "the last two digits": a number's last k digits
_LAST_DIGITS = re.compile(
    r"\b(?:units|ones|last|rightmost)(?:\s+(two|three|\d))?(?:\s+|-)digits?\b", re.I
)
_DIGIT_COUNTS = {None: 1, "": 1, "two": 2, "three": 3}


def its_last_digits(answer: Fraction, accepted: set[Fraction], question: str) -> bool:
    """An answer that is the last digits, which the question asks for, of a derived number."""
    m = _LAST_DIGITS.search(question) if "digit" in question else None
    if m is None or answer.denominator != 1 or answer < 0:
        return False
    word = m.group(1)
    k = int(word) if word and word.isdigit() else _DIGIT_COUNTS.get(word, 1)
    return any(v.denominator == 1 and v > 0 and v % 10**k == answer for v in accepted)


def rounded_to_its_places(answer: Fraction, accepted: set[Fraction]) -> bool:
    """An answer with decimals that rounds a derived value to them: $1,157.63 for 1157.625,
    56.8 for 56.775, 3.33 for 10/3 (a result is often rounded only in the answer)."""
    if answer.denominator == 1:
        return False
    places = next((d for d in range(1, 7) if (answer * 10**d).denominator == 1), None)
    if places is None:
        return False
    return any(round_to(v, places, m) == answer for v in accepted for m in ("half_up", "floor"))


def rounding_of_a_result(analysis: Analysis, readings: set[Fraction], final: Fraction) -> bool:
    """The steps compute the answer, or write it after `=`, then end on its rounding (`=
    \\frac{31031}{7776} \\approx 3.991`, "117.6 N × 0.8 m = 94.08 J" then "≈ 94.1 J"), in the
    same unit or with another metric prefix ("= 111,900 W" then "≈ 112 kW"): they did not go
    on from it."""
    places = next((d for d in range(0, 7) if (final * 10**d).denominator == 1), None)
    if places is None:
        return False
    rounded = {
        v
        for v in readings
        for scale in _PREFIXES
        if round_to(v / scale, places, "half_up") == final
    }
    if not rounded:
        return False
    return computed_by_a_step(analysis, rounded) or _written_after_equals(analysis, rounded)


_PREFIXES = tuple(Fraction(1000) ** k for k in range(-3, 4))
_AFTER_EQUALS = re.compile(r"=\s*[$€£¥₹]?\s*(\d[\d,]*(?:\.\d+)?)(?![\d.,]*\d)")


def written_after_equals_from(analysis: Analysis, readings: set[Fraction], final: Fraction) -> bool:
    """A later step writes `… = answer` from the final result, or from a number written after
    `=` beside it, in a computation its arithmetic did not read ("= 7644 J", then "P = 7644 J
    / 20 s = 382.2 W"): the chain went on from the result to the answer."""
    qs = step_quantities(analysis)
    giving = [i for i, q in enumerate(qs) if final in q.results]
    if not giving:
        return False
    step = analysis.steps[giving[-1]].text
    known = {final} | {_number(m) for m in _AFTER_EQUALS.finditer(step)}
    for later in analysis.steps[giving[-1] + 1 :]:
        for m in _AFTER_EQUALS.finditer(later.text):
            if _number(m) in readings and known.intersection(numbers_in(later.text[: m.start()])):
                return True
    return False


_CLOCK = re.compile(r"o['’]clock|\b[ap]\.?m\b", re.I)


def on_the_clock(analysis: Analysis, value: Fraction, accepted: set[Fraction]) -> bool:
    """A time of day the last step reads off a sum of hours ("9 + 4 = 13, which is 1
    o'clock"): the answer is the result on a 12- or 24-hour clock."""
    last = analysis.steps[-1].text
    if value.denominator != 1 or not _CLOCK.search(last) or value not in numbers_in(last):
        return False
    return any(
        v.denominator == 1 and value in (v % 24, (v - 1) % 12 + 1) for v in accepted if v > 0
    )


def _number(m: re.Match) -> Fraction:
    return Fraction(m.group(1).replace(",", ""))


def _written_after_equals(analysis: Analysis, values: set[Fraction]) -> bool:
    """Whether a step writes one of these values right after `=`, a result its arithmetic
    may not have read ("W = 117.6 N × 0.8 m = 94.08 J")."""
    for step in analysis.steps:
        for m in _AFTER_EQUALS.finditer(step.text):
            if _number(m) in values:
                return True
    return False


# An answer in scientific notation: its mantissa's decimals and its power of ten
_SCIENTIFIC_ANSWER = re.compile(
    r"\d\.(\d+)\s*(?:[×x*·]|\\times|\\cdot)\s*10\s*\^\s*[({]?\s*([-−–]?)\s*(\d{1,3})"
)


def rounded_to_its_figures(raw: str, value: Fraction, accepted: set[Fraction]) -> bool:
    """An answer in scientific notation that rounds a derived value to the figures it shows
    (`3.61 \\times 10^{23}` for 3.612 × 10²³)."""
    m = _SCIENTIFIC_ANSWER.search(raw)
    if m is None:
        return False
    exponent = -int(m.group(3)) if m.group(2) else int(m.group(3))
    places = len(m.group(1)) - exponent
    return any(round_to(v, places) == value for v in accepted)


def numerator_shown(analysis: Analysis, value: Fraction, final: Fraction) -> bool:
    """A fraction answer whose numerator the last step computes, naming its denominator
    ("Shortcut: $2 \\times 5 + 3 = 13$, and the denominator stays $5$")."""
    text = analysis.steps[-1].text
    return (
        value.denominator > 1
        and final == value.numerator
        and "denominator" in text.lower()
        and value.denominator in numbers_in(text)
    )
