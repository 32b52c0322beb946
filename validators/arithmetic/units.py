"""Units in arithmetic claims: when a side's change of unit makes a claim no plain computation.

A result in another unit than its expression's ("4 pounds - 6 ounces = 58 ounces"), counts of
different things given in one of them ("8 overs + 3 balls = 51 balls"), a unit's worth put
in for it, terms restated in another unit: the extractor leaves these unchecked.
"""

from __future__ import annotations

import re
from fractions import Fraction

from validators.arithmetic.exact import Tok

# Units whose change across `=` means a conversion ("4 pounds - 6 ounces = 58 ounces").
_KNOWN_UNITS = {
    "second": "s",
    "minute": "min",
    "hour": "h",
    "day": "d",
    "week": "wk",
    "month": "mo",
    "year": "yr",
    "inch": "in",
    "inche": "in",
    "foot": "ft",
    "feet": "ft",
    "yard": "yd",
    "mile": "mi",
    "meter": "m",
    "centimeter": "cm",
    "kilometer": "km",
    "millimeter": "mm",
    # metric lengths' symbols, as a result's unit ("2 × 10⁻³ mm = 2 × 10⁻⁶ m", "2 × 50 cm = 1 m")
    "m": "m",
    "cm": "cm",
    "mm": "mm",
    "km": "km",
    "nm": "nm",
    "ounce": "oz",
    "pound": "lb",
    "gram": "g",
    "kilogram": "kg",
    "ton": "t",
    "cup": "cup",
    "tablespoon": "tbsp",
    "tbsp": "tbsp",
    "teaspoon": "tsp",
    "tsp": "tsp",
    "oz": "oz",
    "lb": "lb",
    "quart": "qt",
    "gallon": "gal",
    "pint": "pt",
    "liter": "l",
    "litre": "l",
    "milliliter": "ml",
    "millilitre": "ml",
    "ml": "ml",
    "cent": "c",
    "dollar": "$",
    "bit": "bit",
    "byte": "byte",
    "ft": "ft",  # (and "in", but only beside feet: see converts_units)
}
_WORDS = re.compile(r"[A-Za-z]+")
_UNIT_WORDS = re.compile(r"(?<![/A-Za-z])[A-Za-z]+")
# (the unit of an area or volume is its length's: "= 0.25 sq ft")
_FIRST_WORD = re.compile(
    r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]*\s*%?\s*(?:(?:sq|square|cu|cubic)\.?\s+(?=[a-z]))?([A-Za-z]+)"
)

_INCHES = re.compile(r"\d\s?in\b")  # "8 in": "in" is a unit only right after a number


_DATA_UNITS = {
    **{f"{p}{b}": f"{p}{b}" for p in ("k", "K", "M", "G", "T", "P") for b in ("b", "B")},
    **{f"{p}iB": f"{p}iB" for p in ("K", "M", "G", "T", "P")},
    **{
        f"{p}{u}": f"{p}{u}"
        for p in ("", "k", "M", "G", "m", "µ", "n")
        for u in ("J", "W", "Wh", "N", "Pa", "Hz", "V", "eV")
    },
}

_CASED_UNITS = frozenset(u.lower() for u in _DATA_UNITS)


def unit_in_any_case(word: str) -> str | None:
    """unit_of, with data and SI units known in lower case too (a claim's `unit_after`: `kib`)."""
    return unit_of(word) or (word.lower() if word.lower() in _CASED_UNITS else None)


def unit_of(word: str) -> str | None:
    """The known unit a word names ("minutes" -> "min", "MB"), or None."""
    if word in _DATA_UNITS:
        return _DATA_UNITS[word]
    w = word.lower()
    return (
        _KNOWN_UNITS.get(w) or _KNOWN_UNITS.get(w[:-1]) if w.endswith("s") else _KNOWN_UNITS.get(w)
    )


# Rates by their abbreviations: what they count, per what
_RATES = {
    "mph": ("mi", "h"),
    "kph": ("km", "h"),
    **{f"{p}bps": (f"{p}b", "s") for p in ("k", "K", "M", "G", "T")},
}


def _over_its_rate(text: str, ltoks: list[Tok], target: str | None) -> bool:
    """An amount divided by its rate, in the rate's unit of time: "16,000 Mb ÷ 50 Mbps = 320
    seconds", "120 miles ÷ 60 mph = 2 hours" (no change of unit)."""
    if target is None or len(ltoks) != 3 or ltoks[1].text != "/":
        return False
    amount = _FIRST_WORD.match(text, ltoks[0].start + len(ltoks[0].text))
    per = _FIRST_WORD.match(text, ltoks[2].start + len(ltoks[2].text))
    rate = _RATES.get(per.group(1)) if per else None
    return rate is not None and amount is not None and (unit_of(amount.group(1)), target) == rate


def converts_units(text: str, ltoks: list[Tok], rtoks: list[Tok], unit: str) -> bool:
    """True when the result (followed by the word `unit`) is in a known unit other than one named
    in the expression."""
    span = text[ltoks[0].start : rtoks[0].start]
    target = unit_of(unit)
    if unit in _CASED_UNITS:  # read as written: `Mb` is not `MB`, `mW` not `MW`
        after = _FIRST_WORD.match(text, rtoks[-1].start + len(rtoks[-1].text))
        target = unit_of(after.group(1)) if after else None
    if unit == "in" and "f" in span:
        target = "in"  # "3 × 2 ft = 72 in" (not "= $1440 in a week")
    if target is None:
        # "12 × 50 cents = $6", "$1.00 + 30¢ = $1.30": cents become dollars; "4 quarters + 3
        # dimes = $1.30", "2 quarters + 1 dime = 60¢": coins become money
        end = rtoks[-1].start + len(rtoks[-1].text)
        dollars = text[: rtoks[0].start].rstrip(" ")[-1:] == "$"
        coins = _COINS.search(span) is not None and all(
            t.text in "+-" for t in ltoks if t.kind == "op"
        )  # (coins counted and added: "80 quarters / 4 = $20" works the change out)
        return (dollars and ("cent" in span or "¢" in span or coins)) or (
            text[end : end + 1] == "¢" and coins
        )
    if _over_its_rate(text, ltoks, target):
        return False
    units = {u for w in _WORDS.findall(span) if (u := unit_of(w))}
    if "in" in span and _INCHES.search(span):
        units.add("in")  # "3 × 8 in = 2 ft", "6 ft * 12 in/ft + 3 = 75 inches"
    if not units - {target}:
        return False
    # "2 hours * 60 minutes/hour" converts in the open; "4 pounds - 6 ounces" does not.
    if all(t.text in "+-" for t in ltoks if t.kind == "op"):
        # (a rate's unit after a slash is no unit of what is added: "2400 ml/hour - 200
        # ml/hour = 2200 ml/hour")
        return bool({u for w in _UNIT_WORDS.findall(span) if (u := unit_of(w))} - {target})
    return target not in units


def mixed_counts(text: str, ltoks: list[Tok], unit: str) -> bool:
    """A sum of counts of different things, each named, given in one of them: "8 overs + 3
    balls = 51 balls", "2 dozen + 5 eggs = 29 eggs" (the unit is the text's own)."""
    if not unit.isalpha() or any(t.text not in "+-" for t in ltoks if t.kind == "op"):
        return False
    named = {word_after(text, t).rstrip("s") for t in ltoks if t.kind == "num"}
    return len(named) > 1 and "" not in named and unit.rstrip("s") in named


_COINS = re.compile(r"\d\s*(?:quarters?|dimes?|nickels?|pennies|penny)\b", re.I)
_LETTERS = re.compile(r"[A-Za-z]+")
# The factors between common units (hours and minutes, feet and inches, dollars and cents, ...)
_FACTORS = frozenset(
    Fraction(k)
    for k in (2, 3, 4, 7, 8, 10, 12, 16, 24, 36, 52, 60, 100, 365, 1000, 1760, 3600, 5280)
)


def given_in_another_unit(
    text: str, first: tuple[list[Tok], Fraction], value: Fraction, unit: str
) -> bool:
    """A chain that opens with a quantity in one unit, computes that value again, and gives it
    in another unit word ("46 balls = 7 × 6 + 4 = 7.4 overs": a change of unit, not a sum)."""
    toks, given = first
    before = word_after(text, toks[-1])
    return (
        len(toks) == 1
        and given == value
        and before.isalpha()
        and unit.isalpha()
        and before.rstrip("s") != unit.rstrip("s")
    )


def a_fraction_of_a_unit(text: str, ltoks: list[Tok], lval: Fraction, rval: Fraction) -> bool:
    """`1/12 hour = 60 ÷ 12`: a fraction with a unit after it, worked out in another unit by
    the factor between them."""
    if len(ltoks) != 3 or ltoks[1].text != "/" or not lval or not rval:
        return False
    if unit_of(word_after(text, ltoks[-1])) is None:
        return False
    ratio = rval / lval
    return ratio in _FACTORS or 1 / ratio in _FACTORS


def scaled_copy(ltoks: list[Tok], rtoks: list[Tok]) -> bool:
    """The right side is the left one times a factor between units (`2 / 3 * 60`, `(2 / 3) *
    16`)."""
    n = len(ltoks)
    if len(rtoks) == n + 4 and rtoks[0].text == "(" and rtoks[n + 1].text == ")":
        rtoks = rtoks[1 : n + 1] + rtoks[n + 2 :]  # the copy in brackets
    return (
        len(rtoks) == n + 2
        and rtoks[n].text == "*"
        and rtoks[n + 1].value in _FACTORS
        and [t.text for t in rtoks[:n]] == [t.text for t in ltoks]
    )


def unit_between(text: str, ltoks: list[Tok], rtoks: list[Tok], unit: str) -> bool:
    """A unit word between the two sides other than the right side's ("J ≈ 2.48 eV")."""
    word = _LETTERS.search(text, ltoks[-1].start, rtoks[0].start)
    return word is not None and word.group().lower() != unit


def a_unit_replaced(text: str, ltoks: list[Tok], rtoks: list[Tok]) -> bool:
    """A ratio on the left with a 1 and a unit word after it as one of its terms, and no 1 on
    the right: the right side writes what the unit is worth ("1 Mpc / 70 km/s = 3.086 ×
    10^19 km / 70 km/s", "1 ly / 1 AU = (9.461 × 10^12) / (1.496 × 10^8)")."""
    if any(t.kind == "num" and t.value == 1 for t in rtoks):
        return False
    ops = [t for t in ltoks if t.kind not in ("(", ")")]  # "(1 Mpc)/(70 km/s)" too
    for i, t in enumerate(ops):
        beside = {ops[k].text for k in (i - 1, i + 1) if 0 <= k < len(ops)}
        if t.kind == "num" and t.value == 1 and "/" in beside and word_after(text, t).isalpha():
            return True
    return False


def restated_term_by_term(text: str, ltoks: list[Tok], rtoks: list[Tok]) -> bool:
    """The right side repeats the left's operators and some of its numbers, and replaces the
    others, each a number with a unit word after it, by a multiple or a part of it as a change
    of unit gives ("2 buckets + 3 gallons = 10 + 3"; not "5 apples + 3 pears = 5 + 4")."""
    if len(ltoks) != len(rtoks) or len(ltoks) < 3:
        return False
    replaced = kept = 0
    for a, b in zip(ltoks, rtoks, strict=True):
        if a.kind != b.kind or a.kind not in ("num", "op") or (a.kind == "op" and a.text != b.text):
            return False
        if a.kind == "num" and a.value == b.value:
            kept += 1
        elif a.kind == "num":
            if not (word_after(text, a).isalpha() and a.value and b.value):
                return False
            ratio = b.value / a.value
            if not (ratio > 1 and ratio.denominator == 1 or ratio < 1 and ratio.numerator == 1):
                return False
            replaced += 1
    return kept > 0 and replaced > 0


def word_after(text: str, tok: Tok) -> str:
    """The word right after a token, lower case ("" when none): a unit, if any."""
    m = _FIRST_WORD.match(text, tok.start + len(tok.text))
    return m.group(1).lower() if m else ""
