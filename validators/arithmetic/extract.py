"""Pull checkable arithmetic claims and the quantities a step uses out of its text."""

from __future__ import annotations

import contextlib
import re
from fractions import Fraction

import sympy

from validators.arithmetic.exact import (
    MAX_TOKENS,
    ROOTS,
    Tok,
    TooLarge,
    Unevaluable,
    evaluate,
    number_value,
)
from validators.arithmetic.locale import european
from validators.arithmetic.mathclaims import MathClaim, has_markup, read_claims
from validators.arithmetic.tokens import runs, tokens
from validators.arithmetic.units import (
    a_fraction_of_a_unit,
    a_unit_replaced,
    converts_units,
    given_in_another_unit,
    mixed_counts,
    restated_term_by_term,
    scaled_copy,
    unit_between,
    word_after,
)
from validators.text.mathparse import rational
from validators.text.mathspans import without_emphasis

_ROUNDING_DECLARED = re.compile(
    # "round" as a verb only: "round up", "round to"; "the second round" declares nothing
    r"≈|~|\b(?:about|approximately|approx|roughly|around|nearly|almost|rounded|rounding"
    r"|round(?= (?:up|down|off|to|it|this|that)\b))\b",
    re.I,
)
# Necessary for a match of _ROUNDING_DECLARED in an ASCII text, once lowered: a cheap test
# that spares most steps the slow case-insensitive search.
_ROUNDING_HINTS = re.compile("~|about|approx|rough|round|nearly|almost")
# Necessary for a literal too long to check (see MAX_DIGITS): 61 characters of a number.
_LONG_NUMBER = re.compile(r"[\d,.]{61}")
_CLAIM_WORD = re.compile(r"\b(?:is|are|equals|makes|gives|yields|was|were)\b")
# `1,200.5`, `1,76,400`, `48`, `.5` (and LaTeX's `1{,}200.5`): arithtokens.NUMBER written as
# one character class and then the rest, which lets the regex engine skip to the next digit or
# point at C speed (an alternation is tried at each character). In both, `(?!,*\d)` stands for
# `(?![\d,]*\d)`, which fails at the same places (the first digit after the number can only
# come after commas) but looked to the end of `1,000,1,000,...` from each digit: quadratic time
# on such a question.
_NUMBER = re.compile(
    r"[\d.](?:(?<=\d)(?:\d{0,2}(?:(?:,|\{,\})\d{3})+(?:\.\d+)?(?!,*\d)"
    r"|\d?(?:,\d\d){1,6},\d{3}(?:\.\d+)?(?!,*\d)|\d*(?:\.\d+)?"
    r"(?:[eE][-+]?\d{1,2}(?![A-Za-z\d]))?)|(?<=\.)\d+)"
)
_PAIRED = re.compile(r"\s*(?:[A-Za-z]+\.?\s+)?by\s+[\d(]")  # "30 by 21", "30 ft by 21 ft"
# a constant or a root written against a number multiplies it; a fraction slash after raised
# digits builds a fraction ("3²⁄₄" is 3 2/4, not 3²)
_GLUED = frozenset("π√∛∜⁄")
_UNKNOWNS = frozenset("nxyz")  # letters that name no unit
# a preposition, then a word that numbers what follows it: "on day 1", "in step 2"
_LABEL_BEFORE = re.compile(
    r"\b(?:on|in|for|of|after|before|by|from|until)\s+"
    r"(?:day|week|month|year|step|round|level|chapter|part|phase|stage|lap) $",
    re.I,
)
_GROUP_SPACES = frozenset(" \u00a0\u2009\u202f")
# "= 3 h 35 min", "= 16h15", "= 5 lb 3 oz": a quantity in two units, not the number before them
_COMPOUND = re.compile(
    r"\s?(?:h|hrs?|hours?)\.?\s?\d{1,2}(?:\s?(?:min|mins|minutes?)\b|(?![\w.,:]))"
    r"|\s?(?:min|mins|minutes?)\.?\s?\d{1,2}(?:\.\d+)?\s?(?:s|secs?|seconds?)\b"
    r"|\s?(?:ft|feet|foot)\.?\s?\d{1,2}\s?(?:in\b|inch|\")"
    r"|\s?(?:lbs?|pounds?)\.?\s?\d{1,2}\s?(?:oz|ounces?)\b",
    re.I,
)
_COMPOUND_STARTS = frozenset("hHmMfFpPlL")
_ARGUMENT_OF = re.compile(r"\bdigits?\s+of\s$", re.I)
_COMPOUND_ENDS = frozenset("hHnNsStTbBdDeE.")
_COMPOUND_BEFORE = re.compile(
    r"\d\s?(?:h|hrs?|hours?|min|mins|minutes?|ft|feet|foot|lbs?|pounds?)\.?\s$", re.I
)
# "6 : 4 = 3 : 2", "6 to 4 = 3 to 2": a side that is one term of a ratio
# (a colon with no space before it ends a label: "by 2: 15 minutes * 2")
_RATIO_AFTER = re.compile(r"[ \t]+(?::|to)[ \t]+\d")
# ("from 4 to 4*2 = 8" is a change, not a ratio)
_RATIO_BEFORE = re.compile(r"(?<!from )(?<![\d.,])\d[\d.,]*[ \t]+(?::|to)[ \t]+\(?[ \t]*\Z")


class Claim:
    """`expression = claimed`: a computation a step states, with its exact value.

    A plain class for the reason StepQuantities is one (a few are made per step).
    """

    def __init__(
        self,
        expression: str,
        claimed_text: str,
        computed: Fraction,
        claimed: Fraction,
        operands: list[Fraction],
        approximate: bool,  # the text declares rounding ("about", "≈")
        unit_after: str = "",  # the word right after the claimed value ("cents", "minutes")
        after: str = "",  # the characters right after it ("...%")
        source: tuple[list[Tok], str] | None = None,  # for alternatives()
        european: tuple[Fraction, Fraction, str] | None = None,  # `1.250`, `2,5`: locale.py
    ) -> None:
        self.european = european
        self.expression = expression
        self.claimed_text = claimed_text
        self.computed = computed
        self.claimed = claimed
        self.operands = operands
        self.approximate = approximate
        self.unit_after = unit_after
        self.after = after
        self.source: tuple[list[Tok], str] = ([], "") if source is None else source


class StepQuantities:
    """What one step states: its claims, the numbers it computes with and every number it names.

    A plain class, not a dataclass: one is made per step, and compiled (validators/native.py)
    its own __init__ runs natively where a dataclass's generated one would not.
    """

    def __init__(
        self, numbers: list[Fraction] | None = None, unevaluable: list[str] | None = None
    ) -> None:
        self.claims: list[Claim] = []
        self.results: list[Fraction] = []
        self.operands: list[Fraction] = []
        self.numbers: list[Fraction] = [] if numbers is None else numbers
        self.unevaluable: list[str] = [] if unevaluable is None else unevaluable
        self.math_claims: list[MathClaim] = []  # read from whole LaTeX math
        self.exact_results: list[sympy.Expr] = []  # every stated value, exact
        self.values: list[sympy.Expr] = []  # math spans that are one value

    def unread(self, reason: str, result: Fraction) -> None:
        """A computation not checked (why), whose stated result later steps may still use."""
        self.unevaluable.append(reason)
        self.results.append(result)


# Swiss thousands: 1'280 (the apostrophe first, so that the engine looks for it alone)
_APOSTROPHE_GROUPS = re.compile(r"'(?<=\d')(?=\d{3}(?!\d))")


def numbers_in(text: str) -> list[Fraction]:
    """Every numeric literal in a text, exactly (absurdly long ones skipped; `1'280` is 1280)."""
    if "'" in text:
        text = _APOSTROPHE_GROUPS.sub(",", text)
    try:  # the usual case: no literal is too long
        return [number_value(s) for s in _NUMBER.findall(text)]
    except Unevaluable:
        pass
    out = []
    for m in _NUMBER.finditer(text):
        try:
            out.append(number_value(m.group()))
        except Unevaluable:
            continue
    return out


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
        part = seg[k:] if k else seg
        if part[0].kind == "op" and not (
            k == 0 and (part[0].text in ROOTS or (part[0].text == "-" and _opens(text, part[0])))
        ):
            continue  # (a root after a number multiplies it: "2√9" is no "√9")
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
    if _has(seg, "var"):
        return None  # an equation in unknowns belongs to the algebra validator
    if idx == count - 1:
        return _longest_prefix(seg)
    v = _try(seg)
    return (seg, v) if v is not None else None


_DIGIT_SPACE = frozenset(f"{d} " for d in "0123456789")


def _unclear_start(text: str, first: Tok) -> bool:
    """The run begins inside a garbled numeral: "14, 400 / 80", "13,2000 / 60", "+ . 84 +";
    or after a factor a space cut off ("1/2 (16 + 10) = 13"), or inside a function's argument
    ("unit digit of 7 ^ 2 = 9") or a subscript ("log_100(10^8) = 4")."""
    if text[max(0, first.start - 5) : first.start].rstrip(" ").endswith(("...", "…", "⋯")):
        return True  # "(364/365)...(343/365)": the last factor of a product written with dots
    if text[first.start - 1 : first.start] == "_":
        return True  # "log_100(10^8) = 4": a subscript (a base, an index), not a factor
    if first.kind == "(":
        return text[max(0, first.start - 4) : first.start].rstrip(" ")[-1:].isdigit()
    if first.kind != "num":
        return False
    if text.endswith(" of ", 0, first.start) and _ARGUMENT_OF.search(
        text, max(0, first.start - 24), first.start
    ):
        return True
    before = text[max(0, first.start - 8) : first.start]  # a window: runs are many in long text
    mark = before.rstrip(" ")[-1:]
    prev = before.rstrip(" ")[:-1].rstrip(" ")[-1:]
    three = len(first.text) == 3 and first.text.isdigit()
    if mark == ",":
        # "14, 400" is one number; "Out of the 36, 36 x 3/4" and "8, 12 - 8" are a list
        return prev.isdigit() and (three or before.endswith(","))
    if three and before[-1:] in _GROUP_SPACES and before[-2:-1].isdigit():
        return True  # "1 250 − 480": a space (or a thin one) may group thousands
    end = first.start + len(first.text)
    if before[-2:] in _DIGIT_SPACE and text[end : end + 1] == "/":
        return True  # "3 5/5 − 2 3/5": the fraction of a mixed number, regrouped
    if mark == "." and prev in ("+", "-", "*", "/", "×", "=", "("):
        return True
    # "8 h 45 min − 45 min": the first quantity is in two units
    window = max(0, first.start - 12)
    unit_end = before[-2:-1]  # (the last letter of "h", "min", "ft", "lb", ...: most fail here)
    if before[-1:] != " " or not unit_end or unit_end not in _COMPOUND_ENDS:
        return False
    return _COMPOUND_BEFORE.search(text, window, first.start) is not None


def _last_digit_of(value: Fraction, claimed: Fraction) -> bool:
    """Whether `claimed` is a whole number's last digit (or last two digits)."""
    if value.denominator != 1 or claimed.denominator != 1 or not 0 <= claimed < 100:
        return False
    return value % (10 if claimed < 10 else 100) == claimed


def _labelled(text: str, first: Tok) -> bool:
    """The run starts at a label's number: "10 pages on day 1 * 2 = 20" is no 1 × 2."""
    if first.kind != "num" or first.start < 4 or not text[first.start - 2].isalpha():
        return False
    return _LABEL_BEFORE.search(text, max(0, first.start - 20), first.start) is not None


def _glued(text: str, ltoks: list[Tok], rtoks: list[Tok], first: bool, last: bool) -> bool:
    """The mathematics goes on past what was read, glued to it: `f(2 + 1)`, `π(4)²` before the
    left side, `(4/3)π` or `(1/64)R` after the right side (a unit after a number, `24km`, is no
    factor)."""
    start = ltoks[0].start
    if first and start:
        before = text[start - 1]
        if before in _GLUED or ((before.isalpha() or before in "'′") and ltoks[0].kind == "("):
            return True
        if before.isalpha() and text[start - 2 : start - 1].isdigit():
            return True  # "15h30": a time, not the 30 after it
    if last:
        end = rtoks[-1].start + len(rtoks[-1].text)
        after = text[end : end + 1]
        if after in _GLUED or (rtoks[-1].kind == ")" and after.isalpha()):
            return True
        # "= 3x → x = 2", "= 25² + 2a(100)": an unknown's coefficient, not a number with a
        # unit ("= 86g")
        following = text[end + 1 : end + 2]
        return (after in _UNKNOWNS and not following.isalpha()) or (
            after.isalpha() and following == "("
        )
    return False


def _text_of(toks: list[Tok]) -> str:
    return " ".join([t.text for t in toks])


def _has(toks: list[Tok], kind: str) -> bool:
    """Whether a token of `kind` is among toks (any() over a generator is twice as slow)."""
    return kind in [t.kind for t in toks]


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
        if not _has(ltoks, "op"):
            continue
        if _glued(text, ltoks, rtoks, i == 0, i + 2 == len(parsed)):
            q.unevaluable.append(
                f"{_text_of(ltoks)!r} is joined to a symbol not read"
                " (π, a root, a function's name, an unknown)"
            )
            continue
        if i == 0 and _unclear_start(text, ltoks[0]):
            q.unread(f"where the number before {_text_of(ltoks)!r} begins is unclear", rval)
            continue
        if i == 0 and _labelled(text, ltoks[0]):
            q.unread(f"{_text_of(ltoks)!r} starts at the number of a label (day 1)", rval)
            continue
        if lval != rval and "digit" in text and _last_digit_of(lval, rval):
            q.unevaluable.append(
                f"{_text_of(rtoks)!r} may be the last digit of {_text_of(ltoks)!r}"
            )
            continue  # "unit digit of 7 ^ 1 = 7 , 7 ^ 2 = 9": each power's units digit
        unit = word_after(text, rtoks[-1])
        if converts_units(text, ltoks, rtoks, unit):
            continue  # a change of unit the text does not spell out: not checkable here
        end = rtoks[-1].start + len(rtoks[-1].text)
        if " by " in text[end : end + 16] and _PAIRED.match(text, end):
            continue  # "(24 + 6) by (15 + 6) = 30 by 21": one of two sizes, paired who knows how
        if (":" in text or " to " in text) and (
            _RATIO_AFTER.match(text, end)
            or (i == 0 and _RATIO_BEFORE.search(text, max(0, ltoks[0].start - 12), ltoks[0].start))
        ):
            q.unevaluable.append(
                f"{_text_of(ltoks)!r} is one term of a ratio or a range (6 : 4 = 3 : 2, 5 to 6)"
            )
            continue
        if text[end : end + 2].lstrip()[:1] in _COMPOUND_STARTS and _COMPOUND.match(text, end):
            continue  # "4 h − 25 min = 3 h 35 min": the result is in two units
        if _has(rtoks, "op") and rtoks[0].kind == "num" and rtoks[0].value == lval != rval:
            # A running calculation: "48/2 = 24 + 48 = 72" states 48/2 = 24, then 24 + 48 = 72.
            rtoks, rval = rtoks[:1], lval
            unit = word_after(text, rtoks[-1])
            end = rtoks[-1].start + len(rtoks[-1].text)
        if lval != rval and _has(rtoks, "op") and a_unit_replaced(text, ltoks, rtoks):
            # "1 ly / 1 AU = (9.461 × 10^12) / (1.496 × 10^8)": what a unit is worth, put in
            q.unread(f"{_text_of(rtoks)!r} puts in what a unit on the left is worth", rval)
            continue
        if lval != rval and restated_term_by_term(text, ltoks, rtoks):
            # "2 buckets + 3 gallons = 10 + 3": each term in the unit of the others
            q.unread(f"{_text_of(rtoks)!r} restates the terms in another unit", rval)
            continue
        if lval != rval and sum(1 for t in rtoks if t.text == "/") >= 2:
            # "= 7/2 ÷ 7/4": on the right too, unspaced fractions bind first
            with contextlib.suppress(Unevaluable):
                rval = lval if evaluate(_tight_fractions(rtoks)) == lval else rval
        if lval != rval and lval <= 1 < rval and _in_percent(ltoks) and not _in_percent(rtoks):
            # "15% = 10% + 5% = 6.8 + 3.4": percentages of an amount the side does not write
            q.unread(f"{_text_of(ltoks)!r} are percentages of an amount not written", rval)
            continue
        # "2/3 hour = 2/3 × 60 = 40 minutes" (a change of unit, spelled out), "E ≈ 3.98 ×
        # 10⁻¹⁹ J ≈ 2.48 eV" (the same quantity in another unit)
        converted = scaled_copy(ltoks, rtoks) or (approx[i + 1] and bool(unit))
        if lval != rval and (
            (converted and unit_between(text, ltoks, rtoks, unit))
            or a_fraction_of_a_unit(text, ltoks, lval, rval)
        ):
            q.unread(f"{_text_of(rtoks)!r} restates it in another unit", rval)
            continue
        if lval != rval and "s " in text and _PLACE_VALUE.search(text, ltoks[0].start, end):
            q.unread(f"{_text_of(ltoks)!r} counts place values (4 tens + 7 ones)", rval)
            continue
        if (
            lval != rval
            and i
            and parsed[0] is not None
            and given_in_another_unit(text, parsed[0], lval, unit)
        ):
            # "46 balls = 7 × 6 + 4 = 7.4 overs": the chain's given quantity, in the text's units
            q.unread(
                f"{_text_of(rtoks)!r} restates the chain's first quantity in another unit", rval
            )
            continue
        if lval != rval and mixed_counts(text, ltoks, unit):
            q.unread(f"{_text_of(ltoks)!r} adds counts of different things", rval)
            continue
        if lval != rval and _divides_by_scientific(ltoks):
            q.unread(f"{_text_of(ltoks)!r} divides by a number in scientific notation", rval)
            continue
        if lval != rval and "-" in text and _mixed_with_a_hyphen(text, ltoks, rtoks, lval, rval):
            # "5/4 = 1-1/4" (carpenters' 1¼) or "1-2/3 = 1/3" (a subtraction): either reading
            q.unread(f"{_text_of(rtoks)!r} may be a mixed number written with a hyphen", rval)
            continue
        if lval != rval and _CUT_SHORT_THEN_GOES_ON.match(text, end):
            # "(85 ÷ 60) × 100 = 1.41666… × 100 ≈ 141.67": the side goes on past the dots
            q.unread(f"{_text_of(rtoks)!r} is cut short and the expression goes on", rval)
            continue
        if approx[i + 1] and lval != rval and _estimate(rtoks):
            q.unread(f"{_text_of(rtoks)!r} estimates to an unstated precision", rval)
            continue
        q.claims.append(
            Claim(
                expression=_text_of(ltoks),
                claimed_text=_text_of(rtoks),
                computed=lval,
                claimed=rval,
                operands=[t.value for t in ltoks if t.kind == "num" and t.value is not None],
                approximate=approximate or approx[i + 1],
                unit_after=unit,
                after=text[end : end + 6],
                source=(ltoks, text),
                european=european(ltoks, rtoks, text),
            )
        )
        if first:
            q.operands.extend(_literal_operands(ltoks))
            first = False
        q.results.append(rval)


_HYPHENATED_MIXED = re.compile(r"(?<![\d.,/])\d{1,3}-(\d{1,2})/(\d{1,2})(?![\d/.])")


def _mixed_with_a_hyphen(
    text: str, ltoks: list[Tok], rtoks: list[Tok], lval: Fraction, rval: Fraction
) -> bool:
    """Whether the claim holds once a side's `1-1/4` is read as the mixed number 1¼ (a - b/c
    and a + b/c differ by 2b/c)."""
    for side, value, other in ((ltoks, lval, rval), (rtoks, rval, lval)):
        start, stop = side[0].start, side[-1].start + len(side[-1].text)
        for m in _HYPHENATED_MIXED.finditer(text, start, stop):
            if value + 2 * Fraction(int(m[1]), int(m[2])) == other:
                return True
    return False


_CUT_SHORT_THEN_GOES_ON = re.compile(r"(?:\.\.\.|…|⋯)\s*[×x*/÷+−-]\s*[\d(]")
_PLACE_VALUE = re.compile(r"\d\s+(?:ones|tens|hundreds|thousands|tenths|hundredths)\b")


def _divides_by_scientific(toks: list[Tok]) -> bool:
    """`1.68 × 10⁻⁷ / 1.0 × 10⁻⁶`: after a slash, `1.0 × 10⁻⁶` is one number as often as two
    factors."""
    texts = [t.text for t in toks]
    return any(
        texts[i : i + 5] == ["/", texts[i + 1], "*", "10", "^"] and toks[i + 1].kind == "num"
        for i in range(len(texts) - 4)
        if texts[i] == "/"
    )


def _in_percent(toks: list[Tok]) -> bool:
    """Whether the numbers of a side are all percentages (`10% + 5%`)."""
    nums = [t.text for t in toks if t.kind == "num"]
    return bool(nums) and all(n.endswith("%") for n in nums)


def _estimate(toks: list[Tok]) -> bool:
    """`≈ 20 × 30`, `≈ (10 ^ 3) ^ 3`: an expression of whole numbers said to be about another,
    rounded how far the text does not say (decimals would: `≈ 100 × 0.333`)."""
    return _has(toks, "op") and not any(t.kind == "num" and "." in t.text for t in toks)


# Units of data and SI units with a prefix, told apart by their case (`Mb` is a megabit, `MB`
# a megabyte, `mW` a milliwatt)


def _tight_fractions(toks: list[Tok]) -> list[Tok]:
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if i + 2 < len(toks) and t.kind == "num" and toks[i + 1].text == "/":
            a, slash, b = t, toks[i + 1], toks[i + 2]
            tight = slash.start == a.start + len(a.text) == b.start - 1
            if b.kind == "num" and tight and a.value is not None and b.value:
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
        for k in range(1, len(ltoks) - 1):
            op = ltoks[k]
            if op.text == "/" and text[op.start - 1 : op.start].isalpha():
                # "24 degrees / 3 degrees/5% increase": "/5%" after a unit word is the rate's unit
                with contextlib.suppress(Unevaluable):
                    out.append(evaluate(ltoks[:k] + ltoks[k + 2 :]))
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
    """Simple LaTeX as MATH-style solutions write it, as plain text (`\\frac{6}{9}` -> (6)/(9));
    Swiss thousands (`1'280`) as English ones."""
    if "'" in text:
        text = _APOSTROPHE_GROUPS.sub(",", text)
    if "\\" not in text and "^{" not in text:
        return text
    for a, b in _LATEX_WORDS:
        text = text.replace(a, b)
    for _ in range(3):  # nested fractions, innermost first
        text = _LATEX_FRAC.sub(r"((\1)/(\2))", text)
    return _LATEX_SUP.sub(r"^(\1)", text)


def _has_claim(text: str) -> bool:
    """`=`, `≈` or a word that may state a result ("is", "makes")."""
    return "=" in text or "≈" in text or _CLAIM_WORD.search(text) is not None


def _declares_rounding(text: str) -> bool:
    """`≈`, `~`, "about", "rounded"...: the text allows its results to be rounded."""
    if text.isascii() and _ROUNDING_HINTS.search(text.lower()) is None:
        return False
    return _ROUNDING_DECLARED.search(text) is not None


def quantities(text: str, markup: bool | None = None) -> StepQuantities:
    """Claims, results, operands and numbers stated in one step's text.

    `markup`: the chain writes LaTeX, so every formula is read whole (None: this step decides).
    """
    text = without_emphasis(text)
    if markup is None:
        markup = has_markup(text)
    return _markup_quantities(text) if markup else _prose_quantities(text)


def _prose_quantities(text: str) -> StepQuantities:
    """What plain text (GSM8K style) states: computations read out of prose."""
    text = plain_math(text)
    q = StepQuantities(numbers=numbers_in(text))
    if not q.numbers or not _has_claim(text):
        return q
    toks = tokens(text)
    if _LONG_NUMBER.search(text) and any(t.kind == "big" for t in toks):
        q.unevaluable.append("a number too long to check")
    approximate = _declares_rounding(text)
    for run in runs(toks):
        _claims_of_run(run, text, approximate, q)
    return q


def _markup_quantities(text: str) -> StepQuantities:
    """A step of a LaTeX chain: every formula read whole by mathclaims, nothing spliced."""
    read = read_claims(text)
    q = StepQuantities(numbers=numbers_in(plain_math(text)), unevaluable=read.unevaluable)
    q.math_claims = read.claims
    q.values = read.values
    stated = []
    for c in read.claims:
        if c.exact is not None:
            stated.append(c.exact)  # `\frac{161}{36} \approx 4.47` states both
        if c.relation in ("=", "≈"):
            stated.append(c.value)
    q.exact_results = stated
    q.results = [v for v in map(rational, stated) if v is not None]
    return q
