"""Reading quantities out of prose: numerals, number words, and answers."""

from __future__ import annotations

import re
from fractions import Fraction

from validators.arithmetic.extract import numbers_in
from validators.text.answers import parse_answer

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "thousand": 1000,
    "million": 1_000_000,
    "dozen": 12,
    "score": 20,
}
# Words that imply a number without writing it: "half as many" uses 2, "triple" uses 3.
_IMPLIED = {
    "half": (2,),
    "halves": (2,),
    "twice": (2,),
    "double": (2,),
    "doubled": (2,),
    "pair": (2,),
    "couple": (2,),
    "triple": (3,),
    "tripled": (3,),
    "thrice": (3,),
    "third": (3,),
    "thirds": (3,),
    "quarter": (4,),
    "quarters": (4,),
    "fourth": (4,),
    "fifth": (5,),
    "fifths": (5,),
    "sixth": (6,),
    "seventh": (7,),
    "eighth": (8,),
    "ninth": (9,),
    "tenth": (10,),
    "week": (7,),
    "weeks": (7, 14),
    "fortnight": (14,),
    "hundredth": (100,),
    "percent": (100,),
    "dozens": (12,),
    "quadruple": (4,),
    "weekly": (7,),
    "monthly": (12, 30),
    "hourly": (60,),
    "yearly": (12, 365),
}
_NUMBER_WORDS = _UNITS.keys() | _IMPLIED.keys()
_WORD = re.compile(r"[a-z]+")
_FRACTION_LATEX = re.compile(r"\\d?frac\{(-?\d+)\}\{(\d+)\}")


def word_numbers(text: str) -> set[Fraction]:
    """Numbers a text states in words ("three", "a dozen", "twenty-five", "half")."""
    out: set[Fraction] = set()
    words = _WORD.findall(text.lower())
    for i in [i for i, w in enumerate(words) if w in _NUMBER_WORDS]:  # most words are not
        w = words[i]
        if w in _UNITS:
            v = _UNITS[w]
            out.add(Fraction(v))
            if 20 <= v <= 90 and i + 1 < len(words) and words[i + 1] in _UNITS:
                nxt = _UNITS[words[i + 1]]
                if nxt < 10:
                    out.add(Fraction(v + nxt))  # "twenty five" / "twenty-five"
            if v in (100, 1000, 12) and i > 0 and words[i - 1] in _UNITS:
                out.add(Fraction(_UNITS[words[i - 1]] * v))  # "three hundred", "two dozen"
        if w in _IMPLIED:
            out.update(Fraction(v) for v in _IMPLIED[w])
    return out


def answer_value(answer: str | None) -> Fraction | None:
    """The number an answer states ("$1,200", "72 clips", "\\frac{1}{2}", "x = 4"), or None.

    An answer of another shape (an interval, several values, a radical) has no one rational
    value; a sentence gives its last number.
    """
    parsed = parse_answer(answer)
    if parsed is None:
        return None
    if parsed.shape != "text":
        return parsed.rational
    return _last_number(answer or "")


def _last_number(answer: str) -> Fraction | None:
    m = _FRACTION_LATEX.search(answer)
    if m:
        return Fraction(int(m.group(1)), int(m.group(2)))
    text = answer.replace("−", "-")
    nums = numbers_in(text)
    if not nums:
        return None
    # The last number is the value in "x = 4"; a leading minus sign belongs to it.
    value = nums[-1]
    stripped = text.strip()
    if re.search(r"(^|[=\s$])-\s*\$?\d[\d,.]*\s*$", stripped) or stripped.startswith("-"):
        value = -abs(value)
    return value
