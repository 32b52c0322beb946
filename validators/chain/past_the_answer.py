"""Steps past the answer that do not go on from it.

Linkage flags an answer that an earlier step computes when the steps go on to another
result ("the answer 24 is what step 1 computes, but the steps go on to 48"). These are the
ways a chain goes past its answer without going on from it, each read only when the answer
is none of the usual conclusions: a part of a question of several parts read off or set in
bold, a step that names the answer with the question's own verb, steps that end on another
thing the question counts, a remark that divides the answer by a number, an alternative the
chain weighs and does not take, the answer's fractional part turned into seconds, steps
that compute another quantity with other numbers only, and a step that names the answer with
the question's word before steps that name others.
"""

from __future__ import annotations

import os
import re
from fractions import Fraction

from validators.arithmetic.extract import Claim, StepQuantities, numbers_in
from validators.arithmetic.units import unit_in_any_case
from validators.arithmetic.validator import step_quantities
from validators.chain.conclusions import emphasised
from validators.types import Analysis


def computed_by_a_step(analysis: Analysis, readings: set[Fraction]) -> bool:
    """Whether some step states one of these values as a result."""
    return any(readings.intersection(q.results) for q in step_quantities(analysis))


def stated_alone(analysis: Analysis, readings: set[Fraction]) -> bool:
    """Whether a step line states one of these values as its only number, or sets it in bold,
    a value the question does not give ("**Q:** Largest factor in both lists? **A:** 12.",
    "so .075 is **75 points**"): a part read off, not computed, in a question of several
    parts."""
    given = set(numbers_in(analysis.chain.question or ""))
    for step in analysis.steps:
        if readings.intersection(emphasised(step.text)) - given:
            return True
        for line in step.text.splitlines():
            numbers = numbers_in(line)
            if len(numbers) == 1 and numbers[0] in readings and numbers[0] not in given:
                return True
    return False


# "How much does he save each week?", "How many cookies did she bake?": the question's verb
_QUESTION_VERB = re.compile(
    r"\b(?i:how\s+(?:much|many))\b[^?.]{0,40}?\b(?:does|did|do|will|would|can|could|should)\s+"
    r"(he|she|they|it|we|you|i|the\s+\w+|[A-Z]\w*)\s+(?:\w+ly\s+)?([a-z]{3,})\b",
)
# the past and third-person forms a closing sentence writes that adding -s or -ed does not give
_IRREGULAR = {
    "have": ("has", "had"),
    "spend": ("spent",),
    "make": ("made",),
    "pay": ("paid",),
    "buy": ("bought",),
    "sell": ("sold",),
    "get": ("got",),
    "eat": ("ate",),
    "take": ("took",),
}


_OPERAND = r"[$£€₹]?\s?\d[\d,]*(?:\.\d+)?"


def named_with_the_questions_verb(analysis: Analysis, readings: set[Fraction]) -> bool:
    """A step that states the value after the verb the question asks with ("How much does he
    save?" … "So Ben saves $18 and spends $48 − $18 = $30."), the last one or one that no later
    step takes a number from ("She pays $62.80 − $30 = $32.80." "She has 3,450 − 3,000 = 450
    points left."): it answers the question, and the side computation does not go on from it."""
    m = _QUESTION_VERB.search(analysis.chain.question or "")
    if m is None:
        return False
    subject, verb = m.groups()
    forms = "|".join((verb + "(?:s|es|d|ed)?", *_IRREGULAR.get(verb, ())))
    # a named subject names the value too ("how many did Marcel buy?": not "Dale bought 8")
    who = re.escape(subject) + r"\s+" if subject[0].isupper() else r"\b"
    named = re.compile(
        rf"{who}(?:{forms})\s+(?:only\s+|about\s+|exactly\s+|a\s+total\s+of\s+)?"
        # or the result of a computation written there ("She pays $62.80 − $30 = $32.80.")
        rf"(?:{_OPERAND}(?:\s*[-+−×x*/÷]\s*{_OPERAND})+\s*=\s*)?"
        # the value ends the clause, after one unit word at most ("saves $18 and spends …";
        # in "He eats 48 pieces because 32 + 16 = 48" the clause goes on to its reason)
        r"[$£€₹]?\s?(\d[\d,]*(?:\.\d+)?)(?:\s+[a-z]+)?(?=[,;]|\.(?:\s|$)|\s+and\b|\s*$)"
    )
    for step in reversed(analysis.steps):
        if any(Fraction(n.replace(",", "")) in readings for n in named.findall(step.text)):
            return True
        if readings.intersection(numbers_in(step.text)):
            return False  # a later step takes the value up again: it went on from it
    return False


_ASKED_COUNT = re.compile(r"\bhow\s+many\s+([a-z]+)", re.I)


def the_asked_count(analysis: Analysis, readings: set[Fraction]) -> bool:
    """Steps that end on another thing than the question counts, after computing its count:
    "How many cookies will be in each bag?" … "18/6 = 3 cookies." "24/6 = 4 brownies." (Steps
    that go on counting the asked thing, "18 + 12 = 30 cookies", did go on from it.)"""
    m = _ASKED_COUNT.search(analysis.chain.question or "")
    if m is None:
        return False
    noun = m.group(1).lower()
    claims = [c for q in step_quantities(analysis) for c in q.claims]
    last = claims[-1].unit_after.lower() if claims else ""
    # the last thing counted is another thing the question counts ("24 brownies"), not a
    # word such as "less" or "left"
    counted = re.search(rf"\d\s+{re.escape(last)}\b", analysis.chain.question, re.I)
    return (
        last.isalpha()
        and not _same_word(last, noun)
        and counted is not None
        and any(c.claimed in readings and _same_word(c.unit_after.lower(), noun) for c in claims)
    )


def _same_word(a: str, b: str) -> bool:
    """Whether two words may be one noun's forms ("slice", "slices"; "penny", "pennies")."""
    shared = len(os.path.commonprefix([a, b]))
    return shared >= 3 and shared >= min(len(a), len(b)) - 2


# A comparison a remark states, or a question asks for: "2.25 times the cost", "≈ 14.18%"
_COMPARISON = re.compile(
    r"\btimes\b|%|\bpercent|\brate\b|\bratio\b|\bfraction\b|\bper\b|\baverage\b|\bdaily\b",
    re.I,
)
_DIVIDES = re.compile(r"[/÷]|\\frac|\\div")
_PARENTHESISED = re.compile(r"\([^()]*\)")
# A closing step that remarks on the result rather than goes on ("That is …", "Overall …")
_REMARKS = re.compile(
    r"[\W_]*(?:that(?:'s|\s+is|\s+means)|this\s+(?:is|means)|overall|in\s+other\s+words"
    r"|equivalently|i\.e\.|note|(?:on\s+)?average|per\s+(?:day|week|month|person|hour))\b",
    re.I,
)


def a_ratio_remark(analysis: Analysis, readings: set[Fraction]) -> bool:
    """A closing remark that only divides the answer by another number, a ratio or average the
    question does not ask for ("Overall the price is 27 / 12 = 2.25 times the production cost.",
    "That is an effective rate of 8,507.50 / 60,000 ≈ 14.18%", "Average per day: 900 ÷ 7 ≈
    128.6 kcal."): it does not go on from it."""
    last = analysis.steps[-1].text
    claims = step_quantities(analysis)[-1].claims
    # the question's last sentence asks; what it gives in parentheses does not
    asked = re.split(r"(?<=[.!?])\s+", (analysis.chain.question or "").strip())[-1]
    asked = _PARENTHESISED.sub(" ", asked)
    return (
        bool(claims)
        and _REMARKS.match(last) is not None
        and _COMPARISON.search(last) is not None
        and _COMPARISON.search(asked) is None
        and all(c.operands[:1] and c.operands[0] in readings for c in claims)
        and all(_DIVIDES.search(c.expression) for c in claims)
        and computed_by_a_step(analysis, readings)
    )


def _last_computing(qs: list[StepQuantities], readings: set[Fraction]) -> int | None:
    """The last step that states one of the answer's readings as a result, or None."""
    computing = [i for i, q in enumerate(qs) if readings.intersection(q.results)]
    return computing[-1] if computing else None


def not_taken_up(analysis: Analysis, readings: set[Fraction]) -> bool:
    """Steps after the one that computes the answer that compute another quantity, by name or
    in a remark, with other numbers only: a second figure ("COGS = 150 × $53 = $7,950" …
    "Ending inventory = 50 × $53 = $2,650"), a side remark ("36 ÷ 4 = 9 runs per over." "That
    is 36 ÷ 24 = 1.5 runs a ball."). Not steps that go on from the answer (an operand of theirs,
    or any number of a step whose computation was not read, is one of its readings), nor an
    unnamed recomputation that replaces it ("$1200 / 6 = $200 each." "Since Brad is not
    coming, $1200 / 5 = $240 each.")."""
    qs = step_quantities(analysis)
    at = _last_computing(qs, readings)
    if at is None:
        return False
    label = _label(analysis.steps[at].text)
    for step, q in zip(analysis.steps[at + 1 :], qs[at + 1 :], strict=False):
        taken: list[Fraction] = list(q.operands) if not q.unevaluable else list(q.numbers)
        for m in q.math_claims:
            taken += numbers_in(m.expression)
        if readings.intersection(taken):
            return False
        if q.results and not _REMARKS.match(step.text):
            other = _label(step.text)
            if not (label and other and other != label):
                return False
    return True


def named_as_asked(analysis: Analysis, readings: set[Fraction]) -> bool:
    """The step that computes the answer names it with a word of the question's asking sentence,
    and the steps after it name quantities that sentence does not ask for ("What does a £5 bet
    at 23/1 return?" … "Return = £5 × 24 = £120." "Profit = £120 − £5 = £115."): it answers
    the question; the rest goes past it. ("How old is Jayden now?" … "Jayden = 14/2 = 7 in 3
    years." "Now = 7 − 3 = 4": the later step names what is asked.)"""
    qs = step_quantities(analysis)
    at = _last_computing(qs, readings)
    if at is None:
        return False
    # the question's asking sentence (its last), which names what is asked and nothing after
    asking = re.split(r"(?<=[.!?])\s+", (analysis.chain.question or "").strip())[-1]

    def asked(phrase: str) -> bool:
        return re.search(rf"\b{re.escape(phrase)}\b", asking, re.I) is not None

    label = _label(analysis.steps[at].text)
    if len(label) < 3 or not asked(label):
        return False
    others = [
        _label(s.text)
        for s, q in zip(analysis.steps[at + 1 :], qs[at + 1 :], strict=False)
        if q.results
    ]
    # (a word of another label in the asking sentence may name what is asked: "What is the
    # average daily deficit?" … "Deficit: … = 900 kcal." "Average per day: 900 ÷ 7 ≈ 128.6")
    return all(
        other and other != label and not any(asked(w) for w in _words(other)) for other in others
    )


_FILLERS = frozenset(["the", "and", "per", "for", "its", "his", "her", "their", "our", "your"])


def _words(label: str) -> list[str]:
    """A label's words that may name a quantity (three letters or more, no fillers)."""
    return [w for w in re.split(r"[\s-]+", label) if len(w) >= 3 and w not in _FILLERS]


# What a step computes, named before it: "COGS = …", "**Ending inventory:** …", "The center is"
_NAMED = re.compile(
    r"[\W_]*(?:step\s*\d+\W*)?(?:(?:so|then|thus|hence|therefore|and)\s+)?"
    r"([A-Za-z][A-Za-z' -]{0,30}?)\**\s*(?:[:=]|\bis\b(?=\s*[$£€₹(\d]))",
    re.I,
)


def _label(text: str) -> str:
    """The name a step gives what it computes (lower case), or "" when it names none."""
    m = _NAMED.match(text)
    return m.group(1).strip().lower() if m else ""


# "If you keep a 3-inch margin instead, you'd have 6 × 20 = 120 cloves.": another plan, weighed
_ALTERNATIVE = re.compile(r"\binstead\b|^\W*alternatively\b", re.I)
_HYPOTHETICAL = re.compile(r"\b(?:if|would|could)\b|\w'd\b", re.I)


def an_alternative_after(analysis: Analysis, readings: set[Fraction]) -> bool:
    """A closing step that works out an alternative the chain does not take ("If you keep a
    margin at the edges instead, you'd have 6 × 20 = 120 cloves."), after a step computed the
    answer, and without taking the answer up: it does not go on from it."""
    last = analysis.steps[-1].text
    return (
        _ALTERNATIVE.search(last) is not None
        and _HYPOTHETICAL.search(last) is not None
        and not readings.intersection(numbers_in(last))
        and computed_by_a_step(analysis, readings)
    )


# A closing step that says the same thing again ("That is …", "i.e. …")
_RESTATES = re.compile(r"[\W_]*(?:that(?:'s|\s+is)|this\s+is|i\.e\.|in\s+other\s+words)\b", re.I)
_TIMES = ("second", "minute", "hour", "day", "week", "month", "year")
_SHORT_UNITS = ("s", "min", "h", "hr", "ms", "km", "m", "cm", "mm", "g", "kg", "mg", "l", "ml")
_UNITS_OF_MEASURE = frozenset([*_TIMES, *(t + "s" for t in _TIMES), *_SHORT_UNITS])
# The factors between common units (minutes and seconds, days and hours, metres and km, …)
_UNIT_FACTORS = tuple(
    Fraction(k) for k in (7, 12, 24, 60, 100, 365, 1000, 1024, 3600, 10**6, 1024**2, 10**9, 1024**3)
)


def it_rewritten_in_other_units(analysis: Analysis, readings: set[Fraction]) -> bool:
    """Steps after the answer that only write it in other units: its fractional part in
    seconds ("14.4 / 3 = 4.8 min per km." "0.8 × 60 = 48 s."), or, in a closing remark, the
    whole of it ("t = 828 / 3 = 276 s." "That is 276 / 60 = 4.6 minutes."): the same value,
    written another way. (Steps that go on multiplying it by 12 or 60 go on from it.)"""
    qs = step_quantities(analysis)
    at = _last_computing(qs, readings)
    if at is None:
        return False
    parts = {v - (v.numerator // v.denominator) for v in readings if v.denominator != 1}
    rewrites = [sorted([p, Fraction(60)]) for p in parts]
    after = qs[at + 1 :]
    # (a closing line that only restates, "The nodes use 1.6 MB (≈ 1.53 MiB).", computes nothing)
    working = [i for i, q in enumerate(after, at + 1) if q.claims]
    if len(working) == 1 and (
        (
            _RESTATES.match(analysis.steps[working[0]].text)
            and all(c.unit_after in _UNITS_OF_MEASURE for c in qs[working[0]].claims)
        )
        or _in_another_unit(analysis, qs[working[0]].claims, qs[at].claims, readings)
    ):
        rewrites += [sorted([v, k]) for v in readings for k in _UNIT_FACTORS]
    operands = [
        sorted(numbers)
        for q in after
        for numbers in (
            *(c.operands for c in q.claims),
            *(numbers_in(m.expression) for m in q.math_claims),
        )
    ]
    return bool(operands) and all(o in rewrites for o in operands)


_UNIT_AFTER_NUMBER = re.compile(r"\d[\d,.]*\s*([A-Za-z]+)")


def _in_another_unit(
    analysis: Analysis, claims: list[Claim], answering: list[Claim], readings: set[Fraction]
) -> bool:
    """Whether each claim gives its result in a known unit that the answer's is not ("640,000
    bytes" … "640,000 / 1024 = 625 KiB"; not "$50 a week" … "50 × 12 = $600 a year"); the
    answer's unit is the one after it in the step that computes it, or in the answer."""
    given = {unit_in_any_case(c.unit_after) for c in answering if c.claimed in readings}
    if None in given and (m := _UNIT_AFTER_NUMBER.search(analysis.answer or "")):
        given = {unit_in_any_case(m.group(1))}
    return (
        bool(given)
        and None not in given
        and all(unit_in_any_case(c.unit_after) not in (None, *given) for c in claims)
    )
