"""The European reading of a prose computation: `.` groups thousands and `,` is the decimal point.

`1.250 + 750 = 2.000` and `5 / 2 = 2,5` are right in German, Spanish or French, and wrong read
the English way. A claim whose literals can be read both ways is refuted only when both
readings refute it (an error only when certain).
"""

from __future__ import annotations

import re
from fractions import Fraction

from validators.arithmetic.exact import Tok, Unevaluable, evaluate

# `1.250`, `14.250,75`, `2,5`, `0,065`: literals a European writer means otherwise
_DOT_GROUPS = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_DECIMAL_COMMA = re.compile(r"\d+,\d+")
_PLAIN = re.compile(r"\d+")
# `= 2,5`, `= 13,2.`: the lexer ends the claimed number at a comma that groups no thousands
_COMMA_DIGITS = re.compile(r",(\d+)(?![\d,]|\.\d)")


def _value(text: str) -> Fraction | None:
    """A literal's value read the European way; None when it cannot be written so."""
    if _DOT_GROUPS.fullmatch(text) or _DECIMAL_COMMA.fullmatch(text):
        whole, _, frac = text.replace(".", "").partition(",")
        return Fraction(int(whole + frac), 10 ** len(frac))
    if _PLAIN.fullmatch(text):
        return Fraction(int(text))
    return None  # `2.5`: a decimal point, so this writer is not European


def _separated(toks: list[Tok]) -> bool:
    """Whether a number among toks is written with a `.` or `,`."""
    return any(t.kind == "num" and ("." in t.text or "," in t.text) for t in toks)


def european(
    ltoks: list[Tok], rtoks: list[Tok], text: str
) -> tuple[Fraction, Fraction, str] | None:
    """(computed, claimed, the claimed literal with a decimal point) read the European way,
    when that reading differs from the English one; else None."""
    last = rtoks[-1]
    end = last.start + len(last.text)
    tail = (
        _COMMA_DIGITS.match(text, end)
        if last.kind == "num" and text[end : end + 1] == ","
        else None
    )
    if tail is None and not _separated(ltoks) and not _separated(rtoks):
        return None  # the usual claim: nothing to read another way (a cheap look, done first)
    texts = [t.text for t in ltoks + rtoks if t.kind == "num"]
    if tail is not None:
        texts[-1] += "," + tail.group(1)
    values = [_value(t) for t in texts]
    if any(v is None for v in values):
        return None
    english = [t.value for t in ltoks + rtoks if t.kind == "num"]
    if values == english:
        return None
    it = iter(values)
    read = [t._replace(value=next(it)) if t.kind == "num" else t for t in ltoks + rtoks]
    claimed_text = texts[-1].replace(".", "").replace(",", ".") if len(rtoks) == 1 else ""
    try:
        return evaluate(read[: len(ltoks)]), evaluate(read[len(ltoks) :]), claimed_text
    except Unevaluable:
        return None
