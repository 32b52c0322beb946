"""Pull checkable arithmetic claims and the quantities a step uses out of its text."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from fractions import Fraction

from validators.exact import MAX_TOKENS, Tok, TooLarge, Unevaluable, evaluate, number_value

_TOKEN = re.compile(
    r"(?P<word>[A-Za-z]+(?:[-'’][A-Za-z]+)*)"
    r"|(?P<skip>[$€£]+|\s+)"
    r"|(?P<time>\d{1,2}:[0-5]\d(?!\d))"
    r"|(?P<lead0>0\d+)"
    r"|(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,]*\d)|\d+(?:\.\d+)?|\.\d+)"
    r"|(?P<pct>%)"
    r"|(?P<op>\*\*|[-+*/×÷^·−–])"
    r"|(?P<eq>≈|~=|≅|=)"
    r"|(?P<lp>\()|(?P<rp>\))"
    r"|(?P<other>.)",
    re.S,
)
_OPS = {"**": "^", "×": "*", "÷": "/", "·": "*", "−": "-", "–": "-"}
_MULT_WORDS = {"x", "X", "times", "multiplied"}
_VERBAL_OPS = {"plus": "+", "minus": "-", "times": "*", "multiplied": "*", "divided": "/"}
_EQ_WORDS = {"is", "are", "equals", "equal", "makes", "gives", "yields", "was", "were"}
_ROUND_WORDS = {"about", "approximately", "roughly", "around", "nearly", "almost", "approx"}
_FRACTION_WORDS = {"half": Fraction(1, 2), "third": Fraction(1, 3), "quarter": Fraction(1, 4)}
# Words that end a unit phrase: "5 apples and 3 ..." is not "5 apples + ...".
_NOT_UNITS = {
    "of",
    "and",
    "or",
    "so",
    "then",
    "but",
    "because",
    "which",
    "that",
    "to",
    "is",
    "are",
    "was",
    "were",
    "the",
    "he",
    "she",
    "they",
    "it",
    "we",
    "you",
    "i",
    "if",
    "for",
    "from",
    "with",
}
_ROUNDING_DECLARED = re.compile(
    r"≈|~|\b(?:about|approximately|approx|roughly|around|nearly|almost|rounded|rounding|round)\b",
    re.I,
)
_HAS_CLAIM = re.compile(r"[=≈]|\b(?:is|are|equals|makes|gives|yields|was|were)\b")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,]*\d)|\d+(?:\.\d+)?|\.\d+")
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
    "ounce": "oz",
    "pound": "lb",
    "gram": "g",
    "kilogram": "kg",
    "ton": "t",
    "cup": "cup",
    "quart": "qt",
    "gallon": "gal",
    "pint": "pt",
    "liter": "l",
    "milliliter": "ml",
    "cent": "c",
    "dollar": "$",
}
_WORDS = re.compile(r"[A-Za-z]+")
_FIRST_WORD = re.compile(r"\s*%?\s*([A-Za-z]+)")
MAX_UNIT_WORDS = 4


@dataclass(slots=True)
class Claim:
    """`expression = claimed`: a computation a step states, with its exact value."""

    expression: str
    claimed_text: str
    computed: Fraction
    claimed: Fraction
    operands: list[Fraction]
    approximate: bool  # the text declares rounding ("about", "≈")
    unit_after: str = ""  # the word right after the claimed value ("cents", "minutes")
    after: str = ""  # the characters right after it ("...%")
    source: tuple[list[Tok], str] = ((), "")  # type: ignore[assignment]  # for alternatives()


@dataclass(slots=True)
class StepQuantities:
    """What one step states: its claims, the numbers it computes with and every number it names."""

    claims: list[Claim] = field(default_factory=list)
    results: list[Fraction] = field(default_factory=list)
    operands: list[Fraction] = field(default_factory=list)
    numbers: list[Fraction] = field(default_factory=list)
    unevaluable: list[str] = field(default_factory=list)


def numbers_in(text: str) -> list[Fraction]:
    """Every numeric literal in a text, exactly (absurdly long ones skipped)."""
    out = []
    for m in _NUMBER.finditer(text):
        try:
            out.append(number_value(m.group()))
        except Unevaluable:
            continue
    return out


def _lex(text: str) -> list[Tok]:
    """Raw tokens of a step; `start` is the character offset, used to tell `2(` from `2 (`."""
    raw: list[Tok] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        s = m.group()
        if kind == "skip":
            # A line break ends the mathematics unless the next line goes on with "=" or "≈".
            if "\n" in s and text[m.end() : m.end() + 1] not in ("=", "≈"):
                raw.append(Tok("sep", "\n", None, m.start()))
            continue
        if kind == "num":
            try:
                raw.append(Tok("num", s, number_value(s), m.start()))
            except Unevaluable:
                raw.append(Tok("big", s, None, m.start()))
        elif kind == "op" and not (
            s == "-" and raw and raw[-1].kind == "num" and _hyphenated(text, m)
        ):
            raw.append(Tok("op", _OPS.get(s, s), None, m.start()))
        elif kind == "op":
            continue  # "a 29-liter mixture", "5-year-old": a compound word, not a subtraction
        elif kind in ("lp", "rp"):
            raw.append(Tok("(" if kind == "lp" else ")", s, None, m.start()))
        elif kind == "word" and len(s) == 1 and _beside_operator(text, m):
            raw.append(Tok("var", s, None, m.start()))

        else:
            raw.append(Tok(kind or "other", s, None, m.start()))
    return _merge_mixed_numbers(raw)


def _hyphenated(text: str, m: re.Match) -> bool:
    """A hyphen glued between a number and a word (`29-liter`)."""
    return text[m.start() - 1 : m.start()].isdigit() and text[m.end() : m.end() + 1].isalpha()


def _beside_operator(text: str, m: re.Match) -> bool:
    """`x + 3`, `S = 847 / 7`, `(X+10)`: a single letter between operators is an unknown."""
    before = text[max(0, m.start() - 3) : m.start()].rstrip()
    after = text[m.end() : m.end() + 3].lstrip()
    if m.group() in "xX" and before[-1:].isdigit() and after[:1].isdigit():
        return False  # "5 x 2", "4x5", "75x 8": multiplication
    ops = "+-*/=^(×÷"
    return bool(before and before[-1] in ops) or bool(after and after[0] in ops.replace("(", ")"))


def _space_groups(raw: list[Tok], i: int) -> int:
    """End of a run of space-separated 3-digit groups after raw[i] holding a 0-led group."""
    t = raw[i]
    if t.kind != "num" or len(t.text) > 3 or not t.text.isdigit():
        return i
    j, zero_led = i + 1, False
    while j < len(raw) and raw[j].kind in ("num", "lead0") and len(raw[j].text) == 3:
        if raw[j].start != raw[j - 1].start + len(raw[j - 1].text) + 1 or not raw[j].text.isdigit():
            break
        zero_led = zero_led or raw[j].kind == "lead0"
        j += 1
    return j if zero_led else i


def _merge_mixed_numbers(raw: list[Tok]) -> list[Tok]:
    """`1 1/2` and `1 and 1/4` are one quantity, 3/2 and 5/4."""
    out: list[Tok] = []
    i, n = 0, len(raw)
    while i < n:
        t = raw[i]
        j = i + 1
        end = t.start + len(t.text)
        groups = _space_groups(raw, i)
        if groups > i + 1:
            # "18 000", "1 500 000": spaces as thousands separators
            text = " ".join(g.text for g in raw[i:groups])
            out.append(Tok("num", text, number_value(text.replace(" ", "")), t.start))
            i = groups
            continue
        if (
            t.kind == "num"
            and j + 1 < n
            and raw[j].text == "-"
            and raw[j + 1].kind == "num"
            and raw[j].start == end
            and raw[j + 1].start == end + 1
            and t.value is not None
            and raw[j + 1].value is not None
            and t.value < raw[j + 1].value
            and (not out or out[-1].kind in ("word", "other", "sep"))
            and not (j + 2 < n and raw[j + 2].kind == "op")
        ):
            out.append(Tok("sep", t.text + "-" + raw[j + 1].text, None, t.start))  # "Weeks 1-2"
            i = j + 2
            continue
        if t.kind == "num" and t.value is not None and t.value.denominator == 1:
            if j < n and raw[j].text == "and":
                j += 1
            if (
                j + 2 < n
                and raw[j].kind == "num"
                and raw[j + 1].text == "/"
                and raw[j + 2].kind == "num"
            ):
                num, den = raw[j].value, raw[j + 2].value
                spaced = raw[j].start > t.start + len(t.text)
                if spaced and num is not None and den and num < den and num.denominator == 1:
                    text = f"{t.text} {raw[j].text}/{raw[j + 2].text}"
                    out.append(Tok("num", text, t.value + num / den, t.start))
                    i = j + 3
                    continue
        out.append(t)
        i += 1
    return out


def _normalise(toks: list[Tok], text: str) -> list[Tok]:
    """Fold percent signs, `x`/`times`/`plus`, `half of`, unit words and `is` into arithmetic."""
    out: list[Tok] = []
    verbal = False  # the current segment uses a word operator: only then may "is" mean "="
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < n else None
        prev = out[-1] if out else None
        prev_value = prev is not None and prev.kind in ("num", ")")
        if t.kind == "pct" and prev is not None and prev.kind == "num":
            out[-1] = Tok("num", prev.text + "%", prev.value / 100, prev.start)  # type: ignore[operator]
        elif t.kind == "op" and t.text == "/" and nxt is not None and nxt.kind == "word":
            i += 1  # "$6/day", "pounds/hour": a rate's unit, not a division
        elif t.kind == "(" and prev_value and text[t.start - 1].isspace():
            out.extend([Tok("sep", " ", None, t.start), t])  # "500 (2/5)" is not 500 × 2/5
        elif t.kind == "word":
            low = t.text.lower()
            nxt_value = nxt is not None and nxt.kind in ("num", "(")
            if low in _VERBAL_OPS and low not in _MULT_WORDS and prev_value:
                out.append(Tok("op", _VERBAL_OPS[low], None, t.start))
                verbal = True
                if low == "divided" and nxt is not None and nxt.text == "by":
                    i += 1
            elif low in _MULT_WORDS and prev_value and (nxt_value or (nxt and nxt.text == "by")):
                out.append(Tok("op", "*", None, t.start))
                verbal = verbal or low != "x"
                if nxt is not None and nxt.text == "by":
                    i += 1
            elif low == "of" and prev is not None and prev.text.endswith("%") and nxt_value:
                out.append(Tok("op", "*", None, t.start))
                verbal = True
            elif low in _FRACTION_WORDS and nxt is not None and nxt.text == "of":
                out.append(Tok("num", t.text, _FRACTION_WORDS[low], t.start))
                out.append(Tok("op", "*", None, nxt.start))
                verbal = True
                i += 1
            elif low in _EQ_WORDS:
                if verbal and _segment_has_op(out):
                    out.append(Tok("eq", "=", None, t.start))
                else:
                    out.append(Tok("sep", t.text, None, t.start))
                verbal = False
            elif low in _ROUND_WORDS and prev is not None and prev.kind == "eq":
                out.append(Tok("approx", t.text, None, t.start))
            elif prev_value and (end := _unit_run_end(toks, i)) > i:
                i = end  # a unit after a quantity: "5 hours * 3", "2 cups of flour * 3"
                continue
            else:
                out.append(Tok("sep", t.text, None, t.start))
                verbal = False
        elif t.kind == "eq":
            out.append(Tok("eq", "=", None, t.start))
            if t.text != "=":
                out.append(Tok("approx", t.text, None, t.start))
            verbal = False
        else:
            out.append(t)
        i += 1
    return out


def _segment_has_op(out: list[Tok]) -> bool:
    for t in reversed(out):
        if t.kind == "op":
            return True
        if t.kind in ("eq", "sep", "other", "big"):
            return False
    return False


def _unit_run_end(toks: list[Tok], i: int) -> int:
    """Where a run of unit words at toks[i] ends in an operator or `=` (0 when it is not one)."""
    for j in range(i, min(i + MAX_UNIT_WORDS + 1, len(toks))):
        t = toks[j]
        if t.kind == "word":
            low = t.text.lower()
            if low in _MULT_WORDS or low in _VERBAL_OPS:
                return j
            if (low in _NOT_UNITS and not (low == "of" and j > i)) or low in _EQ_WORDS:
                return 0  # "2 cups of flour *" is a unit; "1/3 of Solomon =" is not
            continue
        return j if t.kind in ("op", "eq", ")") else 0
    return 0


_MATH_KINDS = {"num", "op", "(", ")", "eq", "approx", "var"}


def _runs(tokens: list[Tok]) -> list[list[Tok]]:
    runs, cur = [], []
    for t in tokens:
        if t.kind in _MATH_KINDS:
            cur.append(t)
        else:
            if cur:
                runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    return [r for r in runs if any(t.kind == "eq" for t in r)]


def _try(tokens: list[Tok]) -> Fraction | None:
    """The value, None when malformed; TooLarge propagates (never shorten a huge expression)."""
    try:
        return evaluate(tokens)
    except TooLarge:
        raise
    except Unevaluable:
        return None


def _longest_suffix(seg: list[Tok], text: str) -> tuple[list[Tok], Fraction] | None:
    for k in range(len(seg)):
        # Start only where nothing joins the part to what precedes it ("In 2019 3 + 4").
        if k and seg[k - 1].kind in ("op", "(", ")", "var"):
            continue
        part = seg[k:]
        if part[0].kind == "op" and not (k == 0 and part[0].text == "-" and _opens(text, part[0])):
            continue
        v = _try(part)
        if v is not None:
            return part, v
    return None


def _opens(text: str, tok: Tok) -> bool:
    """A minus that starts the mathematics (`$-(0-2)`, `= -3 + 5`) is a sign, not a fragment."""
    line_start = text[: tok.start].rstrip(" \t")[-1:] in ("", "\n")
    if line_start and text[tok.start + 1 : tok.start + 2].isspace():
        return False  # "- 3 tablespoons": a bullet, not a sign
    return text[: tok.start].rstrip()[-1:] in ("", "$", "=", "(", ":")


def _longest_prefix(seg: list[Tok]) -> tuple[list[Tok], Fraction] | None:
    for k in range(len(seg), 0, -1):
        if k < len(seg) and seg[k].kind == "op":
            continue  # "= 22 * divisor": the value goes on past what can be read
        v = _try(seg[:k])
        if v is not None:
            return seg[:k], v
    return None


def _parse_segment(
    seg: list[Tok], idx: int, count: int, text: str
) -> tuple[list[Tok], Fraction] | None:
    if idx == 0:
        return _longest_suffix(seg, text)
    if any(t.kind == "var" for t in seg):
        return None  # an equation in unknowns belongs to the algebra validator
    if idx == count - 1:
        return _longest_prefix(seg)
    v = _try(seg)
    return (seg, v) if v is not None else None


def _text_of(toks: list[Tok]) -> str:
    return " ".join(t.text for t in toks)


def _has_op(toks: list[Tok]) -> bool:
    return any(t.kind == "op" for t in toks)


def _split_eq(run: list[Tok]) -> tuple[list[list[Tok]], list[bool]]:
    segs: list[list[Tok]] = [[]]
    approx = [False]
    for t in run:
        if t.kind == "eq":
            segs.append([])
            approx.append(False)
        elif t.kind == "approx":
            approx[-1] = True
        else:
            segs[-1].append(t)
    return segs, approx


def _claims_of_run(run: list[Tok], text: str, approximate: bool, q: StepQuantities) -> None:
    if len(run) > MAX_TOKENS:
        q.unevaluable.append(f"an expression of {len(run)} tokens is beyond the checked size")
        return
    segs, approx = _split_eq(run)
    parsed: list[tuple[list[Tok], Fraction] | None] = []
    for idx, seg in enumerate(segs):
        try:
            parsed.append(_parse_segment(seg, idx, len(segs), text) if seg else None)
        except TooLarge as exc:
            q.unevaluable.append(f"{_text_of(seg)[:80]}: {exc}")
            return
    first = True  # later segments restate the first one's terms: only its operands are sourced
    for i in range(len(parsed) - 1):
        left, right = parsed[i], parsed[i + 1]
        if left is None or right is None:
            first = True
            continue
        (ltoks, lval), (rtoks, rval) = left, right
        if not _has_op(ltoks):
            continue
        if _converts_units(text, ltoks, rtoks):
            continue  # a change of unit the text does not spell out: not checkable here
        if _has_op(rtoks) and rtoks[0].kind == "num" and rtoks[0].value == lval != rval:
            # A running calculation: "48/2 = 24 + 48 = 72" states 48/2 = 24, then 24 + 48 = 72.
            rtoks, rval = rtoks[:1], lval
        q.claims.append(
            Claim(
                expression=_text_of(ltoks),
                claimed_text=_text_of(rtoks),
                computed=lval,
                claimed=rval,
                operands=[t.value for t in ltoks if t.kind == "num" and t.value is not None],
                approximate=approximate or approx[i + 1],
                unit_after=_word_after(text, rtoks[-1]),
                after=text[rtoks[-1].start + len(rtoks[-1].text) :][:6],
                source=(ltoks, text),
            )
        )
        if first:
            q.operands.extend(_literal_operands(ltoks))
            first = False
        q.results.append(rval)


def _unit_of(word: str) -> str | None:
    w = word.lower()
    return (
        _KNOWN_UNITS.get(w) or _KNOWN_UNITS.get(w[:-1]) if w.endswith("s") else _KNOWN_UNITS.get(w)
    )


def _converts_units(text: str, ltoks: list[Tok], rtoks: list[Tok]) -> bool:
    """True when the result is in a known unit that differs from one the expression names."""
    target = _unit_of(_word_after(text, rtoks[-1]))
    if target is None:
        return False
    span = text[ltoks[0].start : rtoks[0].start]
    units = {u for w in _WORDS.findall(span) if (u := _unit_of(w))}
    if not units - {target}:
        return False
    # "2 hours * 60 minutes/hour" converts in the open; "4 pounds - 6 ounces" does not.
    additive = all(t.text in "+-" for t in ltoks if t.kind == "op")
    return additive or target not in units


def _word_after(text: str, tok: Tok) -> str:
    m = _FIRST_WORD.match(text, tok.start + len(tok.text))
    return m.group(1).lower() if m else ""


def _tight_fractions(toks: list[Tok]) -> list[Tok]:
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if i + 2 < len(toks) and t.kind == "num" and toks[i + 1].text == "/":
            a, slash, b = t, toks[i + 1], toks[i + 2]
            if b.kind == "num" and slash.start == a.start + len(a.text) == b.start - 1 and b.value:
                out.append(Tok("num", f"{a.text}/{b.text}", a.value / b.value, a.start))
                i += 3
                continue
        out.append(t)
        i += 1
    return out


def alternatives(claim: Claim) -> list[Fraction]:
    """Other readings writers intend: `6 / 1/30` as 6 ÷ (1/30); a total over the whole sentence."""
    ltoks, text = claim.source
    out = []
    if sum(1 for t in ltoks if t.text == "/") >= 2:
        with contextlib.suppress(Unevaluable):
            out.append(evaluate(ltoks, right_assoc_division=True))
        with contextlib.suppress(Unevaluable):  # "7/12 / 1/12": unspaced fractions bind first
            out.append(evaluate(_tight_fractions(ltoks)))
    # "add 20 + 10 decorations to the 29 + 24 already up = 83": a sum spread over the sentence.
    if any(t.kind == "op" and t.text != "+" for t in ltoks):
        return out
    sentence_start = max(text.rfind(". ", 0, ltoks[0].start) + 1, 0)
    before = text[sentence_start : ltoks[0].start]
    if "+" in before:
        extra = numbers_in(before)
        out.append(evaluate(ltoks) + sum(extra, Fraction(0)))
    return out


def _literal_operands(toks: list[Tok]) -> list[Fraction]:
    """The quantities as written (20% counts as 20, "half" as 2)."""
    out = []
    for t in toks:
        if t.kind != "num" or t.value is None:
            continue
        if t.text.endswith("%"):
            out.append(t.value * 100)
        elif t.text.isalpha():
            out.append(1 / t.value)
        else:
            out.append(t.value)
    return out


_LATEX_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_LATEX_SUP = re.compile(r"\^\{([^{}]*)\}")
_LATEX_WORDS = [
    ("\\times", " × "),
    ("\\cdot", " · "),
    ("\\div", " ÷ "),
    ("\\left", ""),
    ("\\right", ""),
    ("\\%", "%"),
    ("\\$", "$"),
    ("{,}", ","),
    ("\\!", ""),
    ("\\,", ""),
    ("\\sqrt", " √"),
]


def plain_math(text: str) -> str:
    """Simple LaTeX as MATH-style solutions write it, as plain text (`\\frac{6}{9}` -> (6)/(9))."""
    if "\\" not in text and "^{" not in text:
        return text
    for a, b in _LATEX_WORDS:
        text = text.replace(a, b)
    for _ in range(3):  # nested fractions, innermost first
        text = _LATEX_FRAC.sub(r"((\1)/(\2))", text)
    return _LATEX_SUP.sub(r"^(\1)", text)


def quantities(text: str) -> StepQuantities:
    """Claims, results, operands and numbers stated in one step's text."""
    text = plain_math(text)
    q = StepQuantities(numbers=numbers_in(text))
    if not q.numbers or not _HAS_CLAIM.search(text):
        return q
    tokens = _normalise(_lex(text), text)
    if any(t.kind == "big" for t in tokens):
        q.unevaluable.append("a number too long to check")
    approximate = bool(_ROUNDING_DECLARED.search(text))
    for run in _runs(tokens):
        _claims_of_run(run, text, approximate, q)
    return q
