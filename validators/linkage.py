"""The linkage validator: is the stated answer what the steps derive?"""

from __future__ import annotations

import re
from fractions import Fraction

from validators.arithmetic import step_quantities
from validators.exact import round_to, show
from validators.extract import numbers_in
from validators.quantities import answer_value
from validators.types import Analysis, Finding

NAME = "linkage"


def _derived(analysis: Analysis) -> tuple[Fraction | None, set[Fraction]]:
    """The result the steps end on, and every value the final step arrives at."""
    qs = step_quantities(analysis)
    final: Fraction | None = None
    for q in reversed(qs):
        if q.results:
            final = q.results[-1]
            break
    accepted: set[Fraction] = set()
    if final is not None:
        accepted.add(final)
    if qs:
        last = qs[-1]
        accepted.update(last.results)
        if not last.results and last.numbers:
            # A closing statement ("So she has 5 left.", "50 < 52"): it names the conclusion.
            accepted.update(last.numbers)
            accepted.update(
                -v for v in numbers_in(" ".join(_NEGATIVE.findall(analysis.steps[-1].text)))
            )
            final = final if final is not None else last.numbers[-1]
    solution = analysis.scratch.get("algebra_solution") or {}
    accepted.update(v for v in solution.values() if isinstance(v, Fraction))
    return final, accepted


_NEGATIVE = re.compile(r"(?:^|[=\s$({\[:,])-\s?(\d[\d,]*(?:\.\d+)?)")
_UNIT_SCALES = {"cent": (100,), "minute": (60, Fraction(1, 60)), "hour": (60, Fraction(1, 60))}


def _same_in_other_unit(answer: Fraction, accepted: set[Fraction], question: str) -> bool:
    """An answer the question asks for in another unit ("how many cents"): $0.25 is 25 cents."""
    lowered = question.lower()
    if answer.denominator == 1:
        # A whole answer to a fractional result: 15.36 minutes -> 15, 16.66 % -> 17.
        whole = {
            round_to(v, 0, m) for v in accepted if v.denominator != 1 for m in ("half_up", "floor")
        }
        if "percent" in lowered or "%" in lowered:
            whole |= {round_to(v * 100, 0, "half_up") for v in accepted if v < 1}
        if answer in whole:
            return True
    return any(
        answer == v * k
        for word, scales in _UNIT_SCALES.items()
        if word in lowered
        for k in scales
        for v in accepted
    )


class LinkageValidator:
    """Flags laundering: an answer the steps do not derive, or a right answer over wrong steps."""

    name = NAME
    version = "1.0"

    def check(self, analysis: Analysis) -> None:
        """Compare the stated answer with what the steps derive."""
        answer = answer_value(analysis.answer)
        if answer is None or not analysis.steps:
            return
        final, accepted = _derived(analysis)
        if final is None:
            return  # the steps state no quantity: nothing to link
        if analysis.scratch.get("answer_is_last_step"):
            analysis.derived_answer = show(final)  # no separate answer: nothing to compare
            return
        if answer in accepted or _same_in_other_unit(answer, accepted, analysis.chain.question):
            analysis.derived_answer = show(answer)
            analysis.held += 1
        else:
            analysis.derived_answer = show(final)
            analysis.failed += 1
            analysis.laundering = True
            analysis.add(
                Finding(
                    NAME,
                    "linkage.answer_not_derived",
                    "error",
                    f"the answer {analysis.answer} is not the result of any step "
                    f"(the steps give {show(final)})",
                    evidence={"answer": analysis.answer, "derived": show(final)},
                )
            )
        self._check_reference(analysis, answer)

    def _check_reference(self, analysis: Analysis, answer: Fraction) -> None:
        reference = answer_value(analysis.chain.reference_answer)
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
