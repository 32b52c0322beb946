"""Final answers of every MATH shape, read into exact values by the safe parser (no sympify).

Shapes: `number` (integer, decimal, fraction, radical, π: one exact value), `numbers`
(several answers, `8, -112`), `tuple` (`(1, 2)`: a point or an open interval), `interval`
(`[a, b)`, unions), `set` (`\\{1, 2\\}`), `matrix` (vectors and matrices), `expression`
(in variables) and `text` (anything else). Units, `\\text{}`, degrees, percent and a leading
`x =` are set aside; the percent flag is kept so 20 % can match a derived 0.2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

import sympy

from validators.arithmetic.exact import decimal_ratio
from validators.text.mathparse import BoundError, ParseError, parse_expression, rational
from validators.text.mathtokens import brace_end
from validators.text.segment import ANSWER_LABEL

MAX_ANSWER_CHARS = 500
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_DELIMITERS = re.compile(r"^\s*(?:\$\$?|\\\(|\\\[)|(?:\$\$?|\\\)|\\\])\s*$")
# (with the power a unit may carry: `2 \text{ m/s}^2` is 2, not 2²)
_TEXT_GROUP = re.compile(
    r"\\(?:text|textbf|mbox|mathrm|textrm)\s*\{[^{}]*\}(?:\s*\^\s*(?:\{[^{}]*\}|\d))?"
)
_UPRIGHT_CONSTANT = re.compile(r"\\mathrm\s*\{([ie])\}")  # `3 + 4\mathrm{i}`: the letter i
# "$9.36 / $11.23 / $12.48": amounts listed with slashes, not divided
_AMOUNT_LIST = re.compile(r"\s+/\s+(?=\\?\$)")
_SPACING = re.compile(
    r"(?<!\\)\\[,;:! ]|\\q?quad(?![A-Za-z])|\\(?:left|right|big|Big|displaystyle)(?![A-Za-z])"
)
_DEGREES = re.compile(r"\^\s*\{?\\circ\}?|°|\\degree\b")
_PERCENT = re.compile(r"\\?%\s*$")
_ASSIGNED = re.compile(r"^\s*[A-Za-z](?:_\{?\w+\}?)?\s*=(?!=)\s*")
_CURRENCY = re.compile(r"(?:\\?\$|[€£¥₹]|\bRs\.?|\bINR)\s*(?=[\d.])")
_INDIAN_GROUPS = re.compile(r"(?<![\d,])\d{1,2}(?:,\d\d){1,6},\d{3}(?![\d,])")  # `1,25,000`
_TRAILING_WORDS = re.compile(r"(?<=[\d}).])(?:\s+[A-Za-z][A-Za-z'’-]*\.?)+\s*$")
_MATRIX = re.compile(r"\\begin\{([pbvB]?matrix)\}(.*?)\\end\{\1\}", re.S)
_THOUSANDS = re.compile(r"(?<=\d)(?:,|\{,\})(?=\d{3}(?!\d))")  # `1,000`, LaTeX's `1{,}000`
_UNION = re.compile(r"\\cup|∪")
_LABEL = re.compile(rf"^\s*(?:#+\s*)?{ANSWER_LABEL}", re.I)  # "**Answer:** 42", "Réponse : 42"
# "9.6 × 10² (960)", "7 (7.0)": the same value restated in parentheses after the answer
_RESTATED = re.compile(
    r"(?<=[\w}%.])\s+\(\s*(?:≈|=|about|approx\.?)?\s*\\?\$?-?\d[\d,]*(?:\.\d+)?\s*%?\s*\)\s*$"
)
_APPROXIMATELY = re.compile(r"^\s*(?:≈|=|about|approx\.?)\s*")
# A unit after the answer's number, compound or with a power: "29.28 m/s", "5000 m²", "86 mL/h"
_UNIT = (
    r"(?:(?:k|c|m|µ|mc)?(?:m|g|L|l|J|W|Wh|V|A|Ah|Hz|Pa)|s|N|h|hr|min|ft|in|yd|mi|mph|lbs?|oz|gal)"
)
_POWER = r"(?:[²³]|\^\s*\{?[23]\}?)?"
_UNIT_AFTER = re.compile(rf"(?<=[\d}})π])\s+{_UNIT}{_POWER}(?:\s*[/·]\s*{_UNIT}{_POWER})*\s*$")
_SIZE = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(?:×|x|\\times)\s*(\d[\d,]*(?:\.\d+)?)")
_PLAIN_NUMBER = re.compile(
    r"\s*(-)?\s*((?:\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d\d){1,6},\d{3}|\d+)(?:\.\d+)?)\s*$"
)  # (`1,76,400`: Indian grouping)


@dataclass(frozen=True)
class Answer:
    """An answer's shape and its exact values (in order)."""

    shape: str
    values: tuple[sympy.Expr, ...] = ()
    percent: bool = False
    # a compound unit or "about" came off ("29.28 m/s", "≈ 3.36 MB"): the value may be in
    # another unit or rounding than the steps', so it is linked when it matches, never refuted
    loose: bool = False
    # the two sides of a size, "4000 × 3000" or "10 × 6.67 inches": a pair as often as a
    # product, so either reading links it
    factors: tuple[sympy.Expr, ...] = ()

    @property
    def rational(self) -> Fraction | None:
        """The value as a Fraction when the answer is one rational number (or its first part)."""
        return rational(self.values[0]) if self.shape in ("number", "parts") else None


def boxed(text: str) -> str | None:
    """The content of the last `\\boxed{...}` (nested braces kept), or None."""
    found = None
    for m in _BOXED.finditer(text):
        close = brace_end(text, m.end() - 1, len(text))
        if close is not None:
            found = text[m.end() : close - 1]
    return found


def _clean(text: str) -> tuple[str, bool, bool]:
    """The answer's math with delimiters, units, degrees and `x =` set aside; whether it is
    in percent; whether a compound unit or "about" was set aside."""
    inner = boxed(text)
    text = (inner if inner is not None else text).strip().rstrip(".").strip()
    text = _LABEL.sub("", text, count=1).strip("*_ ")
    text = _RESTATED.sub("", text)
    about = _APPROXIMATELY.match(text)  # "≈ 35.0 m": a rounded value
    if about is not None:
        text = text[about.end() :]
    text = _DELIMITERS.sub("", text).strip()
    if "mathrm" in text:
        text = _UPRIGHT_CONSTANT.sub(r"\1", text)
    text = _TEXT_GROUP.sub(" ", text)
    if "," in text:
        text = _INDIAN_GROUPS.sub(lambda m: m.group().replace(",", ""), text)
    text = _SPACING.sub(" ", text)
    text = _DEGREES.sub("", text)
    unit = _UNIT_AFTER.search(text)
    if unit is not None:
        text = text[: unit.start()]
    percent = bool(_PERCENT.search(text.strip()))
    text = _PERCENT.sub("", text.strip())
    text = _CURRENCY.sub("", _AMOUNT_LIST.sub(", ", text))
    text = _TRAILING_WORDS.sub("", text).strip().rstrip(".").strip()
    if text.count("=") == 1:
        text = _ASSIGNED.sub("", text)
    # (a plain unit, "17.32 m", comes off as a trailing word would: judged as before)
    compound = unit is not None and any(c in unit.group() for c in "/·²³^")
    return text.strip(), percent, compound or (about is not None and "=" not in about.group())


def _top_level_split(text: str, sep: str = ",") -> list[str]:
    """text split at separators outside brackets and braces."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _value(text: str) -> sympy.Expr | None:
    """One exact value (None when it does not parse or is not a number)."""
    try:
        value = parse_expression(_THOUSANDS.sub("", text), latex=True)
    except (ParseError, BoundError, RecursionError, ValueError, TypeError, ZeroDivisionError):
        return None
    return value


def _values(parts: list[str]) -> tuple[sympy.Expr, ...] | None:
    values = tuple(_value(p) for p in parts)
    if any(v is None for v in values):
        return None
    return values  # type: ignore[return-value]


_AMOUNT = r"^\s*(?:\\?\$|[€£¥₹])?\s*(\d[\d,]*(?:\.\d+)?)\s*"
# The scale words, which a number before them multiplies ("€3.078 billion", "₹3 lakh")
SCALE_WORDS = {
    "thousand": 10**3,
    "lakh": 10**5,
    "million": 10**6,
    "crore": 10**7,
    "billion": 10**9,
    "trillion": 10**12,
}
_SCALED_WORD = re.compile(_AMOUNT + rf"({'|'.join(SCALE_WORDS)})s?\.?\s*$", re.I)
_SCALED_LETTER = re.compile(r"^\s*(?:\\?\$|[€£¥₹])\s*(\d[\d,]*(?:\.\d+)?)(K|M|B|bn)\.?\s*$")
_SCALES = {**SCALE_WORDS, "k": 10**3, "m": 10**6, "b": 10**9, "bn": 10**9}


def _scaled(raw: str) -> tuple[str, int] | None:
    """The number an answer writes before a scale word or suffix, and the scale."""
    m = _SCALED_WORD.match(raw) or _SCALED_LETTER.match(raw)
    return (m.group(1), _SCALES[m.group(2).lower()]) if m else None


def answer_scale(raw: str) -> int | None:
    """The scale an answer states in words or a suffix ("$4.374 billion": 10**9), if any."""
    scaled = _scaled(raw)
    return scaled[1] if scaled else None


def _another_value(raw: str, cut: int) -> tuple[sympy.Expr, sympy.Expr] | None:
    """The answer before a number in parentheses and that number, when the two differ by more
    than a rounding would ("2 TB (50%)"; not "7 (7.0)" nor "$1,234.57 (≈ $1,235)")."""
    inner = _APPROXIMATELY.sub("", raw[cut:].strip().strip("()"))
    first, second = parse_answer(raw[:cut]), parse_answer(inner)
    if first is None or second is None or first.shape != "number" or second.shape != "number":
        return None
    a, b = (v / 100 if answer.percent else v for answer in (first, second) for v in answer.values)
    if abs(a - b) <= abs(a) / 100:
        return None
    return a, b


def parse_answer(raw: str | None) -> Answer | None:
    """The shape and exact values of a stated answer; None when there is no answer."""
    if raw is None or not raw.strip():
        return None
    if len(raw) > MAX_ANSWER_CHARS:
        return Answer("text")
    plain = _PLAIN_NUMBER.match(raw)
    if plain:  # "72", "-3.5", "1,200": most answers, read without the parser
        value = sympy.Rational(*decimal_ratio(plain.group(2)))
        return Answer("number", (-value if plain.group(1) else value,))
    scaled = _scaled(raw)
    if scaled:  # "€3.078 billion", "$2.95M"
        number, scale = scaled
        return Answer("number", (sympy.Rational(*decimal_ratio(number.replace(",", ""))) * scale,))
    restated = _RESTATED.search(raw)
    if restated is not None and (pair := _another_value(raw, restated.start())) is not None:
        return Answer("parts", pair)  # "2 TB (50%)": two parts, not one restated
    text, percent, loose = _clean(raw)
    if not text:
        return Answer("text")
    matrix = _MATRIX.search(text)
    if matrix:
        cells = [c for row in matrix.group(2).split("\\\\") for c in row.split("&") if c.strip()]
        values = _values([c.strip() for c in cells])
        return Answer("matrix", values or ())
    if _UNION.search(text):
        return Answer("interval")
    opened, closed = text[:1], text[-1:]
    if text.startswith("\\{") and text.endswith("\\}"):
        return Answer("set", _values(_top_level_split(text[2:-2])) or ())
    body = _top_level_split(text[1:-1]) if opened in "([" and closed in ")]" else None
    if body is not None and len(body) > 1:
        shape = "tuple" if (opened, closed) == ("(", ")") else "interval"
        return Answer(shape, _values(body) or ())
    parts = _top_level_split(_THOUSANDS.sub("", text))
    if len(parts) > 1:
        values = _values(parts)
        return Answer("numbers", values) if values else Answer("text")
    value = _value(text)
    if value is None:
        return Answer("text")
    if value.free_symbols:
        return Answer("expression", (value,))
    size = _SIZE.fullmatch(text)
    factors = (
        tuple(sympy.Rational(*decimal_ratio(g.replace(",", ""))) for g in size.groups())
        if size
        else ()
    )
    return Answer("number", (value,), percent, loose, factors)
