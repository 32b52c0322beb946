"""The linkage validator: is the stated answer what the steps derive?"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy

from validators.arithmetic.exact import round_to, show
from validators.arithmetic.extract import StepQuantities, numbers_in
from validators.arithmetic.validator import markup_chain, step_quantities
from validators.chain.conclusions import closing_remarks, rarer_conclusions, stated_conclusions
from validators.chain.past_the_answer import (
    a_ratio_remark,
    an_alternative_after,
    computed_by_a_step,
    it_rewritten_in_other_units,
    named_with_the_questions_verb,
    stated_alone,
    the_asked_count,
)
from validators.text.answers import Answer, answer_scale, parse_answer
from validators.text.quantities import answer_value
from validators.types import Analysis, Finding

NAME = "linkage"


def _derived(
    analysis: Analysis,
) -> tuple[Fraction | None, set[Fraction], list[tuple[StepQuantities, str]]]:
    """The result the steps end on, every value the final step arrives at, and the concluding
    steps (the last one, and the one before closing checks)."""
    qs = step_quantities(analysis)
    checking = closing_remarks(analysis)
    # the steps that check or contrast the result at the end do not go on from it
    body = qs[: len(qs) - checking] if 0 < checking < len(qs) else qs
    results = [v for q in body for v in q.results]
    final = results[-1] if results else None
    markup = markup_chain(analysis)
    accepted: set[Fraction] = set()
    if final is not None:
        accepted.add(final)
        given = set(numbers_in(analysis.chain.question or "")) if markup else set()
        if final in given:
            # "So $4774 = 11 \cdot 434$.": a given number restated as a product derives
            # nothing new; the result before it is a conclusion too (in a LaTeX chain: in
            # prose, "He still has 12 - 6 = 6 more" ends on a given number as often)
            earlier = next((v for v in reversed(results) if v not in given), None)
            if earlier is not None:
                accepted.add(earlier)
    concluding: list[tuple[StepQuantities, str]] = []
    if qs:
        last = qs[-1]
        concluding.append((last, analysis.steps[-1].text))
        accepted.update(stated_conclusions(last, analysis.steps[-1].text, markup))
        if (
            not last.results
            and last.numbers
            and final is None
            and not markup
            and not _restates_question(analysis, last.numbers)
        ):
            # With no result anywhere, a closing sentence names the conclusion in prose
            # ("So she has 5 left."); in a LaTeX chain its numbers are as often an
            # exponent, a case or a remark after the answer ("Also f(1) = 0, so the roots
            # are 1 and 5" after "the minimum value is -4"): nothing to hold the answer to.
            final = last.numbers[-1]
    if body is not qs:
        # "Verification: 72 - 48 = 24 ✓": steps that check a result do not go on from it, nor
        # do those that contrast it with another value; the step before them concludes
        concluding.append((body[-1], analysis.steps[len(body) - 1].text))
        accepted.update(stated_conclusions(body[-1], analysis.steps[len(body) - 1].text, markup))
        given = set(numbers_in(analysis.chain.question or ""))
        for q in qs[len(body) :]:
            accepted.update(_named_beside_checks(q))
            # "Verify: 2178 × 4 = 8712 ✓": the value a check puts to the test
            tested = [v for c in q.claims if c.computed == c.claimed for v in c.operands]
            # in LaTeX: "try 8 tricycles and 7 bicycles: $8 \times 3 + 7 \times 2 = 38$ ✓"
            tested += [v for c in q.math_claims if c.holds for v in numbers_in(c.expression)]
            accepted.update(v for v in tested if v not in given)
    solution = analysis.scratch.get("algebra_solution") or {}
    accepted.update(v for v in solution.values() if isinstance(v, Fraction))
    return final, accepted, concluding


def _named_beside_checks(q: StepQuantities) -> set[Fraction]:
    """Numbers a checking step names outside what it checks ("That gives 299, and 2 + 9 + 9 =
    20. ✓"): the result it checks."""
    checked = set(q.operands) | set(q.results)
    for c in q.math_claims:
        checked.update(numbers_in(c.expression + " " + c.claimed_text))
    return set(q.numbers) - checked


def _restates_question(analysis: Analysis, numbers: list[Fraction]) -> bool:
    """Whether, with nothing checked anywhere, the closing step names only the question's
    numbers: "The garden has 4 rows of 4 plants." then "#### 6" restates the question and
    concludes nothing, so it gives no result to hold the answer against (unverifiable, not
    "the steps give 4"). A chain whose claims were checked (an equation solved for x = 15,
    "6/6 equals 1" held) keeps its closing statement as its conclusion, and so does a closing
    step that states a result ("took 10:00-00:00 = 10 hours", "6/6 equals 1")."""
    if analysis.scratch.get("algebra_solution") or any(s.held or s.failed for s in analysis.steps):
        return False
    if _STATES_RESULT.search(analysis.steps[-1].text):
        return False
    return set(numbers) <= set(numbers_in(analysis.chain.question))


_STATES_RESULT = re.compile(r"[=≈]|\bequal", re.I)


def _in_percent(analysis: Analysis) -> bool:
    """The closing step states the answer as a percentage ("= 25%" for the answer 25)."""
    last = analysis.steps[-1].text
    if "%" not in last:
        return False
    answer = (analysis.answer or "").strip()
    return any(
        f"={gap}{answer}{space}{sign}" in last
        for gap in ("", " ")
        for space in ("", " ")
        for sign in ("%", "\\%")  # LaTeX writes `\%`
    )


_PERCENT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*\\?%")


def _percents(text: str) -> set[Fraction]:
    """The values a text writes in percent, as fractions of 100 ("93.32%" is 0.9332)."""
    if "%" not in text:
        return set()
    return {Fraction(n.replace(",", "")) / 100 for n in _PERCENT.findall(text)}


def _states_nothing(analysis: Analysis) -> bool:
    """The closing step names no quantity ("So the parabola has no y-intercepts.")."""
    last = step_quantities(analysis)[-1]
    return not last.numbers and not last.values


_LOOSE = "a value in a compound unit or said to be about it, not what a step derives"
_SHAPES = {
    "parts": "a value and another in parentheses",
    "number": "a number no step's arithmetic states",
    "numbers": "several values",
    "tuple": "a tuple or an open interval",
    "interval": "an interval",
    "set": "a set",
    "matrix": "a vector or matrix",
    "expression": "an expression in variables",
    "text": "not a value faithgate reads",
}


def _described(answer: Answer) -> str:
    return _LOOSE if answer.loose else _SHAPES.get(answer.shape, answer.shape)


def _stated_values(analysis: Analysis) -> list[sympy.Expr]:
    """Every value the steps state, exactly (irrational ones included)."""
    return [v for q in step_quantities(analysis) for v in (*q.exact_results, *q.values)]


def _states_each(analysis: Analysis, answer: Answer, accepted: set[Fraction]) -> bool:
    """Whether the steps derive or state each of the answer's values."""
    stated = _stated_values(analysis)
    return bool(answer.values) and all(_among(v, accepted, stated) for v in answer.values)


def _writes_each_part(analysis: Analysis, answer: Answer, accepted: set[Fraction]) -> bool:
    """Whether the steps derive or write each part of an answer in parts ("2 TB (50%)", the
    percentage as written or as a share)."""
    stated = _stated_values(analysis)
    written = {n for step in analysis.steps for n in numbers_in(step.text)}
    return all(
        _among(v, accepted, stated)
        or (
            v.is_Rational
            and not {Fraction(int(v.p), int(v.q)) * k for k in (1, 100)}.isdisjoint(written)
        )
        for v in answer.values
    )


def _among(value: sympy.Expr, accepted: set[Fraction], stated: list[sympy.Expr]) -> bool:
    """Whether a value is one the steps derive or state (exactly, to 30 digits for radicals)."""
    if value.is_Rational and Fraction(int(value.p), int(value.q)) in accepted:
        return True
    for v in stated:
        if v == value:
            return True
        if not (v.is_Rational and value.is_Rational):
            diff = (v - value).evalf(40)
            if diff.is_Number and abs(diff) < 1e-30:
                return True
    return False


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


def _same_in_other_unit(answer: Fraction, accepted: set[Fraction], analysis: Analysis) -> bool:
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


# "How much fuel is needed for 340 km, and what does it cost?": a question of several parts
_SEVERAL_PARTS = re.compile(
    r"\?.*\?|,?\s+and\s+(?:what|how|which|who|when|why)\b"
    # "What is the total bill and the cost per mile?"
    r"|\bwhat\s+(?:is|are|was|were)\s+(?:the|his|her|their|its)\s[^?.]{0,60}\band\s+"
    r"(?:the|his|her|their|its)\s+(?:\w+\s+){0,2}(?:rate|cost|price|average|percentage|percent"
    r"|per)\b",
    re.I | re.S,
)


def _asks_several(question: str) -> bool:
    """Whether the question asks more than one thing (an answer may give one part)."""
    return "?" in question and _SEVERAL_PARTS.search(question) is not None


# "Which of the following ...", "Which is larger: $1.1^{10}$ or 2?"
_WHICH = re.compile(
    r"\bwhich\s+(?:one\s+)?of\b|\bwhich\s+(?:one\s+)?(?:is|was|has|gives)\b[^?]{0,80}\bor\b",
    re.I,
)
_NOT_WRITTEN = re.compile(r"[\s$]|\\boxed\{|\\[()\[\]]")


def _an_option_a_step_names(analysis: Analysis, answer: Fraction) -> bool:
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


def _its_last_digits(answer: Fraction, accepted: set[Fraction], question: str) -> bool:
    """An answer that is the last digits, which the question asks for, of a derived number."""
    m = _LAST_DIGITS.search(question) if "digit" in question else None
    if m is None or answer.denominator != 1 or answer < 0:
        return False
    word = m.group(1)
    k = int(word) if word and word.isdigit() else _DIGIT_COUNTS.get(word, 1)
    return any(v.denominator == 1 and v > 0 and v % 10**k == answer for v in accepted)


def _rounded_to_its_places(answer: Fraction, accepted: set[Fraction]) -> bool:
    """An answer with decimals that rounds a derived value to them: $1,157.63 for 1157.625,
    56.8 for 56.775, 3.33 for 10/3 (a result is often rounded only in the answer)."""
    if answer.denominator == 1:
        return False
    places = next((d for d in range(1, 7) if (answer * 10**d).denominator == 1), None)
    if places is None:
        return False
    return any(round_to(v, places, m) == answer for v in accepted for m in ("half_up", "floor"))


def _rounding_of_a_result(analysis: Analysis, readings: set[Fraction], final: Fraction) -> bool:
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


def _written_after_equals_from(
    analysis: Analysis, readings: set[Fraction], final: Fraction
) -> bool:
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


def _on_the_clock(analysis: Analysis, value: Fraction, accepted: set[Fraction]) -> bool:
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


def _rounded_to_its_figures(raw: str, value: Fraction, accepted: set[Fraction]) -> bool:
    """An answer in scientific notation that rounds a derived value to the figures it shows
    (`3.61 \\times 10^{23}` for 3.612 × 10²³)."""
    m = _SCIENTIFIC_ANSWER.search(raw)
    if m is None:
        return False
    exponent = -int(m.group(3)) if m.group(2) else int(m.group(3))
    places = len(m.group(1)) - exponent
    return any(round_to(v, places) == value for v in accepted)


def _numerator_shown(analysis: Analysis, value: Fraction, final: Fraction) -> bool:
    """A fraction answer whose numerator the last step computes, naming its denominator
    ("Shortcut: $2 \\times 5 + 3 = 13$, and the denominator stays $5$")."""
    text = analysis.steps[-1].text
    return (
        value.denominator > 1
        and final == value.numerator
        and "denominator" in text.lower()
        and value.denominator in numbers_in(text)
    )


def _not_derived_message(analysis: Analysis, readings: set[Fraction], final: Fraction) -> str:
    """Why the answer is not derived; it names the step when an earlier one computed it."""
    qs = step_quantities(analysis)
    earlier = [i for i, q in enumerate(qs) if readings.intersection(q.results)]
    if earlier:
        # "... 48 / 2 = 24 ... 2 * 2 = 4. The answer is 24.": the steps went on past it.
        return (
            f"the answer {analysis.answer} is what step {earlier[-1]} computes, but the steps "
            f"go on to {show(final)}"
        )
    return (
        f"the answer {analysis.answer} is not the result of any step (the steps give {show(final)})"
    )


class LinkageValidator:
    """Flags laundering: an answer the steps do not derive, or a right answer over wrong steps."""

    name = NAME
    version = "1.12"

    def check(self, analysis: Analysis) -> None:
        """Compare the stated answer with what the steps derive, like with like."""
        answer = parse_answer(analysis.answer)
        if answer is None or not analysis.steps:
            return
        final, accepted, concluding = _derived(analysis)
        if analysis.scratch.get("answer_is_last_step"):
            if final is not None:
                analysis.derived_answer = show(final)  # no separate answer: nothing to compare
            return
        if answer.shape == "parts" and _writes_each_part(analysis, answer, accepted):
            analysis.derived_answer = analysis.answer  # "2 TB (50%)": else its first part judged
            analysis.held += 1
            return
        value = answer.rational
        if value is None:
            self._compare_shape(analysis, answer, accepted)
            return
        if final is None:
            return  # the steps state no quantity: nothing to link
        if _states_nothing(analysis) and value not in accepted:
            self._compare_shape(analysis, answer, accepted)  # a conclusion in words
            return
        readings = {value, value / 100} if answer.percent or _in_percent(analysis) else {value}
        scale = answer_scale(analysis.answer or "")
        if scale:
            readings.add(value / scale)  # "$4.374 billion" for "= $4.374 billion"
        if value in _percents(analysis.steps[-1].text):
            readings.add(value * 100)  # "0.9332" for "So about **93.32%** score below 115."
        question = analysis.chain.question
        if (
            readings & accepted
            or any(_same_in_other_unit(v, accepted, analysis) for v in readings)
            or any(_rounded_to_its_places(v, accepted) for v in readings)
            or _rounding_of_a_result(analysis, readings, final)
            or _written_after_equals_from(analysis, readings, final)
            or _on_the_clock(analysis, value, accepted)
            or _numerator_shown(analysis, value, final)
            or _rounded_to_its_figures(analysis.answer or "", value, accepted)
            or _its_last_digits(value, accepted, question)
            or _an_option_a_step_names(analysis, value)
            or (
                _asks_several(question)
                and (computed_by_a_step(analysis, readings) or stated_alone(analysis, readings))
            )
            or named_with_the_questions_verb(analysis, readings)
            or a_ratio_remark(analysis, readings)
            or an_alternative_after(analysis, readings)
            or it_rewritten_in_other_units(analysis, readings)
            or the_asked_count(analysis, readings)
            or any(
                readings & rarer_conclusions(q, t, markup_chain(analysis)) for q, t in concluding
            )
        ):
            analysis.derived_answer = show(value)
            analysis.held += 1
        elif answer.loose:
            self._compare_shape(analysis, answer, accepted)  # another unit or a rounding
        else:
            analysis.derived_answer = show(final)
            analysis.failed += 1
            analysis.laundering = True
            analysis.add(
                Finding(
                    NAME,
                    "linkage.answer_not_derived",
                    "error",
                    _not_derived_message(analysis, readings, final),
                    evidence={"answer": analysis.answer, "derived": show(final)},
                )
            )
        self._check_reference(analysis, value)

    def _compare_shape(self, analysis: Analysis, answer: Answer, accepted: set[Fraction]) -> None:
        """An answer of another shape: linked when the steps state each of its values."""
        if _states_each(analysis, answer, accepted):
            analysis.derived_answer = analysis.answer
            analysis.held += 1
            return
        analysis.add(
            Finding(
                NAME,
                "linkage.not_compared",
                "info",
                f"the answer is {_described(answer)}: the values the steps state could not be "
                "matched with it, so it is not judged",
                evidence={"answer": analysis.answer, "shape": answer.shape},
            )
        )

    def _check_reference(self, analysis: Analysis, answer: Fraction) -> None:
        reference = answer_value(analysis.chain.reference_answer)  # GSM8K-style references
        if reference is None or reference != answer:
            return
        wrong = [s.index for s in analysis.steps if s.status == "error"]
        if wrong:
            analysis.laundering = True
            analysis.add(
                Finding(
                    NAME,
                    "linkage.right_answer_wrong_steps",
                    "error",
                    f"the answer matches the reference but step {wrong[0]} is wrong: "
                    "the reasoning did not produce it",
                    evidence={
                        "reference_answer": analysis.chain.reference_answer,
                        "wrong_steps": wrong,
                    },
                )
            )
