"""The linkage validator: is the stated answer what the steps derive?"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy

from validators.arithmetic.exact import show
from validators.arithmetic.extract import StepQuantities, numbers_in
from validators.arithmetic.validator import markup_chain, step_quantities
from validators.chain.conclusions import closing_remarks, rarer_conclusions, stated_conclusions
from validators.chain.other_forms import (
    an_option_a_step_names,
    its_last_digits,
    numerator_shown,
    on_the_clock,
    rounded_to_its_figures,
    rounded_to_its_places,
    rounding_of_a_result,
    same_in_other_unit,
    written_after_equals_from,
)
from validators.chain.past_the_answer import (
    a_ratio_remark,
    an_alternative_after,
    computed_by_a_step,
    it_rewritten_in_other_units,
    named_as_asked,
    named_with_the_questions_verb,
    not_taken_up,
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


def _writes_each_side(analysis: Analysis, answer: Answer, accepted: set[Fraction]) -> bool:
    """Whether the steps compute or state both sides of a size ("4000 × 3000" pixels)."""
    computed = accepted | {r for q in step_quantities(analysis) for r in q.results}
    stated = _stated_values(analysis)
    return all(_among(v, computed, stated) for v in answer.factors)


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
    version = "1.14"

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
            or any(same_in_other_unit(v, accepted, analysis) for v in readings)
            or any(rounded_to_its_places(v, accepted) for v in readings)
            or rounding_of_a_result(analysis, readings, final)
            or written_after_equals_from(analysis, readings, final)
            or on_the_clock(analysis, value, accepted)
            or numerator_shown(analysis, value, final)
            or rounded_to_its_figures(analysis.answer or "", value, accepted)
            or its_last_digits(value, accepted, question)
            or an_option_a_step_names(analysis, value)
            or (bool(answer.factors) and _writes_each_side(analysis, answer, accepted))
            or (
                _asks_several(question)
                and (computed_by_a_step(analysis, readings) or stated_alone(analysis, readings))
            )
            or named_with_the_questions_verb(analysis, readings)
            or a_ratio_remark(analysis, readings)
            or an_alternative_after(analysis, readings)
            or it_rewritten_in_other_units(analysis, readings)
            or the_asked_count(analysis, readings)
            or not_taken_up(analysis, readings)
            or named_as_asked(analysis, readings)
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
