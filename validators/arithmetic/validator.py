"""The arithmetic validator: every computation a step states, evaluated exactly."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction

from validators.arithmetic.exact import (
    Tok,
    Unevaluable,
    decimals,
    evaluate,
    number_value,
    round_to,
    show,
)
from validators.arithmetic.extract import Claim, StepQuantities, alternatives, quantities
from validators.arithmetic.mathclaims import MathClaim, has_markup
from validators.arithmetic.tokens import tokens
from validators.text.segment import unlabelled
from validators.types import MAX_STEP_CHARS, Analysis, Finding

NAME = "arithmetic"


def step_quantities(analysis: Analysis) -> list[StepQuantities]:
    """Each step's quantities, extracted once per chain and shared by the validators."""
    cached = analysis.scratch.get("quantities")
    if cached is None:
        markup = markup_chain(analysis)
        cached = [
            StepQuantities() if s.unchecked_reason else quantities(unlabelled(s.text), markup)
            for s in analysis.steps
        ]
        analysis.scratch["quantities"] = cached
    return cached


def markup_chain(analysis: Analysis) -> bool:
    """Whether the chain writes its math as LaTeX (MATH style), decided once per chain.

    Such a chain's steps are read only as whole math, its plain lines included: the prose
    reading tuned on GSM8K would splice `x_0^2 + x_0 + 1 = 0` into `0 + 1 = 0`.
    """
    cached = analysis.scratch.get("markup")
    if cached is None:
        texts = [analysis.chain.question[:MAX_STEP_CHARS]] + [s.text for s in analysis.steps]
        cached = any(has_markup(t) for t in texts)
        analysis.scratch["markup"] = cached
    return cached


def _declared_tolerance(claimed_text: str) -> Fraction:
    """Half a unit of the last place the claimed value shows ("about 30" -> 5, "≈ 3.3" -> 0.05)."""
    text = claimed_text.replace(",", "").rstrip("%")
    places = decimals(text)
    if places == 0:
        digits = text.lstrip("-").split(".")[0]
        zeros = len(digits) - len(digits.rstrip("0")) if digits.strip("0") else 0
        return Fraction(10**zeros, 2)
    return _half_unit(places)


def _half_unit(places: int) -> Fraction:
    """Half a unit in the last of `places` decimal places (`4.409e17`: places < 0)."""
    return Fraction(1, 2) / Fraction(10) ** places


# Units a stated result may switch to: "$1 / 2 = 50 cents", "1/2 hour = 30 minutes".
_UNIT_SCALES = {
    "cents": (100,),
    "cent": (100,),
    "minutes": (60,),
    "minute": (60,),
    "mins": (60,),
    "seconds": (60, 3600),
    "hours": (24, Fraction(1, 60)),
    "inches": (12,),
    "ounces": (16,),
    "grams": (1000,),
    "meters": (1000, Fraction(1, 100)),
    "centimeters": (100,),
    "cm": (100,),
    "mm": (10, 1000),
    "months": (12,),
    "days": (7, 365),
    "weeks": (52,),
    "percent": (100,),
    "percentage": (100,),  # "1,227 / 50,000 = 2.454 percentage points"
    "pp": (100,),
}
# a claimed side in scientific notation, as its tokens read: "9.153 * 10 ^ 23"
_TIMES_POWER_OF_TEN = re.compile(r"(\d+\.\d+) \* 10 \^ (?:\( )?(- )?(\d{1,2})(?: \))?")
_PI = re.compile(r"\b3\.14(?:1|16|159\d*)?\b")
PI_TOLERANCE = Fraction(1, 1000)
_REMAINDER = ("remain", "left over", "leftover", "resto", "reste", " rest ", "остат", "余")


def _matches(computed: Fraction, claimed: Fraction, claimed_text: str, approximate: bool) -> bool:
    if computed == claimed:
        return True
    if approximate and abs(computed - claimed) <= _declared_tolerance(claimed_text):
        return True
    places = decimals(claimed_text.rstrip("%"))
    if places == 0:
        return False
    # A finite decimal cannot state 100/3 exactly: showing it to the written places is not an error.
    return any(round_to(computed, places, m) == claimed for m in ("half_up", "floor", "ceil"))


_DECIMAL = re.compile(r"\d[\d,]*\.\d+")


def _rounding_room(expression: str) -> Fraction:
    """The relative error the rounded decimals of an expression may carry: half a unit in the
    last place of each (`0.333` -> 0.0005 / 0.333), times the power it is raised to."""
    return sum((room for _, _, room in _decimal_rooms(expression)), Fraction(0))


def _operands_rounding_room(expression: str, rounded: set[Fraction]) -> Fraction:
    """_rounding_room counting only the decimals that look cut short: three places or more,
    or a value an earlier step rounded (`rounded`)."""
    return sum(
        (
            room
            for part, value, room in _decimal_rooms(expression)
            if decimals(part) >= 3 or value in rounded
        ),
        Fraction(0),
    )


def _decimal_rooms(expression: str) -> Iterator[tuple[str, Fraction, Fraction]]:
    """Each non-zero decimal of an expression, its value and the relative error its last
    place allows, times the power it is raised to."""
    parts = expression.split()  # (a claim's texts are its tokens joined by spaces)
    for k, part in enumerate(parts):
        if "." not in part or _DECIMAL.fullmatch(part) is None:
            continue
        value = number_value(part)
        if not value:
            continue
        power = parts[k + 2] if k + 2 < len(parts) and parts[k + 1] == "^" else "1"
        times = int(power) if power.isdigit() and len(power) < 4 else 1
        yield part, value, times * _half_unit(decimals(part)) / abs(value)


def _within_rounded_literals(claim: Claim) -> bool:
    """`100 × 1/3 ≈ 100 × 0.333`: an expression said to be about another, whose decimals are
    rounded, agrees with it within what that rounding allows (one unit in each last place)."""
    if " " not in claim.claimed_text:
        return False  # a stated number: its own last place is the tolerance (_matches)
    room = _rounding_room(claim.claimed_text)
    # twice the first-order bound: the two sides' values differ too
    off = abs(claim.computed - claim.claimed)
    return off <= room * (abs(claim.computed) + abs(claim.claimed)) or (
        off <= 2 * _moved_by_rounding(claim.claimed_text)
    )


def _moved_by_rounding(expression: str) -> Fraction:
    """How far an expression's value moves when each rounded decimal in it moves by half a
    unit in its last place (first order, one at a time): in `1.0294 - 1` the whole 0.00005,
    which the relative bound of a product understates once the 1 is taken away."""
    try:
        toks = tokens(expression)
        base = evaluate(toks)
        moved = Fraction(0)
        for i, t in enumerate(toks):
            if t.kind == "num" and t.value is not None and "." in t.text:
                step = _half_unit(decimals(t.text))
                shifted = Tok(t.kind, t.text, t.value + step, t.start)
                moved += abs(evaluate([*toks[:i], shifted, *toks[i + 1 :]]) - base)
        return moved
    except (Unevaluable, ZeroDivisionError, OverflowError, ValueError):
        return Fraction(0)


def _within_rounded_operands(claim: Claim, approximate: bool, rounded: set[Fraction]) -> bool:
    """`8.333 × 3.6 = 30` where 8.333 is 25/3 cut short; `277.3 × 5 ≈ 1386.4` where an earlier
    step rounded 277.28… to 277.3: the result agrees within what those operands' rounding
    allows (and, said to be about the value, its own last place). Other decimals (`21 × 0.5`)
    are taken as exact."""
    room = _operands_rounding_room(claim.expression, rounded)
    if not room:
        return False
    written = _half_unit(decimals(claim.claimed_text.rstrip("%"))) if approximate else 0
    return abs(claim.computed - claim.claimed) <= room * abs(claim.computed) + written


def _brings_in_decimals(claim: Claim) -> bool:
    """`A / B = (1.986 × 10⁻²⁵) / (5.00 × 10⁻⁷)`: an expression on the right with a decimal the
    left does not have, a rounded intermediate (as in LaTeX, see mathclaims)."""
    left = set(claim.expression.split())
    return any("." in part and part not in left for part in claim.claimed_text.split())


def _readings(claim: Claim, step_text: str) -> list[tuple[Fraction, Fraction]]:
    """(computed, claimed) pairs under the readings the text allows (percent, unit changes)."""
    values = [claim.computed, *alternatives(claim)]
    pairs = [(v, claim.claimed) for v in values]
    if "%" in claim.claimed_text or "%" in claim.expression or "%" in claim.after:
        # "100 - 50 = 50%", "15/90 * 100% = 16.66": percentages stated in percent units
        c = claim.claimed
        pairs += [(v2, c2) for v in values for v2 in (v, v * 100) for c2 in (c, c * 100)]
    ltoks, text = claim.source
    if "percent" in text and any(
        t.kind == "num" and text.startswith("percent", t.start + len(t.text) + 1) for t in ltoks
    ):
        pairs += [(v / 100, claim.claimed) for v in values]  # "the 4 percentage-point gap × 12,000"
    if claim.after[:1] == "¢":
        pairs += [(v * 100, claim.claimed) for v in values]  # "$4.99 ÷ 20 = 24.95¢"
    for scale in _UNIT_SCALES.get(claim.unit_after, ()):
        pairs += [(v * scale, claim.claimed) for v in values]
    if _SPACED_GROUPS.match(claim.claimed_text):
        # "= 12 200 videos" may be twelve 200-unit things: the first group alone is a reading
        pairs += [(v, Fraction(claim.claimed_text.split()[0])) for v in values]
    for word, scale in _SCALE_WORDS.items():
        if word in step_text:
            # "losing 5 thousand dollars ... 5 * 3 = $15,000": the operands counted in thousands
            pairs += [(v * scale, claim.claimed) for v in values]
    return pairs


_SPACED_GROUPS = re.compile(r"\d{1,3}(?: \d{3})+$")
_SCALE_WORDS = {"thousand": 1000, "million": 10**6, "billion": 10**9}
# "100 / 6 = 16 and (2/3)", "17 / 5 = 3 R 2": a whole part, its fraction or remainder after it
_WHOLE_PART = re.compile(r"\s*(?:and\s*[(\d]|(?:R|r|rem)\.?\s*\d)")


def holds(claim: Claim, step_text: str = "", rounded: set[Fraction] | None = None) -> bool:
    """Exact equality under a reading the text allows, or rounding that it declares or implies
    (`rounded`: values earlier steps rounded, which the claim may use as operands)."""
    text = claim.claimed_text.rstrip("%")
    # "8.333...": a repeating decimal, cut
    approximate = claim.approximate or claim.after.startswith(("...", "…", "⋯"))
    if _matches(claim.computed, claim.claimed, text, approximate):
        return True
    sci = _TIMES_POWER_OF_TEN.fullmatch(text) if "10 ^" in text else None
    if sci is not None:
        # "= 1.203 × 10^24": rounded to the digits its mantissa shows, like `1.203e24`
        written = f"{sci[1]}e{'-' if sci[2] else ''}{sci[3]}"
        if _matches(claim.computed, claim.claimed, written, approximate):
            return True
    if (approximate or _brings_in_decimals(claim)) and _within_rounded_literals(claim):
        return True
    if _within_rounded_operands(claim, approximate, rounded or set()):
        return True
    if claim.european is not None:
        # `1.250 + 750 = 2.000`, `5 / 2 = 2,5`: right where `.` groups thousands
        computed, claimed, claimed_text = claim.european
        if _matches(computed, claimed, claimed_text, approximate):
            return True
    if _PI.search(claim.expression) or "π" in step_text:
        # A value of π written to a few places: the writer may have used more of them.
        return abs(claim.computed - claim.claimed) <= abs(claim.claimed) * PI_TOLERANCE
    for computed, claimed in _readings(claim, step_text):
        if _matches(computed, claimed, text, approximate):
            return True
    if _WHOLE_PART.match(claim.after) and claim.claimed.denominator == 1:
        return claim.claimed == int(claim.computed)
    # "100 / 3 = 33 stickers each, with 1 remaining": whole-number division with a remainder.
    lowered = step_text.lower()
    if not any(w in lowered for w in _REMAINDER):
        return False
    # "the remainder of 203 divided by 136 is 67": the quotient or the remainder.
    a, b = (claim.operands + [Fraction(0), Fraction(0)])[:2]
    remainder = (
        a % b if len(claim.operands) == 2 and b and a.denominator == b.denominator == 1 else None
    )
    return claim.claimed in (int(claim.computed), remainder)


class ArithmeticValidator:
    """Checks `expression = result` claims with exact rational arithmetic."""

    name = NAME
    version = "1.20"

    def check(self, analysis: Analysis) -> None:
        """Mark each stated computation as holding or wrong; record results for later validators."""
        rounded: set[Fraction] = set()  # results said to be about a value: rounded ones
        for step, q in zip(analysis.steps, step_quantities(analysis), strict=True):
            if analysis.budget.expired():
                return
            step.results = q.results
            for claim in q.claims:
                if holds(claim, step.text, rounded):
                    step.held += 1
                    if claim.approximate:
                        rounded.add(claim.claimed)
                    continue
                step.failed += 1
                analysis.add(_wrong(step.index, claim))
            for math in q.math_claims:
                if math.holds:
                    step.held += 1
                    continue
                step.failed += 1
                analysis.add(_refuted(step.index, math))
            if q.unevaluable:
                step.unchecked_reason = q.unevaluable[0]
                analysis.add(
                    Finding(
                        NAME,
                        "arithmetic.unchecked",
                        "info",
                        f"not evaluated: {q.unevaluable[0]}",
                        step=step.index,
                    )
                )


def _refuted(index: int, claim: MathClaim) -> Finding:
    """The finding for a claim read from whole math that exact evaluation refutes."""
    if claim.relation == "=":
        return _finding(index, claim.expression, claim.claimed_text, claim.computed)
    return Finding(
        NAME,
        "arithmetic.false_comparison",
        "error",
        f"{claim.expression} {claim.relation} {claim.claimed_text} is false "
        f"({claim.expression} = {claim.computed})",
        evidence={
            "expression": claim.expression,
            "relation": claim.relation,
            "claimed": claim.claimed_text,
            "computed": claim.computed,
        },
        step=index,
    )


def _wrong(index: int, claim: Claim) -> Finding:
    return _finding(index, claim.expression, claim.claimed_text, show(claim.computed))


def _finding(index: int, expression: str, claimed: str, computed: str) -> Finding:
    return Finding(
        NAME,
        "arithmetic.wrong_result",
        "error",
        f"{expression} = {computed}, not {claimed}",
        evidence={"expression": expression, "claimed": claimed, "computed": computed},
        step=index,
    )
