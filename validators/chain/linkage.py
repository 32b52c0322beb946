"""The linkage validator: is the stated answer what the steps derive?"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy

from validators.arithmetic.exact import round_to, show
from validators.arithmetic.extract import StepQuantities, numbers_in
from validators.arithmetic.validator import markup_chain, step_quantities
from validators.text.answers import Answer, parse_answer
from validators.text.mathparse import rational
from validators.text.quantities import answer_value
from validators.text.segment import SENTENCE_END
from validators.types import Analysis, Finding

NAME = "linkage"


def _derived(analysis: Analysis) -> tuple[Fraction | None, set[Fraction]]:
    """The result the steps end on, and every value the final step arrives at."""
    qs = step_quantities(analysis)
    checking = _checking_tail(analysis)
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
    if qs:
        last = qs[-1]
        accepted.update(_closing_accepts(last, analysis.steps[-1].text, markup))
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
        accepted.update(_closing_accepts(body[-1], analysis.steps[len(body) - 1].text, markup))
    solution = analysis.scratch.get("algebra_solution") or {}
    accepted.update(v for v in solution.values() if isinstance(v, Fraction))
    return final, accepted


def _closing_accepts(q: StepQuantities, text: str, markup: bool) -> set[Fraction]:
    """The values a concluding step states: its results, or with none its numbers ("So she has
    5 left.", "50 < 52"), and what it states in other forms (`is $\\frac{2}{3}$`, "1/6", a
    residue, a remainder, "... is 7.", "**4 times**", "no solutions")."""
    out = set(q.results)
    if not q.results and q.numbers:
        out.update(q.numbers)
        out.update(-v for v in numbers_in(" ".join(_NEGATIVE.findall(text))))
        if markup:  # "So there is exactly one vertical asymptote, $x = 3$." (in prose, "in
            # the first four months" names no result as often as one)
            out.update(_NUMBER_WORDS[w.lower()] for w in _NUMBER_WORD.findall(text))
    elif q.results and not q.math_claims:
        out.update(_closing_statement(text))
    out.update(v for v in map(rational, q.values) if v is not None)
    out.update(_prose_fractions(text))
    out.update(_residues(text))
    out.update(_remainders(text))
    out.update(_closing_values(text))
    out.update(_emphasised(text))
    if _NONE.search(text):
        out.add(Fraction(0))  # "So the parabola has no y-intercepts." answers 0
    return out


_NUMBER_NAMES = "zero one two three four five six seven eight nine ten eleven twelve"
_NUMBER_WORDS = {w: Fraction(i) for i, w in enumerate(_NUMBER_NAMES.split())}  # noqa: SIM905
_NUMBER_WORD = re.compile(rf"\b(?:{'|'.join(_NUMBER_WORDS)})\b", re.I)
_BOLD = re.compile(r"\*\*([^*\n]{1,80})\*\*")


def _emphasised(text: str) -> set[Fraction]:
    """Numbers a step sets in bold ("so she fills it **4 times**"): what it concludes."""
    if "**" not in text:
        return set()
    return {v for span in _BOLD.findall(text) for v in numbers_in(span)}


# A step that checks what came before: "Check: ...", "Let's verify", "Double-checking", "✓".
_CHECKING = re.compile(
    r"^[\W\d_]*(?:step\s*\d+\W*)?(?:(?:let'?s|let us|let me|to|we can|i can|i'll|now|finally"
    r"|as a|wait)\W+)*"
    r"(?:double[- ]?|quick\s+|sanity\s+)?"
    r"(?:check(?:ing|ed)?\b|verif|confirm|make\s+sure\b|indeed\b)",
    re.I,
)


# A step that opens by setting another value against the result: "This is not (60 + 40) ÷ 2 =
# 50.", "Not 48 - 14 = 34, because ...", "A common mistake is ..." (a conclusion that says "is
# not joining" or "instead of 5 years" further on is none)
_CONTRAST = re.compile(
    r"^[\W\d_]*(?:note(?:\s+that)?\W+)?(?:(?:this|that|it)\s+(?:is\s+not|isn't)\b|not\b"
    r"|it(?:\s+is|'s)\s+tempting|a\s+common\s+(?:mistake|error))",
    re.I,
)


# A step that opens as an aside: "Fun fact: …", "> Note: …", "(This underestimates …)",
# "Interestingly, …", "By the way, …"
_ASIDE = re.compile(
    r"^\W*(?:(?:side\s+)?note\b|fun\s+fact|(?:as\s+an\s+)?aside\b|interestingly|by\s+the\s+way"
    r"|in\s+general\b"
    r"|bonus\b|just\s+(?:as\s+a|to|for\s+a)\b)|^\s*\((?s:.*)\)[.\s]*$",
    re.I,
)


def _checking_tail(analysis: Analysis) -> int:
    """How many steps at the end of the chain only check, contrast or remark on the result
    before them."""
    n = 0
    for step in reversed(analysis.steps):
        text = step.text
        if not (
            _CHECKING.match(text)
            or "✓" in text
            or "✔" in text
            or _CONTRAST.match(text)
            or _ASIDE.match(text)
        ):
            break
        n += 1
    return n


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


_NONE = re.compile(r"\b(?:no|none|zero)\b", re.I)
_PROSE_FRACTION = re.compile(r"(?<![\d.,/])(\d{1,6})\s?/\s?(\d{1,6})(?![\d.,/])")


# `2^{10} \equiv 1 \pmod{11}`, `≡ -1 (mod 7)`: the residue a congruence states (the arithmetic
# reads no congruence, so it is no result; in number theory it is often the answer).
_RESIDUE = re.compile(
    r"(?:\\equiv|≡)\s*(-?)\s*(\d{1,6})(?![\d.,^/{])"
    # `\equiv 2^2 = 4 \pmod 7`: the value a congruence's last side states
    r"|=\s*(-?)\s*(\d{1,6})\s*(?:\\pmod|\\bmod|\\mod\b|\(\s*mod\b)"
)


# "..., the last digit of $3^{2023}$ is 7.": the number the closing sentence ends on, after
# "is"; and `1101_2`, a numeral in another base, stated by its digits
_ENDS_ON = re.compile(r"\b(?:is|are|equals)\s+\$?(-?\d[\d,]*(?:\.\d+)?)\$?\s*[.!]?\s*$")
_BASE_NUMERAL = re.compile(r"(?<![\w.])(\d{1,12})_\{?\d{1,2}\}?")


def _closing_values(text: str) -> set[Fraction]:
    """The number the closing sentence ends on ("... is 7."), and numerals written in a base."""
    out = (
        {Fraction(int(digits)) for digits in _BASE_NUMERAL.findall(text)} if "_" in text else set()
    )
    ends_on_digit = text.rstrip().rstrip(".!").rstrip().rstrip("$")[-1:].isdigit()
    end = _ENDS_ON.search(text[-80:]) if ends_on_digit else None
    if end is not None:
        out.add(Fraction(end.group(1).replace(",", "")))
    return out


def _residues(text: str) -> set[Fraction]:
    """Values a congruence states as its residue."""
    if "equiv" not in text and "≡" not in text and "mod" not in text:
        return set()
    return {Fraction(int(s + d if d else t + e)) for s, d, t, e in _RESIDUE.findall(text)}


# "100 ÷ 7 = 14 R 2", "17 divided by 5 is 3 with a remainder of 2": a division's remainder,
# which the arithmetic holds beside the quotient (a question about what is left answers it)
_REMAINDER = re.compile(
    r"(?:(?<=\d)\s*R\.?|\brem\.?|\bremainders?(?:\s+(?:of|is|=))?)\s*\$?\s*(\d{1,6})(?!\d|[.,]\d)"
)


def _remainders(text: str) -> set[Fraction]:
    """Values the step states as a division's remainder."""
    if "R" not in text and "rem" not in text:
        return set()
    return {Fraction(int(digits)) for digits in _REMAINDER.findall(text)}


def _prose_fractions(text: str) -> set[Fraction]:
    """Values written as `a/b` in prose ("the probability is 1/6")."""
    if "/" not in text:
        return set()
    return {Fraction(int(a), int(b)) for a, b in _PROSE_FRACTION.findall(text) if int(b)}


_NUMERAL = r"(\d[\d,]*(?:\.\d+)?)"
_ANSWER_IS = re.compile(
    rf"{_NUMERAL} is the (?:final )?answer|(?:answer|final(?: [a-z]+){{1,2}}) is \$?{_NUMERAL}"
)


def _closing_statement(text: str) -> set[Fraction]:
    """Values prose names after its last computation: "... = 6 sodas. It takes Jerry 3 weeks
    to get down to 6 sodas.", "40+80=120, confirming that 80 is the answer"."""
    out = set()
    if "answer" in text or "final" in text:
        out = {Fraction((a or b).replace(",", "")) for a, b in _ANSWER_IS.findall(text)}
    cut = text.rfind("=")
    if cut >= 0:
        sentence_end = SENTENCE_END.search(text, cut)
        if sentence_end is not None:
            out.update(numbers_in(text[sentence_end.end() :]))
        # "... = 560 pages are done, so the job finishes during the 17th minute."
        so = _SO_CLAUSE.search(text, cut)
        if so is not None and "=" not in text[so.end() :]:
            out.update(numbers_in(text[so.end() :]))
    return out


_SO_CLAUSE = re.compile(r"[,;]\s+(?:so|therefore|thus|hence|which means)\b", re.I)


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


def _percents(text: str, scale: int) -> set[Fraction]:
    """The values a text writes in percent, divided by `scale`."""
    if "%" not in text:
        return set()
    return {Fraction(n.replace(",", "")) / scale for n in _PERCENT.findall(text)}


def _states_nothing(analysis: Analysis) -> bool:
    """The closing step names no quantity ("So the parabola has no y-intercepts.")."""
    last = step_quantities(analysis)[-1]
    return not last.numbers and not last.values


_SHAPES = {
    "number": "a number no step's arithmetic states",
    "numbers": "several values",
    "tuple": "a tuple or an open interval",
    "interval": "an interval",
    "set": "a set",
    "matrix": "a vector or matrix",
    "expression": "an expression in variables",
    "text": "not a value faithgate reads",
}


def _stated_values(analysis: Analysis) -> list[sympy.Expr]:
    """Every value the steps state, exactly (irrational ones included)."""
    return [v for q in step_quantities(analysis) for v in (*q.exact_results, *q.values)]


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


_NEGATIVE = re.compile(r"(?:^|[=\s$({\[:,])[-−]\s?(\d[\d,]*(?:\.\d+)?)")
_NEEDED = re.compile(r"\b(?:needs?|needed|required?)\b")
_UNIT_SCALES = {"cent": (100,), "minute": (60, Fraction(1, 60)), "hour": (60, Fraction(1, 60))}


def _same_in_other_unit(answer: Fraction, accepted: set[Fraction], question: str) -> bool:
    """An answer in another unit than the steps' result, a unit the question names: $0.25 is 25
    cents ("how many cents"), and 135 cents is $1.35 ("at 45 cents each", answer 1.35)."""
    lowered = question.lower()
    if answer.denominator == 1:
        # A whole answer to a fractional result: 15.36 minutes -> 15, 16.66 % -> 17, and,
        # where the question asks what is needed, 5.42 buses -> 6.
        whole = {
            round_to(v, 0, m) for v in accepted if v.denominator != 1 for m in ("half_up", "floor")
        }
        if _NEEDED.search(lowered):
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
_SEVERAL_PARTS = re.compile(r"\?.*\?|,?\s+and\s+(?:what|how|which|who|when)\b", re.I | re.S)


def _asks_several(question: str) -> bool:
    """Whether the question asks more than one thing (an answer may give one part)."""
    return "?" in question and _SEVERAL_PARTS.search(question) is not None


def _computed_by_a_step(analysis: Analysis, readings: set[Fraction]) -> bool:
    """Whether some step states one of these values as a result."""
    return any(readings.intersection(q.results) for q in step_quantities(analysis))


_WHICH = re.compile(r"\bwhich\s+(?:one\s+)?of\b", re.I)


def _an_option_a_step_names(analysis: Analysis, answer: Fraction) -> bool:
    """ "Which of the following is divisible by 12: 3472, 5184, 7326?": the answer is one of the
    question's numbers, and a step that weighs it names it."""
    question = analysis.chain.question or ""
    if "hich" not in question or _WHICH.search(question) is None:
        return False
    return answer in numbers_in(question) and any(
        answer in q.numbers for q in step_quantities(analysis)
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
    version = "1.5"

    def check(self, analysis: Analysis) -> None:
        """Compare the stated answer with what the steps derive, like with like."""
        answer = parse_answer(analysis.answer)
        if answer is None or not analysis.steps:
            return
        final, accepted = _derived(analysis)
        if analysis.scratch.get("answer_is_last_step"):
            if final is not None:
                analysis.derived_answer = show(final)  # no separate answer: nothing to compare
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
        if value in _percents(analysis.steps[-1].text, scale=100):
            readings.add(value * 100)  # "0.9332" for "So about **93.32%** score below 115."
        question = analysis.chain.question
        if (
            readings & accepted
            or any(_same_in_other_unit(v, accepted, question) for v in readings)
            or any(_rounded_to_its_places(v, accepted) for v in readings)
            or _its_last_digits(value, accepted, question)
            or _an_option_a_step_names(analysis, value)
            or (_asks_several(question) and _computed_by_a_step(analysis, readings))
        ):
            analysis.derived_answer = show(value)
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
                    _not_derived_message(analysis, readings, final),
                    evidence={"answer": analysis.answer, "derived": show(final)},
                )
            )
        self._check_reference(analysis, value)

    def _compare_shape(self, analysis: Analysis, answer: Answer, accepted: set[Fraction]) -> None:
        """An answer of another shape: linked when the steps state each of its values."""
        stated = _stated_values(analysis)
        if answer.values and all(_among(v, accepted, stated) for v in answer.values):
            analysis.derived_answer = analysis.answer
            analysis.held += 1
            return
        analysis.add(
            Finding(
                NAME,
                "linkage.not_compared",
                "info",
                f"the answer is {_SHAPES.get(answer.shape, answer.shape)}: the values the "
                "steps state could not be matched with it, so it is not judged",
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
